"""The customer page, from app.py after sign-in: header, audit, step log writes, roles."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from lib import contacts, homework
from lib.audit import finding_store, health_store
from lib.store import db, models
from tests import db_support
from tests.apptest_support import AS_OF, page_errors
from tests.markdown_text import shown

CUSTOMER = "ollivander-games-00033"  # priya's, week 4, initial outreach overdue, 5 findings
PAGE = "app_pages/customer.py"


@pytest.fixture
def app_engine(demo_db_url: str) -> Iterator[Engine]:
    """The demo database the app uses (SQLite), for checking what the page wrote."""
    engine = db.make_engine(demo_db_url)
    yield engine
    engine.dispose()


def open_customer(
    login_app: Callable[..., AppTest], user: str = "priya", tab: str | None = None
) -> AppTest:
    """The customer's page as a shared link opens it: /customer?id=...&tab=..."""
    return login_app(user, page=PAGE, query={"id": CUSTOMER, **({"tab": tab} if tab else {})})


def show_tab(at: AppTest, tab: str) -> AppTest:
    at.query_params["tab"] = tab
    return at.run()


def test_header_is_the_customers_360(login_app: Callable[..., AppTest], app_engine: Engine) -> None:
    """Stage, health, owner, people (the primary first), goals and the next action."""
    with db.write_session(app_engine, "priya") as session:
        session.add(models.Goal(customer_id=CUSTOMER, name="Weekly active teams", target="40"))
        people = contacts.for_customer(session, CUSTOMER)
        primary = contacts.ordered(people)[0].name if people else None
    at = open_customer(login_app)
    assert not page_errors(at)
    (rep,) = db_support.reports(app_engine, AS_OF, CUSTOMER)
    text = "\n".join(shown(m.value) for m in at.markdown)
    health = db_support.read(app_engine, health_store.for_customer, CUSTOMER, AS_OF)
    assert "owner **Priya**" in text  # the login file's display name
    assert f":blue-badge[:material/flag: {rep.stage.label}]" in text
    assert f"Health {health.score:.1f}/10" in text
    assert f"Week {rep.timeline.program_week} (" in text
    assert "Next: **" in text or "Nothing due" in text
    assert "Goals and KPIs: Weekly active teams → 40" in text
    assert "People: " + (f"**{primary}**" if primary else "no contacts yet") in text


def test_header_and_sections(login_app: Callable[..., AppTest], app_engine: Engine) -> None:
    at = open_customer(login_app)
    assert not page_errors(at)
    (rep,) = db_support.reports(app_engine, AS_OF, CUSTOMER)
    assert [t.value for t in at.title] == [rep.customer.name]
    # The name and program week stay visible in the sidebar whatever the tab.
    assert any(
        rep.customer.name in m.value and f"Week {rep.timeline.program_week}" in m.value
        for m in at.sidebar.markdown
    )
    assert [s.value for s in at.subheader] == [f"Findings ({len(rep.findings)} open)", "Health"]
    assert {m.label for m in at.metric} >= {
        "Program week",
        "MRR",
        "Projected bill",
        "Savings found",
        "Health score",
    }
    assert not at.code  # only the open tab runs
    show_tab(at, "Outreach")
    assert not page_errors(at)
    assert at.code[0].value.startswith(rep.customer.name)  # the draft's subject
    assert len(at.get("download_button")) == 2
    assert any(rep.customer.name in m.value for m in at.sidebar.markdown)  # still visible


