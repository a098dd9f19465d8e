"""The History tab's sentences (lib.program.history): every entity and action the audit log
holds reads as a sentence, with names, labels and money, never a table name or a raw float;
and a real log, written by the stores on both databases, reads the same way."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import Engine

from lib import contacts, homework
from lib.audit import finding_store
from lib.program import history, history_store, step_store
from lib.store import db, journal
from lib.store.journal import Change
from tests.audit_fixtures import AS_OF, add_customer

AT = dt.datetime(2026, 3, 12, 9, 30)
NAMES = {"dana": "Dana", "priya": "Priya", "sam": "Sam"}
# What a raw log shows: table and column names (homework_assignments, mrr_usd), Python
# values, floats as stored (600.0525119999998).
IDENTIFIER = re.compile(r"\b[a-z]+_[a-z_]+\b|\bNone\b|\bTrue\b|\bFalse\b")
RAW_FLOAT = re.compile(r"\d+\.\d{3,}")


def change(user: str, action: str, entity: str, entity_id: str | None, **changes: Any) -> Change:
    return Change(AT, user, action, entity, entity_id, changes)


# (entry, what is stored of its row now (or {}), the sentence)
CASES: list[tuple[Change, dict[str, Any], str]] = [
    # customers
    (change("dana", "insert", "customers", "acme", name="Acme", status="active", version=1), {},
     "Dana added the customer Acme"),
    (change("dana", "update", "customers", "acme", extended_until=[None, "2026-04-30"],
            extension_reason=[None, "a third call"], version=[1, 2]), {},
     "Dana extended the program to 30 Apr (reason: “a third call”)"),
    (change("dana", "update", "customers", "acme", extended_until=["2026-04-30", None],
            extension_reason=["a third call", "not needed"]), {},
     "Dana removed the program's extension (reason: “not needed”)"),
    (change("priya", "update", "customers", "acme", relationship_rating=[None, 4]), {},
     "Priya rated the relationship 4 out of 5"),
    (change("priya", "update", "customers", "acme", owner=["dana", "priya"]), {},
     "Priya made Priya the owner (was Dana)"),
    (change("sam", "update", "customers", "acme", status=["active", "paused"]), {},
     "Sam changed the customer's status from Active to Paused"),
    (change("cli", "update", "customers", "acme", plan=["teams", "scale"],
            mrr_usd=[1200.0, 600.0525119999998]), {},
     "The command line changed the plan from teams to scale and the MRR from $1,200.00 to "
     "$600.05"),
    (change("dana", "delete", "customers", "acme", name="Acme"), {},
     "Dana removed the customer Acme"),
    (change("cli", "import", "customers", None, files=["customers.csv"], added=3, updated=1), {},
     "The command line imported customers (3 added, 1 updated) from customers.csv"),
    (change("demo", "demo", "customers", None, customers=300, usage_rows=9), {},
     "The demo loader loaded the demo data (300 customers)"),
    # steps
    (change("priya", "insert", "steps", "7", step="first_meeting", status="done",
            date="2026-03-03", note="went well\nnext: flags", recorded_by="priya"), {},
     "Priya recorded the first call as held on 3 Mar (note: “went well next: flags”)"),
    (change("priya", "update", "steps", "7", status=["scheduled", "done"],
            date=["2026-03-02", "2026-03-03"], version=[1, 2]), {"step": "initial_outreach"},
     "Priya recorded the initial outreach as sent on 3 Mar"),
    (change("dana", "update", "steps", "8", status=["done", "skipped"]), {"step": "homework",
     "date": "2026-03-10"},
     "Dana recorded the homework as skipped on 10 Mar"),
    (change("dana", "update", "steps", "8", note=[None, "call moved"]),
     {"step": "second_meeting"}, "Dana changed the note of the second call to “call moved”"),
    (change("dana", "update", "steps", "8", note=["call moved", None]),
     {"step": "second_meeting"}, "Dana removed the note of the second call"),
    (change("dana", "delete", "steps", "8", step="final_outreach", status="done"), {},
     "Dana cleared what was recorded for the final outreach (the timeline computes it again)"),
    (change("dana", "update", "steps", "99", status=["due", "scheduled"]), {},
     "Dana recorded a step as scheduled on no date"),
    # meetings
    (change("priya", "insert", "meetings", "5", kind="first", starts_at="2026-03-17T10:00:00",
            status="scheduled"), {},
     "Priya booked the first call for 17 Mar 10:00 UTC"),
    (change("priya", "update", "meetings", "5", status=["scheduled", "held"],
            fixed_rules=[[], ["identify_overcalled"]], second_call_offered=[None, True]),
     {"kind": "first", "starts_at": "2026-03-17T10:00:00"},
     "Priya logged the first call of 17 Mar 10:00 UTC as held, noted “identify() is called "
     "too often” fixed in the first call and offered a second call"),
    (change("priya", "update", "meetings", "5", status=["scheduled", "no_show"]),
     {"kind": "second", "starts_at": "2026-03-20T15:30:00"},
     "Priya logged the second call of 20 Mar 15:30 UTC as a no-show"),
    (change("priya", "update", "meetings", "5", starts_at=["2026-03-17T10:00:00",
            "2026-03-18T11:00:00"], agenda=["a", "b"]), {"kind": "first"},
     "Priya moved the first call to 18 Mar 11:00 UTC and changed the agenda from a to b of "
     "the first call"),
    (change("dana", "update", "meetings", "5", status=["scheduled", "cancelled"],
            notes=[None, "ill"], second_call_accepted=[None, False]),
     {"kind": "second", "starts_at": "2026-03-20T15:30:00"},
     "Dana cancelled the second call of 20 Mar 15:30 UTC, updated the notes of the second "
     "call and noted the customer declined a second call"),
    (change("dana", "delete", "meetings", "5", kind="first", starts_at="2026-03-17T10:00:00"),
     {}, "Dana deleted the first call of 17 Mar 10:00 UTC"),
    # goals
    (change("priya", "insert", "goals", "1", name="Activation", target="40%",
            by_when="2026-06-30"), {},
     "Priya set the goal “Activation” (target “40%”, by 30 Jun)"),
    (change("priya", "update", "goals", "1", target=["40%", "50%"]), {"name": "Activation"},
     "Priya changed the target from 40% to 50% of the goal “Activation”"),
    (change("priya", "delete", "goals", "1", name="Activation"), {},
     "Priya removed the goal “Activation”"),
    # homework_assignments
    (change("dana", "insert", "homework_assignments", "3", title="Turn off autocapture",
            status="draft", position=0), {},
     "Dana added the homework task “Turn off autocapture”"),
    (change("dana", "update", "homework_assignments", "3", status=["draft", "sent"],
            sent_on=[None, "2026-03-12"]), {"title": "Turn off autocapture"},
     "Dana sent the homework task “Turn off autocapture” on 12 Mar"),
    (change("system", "update", "homework_assignments", "3", status=["sent", "done"],
            verified_by=[None, "data"], evidence=[None, "autocapture off since 14 Mar"]),
     {"title": "Turn off autocapture"},
     "The console saw in the data that “Turn off autocapture” is done (autocapture off since "
     "14 Mar)"),
    (change("dana", "update", "homework_assignments", "3", status=["sent", "done"],
            done_on=[None, "2026-03-14"], verified_by=[None, "hand"]),
     {"title": "Turn off autocapture"},
     "Dana ticked “Turn off autocapture” done on 14 Mar"),
    (change("dana", "update", "homework_assignments", "3", status=["done", "sent"]),
     {"title": "Turn off autocapture"}, "Dana marked “Turn off autocapture” not done"),
    (change("dana", "update", "homework_assignments", "3", position=[2, 1]),
     {"title": "Turn off autocapture"}, "Dana moved “Turn off autocapture” up"),
    (change("dana", "update", "homework_assignments", "3", title=["Old", "New words"]), {},
     "Dana reworded the homework task “New words”"),
    (change("system", "update", "homework_assignments", "3", evidence=[None, "not yet: 0 of 5"]),
     {"title": "Dashboards"}, "The console checked “Dashboards” against the data (not yet: 0 of 5)"),
    (change("dana", "delete", "homework_assignments", "3", title="Dashboards"), {},
     "Dana removed the homework task “Dashboards”"),
    # finding_states
    (change("dana", "update", "finding_states", "acme/identify_overcalled",
            state=["open", "fixed"], fixed_on=[None, "2026-03-12"], version=[1, 2]), {},
     "Dana marked “identify() is called too often” fixed on 12 Mar"),
    (change("dana", "insert", "finding_states", None, customer_id="acme",
            rule="dev_traffic", state="dismissed", reason="staging is separate"), {},
     "Dana dismissed “Development and staging traffic in production” (reason: “staging is "
     "separate”)"),
    (change("system", "insert", "finding_states", "acme/outdated_sdk", rule="outdated_sdk",
            state="open", first_seen_on="2026-03-01", est_monthly_saving_usd=600.0525119999998),
     {}, "The console first saw “Outdated SDK” on 1 Mar, worth about $600.05 a month"),
    (change("priya", "update", "finding_states", "acme/outdated_sdk", state=["fixed", "open"],
            fixed_on=["2026-03-12", None]), {}, "Priya reopened “Outdated SDK”"),
    (change("system", "update", "finding_states", "acme/outdated_sdk",
            est_monthly_saving_usd=[12.5, 600.0525119999998]), {},
     "The console updated the saving of “Outdated SDK” to $600.05 a month"),
    (change("dana", "delete", "finding_states", "acme/no_such_rule", state="fixed"), {},
     "Dana forgot what was decided about “no such rule”"),
    # refunds
    (change("sam", "insert", "refunds", "4", scenario="learning_curve",
            amount_usd=843.2199999999, status="proposed"), {},
     "Sam proposed a refund of $843.22 (Learning curve (first bill))"),
    (change("sam", "update", "refunds", "4", status=["proposed", "needs_approval"],
            needs_approval=[False, True]), {"amount_usd": 843.22},
     "Sam asked revenue operations to approve the refund of $843.22"),
    (change("rita", "update", "refunds", "4", status=["needs_approval", "approved"],
            decided_by=[None, "rita"]), {"amount_usd": 843.22},
     "rita approved the refund of $843.22"),
    (change("rita", "update", "refunds", "4", status=["needs_approval", "declined"],
            decision_reason=[None, "over the ceiling"]), {"amount_usd": 843.22},
     "rita declined the refund of $843.22 (reason: “over the ceiling”)"),
    (change("sam", "update", "refunds", "4", status=["approved", "issued"],
            issued_usd=[None, 800.0], reference=[None, "INV-9"]), {"amount_usd": 843.22},
     "Sam issued the refund of $843.22 as $800.00 (reference INV-9)"),
    (change("sam", "update", "refunds", "4", amount_usd=[843.22, 900.5]), {},
     "Sam changed a refund from $843.22 to $900.50"),
    (change("sam", "delete", "refunds", "4", amount_usd=843.22, status="proposed"), {},
     "Sam deleted the refund of $843.22"),
    # contacts
    (change("dana", "insert", "contacts", "2", name="Ada Lovelace", email="ada@acme.io",
            role="founder", is_primary=True), {},
     "Dana added the contact Ada Lovelace (Founder, primary)"),
    (change("dana", "update", "contacts", "2", is_primary=[False, True]), {"name": "Bob"},
     "Dana made Bob the primary contact"),
    (change("dana", "update", "contacts", "2", email=["a@x.io", "b@x.io"]), {"name": "Bob"},
     "Dana changed the email from a@x.io to b@x.io of the contact Bob"),
    (change("dana", "delete", "contacts", "2", name="Bob", email="b@x.io"), {},
     "Dana removed the contact Bob"),
    (change("cli", "import", "contacts", None, files=["contacts.csv"], added=2, updated=0), {},
     "The command line imported contacts (2 added, 0 updated) from contacts.csv"),
    # email_messages
    (change("priya", "insert", "email_messages", "9", direction="out", kind="initial_outreach",
            status="sending", subject="Welcome", to_addrs=["Ada <ada@acme.io>"]), {},
     "Priya started sending the initial outreach “Welcome” to Ada <ada@acme.io>"),
    (change("priya", "update", "email_messages", "9", status=["sending", "sent"]),
     {"kind": "homework", "direction": "out", "subject": "Your homework",
      "to_addrs": ["ada@acme.io"]},
     "Priya sent the homework email “Your homework” to ada@acme.io"),
    (change("system", "insert", "email_messages", "10", direction="in", kind="reply",
            subject="Re: Welcome", on="2026-03-05"), {},
     "The console recorded a reply from the customer “Re: Welcome” of 5 Mar"),
    (change("priya", "delete", "email_messages", "9", kind="meeting_invite", status="sending"),
     {}, "Priya removed an unfinished send of a call invitation"),
    # stage_overrides
    (change("dana", "insert", "stage_overrides", "acme", stage="handed_to_sales",
            reason="wants enterprise"), {},
     "Dana set the stage to Handed to sales (reason: “wants enterprise”)"),
    (change("dana", "update", "stage_overrides", "acme", stage=["engaged", "churned"]),
     {"reason": "left"}, "Dana set the stage to Churned"),
    (change("dana", "delete", "stage_overrides", "acme", stage="churned", reason="left"), {},
     "Dana removed the stage set by hand (the facts decide it again)"),
    # config values and other imports
    (change("cli", "import", "config_values", None, files=["config.csv"], added=5, updated=2),
     {}, "The command line imported config values (5 added, 2 updated) from config.csv"),
    (change("cli", "insert", "config_values", "acme/autocapture", key="autocapture",
            value="off"), {}, "The command line set autocapture to off"),
    (change("cli", "import", "usage", None, files=["usage.csv"], added=90, updated=0), {},
     "The command line imported usage (90 added, 0 updated) from usage.csv"),
    (change("dana", "posthog_sync", "posthog_sync_state", None, project="eu/123",
            queries={}), {}, "Dana synced usage from PostHog (eu/123)"),
    # logins and sign-in locks
    (change("admin", "add", "logins", "sam", role="team", name="Sam", password="set"), {},
     "admin added the login sam (team)"),
    (change("admin", "update", "logins", "sam", password="reset"), {},
     "admin reset the password of sam"),
    (change("admin", "update", "logins", "sam", revops=[False, True]), {},
     "admin made sam a refund approver"),
    (change("admin", "update", "logins", "sam", role="admin", name="Sam S", password="set"), {},
     "admin changed the role to admin, the name to Sam S and the password of the login sam"),
    (change("admin", "delete", "logins", "sam", role="team"), {}, "admin removed the login sam"),
    (change("admin", "delete", "sign_in_locks", "sam", kind="name", failures=3), {},
     "admin cleared 3 failed sign-ins of the name sam"),
    # anything else
    (change("dana", "update", "subscriptions", "12", billing_limit_usd=[None, 500.0]), {},
     "Dana changed subscriptions"),
]  # fmt: skip


@pytest.mark.parametrize(
    "entry,stored,expected", CASES, ids=[f"{c.entity}-{c.action}-{i}" for i, (c, _, _) in
                                         enumerate(CASES)]
)  # fmt: skip
def test_each_entry_reads_as_a_sentence(
    entry: Change, stored: dict[str, Any], expected: str
) -> None:
    known = {(entry.entity, entry.entity_id or ""): stored}
    assert history.sentence(entry, NAMES, known) == expected
    assert not IDENTIFIER.search(expected)
    assert not RAW_FLOAT.search(expected)


def test_every_entity_in_the_log_is_covered() -> None:
    covered = {c.entity for c, _, _ in CASES}
    assert set(history.WORDED) <= covered
    assert {"customers", "config_values", "usage", "posthog_sync_state"} <= covered


def test_a_secret_never_shows() -> None:
    entry = change("admin", "update", "logins", "sam", password="hunter2")
    assert "hunter2" not in history.sentence(entry, NAMES)


def test_names_come_from_the_log_when_nothing_is_stored() -> None:
    """An update names the row from the log's own insert (a row deleted since)."""
    inserted = Change(AT, "dana", "insert", "homework_assignments", "3", {"title": "Dashboards"})
    moved = Change(AT + dt.timedelta(minutes=5), "dana", "update", "homework_assignments", "3",
                   {"position": [0, 1]})  # fmt: skip
    lines = history.lines([moved, inserted], NAMES)
    assert [line.text for line in lines] == [
        "Dana moved “Dashboards” down",
        "Dana added the homework task “Dashboards”",
    ]


