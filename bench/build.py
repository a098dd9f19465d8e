"""The report without the command's start-up: `python -m bench.build --db URL --runs N`
times lib.program.report_store.build plus the JSON of every customer inside one process (its
imports done first) and prints BENCH_RESULT {"seconds": [...]}."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

from lib.program import report_store
from lib.store import db, usage_summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.build")
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    engine = db.make_engine(args.db)
    seconds = []
    for _ in range(args.runs):
        started = time.perf_counter()
        as_of = dt.date.today()
        usage_summary.ensure(engine, as_of)
        with db.read_session(engine) as session:
            printed = ",\n".join(
                json.dumps(r.as_json()) for r in report_store.build(session, as_of)
            )
        seconds.append(time.perf_counter() - started)
        del printed
    print("BENCH_RESULT " + json.dumps({"seconds": seconds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
