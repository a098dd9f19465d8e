"""Owner reassignment and the Customers page's bulk actions, on SQLite and PostgreSQL
(docs/rules.md, "Owners" and "Bulk actions"): every change in the audit log under its
user, a stale version refused with who changed it, a refused customer listed and left
untouched while the others are written, in one unit of work per action."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from lib.errors import NotFound, UserError
from lib.program import bulk_store, owner_store, step_store
from lib.program.bulk_store import Seen
from lib.store import db, journal, models
from lib.store.versions import EditConflict
from tests import db_support

AS_OF = dt.date(2026, 3, 16)

# id -> (entered, owner): week 1 (outreach due), week 3 (first call due), week 6
# (homework due; outreach and first call done), week 12 (final outreach overdue).
CUSTOMERS = {
    "alpha": (AS_OF - dt.timedelta(days=2), "dana"),
    "bravo": (AS_OF - dt.timedelta(days=16), "dana"),
    "charlie": (AS_OF - dt.timedelta(days=37), "lee"),
    "delta": (AS_OF - dt.timedelta(days=80), None),
}


@pytest.fixture
def book(engine: Engine) -> Engine:
    with db.write_session(engine, "setup") as session:
        for cid, (entered, owner) in CUSTOMERS.items():
            session.add(
                models.Customer(
                    customer_id=cid, name=cid.title(), owner=owner, segment_entered_on=entered
                )
            )
        session.flush()
        step_store.record(session, "bravo", "initial_outreach", "done", AS_OF - dt.timedelta(16))
        step_store.record(session, "charlie", "initial_outreach", "done", AS_OF - dt.timedelta(36))
        step_store.record(session, "charlie", "first_meeting", "done", AS_OF - dt.timedelta(25))
    return engine


def owner_of(engine: Engine, cid: str) -> str | None:
    with db.read_session(engine) as session:
        customer = session.get(models.Customer, cid)
        assert customer is not None
        return customer.owner


def seen(engine: Engine, *ids: str) -> dict[str, Seen]:
    return db_support.read(engine, bulk_store.seen, ids)


# ------------------------------------------------------------------ one customer


@pytest.mark.parametrize(
    "typed,stored",
    [
        ("lee", "lee"),  # a login's username
        ("  Sam Jones  ", "Sam Jones"),  # a free name, trimmed
        ("", None),  # empty: no owner
        (None, None),
        ("x" * 100, "x" * 100),  # the column's length
    ],
)
def test_reassign_stores_the_owner_and_logs_it(
    book: Engine, typed: str | None, stored: str | None
) -> None:
    before = db_support.write(book, "priya", owner_store.reassign, "alpha", typed, version=1)
    assert before == "dana"
    assert owner_of(book, "alpha") == stored
    with db.read_session(book) as session:
        (last, *_) = journal.recent(session, "alpha")
        assert (last.user, last.action, last.entity) == ("priya", "update", "customers")
        assert last.changes["owner"] == ["dana", stored]
        assert step_store.customer_edits(session, "alpha").version == 2


@pytest.mark.parametrize(
    "typed,message",
    [
        ("x" * 101, "at most 100 characters"),
        ("dana\nlee", "without control characters"),
        ("tab\there", "without control characters"),
    ],
)
def test_reassign_refuses_a_name_it_cannot_store(book: Engine, typed: str, message: str) -> None:
    with pytest.raises(owner_store.OwnerError, match=message):
        db_support.write(book, "priya", owner_store.reassign, "alpha", typed, version=1)
    assert owner_of(book, "alpha") == "dana"


def test_reassign_an_unknown_customer(book: Engine) -> None:
    with pytest.raises(NotFound):
        db_support.write(book, "priya", owner_store.reassign, "nobody", "lee")


def test_the_same_owner_writes_nothing(book: Engine) -> None:
    db_support.write(book, "priya", owner_store.reassign, "alpha", "dana", version=1)
    with db.read_session(book) as session:
        assert step_store.customer_edits(session, "alpha").version == 1
        assert not [c for c in journal.recent(session, "alpha") if c.user == "priya"]


def test_a_stale_reassignment_is_refused_saying_who(book: Engine) -> None:
    db_support.write(book, "lee", owner_store.reassign, "alpha", "lee", version=1)
    with pytest.raises(EditConflict, match=r"lee changed this customer's owner.*owner lee"):
        db_support.write(book, "priya", owner_store.reassign, "alpha", "sam", version=1)
    assert owner_of(book, "alpha") == "lee"


def test_an_extension_and_an_owner_share_the_version(book: Engine) -> None:
    """Someone extended the program meanwhile: the owner change based on before is refused."""
    until = AS_OF + dt.timedelta(days=30)
    db_support.write(book, "lee", step_store.extend, "delta", until, "holiday", version=1)
    with pytest.raises(EditConflict):
        db_support.write(book, "priya", owner_store.reassign, "delta", "sam", version=1)


def test_known_owners(book: Engine) -> None:
    assert db_support.read(book, owner_store.known) == ["dana", "lee"]


# ------------------------------------------------------------------ bulk actions


def test_seen_reads_customer_and_step_versions(book: Engine) -> None:
    shown = seen(book, "bravo", "charlie", "nobody")
    assert set(shown) == {"bravo", "charlie"}  # an unknown id is left out
    assert shown["bravo"] == Seen(1, {"initial_outreach": 1})
    assert shown["charlie"].step_version("homework") == 0


def test_bulk_reassign_changes_all_and_lists_the_refused(book: Engine) -> None:
    shown = seen(book, *CUSTOMERS)
    # lee changes charlie's owner after the page showed it
    db_support.write(book, "lee", owner_store.reassign, "charlie", "lee2", version=1)
    outcome = db_support.write(book, "priya", bulk_store.reassign, shown, "sam")
    assert outcome.changed == ("alpha", "bravo", "delta")
    assert [r.customer_id for r in outcome.refused] == ["charlie"]
    assert "lee changed this customer's owner" in outcome.refused[0].reason
    assert outcome.summary == "3 changed, 1 refused"
    assert {cid: owner_of(book, cid) for cid in CUSTOMERS} == {
        "alpha": "sam",
        "bravo": "sam",
        "charlie": "lee2",  # the refused one keeps lee's change
        "delta": "sam",
    }
    with db.read_session(book) as session:
        for cid in ("alpha", "bravo", "delta"):
            assert journal.recent(session, cid)[0].user == "priya"


def test_bulk_reassign_to_the_owner_they_have(book: Engine) -> None:
    outcome = db_support.write(
        book, "priya", bulk_store.reassign, seen(book, "alpha", "bravo"), "dana"
    )
    assert (outcome.changed, outcome.unchanged, outcome.summary) == (
        (),
        ("alpha", "bravo"),
        "0 changed, 2 already so",
    )


@pytest.mark.parametrize(
    "owner,shown,error",
    [
        ("a\nb", ("alpha",), "control characters"),  # a bad name: nothing written
        ("sam", (), "select at least one customer"),
    ],
)
def test_bulk_reassign_refused_whole(
    book: Engine, owner: str, shown: tuple[str, ...], error: str
) -> None:
    with pytest.raises(UserError, match=error):
        db_support.write(book, "priya", bulk_store.reassign, seen(book, *shown), owner)
    assert owner_of(book, "alpha") == "dana"


def next_steps(engine: Engine) -> dict[str, str | None]:
    return {
        r.customer_id: (r.timeline.next_action.step if r.timeline.next_action else None)
        for r in db_support.reports(engine, AS_OF)
    }


def test_bulk_mark_sent_records_the_email_step_each_is_at(book: Engine) -> None:
    steps = next_steps(book)
    assert steps == {
        "alpha": "initial_outreach",
        "bravo": "first_meeting",
        "charlie": "homework",
        "delta": "initial_outreach",  # week 12, nothing recorded: the first overdue step
    }
    shown = seen(book, *CUSTOMERS)
    outcome = db_support.write(book, "priya", bulk_store.mark_sent, shown, steps, AS_OF)
    refused = {r.customer_id: r.reason for r in outcome.refused}
    assert outcome.changed == ("alpha", "charlie", "delta")
    assert refused["bravo"] == "its next step is the First call, not an email"
    with db.read_session(book) as session:
        assert step_store.recorded(session, "alpha")["initial_outreach"].status == "done"
        assert step_store.recorded(session, "charlie")["homework"].recorded_by == "priya"
        assert "first_meeting" not in step_store.recorded(session, "bravo")


def test_bulk_mark_sent_refuses_a_step_recorded_meanwhile(book: Engine) -> None:
    steps = next_steps(book)
    shown = seen(book, "alpha", "charlie")
    # lee marks alpha's outreach sent (yesterday) after the page showed it
    yesterday = AS_OF - dt.timedelta(days=1)
    db_support.write(book, "lee", step_store.record, "alpha", "initial_outreach", "done", yesterday)
    outcome = db_support.write(book, "priya", bulk_store.mark_sent, shown, steps, AS_OF)
    assert outcome.changed == ("charlie",)
    assert outcome.refused == (
        bulk_store.Refused("alpha", "Initial outreach is already recorded done on 2026-03-15"),
    )
    with db.read_session(book) as session:  # lee's date kept
        assert step_store.recorded(session, "alpha")["initial_outreach"].date == yesterday


def test_bulk_mark_sent_refuses_a_stale_version(book: Engine) -> None:
    """Someone scheduled the step after the page showed it (not settled, but changed)."""
    steps = next_steps(book)
    shown = seen(book, "alpha")
    later = AS_OF + dt.timedelta(days=2)
    db_support.write(
        book, "lee", step_store.record, "alpha", "initial_outreach", "scheduled", later
    )
    outcome = db_support.write(book, "priya", bulk_store.mark_sent, shown, steps, AS_OF)
    assert outcome.changed == ()
    assert "lee recorded the Initial outreach step" in outcome.refused[0].reason


def test_bulk_extend(book: Engine) -> None:
    until = AS_OF + dt.timedelta(days=20)
    shown = seen(book, *CUSTOMERS)
    outcome = db_support.write(
        book, "priya", bulk_store.extend, shown, until, "team holiday", AS_OF
    )
    # alpha's and bravo's final outreach windows end after the date: refused, listed
    assert outcome.changed == ("charlie", "delta")
    assert [r.customer_id for r in outcome.refused] == ["alpha", "bravo"]
    assert "expected a date after final outreach's window end" in outcome.refused[0].reason
    with db.read_session(book) as session:
        rows = session.execute(
            select(models.Customer.customer_id, models.Customer.extended_until).order_by(
                models.Customer.customer_id
            )
        ).all()
    assert dict(rows) == {"alpha": None, "bravo": None, "charlie": until, "delta": until}


@pytest.mark.parametrize(
    "days,reason,error",
    [
        (-1, "late", "already past"),  # a day already past: the whole action refused
        (14, "  ", "say why"),
    ],
)
def test_bulk_extend_refused_whole(book: Engine, days: int, reason: str, error: str) -> None:
    until = AS_OF + dt.timedelta(days=days)
    with pytest.raises(UserError, match=error):
        db_support.write(
            book, "priya", bulk_store.extend, seen(book, "delta"), until, reason, AS_OF
        )


def test_extend_refuses_a_past_date_given_as_of(book: Engine) -> None:
    past = AS_OF - dt.timedelta(days=1)
    with pytest.raises(step_store.StepError, match="already past"):
        db_support.write(book, "priya", step_store.extend, "delta", past, "x", as_of=AS_OF)
    # without as-of (an import, the command line) the date is only checked against the window
    db_support.write(book, "priya", step_store.extend, "delta", past, "x")


@pytest.mark.parametrize(
    "entered,extended,as_of,earliest,suggested",
    [
        # in the program: after final outreach's own end (day 55), two weeks past it
        (0, None, 10, 56, 69),
        # week 14, never extended: the own end is past, so from as-of (never a past day)
        (0, None, 91, 91, 105),
        # an extension already past: from as-of too
        (0, 70, 91, 91, 105),
        # an extension still ahead: two weeks past it
        (0, 100, 91, 91, 114),
        # no as-of (the command line): as before
        (0, None, None, 56, 69),
    ],
)
def test_extension_form_dates_are_never_past(
    entered: int, extended: int | None, as_of: int | None, earliest: int, suggested: int
) -> None:
    from lib.program import timeline

    start = dt.date(2026, 1, 1)

    def day(n: int) -> dt.date:
        return start + dt.timedelta(days=n)

    got = timeline.extension_dates(
        day(entered),
        day(extended) if extended is not None else None,
        day(as_of) if as_of is not None else None,
    )
    assert got == (day(earliest), day(suggested))
