"""Click to idle in a real browser: `streamlit run app.py` on demo data, Chromium
through Playwright, as a team member clicks. Run as its own process by bench.run
(or alone: `python -m bench.clicks --sizes 300,10000`).

For each size, a SQLite database of `onboarding demo --customers N --seed 7` (as of
today) is built once into a cached file under the temporary folder (10,000 customers
take minutes) and copied for each run, so the cache stays as built. The server runs
as `python -m bench.clicks --serve TIMINGS -- <streamlit arguments>`: Streamlit with
its ScriptRunner timed (each script run's start and end, wall clock, one JSON line
each). It has its own login file, cookie key and secrets (the production
login_sleep_time: nothing set).

Each click is timed in the page: from the pointerdown event to the page idle (the
app's script state notRunning, no status widget, no stale element, held for
HOLD_S), the end being the later of the last change to idle and the last DOM change
up to RENDER_TAIL_S after it. A click that started no script run (it landed on an
element a rerun was replacing) is logged and not counted. Beside it: the server's
script run time inside that window, the bytes the websocket received, and the
elements on the page; what is left of the click time is the browser's (rendering,
layout) and the round trips.

Prints one JSON object after BENCH_RESULT (bench.run reads it), and a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = (300, 10_000)
CLICKS = 5
SEED = 7
USER = "priya"  # a demo owner: Today shows their worklist
FILTER = re.compile("findings", re.IGNORECASE)  # the Customers toggle "... findings ..."
SENT = re.compile(r"sent$")  # Today's one-click "Outreach sent" (an email recorded as sent)
HOLD_S = 1.0  # idle must hold this long (a loaded server can rerun once more a while later)
NO_RUN_S = 10.0
RENDER_TAIL_S = 0.4
CLICK_TIMEOUT_S = 120.0
CACHE = Path(tempfile.gettempdir()) / "onboarding-bench-clicks"
# Targets (seconds): at most 300 customers -> 1 s, at 10,000 -> 2 s; signing in 2 s.
TARGETS = {300: 1.0, 10_000: 2.0}
SIGN_IN_TARGET_S = 2.0

# Each action: its label, in the order of the table.
ACTIONS = (
    "sign in",
    "open Today",
    "open a customer (link on Today)",
    "switch a tab on the customer page",
    "open Customers",
    "change a filter on Customers",
    "open Outcomes",
    "open Meetings",
    "save: record an email as sent on Today",
    "undo the save",
    "open Customers, first after a save",
    "open Outcomes, first after a save",
)

WATCH_JS = """() => {
  if (window.__bench) return;
  const b = window.__bench = {click: 0, mutation: 0, idleSince: 0, busySince: 0};
  const now = () => performance.timeOrigin + performance.now();
  const idle = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.getAttribute('data-test-script-state') !== 'running'
      && !document.querySelector('[data-testid="stStatusWidget"] *')
      && !document.querySelector('[data-stale="true"]');
  };
  let wasIdle = idle();
  b.idleSince = now();
  const check = () => {
    const t = now();
    b.mutation = t;
    const isIdle = idle();
    if (isIdle && !wasIdle) b.idleSince = t;
    if (!isIdle && wasIdle) b.busySince = t;
    wasIdle = isIdle;
  };
  new MutationObserver(check).observe(document.documentElement,
    {subtree: true, childList: true, attributes: true, characterData: true});
  document.addEventListener('pointerdown', () => { b.click = now(); }, true);
}"""

STATE_JS = """() => {
  const b = window.__bench;
  const app = document.querySelector('[data-testid="stApp"]');
  const idle = !!app && app.getAttribute('data-test-script-state') !== 'running'
    && !document.querySelector('[data-testid="stStatusWidget"] *')
    && !document.querySelector('[data-stale="true"]');
  return {idle, click: b.click, mutation: b.mutation, idleSince: b.idleSince,
          busySince: b.busySince, now: performance.timeOrigin + performance.now(),
          elements: document.querySelectorAll('[data-testid="stElementContainer"]').length};
}"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the server


