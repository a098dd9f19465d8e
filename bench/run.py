"""`make bench`: the console at 1,000 and 10,000 customers, against the floor the
database itself sets, measured in the same run.

For each size: `onboarding demo --customers N --csv-dir DIR` writes the five
CSVs (as of today). For each database (SQLite; PostgreSQL when its binaries are
installed, in a throwaway cluster) a template database gets the customers,
subscriptions, config and steps, then, each as the median of RUNS runs:

- `onboarding import usage.csv` into a fresh copy of the template (wall time of
  the whole command, and its peak memory);
- the insert floor (bench.floor.insert) into a fresh empty database;
- `onboarding report --json` on the imported database;
- the GROUP BY floor (bench.floor.group_by) on the same database;
- every page's script run through AppTest, signed in as a team member, cold
  and warm (bench.pages), in one process that plays the server.

Then (unless --no-clicks; alone with --clicks-only) the time from a click to the page
idle in a real browser at 300 and 10,000 customers (bench.clicks), its own section.

It prints a table of each figure, its ratio to the floor and its target, and
writes the same as Markdown (docs/benchmarks.md) with the machine it ran on.
Benchmarks report; they never fail: the exit status is 0 unless the benchmark
itself broke.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench import big_files, clicks, floor, machine, peak, plans
from lib.accounts import auth
from lib.store import db, models

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
SIZES = (1_000, 10_000)
RUNS = 3
SEED = 7
TEAM_USER = "priya"  # a demo owner: Today shows their worklist
SMALL_FILES = ("customers.csv", "subscriptions.csv", "config.csv", "steps.csv")
PAGES = ("today", "customer", "outcomes", "customers")
TARGET_SIZE = 10_000
# Page targets (seconds) at TARGET_SIZE customers: (page, cold or warm) -> limit.
PAGE_TARGETS: dict[tuple[str, str], float] = {
    ("today", "warm"): 0.3,
    ("today", "cold"): 2.0,
    ("customer", "warm"): 0.3,
    ("outcomes", "warm"): 1.0,
}
RATIO_TARGET = 2.0
SERVER_MB_TARGET = 300.0
# "The ratio must not grow with size": allowed growth from 1,000 to 10,000
# customers before it counts as growing (run-to-run noise on a shared machine).
RATIO_GROWTH_ALLOWED = 1.15


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ figures


@dataclass
class Figure:
    customers: int
    database: str
    measure: str
    runs: list[float]
    unit: str = "s"  # s | MB
    floor: float | None = None  # seconds of the floor this figure is divided by
    floor_name: str = ""
    ratio_target: float | None = None
    limit: float | None = None  # absolute target in `unit`
    note: str = ""

    @property
    def value(self) -> float:
        return statistics.median(self.runs)

    @property
    def ratio(self) -> float | None:
        return self.value / self.floor if self.floor else None

    @property
    def met(self) -> bool | None:
        if self.ratio_target is not None and self.ratio is not None:
            return self.ratio <= self.ratio_target
        if self.limit is not None:
            return self.value < self.limit
        return None

    @property
    def target_text(self) -> str:
        if self.ratio_target is not None:
            return f"<= {self.ratio_target:g}x floor"
        if self.limit is not None:
            return f"< {self.limit:g} {self.unit}"
        return ""

    @property
    def verdict(self) -> str:
        met = self.met
        if met is None:
            return ""
        if met:
            return "met"
        if self.ratio_target is not None and self.ratio is not None:
            return f"MISSED by {self.ratio - self.ratio_target:.2f}x"
        assert self.limit is not None
        over = self.value - self.limit
        return f"MISSED by {over:.2f} {self.unit} ({over / self.limit:.0%})"


def _fmt(value: float, unit: str) -> str:
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


# ------------------------------------------------------------------ databases


class Databases:
    """Fresh databases by name: SQLite files in a folder, or PostgreSQL databases."""

    def __init__(self, kind: str, folder: Path, server: Any = None) -> None:
        self.kind = kind
        self.folder = folder
        self.server = server

    def url(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / (name + '.db')}"
        return str(self.server.url(name))

    def _admin(self, sql: str) -> None:
        connection = floor.pg_connect(self.server.url("postgres"), autocommit=True)
        try:
            connection.execute(sql)  # names are ours (size and run numbers), never input
        finally:
            connection.close()

    def create(self, name: str, template: str | None = None) -> str:
        self.drop(name)
        if self.kind == "sqlite":
            if template:
                shutil.copy(self.folder / f"{template}.db", self.folder / f"{name}.db")
        elif template:
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop(self, name: str) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                (self.folder / f"{name}.db{suffix}").unlink(missing_ok=True)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{name}"')


# ------------------------------------------------------------------ commands


def onboarding(*args: str) -> list[str]:
    """The `onboarding` command (lib.cli.main) through bench.peak, which adds its peak
    memory to stderr."""
    return [sys.executable, "-m", "bench.peak", *args]


def timed(command: Sequence[str], stdout: Any = subprocess.DEVNULL) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB, VmHWM, see bench.peak) of one command."""
    started = time.perf_counter()
    done = subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT)
    seconds = time.perf_counter() - started
    errors = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{errors}")
    marks = [line for line in errors.splitlines() if line.startswith(peak.MARK)]
    return seconds, float(marks[-1].removeprefix(peak.MARK)) if marks else float("nan")


