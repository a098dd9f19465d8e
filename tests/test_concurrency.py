"""Twenty users at once, on SQLite and PostgreSQL.

Each simulated user is a thread with its own engine (its own connections, as
separate app sessions or servers would have). They start together behind a
barrier and record steps, schedule and log meetings and import small CSVs at
the same time. What must hold: no error reaches any user ("database is
locked" least of all), every write is there afterwards (counted), and no row
is duplicated.
"""

from __future__ import annotations

import datetime as dt
import threading
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from lib import meetings
from lib.ingest import Source
from lib.meetings import Attendee, MeetingUpdate, ScheduleRequest
from lib.program import step_store
from lib.store import db, models
from lib.store.versions import EditConflict
from tests import db_support
from tests.csv_fixtures import import_sources

USERS = 20
ENTERED = dt.date(2026, 3, 1)
SHARED = "shared"  # the customer every user writes to at once
TIMEOUT_S = 240


def user(n: int) -> str:
    return f"user{n:02d}"


def own(n: int) -> str:
    return f"own{n:02d}"


def run_together(db_url: str, work: Callable[[int, Engine], None]) -> None:
    """Run work(n, engine) for USERS users at once; fail with every error any user saw."""
    barrier = threading.Barrier(USERS)
    errors: list[str] = []

    def one(n: int) -> None:
        engine = db.make_engine(db_url)
        try:
            barrier.wait(timeout=60)
            work(n, engine)
        except BaseException:  # every failure a user would have seen, with its traceback
            errors.append(f"{user(n)}:\n{traceback.format_exc()}")
        finally:
            engine.dispose()

    threads = [threading.Thread(target=one, args=(n,), name=user(n)) for n in range(USERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    assert not any(t.is_alive() for t in threads), "a user is still waiting"
    assert not errors, f"{len(errors)} user(s) saw an error:\n" + "\n".join(errors[:3])


def count(engine: Engine, model: Any, *where: Any) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model).where(*where)) or 0


def duplicates(engine: Engine, model: Any, *columns: str) -> list[Any]:
    table = models.table(model)
    keys = [table.c[c] for c in columns]
    with engine.connect() as connection:
        return list(
            connection.execute(select(*keys).group_by(*keys).having(func.count() > 1)).all()
        )


@pytest.fixture
def customers(engine: Engine) -> Engine:
    """One customer of each user's own, and one everybody shares."""
    rows = [f"{own(n)},Own {n},{user(n)},{ENTERED}" for n in range(USERS)]
    rows.append(f"{SHARED},Shared,{user(0)},{ENTERED}")
    text = "customer_id,name,owner,segment_entered_on\n" + "\n".join(rows) + "\n"
    import_sources(engine, [Source("customers.csv", text.encode())], user="setup")
    return engine


# ------------------------------------------------------------------ steps


def test_twenty_users_record_steps_at_once(customers: Engine, db_url: str) -> None:
    day = ENTERED + dt.timedelta(days=3)

    def work(n: int, engine: Engine) -> None:
        for step in ("initial_outreach", "first_meeting", "homework"):
            db_support.write(
                engine, user(n), step_store.record, own(n), step, "done", day, note=f"by {user(n)}"
            )

    run_together(db_url, work)

    engine = customers
    assert count(engine, models.Step) == USERS * 3
    assert duplicates(engine, models.Step, "customer_id", "step") == []
    for n in range(USERS):
        with db.read_session(engine) as session:
            mine = session.scalars(select(models.Step).where(models.Step.customer_id == own(n)))
            assert {(s.step, s.recorded_by, s.note) for s in mine} == {
                ("initial_outreach", user(n), f"by {user(n)}"),
                ("first_meeting", user(n), f"by {user(n)}"),
                ("homework", user(n), f"by {user(n)}"),
            }
        # Every write of every user is in the audit log.
        assert count(engine, models.AuditLog, models.AuditLog.user == user(n)) == 3


# ------------------------------------------------------------------ meetings


def schedule(engine: Engine, username: str, request: ScheduleRequest) -> int:
    """Book a meeting in its own unit of work, as `username`."""
    with db.write_session(engine, username) as session:
        return meetings.schedule(session, request)


