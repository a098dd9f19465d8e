"""Page script run times through AppTest, signed in: run as its own process by bench.run.

    python -m bench.pages --db URL --auth FILE --user NAME --page today --page customer?id=X

For each page: one first run (switching to it), then `cold` runs, each after
every cached read is dropped (ui.data.changed(), as a write in the app calls it,
and ui.data.forget_reports(): the report lists too, as after an import; the
engine and imported modules stay), then `warm` runs (the same session rerunning with its caches full, as a
click on the page does). Prints one JSON object: seconds per run per page, the
errors a page showed, and the process's peak resident set size (VmHWM, see
bench.peak) after sign-in and after each page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import time
from typing import Any

from bench import peak

PASSWORD_ENV = "BENCH_PASSWORD"
LOGIN_BUTTON = "FormSubmitter:Login-Login"


def peak_rss_mb() -> float:
    return peak.peak_mb()  # VmHWM: ru_maxrss would include the benchmark's own peak


def _errors(at: Any) -> list[str]:
    return [str(e.value)[:300] for e in at.exception] + [str(e.value)[:300] for e in at.error]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages")
    parser.add_argument("--db", required=True)
    parser.add_argument("--auth", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--as-of", dest="as_of", type=dt.date.fromisoformat)
    parser.add_argument("--page", action="append", default=[], help="name[?key=value]")
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--warm", type=int, default=5)
    args = parser.parse_args(argv)

    os.environ["ONBOARDING_DATABASE_URL"] = args.db
    os.environ["ONBOARDING_AUTH_FILE"] = args.auth
    os.environ.setdefault("ONBOARDING_COOKIE_KEY", secrets.token_urlsafe(48))
    os.environ.pop("POSTHOG_API_KEY", None)  # no telemetry from a benchmark

    from streamlit.testing.v1 import AppTest

    from lib.settings import PROJECT_ROOT
    from ui import data

    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=900)
    at.secrets["auth"] = {"login_sleep_time": 0}
    if args.as_of:
        at.session_state["as_of"] = args.as_of
    at.run()
    at.text_input[0].input(args.user)
    at.text_input[1].input(os.environ[PASSWORD_ENV])
    at.button(key=LOGIN_BUTTON).click()
    at.run()
    at.run()  # the next click's run, as a browser makes it
    result: dict[str, Any] = {"signed_in_rss_mb": peak_rss_mb(), "pages": {}}
    for spec in args.page:
        name, _, query = spec.partition("?")
        for pair in filter(None, query.split("&")):
            key, _, value = pair.partition("=")
            at.query_params[key] = value
        started = time.perf_counter()
        at.switch_page(f"app_pages/{name}.py")
        at.run()
        first = time.perf_counter() - started
        cold, warm, rss = [], [], [peak_rss_mb()]
        for _ in range(args.cold):
            data.changed()
            data.forget_reports()  # every report list built again, as after an import
            started = time.perf_counter()
            at.run()
            cold.append(time.perf_counter() - started)
            rss.append(peak_rss_mb())
        for _ in range(args.warm):
            started = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - started)
        result["pages"][spec] = {
            "first": first,
            "cold": cold,
            "warm": warm,
            "errors": _errors(at),
            "rss_after_mb": peak_rss_mb(),
            "rss_steps_mb": rss,
        }
        for key in list(at.query_params):
            del at.query_params[key]
    result["peak_rss_mb"] = peak_rss_mb()
    print("BENCH_RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
