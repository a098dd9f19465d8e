"""The customer page's Emails tab through app.py: the conversation (text, never HTML),
"Customer replied" by hand, the stage set by hand with a reason and cleared, and "Check
mailbox now" against a real IMAP server (Dovecot)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pyarrow as pa
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from lib.store import db, models
from tests import db_support
from tests.apptest_support import AS_OF, page_errors
from tests.mail_servers import ImapServer, free_port
from tests.markdown_text import shown

CUSTOMER = "cyberdyne-security-00011"  # dana's; outreach sent, no reply yet, in the demo
PAGE = "app_pages/customer.py"
REPLY_BUTTON = "FormSubmitter:mail_manual_reply-Customer replied"
STAGE_BUTTON = "FormSubmitter:mail_stage-Set the stage"


@pytest.fixture
def emails_tab(
    login_app: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AppTest]:
    for name in ("HOST", "PORT", "SECURITY", "USER", "PASSWORD", "FOLDER", "TIMEOUT"):
        monkeypatch.delenv(f"ONBOARDING_IMAP_{name}", raising=False)

    def open_tab(username: str = "dana") -> AppTest:
        return login_app(username, page=PAGE, query={"id": CUSTOMER, "tab": "Emails"})

    return open_tab


def stored(url: str) -> list[models.EmailMessage]:
    engine = db.make_engine(url)
    try:
        with db.read_session(engine) as session:
            return list(
                session.scalars(
                    select(models.EmailMessage).where(
                        models.EmailMessage.customer_id == CUSTOMER,
                        models.EmailMessage.direction == "in",
                    )
                )
            )
    finally:
        engine.dispose()


def report(url: str) -> dict[str, object]:
    engine = db.make_engine(url)
    try:
        return db_support.reports(engine, AS_OF, CUSTOMER)[0].as_json()
    finally:
        engine.dispose()


def texts(at: AppTest) -> str:
    return "\n".join(
        [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.text]
    )


def test_customer_replied_by_hand(emails_tab: Callable[..., AppTest], demo_db_url: str) -> None:
    assert report(demo_db_url)["stage"] == "onboarding_initiated"
    at = emails_tab()
    assert page_errors(at) == []
    assert "**Stage:** Onboarding initiated" in texts(at)
    assert "mail_check" not in {b.key for b in at.button}  # no mailbox configured
    on = AS_OF - dt.timedelta(days=1)
    at.date_input(key="mail_on").set_value(on)
    at.text_area(key="mail_note").input("Called back: <b>keen</b> to talk $100 **now**")
    at.button(key=REPLY_BUTTON).click()
    at.run()
    assert page_errors(at) == []
    (row,) = stored(demo_db_url)
    assert (row.kind, row.on, row.by) == ("manual_reply", on, "dana")
    body = report(demo_db_url)
    assert (body["stage"], body["last_customer_reply_on"]) == ("engaged", on.isoformat())
    # The page shows it at once: the stage moved, the reply heads the conversation, as text.
    shown = texts(at)
    assert "**Stage:** Engaged \\(replied or call booked\\)" in shown
    assert "Called back: <b>keen</b> to talk $100 **now**" in [t.value for t in at.text]
    # The same day twice is refused where it happened, and nothing is written.
    at.date_input(key="mail_on").set_value(on)
    at.button(key=REPLY_BUTTON).click()
    at.run()
    assert any("already recorded" in e.value for e in at.error)
    assert len(stored(demo_db_url)) == 1
    # Taken back.
    at.button(key=f"mail_remove_{row.id}").click()
    at.run()
    assert page_errors(at) == [] and stored(demo_db_url) == []


def test_stage_set_by_hand_with_a_reason_then_cleared(
    emails_tab: Callable[..., AppTest], demo_db_url: str
) -> None:
    at = emails_tab()
    at.selectbox(key="mail_stage_pick").set_value("handed_to_sales")
    at.button(key=STAGE_BUTTON).click()  # no reason: refused
    at.run()
    assert any("say why" in e.value for e in at.error)
    assert report(demo_db_url)["stage"] == "onboarding_initiated"
    at.selectbox(key="mail_stage_pick").set_value("handed_to_sales")
    at.text_input(key="mail_stage_reason").input("Enterprise deal: Sam in sales owns it")
    at.button(key=STAGE_BUTTON).click()
    at.run()
    assert page_errors(at) == []
    assert report(demo_db_url)["stage"] == "handed_to_sales"
    shown = texts(at)
    assert "**Stage:** Handed to sales" in shown
    assert "set by hand by dana: Enterprise deal: Sam in sales owns it" in shown.replace("\\", "")
    assert "The recorded facts alone say: Onboarding initiated" in shown
    at.button(key="mail_stage_clear").click()
    at.run()
    assert page_errors(at) == []
    assert report(demo_db_url)["stage"] == "onboarding_initiated"


def test_leadership_reads_without_buttons(
    emails_tab: Callable[..., AppTest], demo_db_url: str
) -> None:
    at = emails_tab("lead")
    assert page_errors(at) == []
    assert "**Stage:** Onboarding initiated" in texts(at)
    assert not {REPLY_BUTTON, STAGE_BUTTON, "mail_check"} & {b.key for b in at.button}


def test_check_mailbox_now(
    emails_tab: Callable[..., AppTest],
    demo_db_url: str,
    imap: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = db.make_engine(demo_db_url)
    with db.read_session(engine) as session:
        contact = session.scalars(
            select(models.Contact.email).where(models.Contact.customer_id == CUSTOMER)
        ).first()
    engine.dispose()
    assert contact is not None
    message = EmailMessage()
    message["From"] = f"Miles <{contact}>"
    message["To"] = imap.user
    message["Subject"] = "Re: your account review"
    message["Message-ID"] = make_msgid(domain="cyberdyne.example")
    message["Date"] = format_datetime(dt.datetime(2026, 3, 15, 17, 30, tzinfo=dt.UTC))
    message.set_content("<script>alert('x')</script> Thursday works for us.")
    imap.deliver(message)
    for name, value in imap.environment().items():
        monkeypatch.setenv(name, value)
    at = emails_tab()
    assert page_errors(at) == []
    at.button(key="mail_check").click()
    at.run()
    assert page_errors(at) == []
    assert any("1 new reply recorded (1 from this customer)" in s.value for s in at.success)
    (row,) = stored(demo_db_url)
    assert (row.kind, row.from_addr) == ("reply", f"Miles <{contact}>")
    assert report(demo_db_url)["stage"] == "engaged"
    assert "<script>alert('x')</script> Thursday works for us." in [t.value for t in at.text]
    # Again: nothing new.
    at.button(key="mail_check").click()
    at.run()
    assert any("0 new replies recorded" in s.value for s in at.success)
    assert len(stored(demo_db_url)) == 1


def test_an_unreachable_mailbox_on_the_page(
    emails_tab: Callable[..., AppTest], demo_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONBOARDING_IMAP_HOST", "127.0.0.1")
    monkeypatch.setenv("ONBOARDING_IMAP_PORT", str(free_port()))
    monkeypatch.setenv("ONBOARDING_IMAP_SECURITY", "none")
    monkeypatch.setenv("ONBOARDING_IMAP_USER", "team@example.com")
    monkeypatch.setenv("ONBOARDING_IMAP_PASSWORD", "pw-never-shown")
    at = emails_tab()
    at.button(key="mail_check").click()
    at.run()
    (error,) = [shown(e.value) for e in at.error]
    assert "Cannot reach the mailbox at 127.0.0.1" in error and "nothing was recorded" in error
    assert not at.exception and stored(demo_db_url) == []


def test_the_timeline_shows_the_emails_and_the_answers(
    emails_tab: Callable[..., AppTest], demo_db_url: str
) -> None:
    """The Timeline tab carries an Emails row: the outreach sent and the customer's answer,
    with who and the first lines in the tooltip data."""
    at = emails_tab()
    at.date_input(key="mail_on").set_value(AS_OF)
    at.text_area(key="mail_note").input("Happy to book a call next week")
    at.button(key=REPLY_BUTTON).click()
    at.run()
    at.query_params["tab"] = "Timeline"
    at.run()
    assert page_errors(at) == []
    assert "Happy to book a call next week" in chart_text(at)
    # Without an email on record the row is not drawn.
    engine = db.make_engine(demo_db_url)
    with db.write_session(engine, "dana") as session:
        session.query(models.EmailMessage).filter_by(customer_id=CUSTOMER).delete()
    engine.dispose()
    at.run()
    assert "Happy to book" not in chart_text(at)
    assert '"Emails"' not in chart_text(at)  # no row without an email


def chart_text(at: AppTest) -> str:
    """The Timeline chart's spec and every value of its datasets, as text."""
    (chart,) = at.get("vega_lite_chart")
    frames = [pa.ipc.open_stream(d.data.data).read_all() for d in chart.proto.datasets]
    return chart.proto.spec + "".join(str(frame.to_pylist()) for frame in frames)
