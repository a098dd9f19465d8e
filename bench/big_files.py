"""Files an attacker (or a careless export) sends, generated on the fly into the bench's
folder, imported with `onboarding import` (time and peak memory, bench.peak):

- a valid 150 MB usage.csv (every metric every day for 120 days), beside the insert
  floor for its rows;
- the same rows naming customers nobody has (refused, after reading every row);
- a customers.csv with a million columns (refused at its header);
- a 50 MB single line (refused at the line limit).

Refused imports must exit with status 1 and write nothing; an import that passes or
breaks otherwise stops the benchmark.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import floor, peak
from lib.vocabulary import METRICS

USAGE_MB = 150
DAYS = 120
COLUMNS = 1_000_000
LINE_MB = 50


def _customers(count: int, prefix: str = "big") -> list[str]:
    return [f"{prefix}-{n:06d}" for n in range(count)]


def write_customers(path: Path, count: int, as_of: dt.date) -> None:
    entered = (as_of - dt.timedelta(days=30)).isoformat()
    lines = ["customer_id,name,segment_entered_on"]
    lines += [f"{c},{c.title()},{entered}" for c in _customers(count)]
    path.write_text("\n".join(lines) + "\n")


def write_usage(path: Path, as_of: dt.date, megabytes: int, prefix: str = "big") -> int:
    """Every metric every day for DAYS days, customers added until the file reaches
    `megabytes`; returns how many customers it names."""
    days = np.array([(as_of - dt.timedelta(days=d)).isoformat() for d in range(DAYS)][::-1])
    per_customer = len(METRICS) * DAYS
    rng = np.random.default_rng(7)
    target = megabytes * 1024 * 1024
    written, count = 0, 0
    with path.open("w") as handle:
        handle.write("customer_id,date,metric,value\n")
        while written < target:
            block = _customers(count + 100, prefix)[count:]
            frame = pd.DataFrame(
                {
                    "customer_id": np.repeat(block, per_customer),
                    "date": np.tile(np.repeat(days, len(METRICS)), len(block)),
                    "metric": np.tile(METRICS, DAYS * len(block)),
                    "value": rng.integers(0, 500_000, per_customer * len(block)),
                }
            )
            text = frame.to_csv(index=False, header=False, lineterminator="\n")
            handle.write(text)
            written += len(text)
            count += len(block)
    return count


def write_wide(path: Path) -> None:
    names = ["customer_id", "name", "segment_entered_on"]
    names += [f"x{n:06d}" for n in range(COLUMNS - len(names))]
    row = ["wide", "Wide", "2026-01-05"] + [""] * (COLUMNS - 3)
    path.write_text(",".join(names) + "\n" + ",".join(row) + "\n")


def write_line(path: Path) -> None:
    path.write_bytes(b"customer_id,name,segment_entered_on\n" + b"a" * (LINE_MB * 1024 * 1024))


def run(command: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """Seconds, peak MB, exit status and the last line of stderr of one command."""
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    seconds = time.perf_counter() - started
    errors = done.stderr.decode(errors="replace")
    if done.returncode not in (0, 1) or "Traceback" in errors:
        raise RuntimeError(f"{' '.join(command)} failed:\n{errors[-3000:]}")
    marks = [line for line in errors.splitlines() if line.startswith(peak.MARK)]
    said = [line for line in errors.splitlines() if line and not line.startswith(peak.MARK)]
    mb = float(marks[-1].removeprefix(peak.MARK)) if marks else float("nan")
    return seconds, mb, done.returncode, " ".join(line.strip() for line in said[:2])


def measure(ctx: Any, dbs: Any, folder: Path, onboarding: Any, root: Path, log: Any) -> list[Any]:
    """The four files on one database: Figures (bench.run.Figure) to add."""
    from bench.run import Figure

    name = dbs.kind
    figures: list[Figure] = []
    usage = folder / "usage.csv"
    log(f"big files, {name}: writing a {USAGE_MB} MB usage.csv")
    customers = write_usage(usage, ctx.as_of, USAGE_MB)
    size_mb = usage.stat().st_size / 1024 / 1024
    write_customers(folder / "customers.csv", customers, ctx.as_of)
    url = dbs.create("big")
    run(onboarding("--db", url, "import", str(folder / "customers.csv")), root)
    log(f"  import of {size_mb:.0f} MB ({customers:,} customers)")
    seconds, mb, status, said = run(onboarding("--db", url, "import", str(usage)), root)
    if status != 0:
        raise RuntimeError(f"the valid {USAGE_MB} MB usage.csv was refused: {said}")
    rows = floor.usage_rows(usage)
    log(f"  insert floor ({len(rows):,} rows)")
    floor_url = dbs.create("big_floor")
    insert_floor = floor.insert(floor_url, rows)
    dbs.drop("big_floor")
    what = f"{size_mb:.0f} MB usage.csv ({len(rows):,} rows)"
    figures.append(Figure(customers, name, f"insert floor, {what}", [insert_floor]))
    figures += [
        Figure(
            customers,
            name,
            f"`onboarding import` {what}",
            [seconds],
            floor=insert_floor,
            floor_name="insert",
        ),
        Figure(customers, name, f"import peak memory, {what}", [mb], unit="MB", limit=500.0),
    ]
    del rows
    dbs.drop("big")

    url = dbs.create("big_refused")
    run(onboarding("--db", url, "import", str(folder / "customers.csv")), root)
    log("  the same rows, every customer unknown (refused)")
    write_usage(usage, ctx.as_of, USAGE_MB, prefix="nobody")
    cases = [("usage.csv naming unknown customers, refused", usage)]
    (folder / "wide").mkdir()
    write_wide(folder / "wide" / "customers.csv")
    cases.append(
        (f"customers.csv with {COLUMNS:,} columns, refused", folder / "wide/customers.csv")
    )
    (folder / "line").mkdir()
    write_line(folder / "line" / "customers.csv")
    cases.append((f"{LINE_MB} MB single line, refused", folder / "line/customers.csv"))
    for what, path in cases:
        log(f"  {what}")
        seconds, mb, status, said = run(onboarding("--db", url, "import", str(path)), root)
        if status != 1:
            raise RuntimeError(f"{path} was not refused (status {status})")
        label = (
            what
            if what.startswith(f"{LINE_MB} MB")
            else f"{path.stat().st_size / 1024 / 1024:.0f} MB {what}"
        )
        message = said.split("):", 1)[-1].strip().replace(str(path.parent) + "/", "")
        figures.append(Figure(customers, name, label, [seconds], note=message[:110]))
        figures.append(Figure(customers, name, f"{label}: peak memory", [mb], unit="MB"))
    dbs.drop("big_refused")
    for path in (usage, folder / "customers.csv", *(p for _, p in cases[1:])):
        path.unlink(missing_ok=True)
    return figures
