"""After a write, a report list is brought up to date customer by customer
(lib.program.report_store.written_since / refreshed, used by ui.data.reports)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from lib import demo
from lib.program import report_store, step_store
from lib.store import db, journal, models, usage_summary

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