def test_twenty_users_schedule_and_log_meetings_at_once(customers: Engine, db_url: str) -> None:
    starts = dt.datetime(2026, 3, 10, 15, 0)
    now = dt.datetime(2026, 3, 20, 12, 0)

    def work(n: int, engine: Engine) -> None:
        people = (Attendee(f"Ann {n}", f"ann{n}@customer.example"),)
        with db.write_session(engine, user(n)) as session:
            mine = meetings.schedule(
                session,
                ScheduleRequest(own(n), "first", starts, "UTC", 30, people, agenda=f"agenda {n}"),
            )
        with db.read_session(engine) as session:
            base = meetings.get(session, mine)
        with db.write_session(engine, user(n)) as session:
            meetings.save(
                session,
                mine,
                base,
                MeetingUpdate(
                    local_start=starts,
                    timezone="UTC",
                    duration_min=30,
                    attendees=people,
                    agenda=f"agenda {n}",
                    status="held",
                    notes=f"notes of {user(n)}",
                ),
                now=now,
            )

    run_together(db_url, work)

    engine = customers
    assert count(engine, models.Meeting) == USERS
    held = models.Meeting.status == "held"
    assert count(engine, models.Meeting, held) == USERS
    assert duplicates(engine, models.Step, "customer_id", "step") == []
    with db.read_session(engine) as session:
        for n in range(USERS):
            step = session.scalar(
                select(models.Step).where(
                    models.Step.customer_id == own(n), models.Step.step == "first_meeting"
                )
            )
            assert step is not None and (step.status, step.date) == ("done", starts.date())
            notes = session.scalar(
                select(models.Meeting.notes).where(models.Meeting.customer_id == own(n))
            )
            assert notes == f"notes of {user(n)}"


# ------------------------------------------------------------------ imports

DAYS = 20


def usage_csv(customer_id: str, metric: str = "events") -> bytes:
    lines = ["customer_id,date,metric,value"]
    for d in range(DAYS):
        day = ENTERED + dt.timedelta(days=d)
        lines.append(f"{customer_id},{day},{metric},{1000 + d}")
        lines.append(f"{customer_id},{day},sessions,{10 + d}")
    return ("\n".join(lines) + "\n").encode()


def test_twenty_users_import_small_csvs_at_once(customers: Engine, db_url: str) -> None:
    def work(n: int, engine: Engine) -> None:
        newcomer = f"new{n:02d},New {n},{user(n)},{ENTERED}\n"
        import_sources(
            engine,
            [
                Source(
                    "customers.csv",
                    ("customer_id,name,owner,segment_entered_on\n" + newcomer).encode(),
                ),
                Source("usage.csv", usage_csv(f"new{n:02d}")),
                Source(
                    "steps.csv",
                    f"customer_id,step,status,date\nnew{n:02d},initial_outreach,done,{ENTERED}\n".encode(),
                ),
            ],
            user=user(n),
        )
        import_sources(engine, [Source("usage.csv", usage_csv(own(n)))], user=user(n))
        # Everyone uploads the same file at once (two admins, one export).
        import_sources(engine, [Source("usage.csv", usage_csv(SHARED))], user=user(n))

    run_together(db_url, work)

    engine = customers
    assert count(engine, models.Customer) == 2 * USERS + 1
    assert count(engine, models.Usage) == (2 * USERS + 1) * DAYS * 2
    assert count(engine, models.Step) == USERS
    assert duplicates(engine, models.Usage, "customer_id", "metric", "date") == []
    imports = models.AuditLog.action == "import"
    # Each user's own files were written under their name; the shared file exactly once.
    for n in range(USERS):
        assert count(engine, models.AuditLog, imports, models.AuditLog.user == user(n)) >= 4
    with engine.connect() as connection:
        total = connection.scalar(
            select(func.sum(models.Usage.value)).where(models.Usage.customer_id == SHARED)
        )
    assert total == sum(1000 + d + 10 + d for d in range(DAYS))


# ------------------------------------------------------------------ everything


