"""`python -m bench.peak ARGS...`: the `onboarding ARGS...` command (lib.cli.main, what
the script runs) in this process, then its peak resident memory on stderr.

Peak memory is VmHWM from /proc/self/status, the high-water mark of this
process's own address space. getrusage's ru_maxrss is not used for commands
the benchmark starts: Linux carries it over from the parent through fork and
exec, so every child would report at least the benchmark's own peak.
"""

from __future__ import annotations

import sys
from pathlib import Path

MARK = "BENCH_PEAK_MB "


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource  # not Linux: the best there is

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    from lib import cli

    code = cli.main(sys.argv[1:])
    sys.stdout.flush()
    print(f"{MARK}{peak_mb():.1f}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