def serve(timings: str, streamlit_args: list[str]) -> None:
    """`streamlit run` with every script run's wall-clock start and end appended to
    `timings` (the ScriptRunner's own loop of reruns counts as one run)."""
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.web import cli

    original = script_runner.ScriptRunner._run_script

    def timed(self: Any, rerun_data: Any) -> None:
        started = time.time()
        try:
            original(self, rerun_data)
        finally:
            with open(timings, "a", encoding="utf-8") as out:
                out.write(json.dumps({"start": started, "end": time.time()}) + "\n")

    script_runner.ScriptRunner._run_script = timed  # type: ignore[method-assign]
    sys.argv = ["streamlit", *streamlit_args]
    cli.main()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    timings: Path
    process: subprocess.Popen[bytes]

    def script_runs(self, start: float, end: float) -> list[float]:
        """Seconds of each script run inside [start, end] (epoch seconds)."""
        found: list[float] = []
        if not self.timings.exists():
            return found
        for line in self.timings.read_text(encoding="utf-8").splitlines():
            run = json.loads(line)
            inside = min(end, run["end"]) - max(start, run["start"])
            if inside > 0:
                found.append(inside)
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


def start_server(folder: Path, database_url: str, auth_file: Path) -> Server:
    port = _free_port()
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text("[auth]\n", encoding="utf-8")  # no developer's secrets
    timings = folder / "script_runs.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTHOG_", "ONBOARDING_"))}
    env |= {
        "ONBOARDING_DATABASE_URL": database_url,
        "ONBOARDING_AUTH_FILE": str(auth_file),
        "ONBOARDING_COOKIE_KEY": secrets.token_urlsafe(48),
    }
    streamlit_args = [
        "run",
        "app.py",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        f"--secrets.files={secrets_file}",
    ]
    command = [sys.executable, "-m", "bench.clicks", "--serve", str(timings), "--", *streamlit_args]
    with (folder / "streamlit.log").open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(f"http://127.0.0.1:{port}", timings, process)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError((folder / "streamlit.log").read_text(errors="replace")[-3000:])
        time.sleep(0.2)


def demo_database(size: int, as_of: dt.date) -> Path:
    """The cached SQLite file of the demo at `size` customers as of `as_of` (built once)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"demo_{size}_seed{SEED}_{as_of.isoformat()}.db"
    if not path.exists():
        building = path.with_suffix(".building.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        log(f"{size:,} customers: onboarding demo into {path} (once; minutes at 10,000)")
        subprocess.run(
            [sys.executable, "-m", "lib", "--db", f"sqlite:///{building}", "demo"]
            + ["--customers", str(size), "--seed", str(SEED), "--as-of", as_of.isoformat()],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        building.rename(path)
    return path


# ------------------------------------------------------------------ one click


@dataclass
class Click:
    action: str
    seconds: float
    script: float
    runs: int
    received_kb: float
    elements: int


@dataclass
class Browser:
    page: Any
    server: Server
    received: list[int] = field(default_factory=list)

    def watch(self) -> None:
        self.page.evaluate(WATCH_JS)

    def on_websocket(self, socket: Any) -> None:
        def frame(payload: str | bytes) -> None:
            self.received.append(len(payload))

        socket.on("framereceived", frame)

    def click(self, action: str, target: Any, done: Callable[[], bool] | None = None) -> Click:
        """Click `target` and wait until the page is idle; the click's figures."""
        self.received.clear()
        target.click()
        deadline = time.monotonic() + CLICK_TIMEOUT_S
        while True:
            self.page.wait_for_timeout(25)
            state = self.page.evaluate(STATE_JS)
            ran = state["busySince"] >= state["click"] > 0
            waited = (state["now"] - state["click"]) / 1000
            held = (state["now"] - state["idleSince"]) / 1000 >= HOLD_S
            # A loaded server can start the run seconds after the click: wait for it
            # (a click that starts none, if any, ends after NO_RUN_S).
            if state["idle"] and held and (ran or waited > NO_RUN_S) and (done is None or done()):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{action}: the page kept running for {CLICK_TIMEOUT_S} s")
        # The page still drawing just after the run ended counts (charts, the data grid).
        tail = state["idleSince"] + RENDER_TAIL_S * 1000
        end = max(state["idleSince"], min(state["mutation"], tail))
        seconds = max(0.0, (end - state["click"]) / 1000)
        runs = self.server.script_runs(state["click"] / 1000, end / 1000)
        if not runs:  # the server writes a run's times just after the browser hears of its end
            self.page.wait_for_timeout(300)
            runs = self.server.script_runs(state["click"] / 1000, end / 1000)
        if not runs:  # no script ran for it: the click landed on an element being replaced
            log(f"  {action}: the click started no script run; not counted")
        kb = sum(self.received) / 1024
        return Click(action, seconds, sum(runs), len(runs), kb, state["elements"])

    def settle(self) -> None:
        """Wait for the runs a page load starts (the cookie component reruns the app)."""
        deadline = time.monotonic() + CLICK_TIMEOUT_S
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
            state = self.page.evaluate(STATE_JS)
            if state["idle"] and (state["now"] - state["idleSince"]) / 1000 >= 1.0:
                return
        raise RuntimeError("the page kept running")