def test_twenty_users_doing_everything_at_once(customers: Engine, db_url: str) -> None:
    """Steps, meetings and imports interleaved: writers of every kind share the lock."""
    day = ENTERED + dt.timedelta(days=2)
    starts = dt.datetime(2026, 3, 12, 9, 0)

    def work(n: int, engine: Engine) -> None:
        people = (Attendee(f"Bo {n}", f"bo{n}@customer.example"),)
        jobs = [
            lambda: db_support.write(
                engine, user(n), step_store.record, own(n), "initial_outreach", "done", day
            ),
            lambda: schedule(
                engine, user(n), ScheduleRequest(own(n), "first", starts, "UTC", 30, people)
            ),
            lambda: import_sources(
                engine, [Source("usage.csv", usage_csv(own(n), "recordings"))], user=user(n)
            ),
            lambda: db_support.write(
                engine, user(n), step_store.record, own(n), "homework", "skipped", day
            ),
        ]
        for job in jobs[n % 4 :] + jobs[: n % 4]:  # each user in a different order
            job()

    run_together(db_url, work)

    engine = customers
    assert count(engine, models.Meeting) == USERS
    assert count(engine, models.Usage) == USERS * DAYS * 2
    # own(n): initial_outreach, homework (recorded) + first_meeting (scheduled by the meeting).
    assert count(engine, models.Step) == USERS * 3
    assert duplicates(engine, models.Step, "customer_id", "step") == []
    assert duplicates(engine, models.Usage, "customer_id", "metric", "date") == []


# ------------------------------------------------------------------ one row, twenty writers

# lib.program.step_store.record and lib.meetings.sync_step read the step row, then insert it
# when absent. Writers queue (BEGIN IMMEDIATE on SQLite, an advisory
# transaction lock on PostgreSQL), so the second one finds the first one's row.


def test_twenty_users_write_the_same_step_at_once(customers: Engine, db_url: str) -> None:
    day = ENTERED + dt.timedelta(days=3)
    starts = dt.datetime(2026, 3, 10, 15, 0)

    def work(n: int, engine: Engine) -> None:
        db_support.write(
            engine,
            user(n),
            step_store.record,
            SHARED,
            "initial_outreach",
            "done",
            day,
            note=user(n),
        )
        people = (Attendee(f"Cy {n}", f"cy{n}@customer.example"),)
        schedule(
            engine,
            user(n),
            ScheduleRequest(SHARED, "first", starts + dt.timedelta(hours=n), "UTC", 30, people),
        )

    run_together(db_url, work)

    engine = customers
    assert count(engine, models.Meeting, models.Meeting.customer_id == SHARED) == USERS
    assert count(engine, models.Step, models.Step.customer_id == SHARED) == 2
    with db.read_session(engine) as session:
        rows = {
            s.step: s
            for s in session.scalars(select(models.Step).where(models.Step.customer_id == SHARED))
        }
    outreach = rows["initial_outreach"]
    assert outreach.note == outreach.recorded_by  # one whole write won, not a mix
    assert rows["first_meeting"].status == "scheduled"


# ------------------------------------------------------------------ one form, twenty savers


def test_twenty_users_save_the_same_form_at_once(customers: Engine, db_url: str) -> None:
    """Twenty people who all saw nothing recorded for a step (version 0) save it at once,
    then twenty who all saw version 1 save its note: each time one save is written and
    nineteen are refused as conflicts (lib.store.versions), none with a database error."""
    day = ENTERED + dt.timedelta(days=3)
    refused: list[str] = []
    lock = threading.Lock()

    def save(n: int, engine: Engine, change: Callable[..., Any], *args: Any, **kw: Any) -> None:
        try:
            db_support.write(engine, user(n), change, *args, **kw)
        except EditConflict as conflict:
            with lock:
                refused.append(str(conflict))

    def first_time(n: int, engine: Engine) -> None:
        save(n, engine, step_store.record, SHARED, "homework", "done", day, user(n), version=0)

    run_together(db_url, first_time)
    assert len(refused) == USERS - 1
    assert all("while you had it open" in message for message in refused)
    assert count(customers, models.Step, models.Step.customer_id == SHARED) == 1
    with db.read_session(customers) as session:
        (row,) = session.scalars(select(models.Step).where(models.Step.customer_id == SHARED))
        winner = row.recorded_by
        assert (row.note, row.version) == (winner, 1)
    assert all(f"{winner} recorded" in message for message in refused)

    refused.clear()

    def note(n: int, engine: Engine) -> None:
        save(n, engine, step_store.set_note, SHARED, "homework", f"note {n}", version=1)

    run_together(db_url, note)
    assert len(refused) == USERS - 1
    with db.read_session(customers) as session:
        (row,) = session.scalars(select(models.Step).where(models.Step.customer_id == SHARED))
    assert row.version == 2 and row.note == f"note {int(str(row.recorded_by)[4:])}"
