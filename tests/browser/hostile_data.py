"""Customers, notes and attendees with hostile text, added to every browser server's database."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import Engine

from lib import meetings
from lib.ingest import Source
from lib.meetings import Attendee, MeetingUpdate, ScheduleRequest
from lib.program import step_store
from lib.store import db
from tests.csv_fixtures import import_sources

# customer_id -> name. Each must show on screen exactly as written, as text.
HOSTILE_CUSTOMERS: dict[str, str] = {
    "zz-script": "<script>window.__pwned = 1; alert('x')</script> Corp",
    "zz-img": '<img src=x onerror="window.__pwned=1"> Inc',
    "zz-link": "[Click me](javascript:window.__pwned=1) Ltd",
    "zz-formula": '=HYPERLINK("http://evil.example","Click") GmbH',
    "zz-markdown": "**Bold** _it_ :red[red] $x^2$ # not a heading",
    "zz-entities": "Ampers &amp; &lt;b&gt; AG",
}
HOSTILE_NOTE = (
    "<script>window.__pwned=1</script>\n[x](javascript:window.__pwned=1)\n"
    "=SUM(1+1)\n**not bold**\n<b>not bold</b>"
)
HOSTILE_ATTENDEE = "<img src=x onerror=window.__pwned=1> =cmd|' /C calc'!A0"
OWNER = "dana"
MEETING_CUSTOMER = "zz-script"


def seed(engine: Engine, as_of: dt.date) -> None:
    """Hostile customers (owned by OWNER, in week 1), a step note and a held meeting."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["customer_id", "name", "owner", "segment_entered_on", "plan"])
    entered = as_of - dt.timedelta(days=2)
    for customer_id, name in HOSTILE_CUSTOMERS.items():
        writer.writerow([customer_id, name, OWNER, entered.isoformat(), "<b>teams</b>"])
    import_sources(engine, [Source("customers.csv", buffer.getvalue().encode())], user="seed")
    with db.write_session(engine, "seed") as session:
        step_store.record(session, "zz-link", "initial_outreach", "skipped", as_of, HOSTILE_NOTE)
    starts = dt.datetime.combine(as_of - dt.timedelta(days=1), dt.time(10, 0))
    people = (Attendee(HOSTILE_ATTENDEE, "evil@customer.example"),)
    with db.write_session(engine, "seed") as session:
        request = ScheduleRequest(
            MEETING_CUSTOMER, "first", starts, "UTC", 30, people, HOSTILE_NOTE
        )
        meeting_id = meetings.schedule(session, request)
    with db.write_session(engine, "seed") as session:
        meetings.save(
            session,
            meeting_id,
            meetings.get(session, meeting_id),
            MeetingUpdate(
                local_start=starts,
                timezone="UTC",
                duration_min=30,
                attendees=people,
                agenda=HOSTILE_NOTE,
                status="held",
                notes=HOSTILE_NOTE,
            ),
        )
