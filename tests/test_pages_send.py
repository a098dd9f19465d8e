"""Sending from the pages, started from app.py after sign-in (AppTest), to a real SMTP
server (aiosmtpd over a socket): the customer page's outreach, the homework email and a
meeting's invite; not configured (copy and download, and how to configure), a bad
address, a login without an email, the role that cannot send, and two sessions sending
the same email (one message)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from lib import contacts, homework
from lib.accounts import auth
from lib.program import step_store
from lib.store import db, models
from tests.apptest_support import AS_OF, PASSWORD, page_errors
from tests.mail_servers import SmtpServer
from tests.markdown_text import shown

CUSTOMER = "ollivander-games-00033"  # priya's, week 4, initial outreach overdue
CUSTOMER_PAGE = "app_pages/customer.py"
KEY = f"send_initial_outreach_{CUSTOMER}"
ANN = "Ann Lee <ann@ollivander.example.com>"  # typed by hand
TEAM_EMAIL = "dana@team.example.com"


@pytest.fixture
def app_engine(demo_db_url: str) -> Iterator[Engine]:
    engine = db.make_engine(demo_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def emails(app_env: Path) -> None:
    """priya and dana have real addresses (a login's default one is a placeholder)."""
    auth.add_user(app_env, "priya", "team", PASSWORD, name="Priya Patel", email="priya@team.example.com")  # fmt: skip
    auth.add_user(app_env, "dana", "team", PASSWORD, name="Dana Team", email=TEAM_EMAIL)


@pytest.fixture
def configured(smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch, emails: None) -> SmtpServer:
    for name, value in smtp.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ONBOARDING_MAIL_REPLY_TO", "Onboarding <onboarding@team.example.com>")
    return smtp


def add_contacts(engine: Engine, customer_id: str) -> list[str]:
    """A team member someone entered as a customer's contact; returns the customer's
    contacts from the demo data as `Name <email>`, the primary first (not the team's)."""
    with db.write_session(engine, "priya") as session:
        people = contacts.recipients(contacts.for_customer(session, customer_id))
        session.add(models.Contact(customer_id=customer_id, name="Dana (ours)", email=TEAM_EMAIL))
    assert people, "the demo data gave this customer no contacts"
    return people


def outreach_tab(login_app: Callable[..., AppTest], user: str = "priya") -> AppTest:
    at = login_app(user, page=CUSTOMER_PAGE, query={"id": CUSTOMER, "tab": "Outreach"})
    assert not page_errors(at)
    return at


def sent_rows(engine: Engine) -> list[models.EmailMessage]:
    """The emails sent from the console (the demo data holds the customers' answers)."""
    with db.read_session(engine) as session:
        return list(
            session.scalars(
                select(models.EmailMessage)
                .where(models.EmailMessage.direction == "out")
                .order_by(models.EmailMessage.id)
            )
        )


def step(engine: Engine, customer_id: str, name: str) -> step_store.Entry | None:
    with db.read_session(engine) as session:
        return step_store.recorded(session, customer_id).get(name)


def contacts_emails(lines: list[str]) -> list[str]:
    return [line.rsplit("<", 1)[1].rstrip(">") for line in lines]


def test_not_configured_keeps_copy_and_download_and_says_how(
    login_app: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONBOARDING_SMTP_HOST", raising=False)
    at = outreach_tab(login_app)
    assert len(at.get("download_button")) == 2
    (info,) = [i.value for i in at.info]
    assert "not configured" in info and "`ONBOARDING_SMTP_HOST`" in info and "[smtp]" in info
    assert not [b for b in at.button if (b.key or "").startswith("send_")]


def test_send_the_initial_outreach_from_the_customer_page(
    login_app: Callable[..., AppTest], app_engine: Engine, configured: SmtpServer
) -> None:
    people = add_contacts(app_engine, CUSTOMER)
    at = outreach_tab(login_app)
    to = at.text_area(key=f"{KEY}_to").value
    assert to.splitlines() == people  # the contacts, the primary first
    assert TEAM_EMAIL not in to  # never the team's own logins
    body = at.text_area(key=f"{KEY}_body").value
    assert body.startswith("Hi ") and "\\$" in body  # the Markdown draft
    at.text_area(key=f"{KEY}_to").input(ANN)
    at.text_input(key=f"{KEY}_subject").input("Your PostHog setup, reviewed")
    greeting = body.split("\n", 1)[0]
    at.text_area(key=f"{KEY}_body").input(body.replace(greeting, "Hi Ann,", 1))
    at.button(key=f"{KEY}_send").click().run()
    assert not page_errors(at)
    assert "Sent the initial outreach to Ann Lee" in at.success[0].value
    assert "Initial outreach is done on 16 Mar" in at.success[0].value

    (received,) = configured.received
    assert received.rcpt_tos == ["ann@ollivander.example.com"]
    got = received.message
    assert got["Subject"] == "Your PostHog setup, reviewed"
    assert got["From"] == "Priya Patel <priya@team.example.com>"
    assert got["Reply-To"] == "Onboarding <onboarding@team.example.com>"
    text = got.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Hi Ann,") and "\\$" not in text  # the edited text, `$` as `$`
    (row,) = sent_rows(app_engine)
    assert row.raw is not None and received.raw == row.raw.encode()
    assert (row.kind, row.status, row.by, row.on) == ("initial_outreach", "sent", "priya", AS_OF)
    done = step(app_engine, CUSTOMER, "initial_outreach")
    assert done is not None and (done.status, done.date) == ("done", AS_OF)
    # The page shows it sent, and Send is not offered again.
    assert any("Sent on Mon 16 Mar 2026" in s.value for s in at.success)
    assert not at.warning
    assert not [b for b in at.button if b.key == f"{KEY}_send"]


def test_a_bad_address_is_refused_and_nothing_recorded(
    login_app: Callable[..., AppTest], app_engine: Engine, configured: SmtpServer
) -> None:
    at = outreach_tab(login_app)
    at.text_area(key=f"{KEY}_to").input("Ann <ann@ollivander>")
    at.button(key=f"{KEY}_send").click().run()
    assert [e.value for e in at.exception] == []
    (error,) = [shown(e.value) for e in at.error]
    assert "is not a valid email address" in error and "ann@ollivander" in error
    assert configured.received == [] and sent_rows(app_engine) == []
    assert step(app_engine, CUSTOMER, "initial_outreach") is None
    assert at.button(key=f"{KEY}_send")  # still offered, the typing kept
    assert at.text_area(key=f"{KEY}_to").value == "Ann <ann@ollivander>"


def test_a_refusing_server_is_reported_and_nothing_recorded(
    login_app: Callable[..., AppTest], app_engine: Engine, configured: SmtpServer
) -> None:
    configured.behave("refuse")
    at = outreach_tab(login_app)
    at.text_area(key=f"{KEY}_to").input(ANN)
    at.button(key=f"{KEY}_send").click().run()
    (error,) = [e.value for e in at.error]
    assert "refused the recipients" in error and "550" in error
    assert sent_rows(app_engine) == [] and step(app_engine, CUSTOMER, "initial_outreach") is None


def test_a_login_without_an_email_is_told_what_to_do(
    login_app: Callable[..., AppTest], app_engine: Engine, smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    for name, value in smtp.environment().items():
        monkeypatch.setenv(name, value)
    at = login_app("admin", page=CUSTOMER_PAGE, query={"id": CUSTOMER, "tab": "Outreach"})
    at.text_area(key=f"{KEY}_to").input(ANN)
    at.button(key=f"{KEY}_send").click().run()
    (error,) = [e.value for e in at.error]
    assert "no email address to send from" in error
    assert smtp.received == [] and sent_rows(app_engine) == []


def test_leadership_cannot_send(login_app: Callable[..., AppTest], configured: SmtpServer) -> None:
    at = outreach_tab(login_app, "lead")
    assert at.button(key=f"{KEY}_send").disabled


def test_two_sessions_sending_the_same_email_send_one_message(
    login_app: Callable[..., AppTest], app_engine: Engine, configured: SmtpServer
) -> None:
    add_contacts(app_engine, CUSTOMER)
    priya, dana = outreach_tab(login_app, "priya"), outreach_tab(login_app, "dana")
    priya.button(key=f"{KEY}_send").click().run()
    assert not page_errors(priya)
    dana.button(key=f"{KEY}_send").click().run()  # her page still offered Send
    assert not page_errors(dana)
    (warning,) = [w.value for w in dana.warning]
    assert "Already sent" in warning and "priya sent this email" in warning
    assert any("by **priya**" in s.value for s in dana.success)
    assert len(configured.received) == 1 and len(sent_rows(app_engine)) == 1
    assert not [b for b in dana.button if b.key == f"{KEY}_send"]


def test_send_the_homework_email(
    login_app: Callable[..., AppTest], app_engine: Engine, configured: SmtpServer
) -> None:
    people = add_contacts(app_engine, CUSTOMER)
    with db.write_session(app_engine, "priya") as session:
        homework.add(session, CUSTOMER, homework.CUSTOM_TASK, "Set a billing limit", "Today.")
    at = login_app("priya", page="app_pages/homework.py", query={"customer": CUSTOMER})
    assert not page_errors(at)
    key = f"send_homework_{CUSTOMER}"
    assert at.text_area(key=f"{key}_to").value.splitlines() == people
    assert "Set a billing limit" in at.text_area(key=f"{key}_body").value
    at.button(key=f"{key}_send").click().run()
    assert not page_errors(at)
    (received,) = configured.received
    assert received.rcpt_tos == contacts_emails(people)
    assert "Set a billing limit" in received.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with db.read_session(app_engine) as session:
        tasks = homework.assignments(session, CUSTOMER)
    assert {(t.status, t.sent_on) for t in tasks if t.title == "Set a billing limit"} == {
        ("sent", AS_OF)
    }
    assert all(t.status != "draft" for t in tasks)
    done = step(app_engine, CUSTOMER, "homework")
    assert done is not None and (done.status, done.date) == ("done", AS_OF)


def test_schedule_with_the_contacts_and_send_the_invite(
    login_app: Callable[..., AppTest], app_engine: Engine, configured: SmtpServer
) -> None:
    people = add_contacts(app_engine, CUSTOMER)
    at = login_app("priya", page="app_pages/meetings.py", query={"customer": CUSTOMER})
    at.selectbox(key="mtg_new_customer").set_value(CUSTOMER).run()
    # The customer's contacts are offered; the team never is.
    assert at.multiselect(key="mtg_new_contacts").options == people
    invited = at.multiselect(key="mtg_new_contacts").value
    assert invited and set(invited) <= set(people)
    assert TEAM_EMAIL not in " ".join(at.multiselect(key="mtg_new_contacts").options)
    assert TEAM_EMAIL not in at.text_area(key="mtg_new_people").value
    at.date_input(key="mtg_new_date").set_value(AS_OF + dt.timedelta(days=2))
    at.time_input(key="mtg_new_time").set_value(dt.time(15, 0))
    at.button(key="mtg_new_submit").click().run()
    assert not page_errors(at)
    with db.read_session(app_engine) as session:
        meeting = session.scalars(
            select(models.Meeting).where(models.Meeting.customer_id == CUSTOMER)
        ).one()
    on_the_call = [a["email"] for a in meeting.attendees if a["side"] == "customer"]
    assert on_the_call == contacts_emails(invited)
    key = next(
        t.key
        for t in at.text_area
        if (t.key or "").startswith(f"send_meeting_invite_{meeting.id}_")
    )[: -len("_to")]
    assert at.text_area(key=f"{key}_to").value.splitlines() == invited
    at.button(key=f"{key}_send").click().run()
    assert not page_errors(at)
    (received,) = configured.received
    (attached,) = list(received.message.iter_attachments())
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_param("method") == "REQUEST"
    (row,) = sent_rows(app_engine)
    assert (row.kind, row.meeting_id) == ("meeting_invite", meeting.id)