# ------------------------------------------------------------------ one size


def _shown(locator: Any) -> bool:
    return bool(locator.count() > 0)


def report(click: Click) -> None:
    log(
        f"  {click.action}: {click.seconds:.2f} s (script {click.script:.2f} s in "
        f"{click.runs} run(s), {click.received_kb:.0f} KB, {click.elements} elements)"
    )


def sidebar(page: Any, title: str) -> Any:
    return page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True)


def measure_size(playwright: Any, size: int, clicks: int, as_of: dt.date) -> list[Click]:
    from lib.accounts import auth

    folder = Path(tempfile.mkdtemp(prefix=f"onboarding-clicks-{size}-"))
    found: list[Click] = []
    server: Server | None = None
    chromium = None
    try:
        database = folder / "onboarding.db"
        shutil.copy(demo_database(size, as_of), database)
        password = secrets.token_urlsafe(18)
        auth_file = folder / "auth.yaml"
        auth.add_user(auth_file, USER, "team", password, name=USER.title())
        server = start_server(folder, f"sqlite:///{database}", auth_file)
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        log(f"{size:,} customers: server at {server.url}; {clicks} clicks of each kind")
        context = None
        for _ in range(clicks):  # each sign-in in a fresh profile (no cookie)
            if context is not None:
                context.close()
            context = chromium.new_context(
                viewport={"width": 1400, "height": 1000}, base_url=server.url
            )
            context.set_default_timeout(CLICK_TIMEOUT_S * 1000)
            page = context.new_page()
            browser = Browser(page, server)
            page.on("websocket", browser.on_websocket)
            page.goto("/")
            page.get_by_role("textbox", name="Password").wait_for(timeout=CLICK_TIMEOUT_S * 1000)
            browser.watch()
            browser.settle()
            page.get_by_role("textbox", name="Username").fill(USER)
            page.get_by_role("textbox", name="Password").fill(password)
            logout = page.get_by_role("button", name="Log out")
            login = page.get_by_role("button", name="Login")
            click = browser.click("sign in", login, functools.partial(_shown, logout))
            if click.runs:
                found.append(click)
                report(click)
        assert context is not None
        found += rounds(browser, clicks)
    finally:
        if chromium is not None:
            chromium.close()
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return found


