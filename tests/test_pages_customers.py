"""The Customers page, from app.py after sign-in: every customer, search and filters."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import AS_OF, DEMO_CUSTOMERS, page_errors

PAGE = "app_pages/customers.py"


def table(at: AppTest):  # type: ignore[no-untyped-def]
    return at.dataframe[0].value


@pytest.mark.parametrize("user", ["priya", "lead", "admin"])
def test_every_customer_for_every_role(login_app: Callable[..., AppTest], user: str) -> None:
    at = login_app(user, page=PAGE)
    assert not page_errors(at)
    frame = table(at)
    assert len(frame) == DEMO_CUSTOMERS
    assert at.caption[0].value.startswith(f"{DEMO_CUSTOMERS} of {DEMO_CUSTOMERS} customers")
    assert list(frame.columns[:3]) == ["Customer", "Open", "Owner"]
    # Each row links to the customer's own page (shareable URL).
    assert frame["Open"].str.fullmatch(r"customer\?id=[a-z0-9%\-]+").all()


@pytest.mark.parametrize(
    "widget,value,check",
    [
        # search matches the name, any case
        ("customers_search", "OLLIVANDER", lambda f: list(f["Customer"]) == ["Ollivander Games"]),
        # owner filter
        ("customers_owner", ["priya"], lambda f: set(f["Owner"]) == {"priya"} and len(f) == 3),
        # program status filter
        ("customers_status", ["completed"], lambda f: set(f["Status"]) == {"Completed"}),
        # next action filter
        (
            "customers_next",
            ["initial_outreach"],
            lambda f: f["Next action"].str.startswith("Initial outreach").all() and len(f) > 0,
        ),
    ],
)
def test_filters(
    login_app: Callable[..., AppTest], widget: str, value: object, check: Callable
) -> None:
    at = login_app("priya", page=PAGE)
    element = (
        at.text_input(key=widget) if widget == "customers_search" else at.multiselect(key=widget)
    )
    element.set_value(value)
    at.run()
    assert not page_errors(at)
    assert check(table(at))


def test_only_with_findings(login_app: Callable[..., AppTest]) -> None:
    at = login_app("priya", page=PAGE)
    at.toggle(key="customers_findings").set_value(True)
    at.run()
    assert (table(at)["Findings"] > 0).all()


def test_empty_database(
    login_app: Callable[..., AppTest], empty_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONBOARDING_DATABASE_URL", empty_db_url)
    at = login_app("lead", page=PAGE)
    assert not page_errors(at)
    assert "No customers yet" in at.info[0].value


def test_each_customer_shows_its_engagement_stage_and_last_reply(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    """The Stage and Last reply columns say what `report --json` says."""
    from lib.program import report_store
    from lib.program.stage import STAGE_LABELS
    from lib.store import db

    at = login_app("admin", page=PAGE)
    frame = table(at).set_index("Customer")
    engine = db.make_engine(demo_db_url)
    try:
        with db.read_session(engine) as session:
            reports = report_store.build(session, AS_OF)
    finally:
        engine.dispose()
    assert len({r.stage.stage for r in reports}) >= 3  # the demo has more than one stage
    for rep in reports:
        assert frame.loc[rep.customer.name, "Stage"] == STAGE_LABELS[rep.stage.stage]
        shown = frame.loc[rep.customer.name, "Last reply"]
        expected = rep.last_customer_reply_on
        assert (shown is None or shown != shown) if expected is None else shown == expected