# ------------------------------------------------------------------ one database


@dataclass
class Context:
    sizes: tuple[int, ...]
    runs: int
    cold: int
    warm: int
    as_of: dt.date
    auth: Path
    password: str
    figures: list[Figure] = field(default_factory=list)
    plans: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    info: list[str] = field(default_factory=list)


def measure(
    ctx: Context, size: int, dbs: Databases, csv_dir: Path, rows: list[tuple[Any, ...]]
) -> None:
    name = dbs.kind
    figures: list[Figure] = []

    def add(figure: Figure) -> Figure:
        figures.append(figure)
        ctx.figures.append(figure)
        return figure

    log(f"{size:,} customers, {name}: template with customers, subscriptions, config, steps")
    template = f"tmpl_{size}"
    url = dbs.create(template)
    timed(onboarding("--db", url, "import", *[str(csv_dir / f) for f in SMALL_FILES]))

    # -- import, each into a fresh copy of the template; the last one is kept
    imports, import_mb = [], []
    app = ""
    for run in range(ctx.runs):
        if app:
            dbs.drop(app)
        app = f"app_{size}_{run}"
        url = dbs.create(app, template)
        log(f"  import run {run + 1}/{ctx.runs}")
        seconds, mb = timed(onboarding("--db", url, "import", str(csv_dir / "usage.csv")))
        imports.append(seconds)
        import_mb.append(mb)
    app_url = dbs.url(app)

    # -- the insert floor, each into a fresh empty database
    inserts = []
    for run in range(ctx.runs):
        log(f"  insert floor run {run + 1}/{ctx.runs}")
        url = dbs.create(f"floor_{size}_{run}")
        inserts.append(floor.insert(url, rows))
        dbs.drop(f"floor_{size}_{run}")
    insert_floor = statistics.median(inserts)
    add(Figure(size, name, "insert floor", inserts, note=f"{len(rows):,} rows"))
    add(
        Figure(
            size,
            name,
            "`onboarding import usage.csv`",
            imports,
            floor=insert_floor,
            floor_name="insert",
            ratio_target=RATIO_TARGET,
        )
    )
    add(Figure(size, name, "import peak memory", import_mb, unit="MB"))

    # -- the GROUP BY floor and the report, on the imported database
    group_bys = []
    for run in range(ctx.runs):
        log(f"  group-by floor run {run + 1}/{ctx.runs}")
        seconds, count = floor.group_by(app_url, ctx.as_of)
        group_bys.append(seconds)
    group_floor = statistics.median(group_bys)
    add(Figure(size, name, "group-by floor", group_bys, note=f"{count:,} customer x metric sums"))
    reports, report_mb = [], []
    out = dbs.folder / f"report_{size}_{name}.json"
    for run in range(ctx.runs):
        log(f"  report run {run + 1}/{ctx.runs}")
        with out.open("wb") as handle:
            seconds, mb = timed(onboarding("--db", app_url, "report", "--json"), stdout=handle)
        reports.append(seconds)
        report_mb.append(mb)
    printed = json.loads(out.read_text())
    if len(printed) != size:
        raise RuntimeError(f"report printed {len(printed)} customers, expected {size}")
    out.unlink()
    add(
        Figure(
            size,
            name,
            "`onboarding report --json`",
            reports,
            floor=group_floor,
            floor_name="group by",
            ratio_target=RATIO_TARGET,
        )
    )
    add(Figure(size, name, "report peak memory", report_mb, unit="MB"))
    done = subprocess.run(
        [sys.executable, "-m", "bench.build", "--db", app_url, "--runs", str(ctx.runs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    found = [line for line in done.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if done.returncode != 0 or not found:
        raise RuntimeError(f"bench.build failed:\n{done.stderr[-3000:]}")
    add(
        Figure(
            size,
            name,
            "report in process (build + JSON, no start-up)",
            json.loads(found[-1].removeprefix("BENCH_RESULT "))["seconds"],
            floor=group_floor,
            floor_name="group by",
        )
    )

    # -- pages, as a team member, in one process (the server)
    engine = db.make_engine(app_url)
    with db.read_session(engine) as session:
        customer = session.scalar(
            select(models.Customer.customer_id)
            .where(models.Customer.owner == TEAM_USER)
            .order_by(models.Customer.customer_id)
            .limit(1)
        )
    if size == max(ctx.sizes):
        ctx.plans[name] = plans.explain(engine, ctx.as_of)
    engine.dispose()
    specs = [f"customer?id={customer}" if page == "customer" else page for page in PAGES]
    log(f"  pages ({', '.join(PAGES)}): {ctx.cold} cold and {ctx.warm} warm runs each")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.pages",
            "--db",
            app_url,
            "--auth",
            str(ctx.auth),
            "--user",
            TEAM_USER,
            "--cold",
            str(ctx.cold),
            "--warm",
            str(ctx.warm),
            *[arg for spec in specs for arg in ("--page", spec)],
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "BENCH_PASSWORD": ctx.password},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"page runs failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1].removeprefix("BENCH_RESULT "))
    for spec, page in zip(specs, PAGES, strict=True):
        found = result["pages"][spec]
        if found["errors"]:
            ctx.info.append(f"{size:,} {name} {page} page showed: {found['errors'][0]}")
        for kind in ("cold", "warm"):
            limit = PAGE_TARGETS.get((page, kind)) if size == TARGET_SIZE else None
            add(
                Figure(
                    size,
                    name,
                    f"{page} page, {kind}",
                    found[kind],
                    limit=limit,
                    note="FAILED: " + found["errors"][0] if found["errors"] else "",
                )
            )
    served = result["pages"][specs[2]]["rss_after_mb"]  # after Today, Customer, Outcomes
    add(
        Figure(
            size,
            name,
            "server peak memory (Today, Customer, Outcomes)",
            [served],
            unit="MB",
            limit=SERVER_MB_TARGET if size == TARGET_SIZE else None,
        )
    )
    add(
        Figure(
            size,
            name,
            "server peak memory (+ Customers: everyone's reports)",
            [result["peak_rss_mb"]],
            unit="MB",
        )
    )
    dbs.drop(app)
    dbs.drop(template)


# ------------------------------------------------------------------ output


def growth_checks(figures: list[Figure], sizes: Sequence[int]) -> list[Figure]:
    """The import and report ratios must not grow with size."""
    checks: list[Figure] = []
    if len(sizes) < 2:
        return checks
    small, large = min(sizes), max(sizes)
    for database in sorted({f.database for f in figures}):
        for measure in ("`onboarding import usage.csv`", "`onboarding report --json`"):
            pair = {
                f.customers: f
                for f in figures
                if f.database == database and f.measure == measure and f.ratio is not None
            }
            if small in pair and large in pair:
                a, b = pair[small].ratio, pair[large].ratio
                assert a is not None and b is not None
                growth = Figure(
                    large,
                    database,
                    f"{measure} ratio at {large:,} / at {small:,}",
                    [b / a],
                    unit="x",
                    limit=RATIO_GROWTH_ALLOWED,
                    note=f"{a:.2f}x -> {b:.2f}x",
                )
                checks.append(growth)
    return checks


def table_rows(figures: list[Figure]) -> list[list[str]]:
    rows = []
    for f in figures:
        if f.unit == "x":
            value = f"{f.value:.2f}"
        else:
            value = _fmt(f.value, f.unit)
        runs = ", ".join(f"{x:.2f}" if f.unit != "MB" else f"{x:.0f}" for x in f.runs)
        rows.append(
            [
                f"{f.customers:,}",
                f.database,
                f.measure,
                value,
                runs if len(f.runs) > 1 else "",
                f"{f.floor:.2f} s ({f.floor_name})" if f.floor else "",
                f"{f.ratio:.2f}x" if f.ratio is not None else "",
                f.target_text,
                f.verdict,
                f.note,
            ]
        )
    return rows


HEADER = [
    "customers",
    "database",
    "measure",
    "median",
    "runs",
    "floor",
    "ratio",
    "target",
    "",
    "note",
]


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(HEADER, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def markdown(
    ctx: Context,
    about: dict[str, str],
    rows: list[list[str]],
    checks: list[Figure],
    elapsed: float,
) -> str:
    def cells(values: list[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    targets = [f for f in ctx.figures if f.met is not None] + checks
    missed = [f for f in targets if not f.met]
    out = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m bench`, see bench/run.py); do not edit by hand.",
        f"Run on {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, as of {ctx.as_of.isoformat()}, "
        f"in {elapsed / 60:.1f} minutes.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[cells([k, v]) for k, v in about.items()],
        "",
        "## Targets",
        "",
        (
            f"All {len(targets)} targets met."
            if not missed
            else f"{len(targets) - len(missed)} of {len(targets)} targets met; missed:"
        ),
        "",
        *[
            f"- {f.customers:,} customers, {f.database}, {f.measure}: "
            f"{_fmt(f.value, f.unit) if f.unit != 'x' else f'{f.value:.2f}x'}"
            f"{f' ({f.ratio:.2f}x the floor)' if f.ratio is not None else ''}, "
            f"target {f.target_text}: {f.verdict}"
            for f in missed
        ],
        "",
        "## Results",
        "",
        "Each figure is the median of its runs (wall-clock seconds; memory is the peak",
        "resident set size of the process, VmHWM in /proc/self/status: the `onboarding`",
        "command, or the AppTest process that runs every page like a server).",
        "",
        cells(HEADER),
        cells(["---"] * len(HEADER)),
        *[cells(r) for r in rows],
        *[cells(r) for r in table_rows(checks)],
        "",
        "## How it is measured",
        "",
        "- **Data**: `onboarding demo --customers N --seed 7 --csv-dir DIR` (as of today): "
        "120 days of usage, ~1,245 rows a customer.",
        "- **Import**: `onboarding import usage.csv` into a fresh copy of a database that "
        "already has the customers, subscriptions, config and steps. The whole command: "
        "start-up, reading, validation, writing, refreshing `customer_usage_summary` and "
        "recording the audit's findings (lib.audit.finding_store.sync_in), in one transaction.",
        "- **Insert floor**: the same rows, already in memory as tuples, in one "
        "executemany of 100-row INSERT statements through the raw driver (sqlite3 / "
        "psycopg) into an empty table with the usage table's columns, primary key and "
        "storage (WITHOUT ROWID on SQLite) and nothing else (bench/floor.py). On PostgreSQL the import writes with COPY.",
        "- **Report**: `onboarding report --json` (start-up, reading, findings, JSON for "
        "every customer) on the imported database.",
        "- **Group-by floor**: one `GROUP BY customer_id, metric` summing `value` over the "
        "30-day window ending on as-of and over the 90 days before, over the whole usage "
        "table, through the raw driver.",
        "- **Pages**: AppTest from app.py, signed in as the team member "
        f"`{TEAM_USER}` (who owns ~1/12 of the customers); each page once, then "
        f"{ctx.cold} cold runs (after `ui.data.changed()`, which a write in the app calls: "
        f"every cached read dropped) and {ctx.warm} warm runs (a rerun with caches full, "
        "as a click makes). The script run time of the page, as AppTest reports it.",
        "- **Big and hostile files** (bench/big_files.py, one run each, generated into a "
        "temporary folder): a valid 150 MB usage.csv (every metric every day for 120 days) "
        "into a database with its customers, beside the insert floor for its rows (peak "
        "memory target: under 500 MB); the same rows naming unknown customers; a "
        "customers.csv with a million columns; a 50 MB single line. The last three are "
        "refused (exit status 1, nothing written); the note is the command's message.",
        "- **PostgreSQL**: a throwaway local cluster (tests/pg_server.py: fsync off, "
        "Unix socket, default memory settings); SQLite in WAL mode as the app runs it.",
        "- The machine may be shared: the load average is in the machine table "
        f"(at the end: {machine.load_average()}).",
        "",
    ]
    if ctx.info:
        out += ["## Notes from the run", "", *[f"- {line}" for line in ctx.info], ""]
    if ctx.plans:
        out += [
            f"## Query plans at {max(ctx.sizes):,} customers",
            "",
            "EXPLAIN QUERY PLAN (SQLite) and EXPLAIN (PostgreSQL) of the reads that matter "
            "at scale (bench/plans.py).",
            "",
        ]
        for database, found in ctx.plans.items():
            out += [f"### {database}", ""]
            for name, lines in found.items():
                shown = [line if len(line) < 160 else line[:157] + "..." for line in lines]
                out += [f"{name}:", "", "```", *shown, "```", ""]
    return "\n".join(out)


README_START = "<!-- bench:start (written by make bench) -->"
README_END = "<!-- bench:end -->"


def readme_summary(ctx: Context, about: dict[str, str], checks: list[Figure]) -> str:
    """The targets of the run as a small table, for the README's performance section."""
    targets = [f for f in ctx.figures if f.met is not None] + checks
    missed = sum(1 for f in targets if not f.met)
    lines = [
        f"{dt.date.today().isoformat()}, {about['CPU']}, {about['cores']} cores, {about['RAM']}, "
        f"Python {about['Python']}, SQLite {about['SQLite']}, {about['PostgreSQL']}: "
        + (
            f"all {len(targets)} targets met."
            if not missed
            else f"{len(targets) - missed} of {len(targets)} targets met."
        ),
        "",
        "| customers | database | measure | median | ratio to floor | target | |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in targets:
        value = f"{f.value:.2f}" if f.unit == "x" else _fmt(f.value, f.unit)
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else ""
        lines.append(
            f"| {f.customers:,} | {f.database} | {f.measure} | {value} | {ratio} | "
            f"{f.target_text} | {f.verdict} |"
        )
    return "\n".join(lines)


def update_readme(summary: str) -> None:
    path = ROOT / "README.md"
    text = path.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return
    path.write_text(text[: start + len(README_START)] + "\n" + summary + "\n" + text[end:])


# ------------------------------------------------------------------ main


@contextlib.contextmanager
def postgres(wanted: bool) -> Iterator[Any]:
    if not wanted:
        yield None
        return
    sys.path.insert(0, str(ROOT))
    from tests import pg_server

    bindir = pg_server.binaries()
    if bindir is None:
        log("PostgreSQL binaries not found: SQLite only (make bench as root installs them)")
        yield None
        return
    with pg_server.running(bindir) as server:
        yield server


def run_clicks(sizes: str, count: int) -> str:
    """bench.clicks in its own process (its progress on stderr); its Markdown section."""
    log(f"clicks in the browser at {sizes} customers, {count} of each kind")
    done = subprocess.run(
        [sys.executable, "-m", "bench.clicks", "--sizes", sizes, "--clicks", str(count)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_SKIPPED "):
            return f"{clicks.START}\n## Click to idle in the browser\n\nNot run: {line[14:]}\n{clicks.END}"
    found = [line for line in done.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if done.returncode != 0 or not found:
        raise RuntimeError("bench.clicks failed (its output is above)")
    return clicks.markdown(json.loads(found[-1].removeprefix("BENCH_RESULT ")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--cold", type=int, default=3, help="cold page runs")
    parser.add_argument("--warm", type=int, default=5, help="warm page runs")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--big",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the big and hostile files (bench/big_files.py)",
    )
    parser.add_argument(
        "--big-only", action="store_true", help="only the big and hostile files (no sizes)"
    )
    parser.add_argument(
        "--clicks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="click to idle in a real browser (bench/clicks.py)",
    )
    parser.add_argument(
        "--clicks-only",
        action="store_true",
        help="only the clicks: replace their section of --out, the rest as it is",
    )
    parser.add_argument("--click-sizes", default=",".join(str(s) for s in clicks.SIZES))
    parser.add_argument(
        "--click-count", type=int, default=clicks.CLICKS, help="clicks of each kind"
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument(
        "--readme",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the targets into README.md (default: when --out is docs/benchmarks.md)",
    )
    args = parser.parse_args(argv)
    if args.clicks_only:
        section = run_clicks(args.click_sizes, args.click_count)
        out = Path(args.out)
        out.write_text(clicks.replace_section(out.read_text() if out.exists() else "", section))
        print(f"Written to {args.out}.")
        return 0
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="onboarding-bench-"))
    password = secrets.token_urlsafe(18)
    auth_path = workdir / "auth.yaml"
    auth.add_user(auth_path, TEAM_USER, "team", password, name=TEAM_USER.title())
    ctx = Context(
        sizes=() if args.big_only else tuple(int(s) for s in args.sizes.split(",")),
        runs=args.runs,
        cold=args.cold,
        warm=args.warm,
        as_of=dt.date.today(),
        auth=auth_path,
        password=password,
    )
    try:
        with postgres(not args.no_postgres) as server:
            about = machine.describe(server.version() if server else None)
            kinds = [Databases("sqlite", workdir)]
            if server is not None:
                kinds.append(Databases("postgresql", workdir, server))
            for size in ctx.sizes:
                csv_dir = workdir / f"csv_{size}"
                log(f"{size:,} customers: onboarding demo --csv-dir")
                seconds, _ = timed(
                    onboarding(
                        "demo",
                        "--customers",
                        str(size),
                        "--seed",
                        str(SEED),
                        "--csv-dir",
                        str(csv_dir),
                    )
                )
                ctx.info.append(f"{size:,} customers: the demo CSVs took {seconds:.0f} s to write")
                rows = floor.usage_rows(csv_dir / "usage.csv")
                for dbs in kinds:
                    measure(ctx, size, dbs, csv_dir, rows)
                del rows
                shutil.rmtree(csv_dir, ignore_errors=True)
            if args.big or args.big_only:
                for dbs in kinds:
                    folder = workdir / f"big_{dbs.kind}"
                    folder.mkdir()
                    ctx.figures += big_files.measure(ctx, dbs, folder, onboarding, ROOT, log)
                    shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    section = run_clicks(args.click_sizes, args.click_count) if args.clicks else ""
    elapsed = time.perf_counter() - started
    checks = growth_checks(ctx.figures, ctx.sizes)
    rows = table_rows(ctx.figures)
    print(text_table(rows + table_rows(checks)))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    text = markdown(ctx, about, rows, checks, elapsed)
    Path(args.out).write_text(clicks.replace_section(text, section) if section else text)
    if args.readme or (args.readme is None and Path(args.out).resolve() == DEFAULT_OUT):
        update_readme(readme_summary(ctx, about, checks))
    targets = [f for f in ctx.figures if f.met is not None] + checks
    missed = [f for f in targets if not f.met]
    print(f"\n{len(targets) - len(missed)} of {len(targets)} targets met.")
    for f in missed:
        print(f"  MISSED: {f.customers:,} {f.database} {f.measure}: {f.verdict}")
    print(f"Written to {args.out} in {elapsed / 60:.1f} minutes.")
    return 0
