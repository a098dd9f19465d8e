"""Customers, notes and attendees with hostile text, added to every browser server's database
through each way text comes in: customers.csv, what the forms save (through the same lib
calls), and a PostHog sync (a PostHog-shaped server of the tests, tests/test_posthog_sync.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import Engine

from lib import contacts, homework, meetings
from lib.ingest import Source, posthog_client, posthog_store, posthog_sync
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

# What renders in Streamlit's Markdown unless escaped: an external image (Markdown and
# HTML), autolinks (a URL, www., an email), an icon, an emoji, a colour, a heading, maths,
# and a right-to-left override that reorders what follows it.
ATTACKER = "attacker.invalid"
WEB = (
    f"![x](http://{ATTACKER}/md.png) <img src=http://{ATTACKER}/raw.png> "
    f"http://{ATTACKER}/link www.{ATTACKER} mallory@{ATTACKER} "
    ":material/bolt: :smile: :red[red] $x$ # h \u202eoc.evil"
)
WEB_CUSTOMER = "zz-web"  # owned by OWNER: on Today, Meetings and Homework
WEB_NAME = f"Web {WEB}"
OWNER_CUSTOMER = "zz-owner"  # a hostile owner and plan
HOSTILE_OWNER = f"![o](http://{ATTACKER}/o.png) www.{ATTACKER} :smile: \u202eo"  # <= 100
HOSTILE_PLAN = f":material/bolt: www.{ATTACKER}"  # a plan is at most 50 characters
POSTHOG_CUSTOMER = "zz-posthog"  # its name comes from a PostHog sync
POSTHOG_NAME = f"PostHog {WEB}"
EXTENSION_REASON = f"Reason {WEB}"
TASK_TITLE = f"Task {WEB}"
CONTACT_NAME = f"![c](http://{ATTACKER}/c.png) :material/bolt: www.{ATTACKER} \u202eC"
HOSTILE_TEXTS = (WEB_NAME, HOSTILE_OWNER, POSTHOG_NAME, EXTENSION_REASON, TASK_TITLE)


def shown(text: str) -> str:
    """The text as the page shows it: a bidirectional control as U+FFFD, nothing else
    changed (Playwright ignores the escape's zero-width spaces)."""
    return text.replace("\u202e", "\ufffd")


def seed(engine: Engine, as_of: dt.date) -> None:
    """Hostile customers (owned by OWNER, in week 1), a step note and a held meeting."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["customer_id", "name", "owner", "segment_entered_on", "plan"])
    entered = as_of - dt.timedelta(days=2)
    for customer_id, name in HOSTILE_CUSTOMERS.items():
        writer.writerow([customer_id, name, OWNER, entered.isoformat(), "<b>teams</b>"])
    writer.writerow([WEB_CUSTOMER, WEB_NAME, OWNER, entered.isoformat(), "teams"])
    writer.writerow([OWNER_CUSTOMER, "Owned Co", HOSTILE_OWNER, entered.isoformat(), HOSTILE_PLAN])
    import_sources(engine, [Source("customers.csv", buffer.getvalue().encode())], user="seed")
    _forms(engine, as_of)
    _posthog_sync(engine, entered)
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


def _forms(engine: Engine, as_of: dt.date) -> None:
    """What the customer page's and the homework page's forms save, with hostile text."""
    with db.write_session(engine, "seed") as session:
        step_store.extend(session, WEB_CUSTOMER, as_of + dt.timedelta(days=70), EXTENSION_REASON)
    with db.write_session(engine, "seed") as session:
        homework.add(session, WEB_CUSTOMER, homework.CUSTOM_TASK, title=TASK_TITLE, body="Do it.")
    with db.write_session(engine, "seed") as session:
        contacts.add(session, WEB_CUSTOMER, "Pat Primary", "pat@customer.example", primary=True)
        contacts.add(session, WEB_CUSTOMER, CONTACT_NAME, "mallory@customer.example")


def _posthog_sync(engine: Engine, entered: dt.date) -> None:
    """A customer whose name comes from PostHog: a sync against the tests' PostHog-shaped
    server, a customers query answering with the hostile name."""
    from tests.test_posthog_sync import KEY, PROJECT, FakePostHog, serve

    with tempfile.TemporaryDirectory() as folder, serve(FakePostHog()) as fake:
        queries = Path(folder)
        shutil.copy(posthog_client.QUERIES_DIR / "events.sql", queries / "events.sql")
        (queries / "customers.sql").write_text(
            "SELECT key AS customer_id, properties.name AS name, "
            "toDate(created_at) AS segment_entered_on FROM groups WHERE index = 0;\n"
        )
        fake.tables["FROM groups"] = (
            ["customer_id", "name", "segment_entered_on"],
            [[POSTHOG_CUSTOMER, POSTHOG_NAME, entered.isoformat()]],
        )
        connection = posthog_client.Connection.from_env(
            {
                "POSTHOG_PERSONAL_API_KEY": KEY,
                "POSTHOG_PROJECT_ID": PROJECT,
                "POSTHOG_HOST": fake.url,
            }
        )
        with db.read_session(engine) as session:
            state = posthog_store.read_state(session, connection)
        until = dt.date.today() - dt.timedelta(days=1)
        fetched = posthog_sync.fetch(
            connection, state, until, queries=posthog_client.load_queries(queries)
        )
        with db.write_session(engine, "seed") as session:
            posthog_store.write(session, fetched, dt.date.today(), False, None)
