"""The one monthly-saving figure: the report, the pages and Outcomes' ledger agree, and no
customer's saving or refundable total exceeds the bill (demo data, SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from lib import demo, labels
from lib.audit import finding_store
from lib.store import db, models
from tests import db_support
from tests.apptest_support import AS_OF, page_errors


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    """300 demo customers, the audit written down as of AS_OF."""
    with db.write_session(engine, "demo") as session:
        demo.load(session, demo.generate(customers=300, seed=7, as_of=AS_OF))
        finding_store.sync(session, AS_OF)
    return engine


def test_no_saving_or_refund_exceeds_the_bill(demo_engine: Engine) -> None:
    reports = db_support.reports(demo_engine, AS_OF)
    assert len(reports) == 300
    over = [
        r.customer_id
        for r in reports
        if r.est_monthly_saving_usd > r.projected_monthly_bill_usd + 0.005
        or r.est_refund_usd > r.projected_monthly_bill_usd + 0.005
    ]
    assert over == []
    # Overlapping findings exist in the demo, and the figure counts them once.
    alone = {r.customer_id: sum(f.est_monthly_saving_usd for f in r.findings) for r in reports}
    assert any(alone[r.customer_id] > r.est_monthly_saving_usd + 1 for r in reports)


def test_outcomes_ledger_adds_up_to_the_same_figure(demo_engine: Engine) -> None:
    reports = {r.customer_id: r for r in db_support.reports(demo_engine, AS_OF)}
    with db.read_session(demo_engine) as session:
        rows = session.execute(
            select(
                models.FindingState.customer_id,
                models.FindingState.state,
                models.FindingState.counted_saving_usd,
            )
        ).all()
    counted: dict[str, float] = {}
    for cid, state, saving in rows:
        if state == "open":
            counted[cid] = counted.get(cid, 0.0) + (saving or 0.0)
    differ = {
        cid: (round(total, 2), reports[cid].est_monthly_saving_usd)
        for cid, total in counted.items()
        if abs(total - reports[cid].est_monthly_saving_usd) > 0.01
    }
    assert differ == {}


def test_the_customer_page_shows_the_report_figure(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    reports = db_support.reports(db.make_engine(demo_db_url), AS_OF)
    rep = max(reports, key=lambda r: sum(f.est_monthly_saving_usd for f in r.findings))
    at = login_app("admin", page="app_pages/customer.py", query={"id": rep.customer_id})
    assert not page_errors(at)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Savings found"] == labels.money(rep.est_monthly_saving_usd)


def test_the_customers_table_shows_the_report_figure(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    reports = {r.customer_id: r for r in db_support.reports(db.make_engine(demo_db_url), AS_OF)}
    at = login_app("admin", page="app_pages/customers.py")
    assert not page_errors(at)
    table = at.dataframe[0].value
    ids = [link.removeprefix("customer?id=") for link in table["Open"]]
    assert len(ids) == len(reports)
    for cid, saving in zip(ids, table["Savings found"], strict=True):
        assert saving == pytest.approx(reports[cid].est_monthly_saving_usd)
