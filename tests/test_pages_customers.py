"""The Customers page, from app.py after sign-in: every customer, search and filters."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from lib.program import portfolio
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
        # an empty date is blank (NaT), never the text "None"
        assert pd.isna(shown) if expected is None else shown.date() == expected


# ------------------------------------------------------------------ issue 16


def rows_of(demo_db_url: str) -> list[portfolio.Row]:
    """The page's rows as lib computes them (health included)."""
    from lib.audit import health_store
    from lib.program import report_store
    from lib.store import db

    engine = db.make_engine(demo_db_url)
    try:
        with db.read_session(engine) as session:
            reports = report_store.build(session, AS_OF)
            scores = health_store.scores(session, AS_OF)
    finally:
        engine.dispose()
    return portfolio.rows(reports, scores)


@pytest.mark.parametrize(
    "query,keep",
    [
        ({"owner": "priya"}, lambda r: r.owner == "priya"),
        ({"owner": "priya,lee"}, lambda r: r.owner in ("priya", "lee")),
        ({"overdue": "1"}, lambda r: r.overdue),
        ({"owner": "priya", "overdue": "1"}, lambda r: r.owner == "priya" and r.overdue),
        ({"status": "completed,extended"}, lambda r: r.program_status in ("completed", "extended")),
        ({"stage": "onboarding_initiated"}, lambda r: r.stage == "onboarding_initiated"),
        ({"health": "healthy"}, lambda r: r.health_band == "healthy"),
        # the demo's customers all score 7+: nobody at risk, an empty table
        ({"health": "at_risk,watch"}, lambda r: r.health_band in ("at_risk", "watch")),
        ({"q": "ollivander"}, lambda r: "ollivander" in r.name.lower()),
        # unknown codes are dropped, never an error: an old link still opens
        ({"status": "bogus", "health": "great"}, lambda r: True),
    ],
)
def test_a_bookmarked_view_opens_filtered(
    login_app: Callable[..., AppTest], demo_db_url: str, query: dict[str, str], keep: Callable
) -> None:
    at = login_app("admin", page=PAGE, query=query)
    assert not page_errors(at)
    expected = sorted(r.name for r in rows_of(demo_db_url) if keep(r))
    assert bool(expected) == ("watch" not in query.get("health", ""))  # cases with customers
    assert sorted(table(at)["Customer"]) == expected
    assert at.caption[0].value.startswith(f"{len(expected)} of {DEMO_CUSTOMERS} customers")


def test_the_widgets_start_from_the_url_and_write_back(
    login_app: Callable[..., AppTest],
) -> None:
    at = login_app("admin", page=PAGE, query={"owner": "priya", "overdue": "1", "q": "a"})
    assert at.multiselect(key="customers_owner").value == ["priya"]
    assert at.toggle(key="customers_overdue").value is True
    assert at.text_input(key="customers_search").value == "a"
    at.multiselect(key="customers_owner").set_value(["priya", "lee"])
    at.toggle(key="customers_overdue").set_value(False)
    at.multiselect(key="customers_health").set_value(["at_risk"])
    at.run()
    assert not page_errors(at)
    params = dict(at.query_params)
    assert params["owner"] == "priya,lee" and params["health"] == "at_risk"
    assert "overdue" not in params and params["q"] == "a"
    # the link to share names the same view
    link = at.code[0].value
    assert link.endswith("?owner=priya%2Clee&health=at_risk&q=a"), link


def test_health_overdue_columns_readable_at_1440(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    at = login_app("priya", page=PAGE)
    frame = table(at).set_index("Customer")
    for row in rows_of(demo_db_url):
        assert frame.loc[row.name, "Overdue"] == row.overdue
        assert frame.loc[row.name, "Health"] == pytest.approx(row.health)
        assert frame.loc[row.name, "Health band"] in ("Healthy", "Watch", "At risk")
    assert frame["Overdue"].any() and not frame["Overdue"].all()
    # empty due dates are blank dates, never the text "None"
    for column in ("Due", "Last reply", "Entered"):
        assert pd.api.types.is_datetime64_any_dtype(frame[column]), column
    assert frame["Due"].isna().any()
    # names, next action and due dates get fixed widths (1440 px: not cut)
    config = json.loads(at.dataframe[0].proto.columns)
    widths = {name: config[name].get("width") for name in ("Customer", "Next action", "Due")}
    assert widths["Customer"] >= 200 and widths["Next action"] >= 200 and widths["Due"] >= 100


def select_rows(at: AppTest, names: list[str]) -> None:
    frame = table(at)
    positions = [int(frame.index[frame["Customer"] == n][0]) for n in names]
    at.session_state["customers_table"] = {"selection": {"rows": positions, "columns": []}}
    at.run()


def owners_in_db(demo_db_url: str, ids: list[str]) -> dict[str, str | None]:
    from lib.store import db, models

    engine = db.make_engine(demo_db_url)
    try:
        with db.read_session(engine) as session:
            c = models.Customer
            return dict(
                session.execute(select(c.customer_id, c.owner).where(c.customer_id.in_(ids))).all()
            )
    finally:
        engine.dispose()


def test_bulk_reassign_from_the_table(login_app: Callable[..., AppTest], demo_db_url: str) -> None:
    at = login_app("priya", page=PAGE, query={"owner": "lee"})
    picked = list(table(at)["Customer"][:2])
    select_rows(at, picked)
    assert not page_errors(at)
    at.text_input(key="customers_bulk_owner_typed").input("Sam Jones")  # no login needed
    at.button(key="FormSubmitter:customers_bulk_owner-Reassign").click()
    at.run()
    assert not page_errors(at)
    assert "Reassign to Sam Jones: 2 changed." in at.success[0].value
    ids = [r.customer_id for r in rows_of(demo_db_url) if r.name in picked]
    assert set(owners_in_db(demo_db_url, ids).values()) == {"Sam Jones"}


def test_bulk_mark_sent_lists_the_refused(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    rows = rows_of(demo_db_url)
    email = next(r for r in rows if r.next_step == "initial_outreach")
    call = next(r for r in rows if r.next_step == "first_meeting")
    at = login_app("admin", page=PAGE)
    select_rows(at, [email.name, call.name])
    at.button(key="FormSubmitter:customers_bulk_mark-Mark sent").click()
    at.run()
    assert not page_errors(at)
    assert "Mark the email sent: 1 changed, 1 refused." in at.warning[0].value
    (refused,) = [d.value for d in at.dataframe if "Why refused" in d.value.columns]
    assert list(refused["Customer"]) == [call.name]
    assert "not an email" in refused["Why refused"][0]


def test_leadership_sees_no_bulk_actions(login_app: Callable[..., AppTest]) -> None:
    at = login_app("lead", page=PAGE)
    select_rows(at, list(table(at)["Customer"][:2]))
    assert not page_errors(at)
    assert not [b for b in at.button if "customers_bulk" in str(b.key)]
