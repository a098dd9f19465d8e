"""Recording steps, clearing them and extending a window: on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from lib.program import step_store
from lib.store import db, models
from tests import db_support

ENTERED = dt.date(2026, 3, 1)
AS_OF = dt.date(2026, 3, 12)  # day 11: week 2, outreach overdue, first call due


@pytest.fixture
def customer(engine: Engine) -> str:
    with db.write_session(engine, "setup") as session:
        session.add(
            models.Customer(
                customer_id="acme", name="Acme", owner="dana", segment_entered_on=ENTERED
            )
        )
    return "acme"


def step_state(engine: Engine, step: str) -> tuple[str, dt.date | None]:
    (rep,) = db_support.reports(engine, AS_OF, "acme")
    state = rep.timeline.steps[step]
    return state.status, state.date


def audit_rows(engine: Engine, entity: str) -> list[models.AuditLog]:
    with db.read_session(engine) as session:
        return list(
            session.scalars(
                select(models.AuditLog)
                .where(models.AuditLog.entity == entity)
                .order_by(models.AuditLog.id)
            )
        )


def test_record_done_changes_the_report_and_is_logged(engine: Engine, customer: str) -> None:
    assert step_state(engine, "initial_outreach") == ("overdue", None)
    db_support.write(
        engine,
        "dana",
        step_store.record,
        customer,
        "initial_outreach",
        "done",
        dt.date(2026, 3, 9),
        "sent",
    )
    assert step_state(engine, "initial_outreach") == ("done", dt.date(2026, 3, 9))
    (entry,) = audit_rows(engine, "steps")
    assert (entry.user, entry.action, entry.customer_id) == ("dana", "insert", "acme")
    assert entry.changes["status"] == "done"


def test_record_replaces_and_keeps_the_note_unless_given(engine: Engine, customer: str) -> None:
    db_support.write(
        engine,
        "dana",
        step_store.record,
        customer,
        "first_meeting",
        "scheduled",
        AS_OF,
        "agenda: groups",
    )
    assert step_state(engine, "first_meeting") == ("scheduled", AS_OF)
    db_support.write(engine, "lee", step_store.record, customer, "first_meeting", "done", AS_OF)
    with db.read_session(engine) as session:
        row = session.scalars(select(models.Step)).one()
        assert (row.status, row.note, row.recorded_by) == ("done", "agenda: groups", "lee")
    db_support.write(
        engine, "lee", step_store.record, customer, "first_meeting", "done", AS_OF, note="  "
    )
    with db.read_session(engine) as session:
        assert session.scalars(select(models.Step.note)).one() is None
    updates = [e for e in audit_rows(engine, "steps") if e.action == "update"]
    assert updates[0].changes["status"] == ["scheduled", "done"]
    assert updates[0].user == "lee"


def test_set_note(engine: Engine, customer: str) -> None:
    with pytest.raises(step_store.StepError, match="nothing recorded yet"):
        db_support.write(engine, "dana", step_store.set_note, customer, "homework", "x")
    db_support.write(engine, "dana", step_store.record, customer, "homework", "done", AS_OF)
    db_support.write(engine, "dana", step_store.set_note, customer, "homework", "sent tasks 1-3")
    with db.read_session(engine) as session:
        assert session.scalars(select(models.Step.note)).one() == "sent tasks 1-3"


def test_clear_returns_to_the_computed_status(engine: Engine, customer: str) -> None:
    assert db_support.write(engine, "dana", step_store.clear, customer, "initial_outreach") is False
    db_support.write(
        engine, "dana", step_store.record, customer, "initial_outreach", "skipped", AS_OF
    )
    assert step_state(engine, "initial_outreach")[0] == "skipped"
    assert db_support.write(engine, "dana", step_store.clear, customer, "initial_outreach") is True
    assert step_state(engine, "initial_outreach") == ("overdue", None)
    assert [e.action for e in audit_rows(engine, "steps")] == ["insert", "delete"]


def test_extend_and_remove_the_extension(engine: Engine, customer: str) -> None:
    until = dt.date(2026, 5, 31)
    db_support.write(
        engine, "dana", step_store.extend, customer, until, "wants a third call after launch"
    )
    (rep,) = db_support.reports(engine, dt.date(2026, 5, 1), customer)
    assert rep.timeline.program_status == "extended"
    assert rep.timeline.steps["final_outreach"].window_end == until
    (entry,) = [e for e in audit_rows(engine, "customers") if e.user == "dana"]
    assert entry.action == "update"
    assert entry.changes["extended_until"] == [None, "2026-05-31"]
    assert entry.changes["extension_reason"] == [None, "wants a third call after launch"]
    db_support.write(
        engine, "dana", step_store.extend, customer, None, "launch moved; back to the plan"
    )
    (rep,) = db_support.reports(engine, dt.date(2026, 5, 1), customer)
    assert rep.timeline.program_status == "overdue"


@pytest.mark.parametrize(
    "call,message",
    [
        # unknown step name
        (
            lambda e: db_support.write(e, "u", step_store.record, "acme", "lunch", "done", AS_OF),
            "step 'lunch'",
        ),
        # unknown status
        (
            lambda e: db_support.write(
                e, "u", step_store.record, "acme", "homework", "maybe", AS_OF
            ),
            "status 'maybe'",
        ),
        # unknown customer
        (
            lambda e: db_support.write(
                e, "u", step_store.record, "nope", "homework", "done", AS_OF
            ),
            "no such customer",
        ),
        # a datetime is not a date
        (
            lambda e: db_support.write(
                e, "u", step_store.record, "acme", "homework", "done", dt.datetime(2026, 3, 1)
            ),
            "expected a date",
        ),
        # notes are bounded
        (
            lambda e: db_support.write(
                e, "u", step_store.record, "acme", "homework", "done", AS_OF, "x" * 5001
            ),
            "at most 5000",
        ),
        # an extension needs a reason
        (
            lambda e: db_support.write(
                e, "u", step_store.extend, "acme", dt.date(2026, 6, 1), "  "
            ),
            "reason",
        ),
        # an extension must end after final outreach's own window (day 55 = 2026-04-25)
        (
            lambda e: db_support.write(
                e, "u", step_store.extend, "acme", dt.date(2026, 4, 25), "more time"
            ),
            "after final outreach's window end",
        ),
        # clearing an unknown step
        (lambda e: db_support.write(e, "u", step_store.clear, "acme", "lunch"), "step 'lunch'"),
    ],
)
def test_bad_input_writes_nothing(engine: Engine, customer: str, call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(step_store.StepError, match=message):
        call(engine)
    with db.read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(models.Step)) == 0
        assert session.get(models.Customer, "acme").extended_until is None  # type: ignore[union-attr]
        assert (
            session.scalar(
                select(func.count()).select_from(models.AuditLog).where(models.AuditLog.user == "u")
            )
            == 0
        )


@pytest.mark.parametrize(
    "before",
    [
        None,  # nothing recorded: undo clears
        ("scheduled", dt.date(2026, 3, 20), "booked by email"),  # a booking: undo puts it back
    ],
)
def test_restore_undoes_a_record(
    engine: Engine, customer: str, before: tuple[str, dt.date, str] | None
) -> None:
    if before is not None:
        db_support.write(engine, "dana", step_store.record, customer, "first_meeting", *before)
    expected = step_state(engine, "first_meeting")
    previous = db_support.write(
        engine, "dana", step_store.record, customer, "first_meeting", "done", AS_OF
    )
    assert step_state(engine, "first_meeting") == ("done", AS_OF)
    db_support.write(engine, "dana", step_store.restore, customer, "first_meeting", previous)
    assert step_state(engine, "first_meeting") == expected
    entries = db_support.read(engine, step_store.recorded, customer)
    if before is None:
        assert "first_meeting" not in entries
    else:
        entry = entries["first_meeting"]
        assert (entry.status, entry.date, entry.note) == before


def test_change_summaries_hide_passwords(engine: Engine, customer: str) -> None:
    from lib.store import journal

    db_support.write(engine, "dana", step_store.record, customer, "homework", "done", AS_OF)
    db_support.write(engine, "lee", step_store.record, customer, "homework", "skipped", AS_OF)
    newest, oldest = db_support.read(engine, journal.recent, customer)[:2]
    assert (newest.user, newest.action) == ("lee", "update")
    assert "status: done -> skipped" in newest.summary
    assert oldest.action == "insert"
    hidden = journal.Change(newest.at, "admin", "update", "logins", "x", {"password": "s3cret"})
    assert hidden.summary == "password: (changed)"