def rounds(browser: Browser, clicks: int) -> list[Click]:
    page = browser.page
    main = page.get_by_test_id("stMain")
    found: list[Click] = []

    def add(action: str, target: Any) -> None:
        if target.count() == 0:  # the page changed: say so, measure the rest
            log(f"  {action}: nothing to click, not measured")
            return
        click = browser.click(action, target)
        if click.runs:
            found.append(click)
            report(click)

    customer_link = main.locator('a[href*="customer?id="]').first
    for _ in range(clicks):  # navigation and reading: caches warm after the first round
        add("open Today", sidebar(page, "Today"))
        add("open a customer (link on Today)", customer_link)
        for tab in ("Timeline", "Audit"):
            add("switch a tab on the customer page", page.get_by_role("tab", name=tab))
        add("open Customers", sidebar(page, "Customers"))
        for _ in range(2):
            add("change a filter on Customers", main.locator("label").filter(has_text=FILTER).first)
        add("open Outcomes", sidebar(page, "Outcomes"))
        add("open Meetings", sidebar(page, "Meetings"))
    for n in range(clicks):  # a save: ui.data.changed(), the written customer built again
        add("open Today", sidebar(page, "Today"))
        add("save: record an email as sent on Today", main.get_by_role("button", name=SENT).first)
        add("undo the save", main.get_by_role("button", name="Undo"))
        after = "Customers" if n % 2 == 0 else "Outcomes"
        add(f"open {after}, first after a save", sidebar(page, after))
    return found


# ------------------------------------------------------------------ summary


def summary(results: dict[int, list[Click]]) -> list[dict[str, Any]]:
    """One row per action: per size the median, the first click, the script's share."""
    rows = []
    for action in ACTIONS:
        row: dict[str, Any] = {"action": action, "sizes": {}}
        for size, clicks in results.items():
            mine = [c for c in clicks if c.action == action]
            if not mine:
                continue
            target = SIGN_IN_TARGET_S if action == "sign in" else TARGETS.get(size)
            median = statistics.median(c.seconds for c in mine)
            row["sizes"][str(size)] = {
                "median": median,
                "first": mine[0].seconds,
                "runs": [c.seconds for c in mine],
                "script": statistics.median(c.script for c in mine),
                "runs_per_click": statistics.median(c.runs for c in mine),
                "received_kb": statistics.median(c.received_kb for c in mine),
                "elements": statistics.median(c.elements for c in mine),
                "target": target,
                "met": None if target is None else median <= target,
            }
        rows.append(row)
    return rows


def text_table(rows: list[dict[str, Any]], sizes: list[int]) -> str:
    lines = []
    for row in rows:
        cells = [row["action"].ljust(40)]
        for size in sizes:
            found = row["sizes"].get(str(size))
            if found is None:
                cells.append(f"{size:>6}: -".ljust(46))
                continue
            verdict = "" if found["met"] is None else ("met" if found["met"] else "MISSED")
            cells.append(
                f"{size:>6}: {found['median']:5.2f} s (first {found['first']:5.2f}, script "
                f"{found['script']:5.2f}, {found['received_kb']:6.0f} KB) {verdict}".ljust(46)
            )
        lines.append("  ".join(cells))
    return "\n".join(lines)


START = "<!-- clicks:start (written by make bench, bench/clicks.py) -->"
END = "<!-- clicks:end -->"


