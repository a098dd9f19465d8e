"""Hand-made CSV files for import and report tests, and imports as the CLI runs them.

`AS_OF` is a fixed date; the customers below sit in every program state on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine

from lib import ingest
from lib.ingest import ImportResult, Source
from lib.store import db

AS_OF = dt.date(2026, 3, 15)


def import_sources(
    engine: Engine,
    sources: list[Source],
    user: str = "cli",
    as_of: dt.date | None = None,
    show_progress: bool = False,
) -> ImportResult:
    """What `onboarding import` does: validate, then write in one write session (as of
    today unless told). Raises ImportRejected, having written nothing."""
    loaded, warnings = ingest.validate_sources(sources)
    return _write(engine, loaded, warnings, user, as_of, show_progress)


def import_paths(
    engine: Engine, paths: Iterable[str | Path], user: str = "cli", as_of: dt.date | None = None
) -> ImportResult:
    """import_sources of files and folders (a folder: every known CSV in it)."""
    loaded, warnings = ingest.validate_paths(paths)
    return _write(engine, loaded, warnings, user, as_of)


def _write(
    engine: Engine,
    loaded: dict[str, ingest.Loaded],
    warnings: list[str],
    user: str,
    as_of: dt.date | None,
    show_progress: bool = False,
) -> ImportResult:
    ingest.ensure_schema(engine)
    with db.write_session(engine, user) as session:
        return ingest.write(session, loaded, as_of or dt.date.today(), warnings, show_progress)


CUSTOMERS = """customer_id,name,owner,plan,segment_entered_on,entry_reason,mrr_usd,extended_until,status
acme,Acme,dana,teams,2026-03-01,first_bill_projected,1200,,active
newco,Newco,dana,startup,2026-03-12,credits_rolloff,0,,active
lateco,Lateco,lee,pay-as-you-go,2026-01-01,manual,90,,active
longco,Longco,lee,scale,2026-01-05,accelerator,5000,2026-03-31,active
doneco,Doneco,priya,boost,2026-01-10,first_bill_projected,300,,active
goneco,Goneco,priya,,2026-02-01,,,,churned
"""

SUBSCRIPTIONS = """customer_id,product,billing_limit_usd
acme,product_analytics,500
acme,session_replay,
newco,product_analytics,
"""

CONFIG = """customer_id,key,value
acme,autocapture,on
acme,autocapture_actions,0
acme,person_profiles,identified_only
acme,replay_sample_rate,0.5
newco,sdk,posthog-js
"""

STEPS = """customer_id,step,status,date
acme,initial_outreach,done,2026-03-02
acme,first_meeting,scheduled,2026-03-18
doneco,initial_outreach,done,2026-01-12
doneco,first_meeting,done,2026-01-20
doneco,homework,done,2026-02-10
doneco,final_outreach,done,2026-03-01
lateco,initial_outreach,done,2026-01-03
lateco,first_meeting,scheduled,2026-01-15
"""


def usage_csv(days: int = 40) -> str:
    lines = ["customer_id,date,metric,value"]
    for offset in range(days):
        day = AS_OF - dt.timedelta(days=offset)
        lines.append(f"acme,{day.isoformat()},events,100000")
        lines.append(f"acme,{day.isoformat()},recordings,400")
    return "\n".join(lines) + "\n"


def write_all(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "customers.csv": CUSTOMERS,
        "subscriptions.csv": SUBSCRIPTIONS,
        "config.csv": CONFIG,
        "usage.csv": usage_csv(),
        "steps.csv": STEPS,
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
