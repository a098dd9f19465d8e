"""After a write, a report list is brought up to date customer by customer
(lib.program.report_store.written_since / refreshed), and ui.patched, which ui.data's
report lists and health scores use, does so after a write here at once and after
another process's within CHECK_S, without building everyone's again."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lib import demo
from lib.program import report_store, step_store
from lib.store import db, journal, models, usage_summary
from ui import patched as patched_module
from ui.patched import Marked, Patched

AS_OF = dt.date(2026, 6, 1)


def _loaded(engine: Engine) -> None:
    with db.write_session(engine, "demo") as session:
        demo.load(session, demo.generate(customers=24, seed=7, as_of=AS_OF))
    usage_summary.ensure(engine, AS_OF)


def _steps(reports: list[report_store.CustomerReport]) -> dict[str, object]:
    return {r.customer.customer_id: r.timeline for r in reports}


def test_a_written_customer_is_built_again_and_the_rest_kept(engine: Engine) -> None:
    _loaded(engine)
    with db.read_session(engine) as session:
        mark = report_store.audit_mark(session)
        before = report_store.build(session, AS_OF)
        assert report_store.written_since(session, mark, 3) == (mark, [])
    customer_id = before[0].customer.customer_id
    with db.write_session(engine, "dana") as session:
        step_store.record(session, customer_id, "initial_outreach", "done", AS_OF)
    with db.read_session(engine) as session:
        newest, written = report_store.written_since(session, mark, 3)
        assert newest > mark and written == [customer_id]
        fresh = report_store.refreshed(session, AS_OF, before, written)
        everyone = report_store.build(session, AS_OF)
    assert fresh is not None and fresh is not before
    assert _steps(fresh) == _steps(everyone)  # as if everyone's were built again
    assert _steps(before) != _steps(everyone)  # the shared list itself stays as it was
    assert all(a is b for a, b in zip(fresh[1:], before[1:], strict=True))


def test_a_write_naming_no_customer_or_too_many_means_building_again(engine: Engine) -> None:
    _loaded(engine)
    with db.read_session(engine) as session:
        mark = report_store.audit_mark(session)
        ids = [r.customer.customer_id for r in report_store.build(session, AS_OF)]
    with db.write_session(engine, "dana") as session:
        for customer_id in ids[:4]:
            step_store.record(session, customer_id, "initial_outreach", "done", AS_OF)
    with db.read_session(engine) as session:
        assert report_store.written_since(session, mark, 3)[1] is None
        assert sorted(report_store.written_since(session, mark, 4)[1] or []) == ids[:4]
        mark = report_store.audit_mark(session)
    with db.write_session(engine, "admin") as session:
        journal.log_write(session, "import", "usage", {"rows": 10})
    with db.read_session(engine) as session:
        assert report_store.written_since(session, mark, 3)[1] is None


def test_a_customer_given_to_another_owner_leaves_the_owner_list(engine: Engine) -> None:
    _loaded(engine)
    with db.read_session(engine) as session:
        mark = report_store.audit_mark(session)
        owner = session.scalar(select(models.Customer.owner).where(models.Customer.owner != ""))
        assert owner
        mine = report_store.build(session, AS_OF, owner=owner)
    moved = mine[0].customer.customer_id
    with db.write_session(engine, "admin") as session:
        customer = session.get(models.Customer, moved)
        assert customer is not None
        customer.owner = "someone-else"
    with db.read_session(engine) as session:
        _, written = report_store.written_since(session, mark, 3)
        assert written == [moved]
        assert report_store.refreshed(session, AS_OF, mine, written, owner) is None
        assert report_store.refreshed(session, AS_OF, mine, written) is not None


# ------------------------------------------- ui.patched: the shared whole kept up to date


class Whole:
    """A stand-in cache: counts its builds and patches (the whole is the steps' states)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.built: Marked[list[report_store.CustomerReport]] | None = None
        self.builds = 0
        self.patched: list[list[str]] = []

    def full(self) -> Marked[list[report_store.CustomerReport]]:
        if self.built is None:
            self.builds += 1
            with db.read_session(self.engine) as session:
                mark = report_store.audit_mark(session)
                self.built = Marked(report_store.build(session, AS_OF), mark)
        return self.built

    def clear(self) -> None:
        self.built = None

    def patch(
        self, session: Session, reports: list[report_store.CustomerReport], written: list[str]
    ) -> list[report_store.CustomerReport] | None:
        self.patched.append(written)
        return report_store.refreshed(session, AS_OF, reports, written)

    def read(self, patched: Patched[list[report_store.CustomerReport]]) -> dict[str, object]:
        return _steps(patched.get("key", self.engine, self.full, self.clear, self.patch))


def _record(engine: Engine, customer_id: str) -> None:
    with db.write_session(engine, "dana") as session:  # as another server or the CLI would
        step_store.record(session, customer_id, "initial_outreach", "done", AS_OF)


def _everyone(engine: Engine) -> dict[str, object]:
    with db.read_session(engine) as session:
        return _steps(report_store.build(session, AS_OF))


@pytest.mark.parametrize(
    "how,seen",
    [
        ("nothing: within CHECK_S", False),
        ("this process wrote (changed())", True),
        ("CHECK_S went by", True),
    ],
)
def test_another_writer_shows_after_a_write_here_or_check_s(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, how: str, seen: bool
) -> None:
    _loaded(engine)
    whole, patched = Whole(engine), Patched[list[report_store.CustomerReport]]()
    before = whole.read(patched)
    customer_id = next(iter(before))
    _record(engine, customer_id)
    if how.startswith("this process"):
        patched.written()
    elif how.startswith("CHECK_S"):
        clock = time.monotonic() + patched_module.CHECK_S + 1
        monkeypatch.setattr(patched_module.time, "monotonic", lambda: clock)
    after = whole.read(patched)
    assert (after == _everyone(engine)) is seen
    assert (after == before) is not seen
    assert whole.builds == 1  # never everyone's again: one customer patched
    assert whole.patched == ([[customer_id]] if seen else [])


def test_a_write_naming_no_customer_builds_the_whole_again(engine: Engine) -> None:
    _loaded(engine)
    whole, patched = Whole(engine), Patched[list[report_store.CustomerReport]]()
    whole.read(patched)
    with db.write_session(engine, "admin") as session:
        journal.log_write(session, "import", "usage", {"rows": 10})
    patched.written()
    whole.read(patched)
    assert whole.builds == 2 and whole.patched == []


def test_nothing_written_keeps_the_same_whole(engine: Engine) -> None:
    _loaded(engine)
    whole, patched = Whole(engine), Patched[list[report_store.CustomerReport]]()
    first = patched.get("key", engine, whole.full, whole.clear, whole.patch)
    patched.written()  # a check, finding nothing new
    assert patched.get("key", engine, whole.full, whole.clear, whole.patch) is first
    assert whole.builds == 1 and whole.patched == []