def markdown(result: dict[str, Any]) -> str:
    """The section of docs/benchmarks.md: the medians, then what the slowest cost."""
    sizes = [int(s) for s in result["sizes"]]
    rows = result["rows"]

    def cell(found: dict[str, Any] | None) -> str:
        if found is None:
            return "not measured"
        text = f"{found['median']:.2f} s (first {found['first']:.2f})"
        if found["met"] is False:
            text += f" MISSED by {found['median'] - found['target']:.2f} s"
        return text

    out = [
        START,
        "## Click to idle in the browser",
        "",
        f"`python -m bench.clicks` (bench/clicks.py; `python -m bench --clicks-only` runs "
        f"only it): `streamlit run app.py` on the demo at {' and '.join(f'{s:,}' for s in sizes)} "
        f"customers (SQLite), Chromium through Playwright, signed in as the team member "
        f"`{USER}`. Each figure is the median of {result['clicks']} clicks (first: the "
        "first of them, caches empty where the page was not seen yet), from the pointer "
        "going down to the page idle: no script running, no status widget, no stale "
        f"element, held for {HOLD_S} s. Targets: {TARGETS.get(300, 1):g} s at 300 customers, "
        f"{TARGETS.get(10_000, 2):g} s at 10,000; signing in {SIGN_IN_TARGET_S:g} s. Load "
        "average (1 min) around each size's run: "
        + "; ".join(f"{int(k):,}: {v}" for k, v in result["load"].items())
        + f". Run on {result.get('date', dt.date.today().isoformat())}.",
        "",
        "| click | " + " | ".join(f"{s:,} customers" for s in sizes) + " | target | met |",
        "|---|" + "---|" * len(sizes) + "---|---|",
    ]
    for row in rows:
        found = [row["sizes"].get(str(s)) for s in sizes]
        targets = sorted({f"{f['target']:g} s" for f in found if f and f["target"]})
        verdicts = [f["met"] for f in found if f and f["met"] is not None]
        met = "" if not verdicts else ("met" if all(verdicts) else "MISSED")
        out.append(
            f"| {row['action']} | "
            + " | ".join(cell(f) for f in found)
            + f" | {' / '.join(targets)} | {met} |"
        )
    out += [
        "",
        "### What the time goes to",
        "",
        "Per click (medians): the server's script runs inside the click's window (the "
        "ScriptRunner timed in the server), the rest (the browser building the page, the "
        "websocket, the round trips), the data the websocket brought and the elements on "
        "the page once idle.",
        "",
        "| click | customers | click to idle | script runs | rest (browser) | received "
        "| elements |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for size in sizes:
            f = row["sizes"].get(str(size))
            if f is None:
                continue
            out.append(
                f"| {row['action']} | {size:,} | {f['median']:.2f} s | {f['script']:.2f} s "
                f"({f['runs_per_click']:g} run(s)) | {max(0.0, f['median'] - f['script']):.2f} s "
                f"| {f['received_kb']:,.0f} KB | {f['elements']:,.0f} |"
            )
    out += ["", *slowest(rows, sizes), "", END]
    return "\n".join(out)


def slowest(rows: list[dict[str, Any]], sizes: list[int]) -> list[str]:
    """A line per size naming its slowest clicks and the larger part of their time."""
    lines = []
    for size in sizes:
        found = [
            (row["action"], row["sizes"][str(size)]) for row in rows if str(size) in row["sizes"]
        ]
        found.sort(key=lambda pair: -pair[1]["median"])
        parts = []
        for action, f in found[:3]:
            rest = max(0.0, f["median"] - f["script"])
            bigger = "script runs" if f["script"] >= rest else "the browser"
            parts.append(
                f"{action} {f['median']:.2f} s (script {f['script']:.2f} s, browser and round "
                f"trips {rest:.2f} s, {f['received_kb']:,.0f} KB, {f['elements']:,.0f} "
                f"elements: mostly {bigger})"
            )
        lines.append(f"- Slowest at {size:,} customers: " + "; ".join(parts) + ".")
    return lines


def replace_section(text: str, section: str) -> str:
    """`text` (docs/benchmarks.md) with its clicks section replaced (or appended)."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return text.rstrip("\n") + "\n\n" + section + "\n"
    return text[:start] + section + text[end + len(END) :]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        serve(argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.clicks")
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--clicks", type=int, default=CLICKS)
    parser.add_argument("--out", help="replace the clicks section of this file (Markdown)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print("BENCH_SKIPPED " + json.dumps(f"{CHROMIUM} not found"))
        return 0
    from playwright.sync_api import sync_playwright

    # Stopped by its process id (SIGTERM): stop the server and Chromium on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    sizes = [int(s) for s in args.sizes.split(",")]
    as_of = dt.date.today()
    results: dict[int, list[Click]] = {}
    loads: dict[str, str] = {}
    with sync_playwright() as playwright:
        for size in sizes:
            demo_database(size, as_of)  # built before the load average is read
            before = os.getloadavg()
            results[size] = measure_size(playwright, size, args.clicks, as_of)
            after = os.getloadavg()
            loads[str(size)] = f"{before[0]:.1f} before, {after[0]:.1f} after"
    rows = summary(results)
    print(text_table(rows, sizes), file=sys.stderr)
    result = {
        "rows": rows,
        "clicks": args.clicks,
        "load": loads,
        "sizes": sizes,
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
    }
    if args.out:
        out = Path(args.out)
        out.write_text(replace_section(out.read_text() if out.exists() else "", markdown(result)))
    print("BENCH_RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
