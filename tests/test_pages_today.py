"""Today, from app.py after sign-in: metrics, the urgency-ordered list, one-click done, undo,
and each next step in place: a call booked and logged, the email, the extension."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, delete, select
from streamlit.testing.v1 import AppTest

from lib.program import worklist
from lib.store import db, models
from tests import db_support
from tests.apptest_support import AS_OF, page_errors
from ui import no_reply

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


# ------------------------------------------------------------------ the next step in place

CALL = "hanso-bank-00036"  # priya's overdue first call in the demo data, nothing booked
CALL_BUTTON = f"today_call_{CALL}_first_meeting"


def dialog_text(at: AppTest) -> str:
    return " ".join(str(m.value) for m in at.markdown)


def test_a_call_is_booked_and_logged_in_place(
    login_app: Callable[..., AppTest],
    demo_db_url_any: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The call row opens the same form as Meetings: book the call, then log it held; on
    SQLite and PostgreSQL."""
    monkeypatch.setenv("ONBOARDING_DATABASE_URL", demo_db_url_any)
    engine = db.make_engine(demo_db_url_any)
    try:
        at = login_app("priya")
        assert at.button(key=CALL_BUTTON).label == "Book the call"
        assert not [c for c in at.caption if "customer's page" in c.value]
        at.button(key=CALL_BUTTON).click().run()
        assert not page_errors(at)
        assert "Book the first call" in dialog_text(at)
        assert at.radio(key="today_call_new_kind").value == "first"
        # The next working day after AS_OF (a Monday), at 10:00.
        assert at.date_input(key="today_call_new_date").value == AS_OF + dt.timedelta(days=1)
        assert at.time_input(key="today_call_new_time").value == dt.time(10, 0)
        invited = at.multiselect(key="today_call_new_contacts").value
        assert invited and all("@hanso-bank-00036.example" in line for line in invited)
        at.button(key="today_call_new_submit").click().run()
        assert not page_errors(at)
        assert "First call with Hanso Bank scheduled for Tue 17 Mar 10:00" in at.success[0].value
        (rep,) = db_support.reports(engine, AS_OF, CALL)
        step = rep.timeline.steps["first_meeting"]
        assert (step.status, step.date) == ("scheduled", AS_OF + dt.timedelta(days=1))
        assert CALL_BUTTON not in {b.key for b in at.button}  # booked: off the list
        # The dialog now holds the booked call: its outcome form, as on Meetings.
        with db.read_session(engine) as session:
            mid = session.scalars(
                select(models.Meeting.id).where(models.Meeting.customer_id == CALL)
            ).one()
        at.selectbox(key=f"today_call_f_status_{mid}").set_value("held").run()
        at.button(key=f"today_call_save_{mid}").click().run()
        assert "is still to come" in at.error[0].value  # not before it took place
        held_on = AS_OF - dt.timedelta(days=1)
        at.date_input(key=f"today_call_f_date_{mid}").set_value(held_on).run()
        at.button(key=f"today_call_save_{mid}").click().run()
        assert not page_errors(at)
        assert "Saved: held; First call done on 15 Mar" in at.success[0].value
        assert "today_dialog" not in at.session_state  # back to the list
        (after,) = db_support.reports(engine, AS_OF, CALL)
        step = after.timeline.steps["first_meeting"]
        assert (step.status, step.date) == ("done", held_on)
    finally:
        engine.dispose()


def test_a_booked_call_opens_from_calls_this_week(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    at = login_app("priya")
    at.button(key=CALL_BUTTON).click().run()
    at.button(key="today_call_new_submit").click().run()
    at.session_state["today_dialog"] = None  # closed
    at.run()
    at.button(key=f"today_open_{CALL}_first_meeting").click().run()
    assert not page_errors(at)
    assert [k for k in (b.key or "" for b in at.button) if k.startswith("today_call_save_")]


def test_the_outreach_email_and_the_extension_in_place(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    at = login_app("priya")
    at.button(key=f"today_next_{OUTREACH}_initial_outreach").click().run()
    assert not page_errors(at)
    # No SMTP server here: the draft to copy, and how to configure sending.
    assert any("Ollivander" in c.value for c in at.code)
    assert any("Sending from the console is not configured" in i.value for i in at.info)
    at.text_input(key=f"today_reason_{OUTREACH}").input("Engaged, needs two more weeks")
    at.button(key=f"today_extend_{OUTREACH}").click().run()
    assert not page_errors(at)
    engine = db.make_engine(demo_db_url)
    (after,) = db_support.reports(engine, AS_OF, OUTREACH)
    engine.dispose()
    assert after.customer.extended_until is not None
    assert after.customer.extension_reason == "Engaged, needs two more weeks"
    assert f"extended to {after.customer.extended_until:%Y-%m-%d}" in at.success[0].value
    assert "today_dialog" not in at.session_state


# ------------------------------------------------------------------ long lists, capped


def book_calls(engine: Engine, count: int) -> None:
    """A first call booked this week for `count` active customers."""
    with db.write_session(engine, "test") as session:
        ids = session.scalars(
            select(models.Customer.customer_id)
            .where(models.Customer.status == "active")
            .order_by(models.Customer.customer_id)
            .limit(count)
        ).all()
        session.execute(
            delete(models.Step).where(
                models.Step.customer_id.in_(ids), models.Step.step == "first_meeting"
            )
        )
        for n, customer_id in enumerate(ids):
            session.add(
                models.Step(
                    customer_id=customer_id,
                    step="first_meeting",
                    status="scheduled",
                    date=AS_OF + dt.timedelta(days=n % 7),
                )
            )


@pytest.mark.parametrize("booked", [0, no_reply.CAP + 4])
def test_calls_this_week_are_capped_until_show_all(
    login_app: Callable[..., AppTest], demo_db_url: str, booked: int
) -> None:
    engine = db.make_engine(demo_db_url)
    try:
        book_calls(engine, booked)
        calls = worklist.build(db_support.reports(engine, AS_OF), AS_OF, None).calls
    finally:
        engine.dispose()
    assert len(calls) >= booked
    every = [f"today_open_{c.customer_id}_{c.step}" for c in calls]
    capped = len(every) > no_reply.CAP
    at = login_app("admin")  # everyone's calls
    assert not page_errors(at)
    assert f"Calls this week ({len(every)})" in [e.label for e in at.expander]  # the count

    def rows() -> list[str]:
        return [b.key or "" for b in at.button if (b.key or "").startswith("today_open_")]

    assert rows() == (every[: no_reply.CAP] if capped else every)  # soonest first
    assert ("today_calls_all" in [t.key for t in at.toggle]) == capped
    if capped:
        at.toggle(key="today_calls_all").set_value(True).run()
        assert not page_errors(at)
        assert rows() == every