def test_record_a_step_from_the_step_log(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    at = open_customer(login_app, tab="Step log")
    at.selectbox(key="customer_step").set_value("first_meeting")
    at.button_group(key="customer_status").set_value("scheduled")
    at.date_input(key="customer_on").set_value(AS_OF + dt.timedelta(days=2))
    at.text_area(key="customer_note").input("agenda: flags bootstrap")
    at.button(key="FormSubmitter:customer_record-Save").click()
    at.run()
    assert not page_errors(at)
    assert "First call recorded as scheduled" in at.success[0].value
    (rep,) = db_support.reports(app_engine, AS_OF, CUSTOMER)
    first = rep.timeline.steps["first_meeting"]
    assert (first.status, first.date) == ("scheduled", AS_OF + dt.timedelta(days=2))
    with db.read_session(app_engine) as session:
        row = session.scalars(
            select(models.Step).where(
                models.Step.customer_id == CUSTOMER, models.Step.step == "first_meeting"
            )
        ).one()
        logged = session.scalars(
            select(models.AuditLog).where(
                models.AuditLog.customer_id == CUSTOMER, models.AuditLog.user == "priya"
            )
        ).all()
    assert (row.note, row.recorded_by) == ("agenda: flags bootstrap", "priya")
    assert [e.entity for e in logged] == ["steps"]
    # The History tab says it in a sentence, with the user's display name, newest first.
    history = [shown(m.value) for m in show_tab(at, "History").markdown]
    assert any(re.fullmatch(r"\*\*\w{3} \d{2} \w{3} \d{4}\*\*", h) for h in history)  # a day
    assert any(
        "Priya recorded the first call as scheduled on 18 Mar (note: “agenda: flags bootstrap”)"
        in h
        for h in history
    ), history
    assert not any("steps" in h or "first_meeting" in h for h in history)


@pytest.mark.parametrize(
    "reason,written,message",
    [
        ("", False, "reason"),  # an extension needs a reason: shown inline, nothing written
        ("wants a third call", True, "Program extended"),
    ],
)
def test_extend_the_window(
    login_app: Callable[..., AppTest], app_engine: Engine, reason: str, written: bool, message: str
) -> None:
    at = open_customer(login_app, tab="Step log")
    until = at.date_input(key="customer_until").value
    at.text_input(key="customer_reason").input(reason)
    at.button(key="FormSubmitter:customer_extend-Extend").click()
    at.run()
    assert not at.exception
    shown = [e.value for e in at.error] + [s.value for s in at.success]
    assert any(message in m for m in shown)
    with db.read_session(app_engine) as session:
        customer = session.get(models.Customer, CUSTOMER)
        assert customer is not None
        assert customer.extended_until == (until if written else None)


def test_mark_a_finding_fixed_and_reopen(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    at = open_customer(login_app)
    (rep,) = db_support.reports(app_engine, AS_OF, CUSTOMER)
    rule = max(rep.findings, key=lambda f: f.est_monthly_saving_usd).rule
    at.button(key=f"finding_{CUSTOMER}_{rule}_fixed").click()
    at.run()
    assert not page_errors(at)
    with db.read_session(app_engine) as session:
        state = finding_store.states(session, CUSTOMER)[rule]
    assert (state.state, state.fixed_on, state.updated_by) == ("fixed", AS_OF, "priya")
    (after,) = db_support.reports(app_engine, AS_OF, CUSTOMER)
    assert rule not in {f.rule for f in after.findings}
    assert at.subheader[0].value == f"Findings ({len(rep.findings) - 1} open)"
    at.button(key=f"finding_{CUSTOMER}_{rule}_reopen").click()
    at.run()
    with db.read_session(app_engine) as session:
        assert finding_store.states(session, CUSTOMER)[rule].state == "open"


def test_dismiss_needs_a_reason(login_app: Callable[..., AppTest], app_engine: Engine) -> None:
    at = open_customer(login_app)
    found = db_support.read(app_engine, finding_store.for_customer, CUSTOMER, AS_OF)
    rule = found[0].rule
    at.button(key=f"finding_{CUSTOMER}_{rule}_dismiss").click()
    at.run()
    assert "needs a reason" in at.error[0].value
    at.text_input(key=f"finding_{CUSTOMER}_{rule}_reason").input("customer wants it")
    at.button(key=f"finding_{CUSTOMER}_{rule}_dismiss").click()
    at.run()
    with db.read_session(app_engine) as session:
        state = finding_store.states(session, CUSTOMER)[rule]
    assert (state.state, state.reason) == ("dismissed", "customer wants it")


def test_relationship_rating(login_app: Callable[..., AppTest], app_engine: Engine) -> None:
    at = open_customer(login_app)
    at.button_group(key=f"customer_rating_{CUSTOMER}").set_value(4)
    at.run()
    at.button(key="customer_rating_save").click()
    at.run()
    with db.read_session(app_engine) as session:
        customer = session.get(models.Customer, CUSTOMER)
        assert customer is not None and customer.relationship_rating == 4


@pytest.mark.parametrize("tab", ["Audit", "Step log", "Outreach"])
def test_leadership_reads_only(login_app: Callable[..., AppTest], tab: str) -> None:
    at = open_customer(login_app, "lead", tab)
    assert not page_errors(at)
    assert [t.value for t in at.title] == ["Ollivander Games"]
    writes = [b.key for b in at.button if b.key != "sidebar_logout"]
    assert writes == []  # no step log forms, no finding buttons, no rating
    assert not at.get("button_group") or tab == "Outreach"  # the draft picker only


@pytest.mark.parametrize(
    "query,warning",
    [
        ({"id": "no-such-customer"}, "No customer with id 'no-such-customer'"),  # bad link
        ({}, None),  # no id at all: a picker
    ],
)
def test_missing_customer_offers_a_picker(
    login_app: Callable[..., AppTest], query: dict[str, str], warning: str | None
) -> None:
    at = login_app("priya", page=PAGE, query=query)
    assert not at.exception
    assert [shown(w.value) for w in at.warning] == (
        [warning + ". Pick one below."] if warning else []
    )
    assert at.selectbox(key="customer_pick")


def test_customer_page_on_both_databases(
    login_app: Callable[..., AppTest], demo_db_url_any: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONBOARDING_DATABASE_URL", demo_db_url_any)
    at = open_customer(login_app)
    assert not page_errors(at)
    assert [t.value for t in at.title] == ["Ollivander Games"]
    for tab in ("Timeline", "Usage", "Outreach", "Refunds", "Step log", "History"):
        show_tab(at, tab)
        assert not page_errors(at), tab
    show_tab(at, "Usage")
    assert len(at.get("arrow_vega_lite_chart")) + len(at.get("vega_lite_chart")) >= 2


def test_homework_tab_builds_and_sends_without_the_homework_page(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    """The owner builds the homework, rewords a task with its panel open, previews the email
    rendered beside its Markdown, and marks it sent, all on the customer's page."""
    at = open_customer(login_app, tab="Homework")
    assert not page_errors(at)
    add = next(b.key or "" for b in at.button if (b.key or "").startswith("hw_add_"))
    at.button(key=add).click().run()
    assert not page_errors(at)
    (item,) = db_support.read(app_engine, homework.assignments, CUSTOMER)
    # The wording panel, opened, stays open across a save (a notice above moves the page).
    at.session_state[f"hw_open_{item.id}"] = True
    at.text_input(key=f"hw_title_{item.id}").input("Turn it off this week")
    at.button(key=f"hw_save_{item.id}").click().run()
    assert not page_errors(at)
    assert "Wording saved." in at.success[0].value
    (panel,) = [e for e in at.expander if e.label == "Edit the wording"]
    assert panel.proto.expanded  # drawn open again after the rerun the save made
    # The email: its Markdown source, and beside it the same email rendered.
    source = at.code[0].value
    assert "Turn it off this week" in source
    rendered = [m.value for m in at.markdown if "Turn it off this week" in m.value]
    assert any(not r.startswith("**") for r in rendered), "no rendered preview"
    at.date_input(key="hw_sent_on").set_value(AS_OF)
    at.button(key="hw_mark_sent").click().run()
    assert not page_errors(at)
    assert "Homework sent" in at.success[0].value
    (rep,) = db_support.reports(app_engine, AS_OF, CUSTOMER)
    homework_step = rep.timeline.steps["homework"]
    assert (homework_step.status, homework_step.date) == ("done", AS_OF)
    assert [i.status for i in db_support.read(app_engine, homework.assignments, CUSTOMER)] == [
        "sent"
    ]


# ------------------------------------------------------------------ the next step, one click

CALL_CUSTOMER = "hanso-bank-00036"  # priya's overdue first call, nothing booked


def step_status(engine: Engine, customer_id: str, step: str) -> str | None:
    (rep,) = db_support.reports(engine, AS_OF, customer_id)
    return rep.timeline.steps[step].status


def test_an_email_step_is_marked_sent_in_one_click_and_undone(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    at = open_customer(login_app)
    before = step_status(app_engine, CUSTOMER, "initial_outreach")
    assert before != "done"
    at.button(key="customer_done_initial_outreach").click().run()
    assert not page_errors(at)
    assert step_status(app_engine, CUSTOMER, "initial_outreach") == "done"
    assert any("Outreach sent recorded" in s.value for s in at.success)
    at.button(key="customer_undo").click().run()
    assert step_status(app_engine, CUSTOMER, "initial_outreach") == before
    assert not [b for b in at.button if b.key == "customer_undo"]


@pytest.mark.parametrize(
    "customer,button,label,dialog",
    [
        (CUSTOMER, "customer_next_initial_outreach", "Send the email", "Initial outreach"),
        (CALL_CUSTOMER, "customer_next_first_meeting", "Book the call", "Book the first call"),
    ],
)
def test_the_next_step_opens_todays_dialog_on_the_customer_page(
    login_app: Callable[..., AppTest], customer: str, button: str, label: str, dialog: str
) -> None:
    at = login_app("priya", page=PAGE, query={"id": customer})
    assert at.button(key=button).label == label
    at.button(key=button).click().run()
    assert not page_errors(at)
    assert dialog in " ".join(str(m.value) for m in at.markdown)
    assert any("extend" in (b.key or "") for b in at.button)  # more time, as on Today


def test_a_read_only_role_gets_no_next_step_buttons(login_app: Callable[..., AppTest]) -> None:
    at = login_app("lead", page=PAGE, query={"id": CUSTOMER})
    assert [t.value for t in at.title] == ["Ollivander Games"]  # the page, read-only
    assert not [
        b for b in at.button if (b.key or "").startswith(("customer_done_", "customer_next_"))
    ]
