"""Today, from app.py after sign-in: metrics, the urgency-ordered list, one-click done, undo."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from lib.program import worklist
from lib.store import db, models
from tests import db_support
from tests.apptest_support import AS_OF, page_errors

OUTREACH = "ollivander-games-00033"  # priya's overdue initial outreach in the demo data
DONE_BUTTON = f"today_done_{OUTREACH}_initial_outreach"


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_metrics_match_the_worklist(login_app: Callable[..., AppTest], demo_db_url: str) -> None:
    at = login_app("priya")
    assert not page_errors(at)
    work = worklist.build(db_support.reports(db.make_engine(demo_db_url), AS_OF), AS_OF, "priya")
    assert metrics(at) == {
        "Overdue": str(work.overdue),
        "Due this week": str(work.due_this_week),
        "New this week": str(len(work.new_entrants)),
        "Calls today": str(work.calls_today),
        "Calls this week": str(work.calls_this_week),
    }
    assert work.overdue == 2
    # One row per item, most urgent first; calls get no one-click button.
    links = [p.label for p in at.page_link][: len(work.items)]
    assert links == [item.name for item in work.items]
    buttons = [b.key for b in at.button if (b.key or "").startswith("today_done_")]
    assert buttons == [f"today_done_{i.customer_id}_{i.step}" for i in work.items if i.done_action]


def test_one_click_done_changes_the_report_and_undo_restores(
    login_app: Callable[..., AppTest],
    demo_db_url_any: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On SQLite and PostgreSQL (demo_db_url_any)."""
    monkeypatch.setenv("ONBOARDING_DATABASE_URL", demo_db_url_any)
    engine = db.make_engine(demo_db_url_any)
    try:
        (before,) = db_support.reports(engine, AS_OF, OUTREACH)
        assert before.timeline.steps["initial_outreach"].status == "overdue"

        at = login_app("priya")
        at.button(key=DONE_BUTTON).click()
        at.run()
        assert not page_errors(at)
        (after,) = db_support.reports(engine, AS_OF, OUTREACH)
        outreach = after.timeline.steps["initial_outreach"]
        assert (outreach.status, outreach.date) == ("done", AS_OF)
        assert "Outreach sent recorded for Ollivander" in at.success[0].value
        # The page shows fresh data at once (the cache was cleared): the outreach is off
        # the list and the customer's next action moved on.
        assert DONE_BUTTON not in {b.key for b in at.button}
        work = worklist.build(db_support.reports(engine, AS_OF), AS_OF, "priya")
        assert metrics(at)["Overdue"] == str(work.overdue)
        (item,) = [i for i in work.items if i.customer_id == OUTREACH]
        assert item.step == "first_meeting"
        with db.read_session(engine) as session:
            logged = session.scalars(
                select(models.AuditLog).where(
                    models.AuditLog.customer_id == OUTREACH, models.AuditLog.entity == "steps"
                )
            ).all()
        assert [(e.user, e.action) for e in logged] == [("priya", "insert")]

        at.button(key="today_undo").click()
        at.run()
        (undone,) = db_support.reports(engine, AS_OF, OUTREACH)
        assert undone.timeline.steps["initial_outreach"].status == "overdue"
        assert at.button(key=DONE_BUTTON)  # back on the list
    finally:
        engine.dispose()


def test_done_date_is_the_one_picked(login_app: Callable[..., AppTest], demo_db_url: str) -> None:
    at = login_app("priya")
    picked = AS_OF.replace(day=AS_OF.day - 2)
    at.date_input(key="today_done_on").set_value(picked)
    at.run()
    at.button(key=DONE_BUTTON).click()
    at.run()
    engine = db.make_engine(demo_db_url)
    (after,) = db_support.reports(engine, AS_OF, OUTREACH)
    engine.dispose()
    assert after.timeline.steps["initial_outreach"].date == picked


def test_nothing_due_says_so(login_app: Callable[..., AppTest]) -> None:
    at = login_app("dana")
    assert not page_errors(at)
    assert "Nothing due" in at.success[0].value
    assert metrics(at)["Overdue"] == "0"


def test_team_member_can_switch_owner_but_not_to_everyone(
    login_app: Callable[..., AppTest],
) -> None:
    at = login_app("dana")
    owner = at.selectbox(key="today_owner")
    assert "*" not in owner.options
    owner.set_value("priya")
    at.run()
    assert metrics(at)["Overdue"] == "2"


def test_admin_sees_everyone(login_app: Callable[..., AppTest], demo_db_url: str) -> None:
    at = login_app("admin")
    assert not page_errors(at)
    assert at.selectbox(key="today_owner").value == "*"
    work = worklist.build(db_support.reports(db.make_engine(demo_db_url), AS_OF), AS_OF, None)
    assert metrics(at)["Overdue"] == str(work.overdue)
    assert any(c.value.startswith("owner: ") for c in at.caption)


def test_leadership_cannot_record_even_with_a_forged_click(
    login_app: Callable[..., AppTest],
) -> None:
    # Today does not exist for leadership; the server-side check is tested in test_login.
    at = login_app("lead")
    with pytest.raises(ValueError):
        at.switch_page("app_pages/today.py")


def test_empty_database_says_what_to_do(
    login_app: Callable[..., AppTest], empty_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONBOARDING_DATABASE_URL", empty_db_url)
    at = login_app("priya")
    assert not page_errors(at)
    assert at.info[0].value == (
        "No customers yet: import CSVs on the Data page or run `onboarding demo`."
    )