def test_lines_group_by_day_newest_first() -> None:
    entries = [
        Change(dt.datetime(2026, 3, 12, 18), "dana", "delete", "goals", "1", {"name": "A"}),
        Change(dt.datetime(2026, 3, 12, 9), "dana", "insert", "goals", "1", {"name": "A"}),
        Change(dt.datetime(2025, 12, 30, 9), "dana", "insert", "goals", "2",
               {"name": "B", "by_when": "2026-01-31"}),
    ]  # fmt: skip
    days = history.by_day(history.lines(entries, NAMES))
    assert [(day, [line.text for line in group]) for day, group in days] == [
        (dt.date(2026, 3, 12), ["Dana removed the goal “A”", "Dana set the goal “A”"]),
        (dt.date(2025, 12, 30), ["Dana set the goal “B” (by 31 Jan 2026)"]),
    ]


@pytest.mark.parametrize(
    "text,expected",
    [("short", "“short”"), ("x" * 200, "“" + "x" * 119 + "…”"), ("a\n\n  b", "“a b”")],
)
def test_user_text_is_quoted_on_one_line(text: str, expected: str) -> None:
    assert history.quoted(text) == expected


def test_a_real_log_reads_as_sentences(engine: Engine) -> None:
    """Writes made by the stores, read back from the audit log, on both databases."""
    add_customer(engine, "acme", {"events": 100.0}, name="Acme", owner="dana")
    with db.write_session(engine, "dana") as session:
        step_store.record(session, "acme", "first_meeting", "scheduled", AS_OF, "agenda")
    with db.write_session(engine, "dana") as session:
        step_store.record(session, "acme", "first_meeting", "done", AS_OF, version=1)
        finding_store.set_state(
            session, "acme", "identify_overcalled", "fixed", AS_OF,
            est_monthly_saving_usd=600.0525119999998,
        )  # fmt: skip
        contacts.add(session, "acme", "Ada Lovelace", "ada@acme.io", "founder", primary=True)
        homework.add(session, "acme", homework.CUSTOM_TASK, title="Ship it", body="Now.")
        step_store.extend(session, "acme", AS_OF + dt.timedelta(days=60), "a third call")
    with db.read_session(engine) as session:
        entries = journal.recent(session, "acme")
        stored = history_store.known(session, "acme")
    texts = [line.text for line in history.lines(entries, {"dana": "Dana"}, stored)]
    day = history.on(AS_OF)
    for expected in (
        "Dana recorded the first call as scheduled on " + day + " (note: “agenda”)",
        "Dana recorded the first call as held on " + day,
        "Dana marked “identify() is called too often” fixed on " + day,
        "Dana added the contact Ada Lovelace (Founder, primary)",
        "Dana added the homework task “Ship it”",
        "Dana extended the program to " + history.on(AS_OF + dt.timedelta(days=60))
        + " (reason: “a third call”)",
    ):  # fmt: skip
        assert expected in texts, texts
    for text in texts:
        assert not RAW_FLOAT.search(text), text
        assert not IDENTIFIER.search(text), text
