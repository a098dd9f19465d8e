"""Optimistic locking of the hand edits two people can make at once, on SQLite and
PostgreSQL (docs/rules.md, "Concurrent edits"): steps, a customer's extension and rating,
findings' decisions, homework. One row per case: both people read version N, the first
saves, the second is refused with a message saying who, when and what it is now, and
nothing of the first is lost. Version 0 = "nothing was there": a first-time create race."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lib import homework
from lib.audit import finding_store, health_store
from lib.errors import Conflict, UserError
from lib.homework import HomeworkConflict
from lib.program import step_store
from lib.store import db, models
from lib.store.versions import EditConflict
from tests import db_support

ENTERED = dt.date(2026, 3, 1)
DAY = dt.date(2026, 3, 9)
CID = "acme"
STEP = "initial_outreach"
RULE = "dev_traffic"


@pytest.fixture
def acme(engine: Engine) -> Engine:
    with db.write_session(engine, "setup") as session:
        session.add(
            models.Customer(customer_id=CID, name="Acme", owner="dana", segment_entered_on=ENTERED)
        )
    return engine


# ------------------------------------------------------------------ reading versions


def step_version(session: Session) -> int:
    return step_store.versions_of(step_store.recorded(session, CID))[STEP]


def customer_version(session: Session) -> int:
    return step_store.customer_edits(session, CID).version


def finding_version(session: Session) -> int:
    row = finding_store.states(session, CID).get(RULE)
    return row.version if row else 0


def hw_items(session: Session) -> list[homework.AssignmentView]:
    return homework.assignments(session, CID)


def hw_version(session: Session, n: int = 0) -> int:
    return hw_items(session)[n].version


def hw_id(engine: Engine, n: int = 0) -> int:
    return db_support.read(engine, hw_items)[n].id


def hw_drafts(session: Session) -> dict[int, int]:
    return homework.draft_versions(hw_items(session))


# ------------------------------------------------------------------ the cases


def record_step(engine: Engine, note: str = "first note") -> None:
    db_support.write(engine, "dana", step_store.record, CID, STEP, "done", DAY, note)


def add_two_tasks(engine: Engine) -> None:
    db_support.write(engine, "dana", homework.add, CID, "billing_limit")
    db_support.write(engine, "dana", homework.add, CID, homework.CUSTOM_TASK, title="Our own")


def send_two_tasks(engine: Engine) -> None:
    add_two_tasks(engine)
    db_support.write(engine, "dana", homework.mark_sent, CID, DAY)


def decide(state: str, reason: str | None = None) -> Callable[[Session, int], object]:
    return lambda s, v: finding_store.set_state(
        s, CID, RULE, state, on=DAY, reason=reason, est_monthly_saving_usd=0.0, version=v
    )


def stored_step(session: Session) -> Any:
    entry = step_store.recorded(session, CID).get(STEP)
    return None if entry is None else (entry.status, entry.note, entry.recorded_by)


def stored_customer(session: Session) -> Any:
    e = step_store.customer_edits(session, CID)
    return (e.extended_until, e.extension_reason, e.relationship_rating)


def stored_finding(session: Session) -> Any:
    row = finding_store.states(session, CID).get(RULE)
    return None if row is None else (row.state, row.reason, row.updated_by)


def stored_homework(session: Session) -> Any:
    return [(i.title, i.body, i.position, i.status) for i in hw_items(session)]


@dataclass(frozen=True)
class Case:
    id: str
    setup: Callable[[Engine], object]
    version: Callable[[Session], Any]  # what both forms read
    first: Callable[[Session, Any], object]  # ann's save, based on it
    second: Callable[[Session, Any], object]  # bob's save, based on the same version
    stored: Callable[[Session], Any]  # what the database holds (ann's, after the refusal)
    says: tuple[str, ...]  # what bob's refusal names


EXTEND_TO = dt.date(2026, 5, 15)
LATER = dt.date(2026, 5, 30)
CASES = [
    Case(
        "step note vs step note",
        record_step,
        step_version,
        lambda s, v: step_store.set_note(s, CID, STEP, "ann called twice", version=v),
        lambda s, v: step_store.set_note(s, CID, STEP, "bob sent the deck", version=v),
        stored_step,
        ("ann changed the Initial outreach step", "version 1 -> 2", "ann called twice"),
    ),
    Case(
        "step record vs step record",
        record_step,
        step_version,
        lambda s, v: step_store.record(s, CID, STEP, "skipped", DAY, "no answer", version=v),
        lambda s, v: step_store.record(s, CID, STEP, "done", DAY, "bob's note", version=v),
        stored_step,
        ("ann changed", "skipped on 2026-03-09", "no answer"),
    ),
    Case(
        "step cleared vs step note",
        record_step,
        step_version,
        lambda s, v: step_store.clear(s, CID, STEP, version=v),
        lambda s, v: step_store.set_note(s, CID, STEP, "bob's note", version=v),
        stored_step,
        ("ann removed the Initial outreach step", "nothing recorded"),
    ),
    Case(
        "step recorded for the first time by both",
        lambda e: None,
        step_version,
        lambda s, v: step_store.record(s, CID, STEP, "done", DAY, "ann's first", version=v),
        lambda s, v: step_store.record(s, CID, STEP, "done", DAY, "bob's first", version=v),
        stored_step,
        ("ann recorded the Initial outreach step", "it was empty then", "ann's first"),
    ),
    Case(
        "extension vs extension",
        lambda e: None,
        customer_version,
        lambda s, v: step_store.extend(s, CID, EXTEND_TO, "third call", version=v),
        lambda s, v: step_store.extend(s, CID, LATER, "bob's reason", version=v),
        stored_customer,
        ("ann changed this customer's extension", "extended to 2026-05-15 (third call)"),
    ),
    Case(
        "rating vs rating",
        lambda e: None,
        customer_version,
        lambda s, v: health_store.set_relationship(s, CID, 4, version=v),
        lambda s, v: health_store.set_relationship(s, CID, 2, version=v),
        stored_customer,
        ("ann changed this customer's relationship rating", "rated 4 of 5"),
    ),
    Case(
        "rating vs extension",
        lambda e: None,
        customer_version,
        lambda s, v: health_store.set_relationship(s, CID, 5, version=v),
        lambda s, v: step_store.extend(s, CID, LATER, "bob's reason", version=v),
        stored_customer,
        ("ann changed this customer's extension", "not extended; relationship rated 5 of 5"),
    ),
    Case(
        "finding dismissed vs marked fixed",
        lambda e: db_support.write(e, "dana", decide("open"), None),
        finding_version,
        decide("dismissed", "they want dev data"),
        decide("fixed"),
        stored_finding,
        ("ann changed the decision on", "dismissed (reason: \u201cthey want dev data\u201d)"),
    ),
    Case(
        "finding decided for the first time by both",
        lambda e: None,
        finding_version,
        decide("fixed"),
        decide("dismissed", "bob's reason"),
        stored_finding,
        ("ann recorded the decision on", "it was empty then", "fixed on 2026-03-09"),
    ),
    Case(
        "homework wording vs wording",
        add_two_tasks,
        hw_version,
        lambda s, v: homework.edit(s, hw_items(s)[0].id, "Ann's title", "ann", version=v),
        lambda s, v: homework.edit(s, hw_items(s)[0].id, "Bob's title", "bob", version=v),
        stored_homework,
        (
            "ann changed the homework item \u201cAnn's title\u201d",
            "\u201cAnn's title\u201d, number 1",
        ),
    ),
    Case(
        "homework removed vs wording",
        add_two_tasks,
        lambda s: (hw_items(s)[1].id, hw_version(s, 1)),
        lambda s, v: homework.remove(s, v[0], version=v[1]),
        lambda s, v: homework.edit(s, v[0], "Bob's title", "bob", version=v[1]),
        stored_homework,
        ("ann removed homework item", "no longer in the homework"),
    ),
    Case(
        "homework reordered twice",
        add_two_tasks,
        lambda s: (hw_items(s)[1].id, hw_version(s, 1)),
        lambda s, v: homework.move(s, v[0], -1, version=v[1]),
        lambda s, v: homework.move(s, v[0], -1, version=v[1]),
        stored_homework,
        ("ann changed the homework item \u201cOur own\u201d", "number 1, in the draft"),
    ),
    Case(
        "homework ticked vs unticked",
        send_two_tasks,
        lambda s: (hw_items(s)[1].id, hw_version(s, 1)),
        lambda s, v: homework.tick(s, v[0], True, on=DAY, version=v[1]),
        lambda s, v: homework.tick(s, v[0], False, version=v[1]),
        stored_homework,
        ("ann changed the homework item \u201cOur own\u201d", "done on 2026-03-09 (hand)"),
    ),
    Case(
        "homework task added by both",
        lambda e: None,
        lambda s: None,
        lambda s, v: homework.add(s, CID, "billing_limit"),
        lambda s, v: homework.add(s, CID, "billing_limit"),
        stored_homework,
        ("is already in this customer's homework (added by ann at",),
    ),
    Case(
        "homework marked sent after the draft changed",
        add_two_tasks,
        hw_drafts,
        lambda s, v: homework.edit(s, hw_items(s)[0].id, "Ann's title", "ann"),
        lambda s, v: homework.mark_sent(s, CID, DAY, seen=v),
        stored_homework,
        ("The draft homework changed after you opened it (last by ann at", "1. Ann's title"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_second_save_of_the_same_version_is_refused(acme: Engine, case: Case) -> None:
    engine = acme
    case.setup(engine)
    version = db_support.read(engine, case.version)  # both forms show this one
    db_support.write(engine, "ann", case.first, version)
    after_ann = db_support.read(engine, case.stored)
    with pytest.raises(Conflict) as refused:
        db_support.write(engine, "bob", case.second, version)
    message = str(refused.value)
    for words in case.says:
        assert words in message
    assert "Nothing" in message
    # Nothing of bob's was written, nothing of ann's was lost, bob is not in the log.
    assert db_support.read(engine, case.stored) == after_ann
    with db.read_session(engine) as session:
        assert not session.scalars(
            select(models.AuditLog).where(models.AuditLog.user == "bob")
        ).all()


AGAIN = [c for c in CASES[:-2] if "removed" not in c.id]  # a removed item has no version


@pytest.mark.parametrize("case", AGAIN, ids=[c.id for c in AGAIN])
def test_a_save_based_on_the_current_version_is_not_a_conflict(acme: Engine, case: Case) -> None:
    """Bob reads again after ann's save (the page's reload): no conflict any more (a step
    cleared meanwhile can still refuse a note for its own reason)."""
    engine = acme
    case.setup(engine)
    db_support.write(engine, "ann", case.first, db_support.read(engine, case.version))
    try:
        db_support.write(engine, "bob", case.second, db_support.read(engine, case.version))
    except Conflict:  # pragma: no cover - the point of the test
        pytest.fail("a save based on the current version was refused as a conflict")
    except UserError as refused:
        assert "nothing recorded yet" in str(refused) or "does not exist" in str(refused)


def test_the_conflict_is_a_user_error_of_its_own_kind(acme: Engine) -> None:
    record_step(acme)
    with pytest.raises(EditConflict) as refused:
        db_support.write(acme, "bob", step_store.set_note, CID, STEP, "x", version=7)
    assert refused.value.yours_version == 7
    assert refused.value.current.version == 1
    assert refused.value.current.who == "dana"
    with pytest.raises(HomeworkConflict):
        for _ in range(2):
            db_support.write(acme, "bob", homework.add, CID, "billing_limit")


def test_callers_without_a_form_are_not_checked(acme: Engine) -> None:
    """Imports, meetings and emails sent record steps without a version: the last one
    wins, as before; every write still takes a new version."""
    record_step(acme)
    record_step(acme, "again")
    db_support.write(acme, "bob", step_store.set_note, CID, STEP, "bob's")
    assert db_support.read(acme, step_version) == 3
    db_support.write(acme, "bob", step_store.extend, CID, EXTEND_TO, "why")
    db_support.write(acme, "bob", health_store.set_relationship, CID, 3)
    assert db_support.read(acme, customer_version) == 3


def test_an_import_refreshing_the_saving_does_not_refuse_a_decision(acme: Engine) -> None:
    """A finding's version moves with its decision, not with the saving an import
    refreshes (finding_store.sync), so a card opened before an import still saves."""
    db_support.write(acme, "dana", decide("open"), None)
    version = db_support.read(acme, finding_version)
    db_support.write(
        acme,
        "import",
        lambda s: finding_store.set_state(s, CID, RULE, "open", est_monthly_saving_usd=12.0),
    )
    assert db_support.read(acme, finding_version) == version
    db_support.write(acme, "bob", decide("fixed"), version)
    assert db_support.read(acme, stored_finding) == ("fixed", None, "bob")


def test_a_steps_csv_import_takes_a_new_version(acme: Engine) -> None:
    """steps.csv updates steps with a Core UPDATE: it bumps the version itself, so a form
    opened before the import is refused rather than overwriting what it wrote."""
    from lib.ingest import Source
    from tests.csv_fixtures import import_sources

    record_step(acme)
    version = db_support.read(acme, step_version)
    csv = f"customer_id,step,status,date\n{CID},{STEP},skipped,{DAY}\n"
    import_sources(acme, [Source("steps.csv", csv.encode())], user="importer")
    assert db_support.read(acme, step_version) == version + 1
    with pytest.raises(EditConflict, match="importer changed the Initial outreach step"):
        db_support.write(acme, "bob", step_store.set_note, CID, STEP, "bob's", version=version)
