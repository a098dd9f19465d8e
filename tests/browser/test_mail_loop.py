"""The loop with the customer, closed in a real browser: add a contact, send the initial
outreach to it (it reaches the test SMTP server as the page showed it and is kept byte for
byte, the step is done, Send is not offered again), the customer's answer delivered to the test IMAP server
(Dovecot) appears on the Emails tab after "Check mailbox now" and moves the stage to
engaged; and an owner's customer with no reply after the setting's days shows "skip to
final outreach" on Today."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from playwright.sync_api import Page, expect
from sqlalchemy import select

from lib import mail
from lib.program import report_store, worklist
from lib.program import settings as program_settings
from lib.store import db, models
from tests.browser.conftest import AS_OF, TEAM, AppServer, shot
from tests.browser.helpers import login, notice, scalar, visit, wait_idle
from tests.mail_servers import ImapServer, SmtpServer


def waiting_for_outreach(app_server: AppServer) -> str:
    """A demo customer whose next action is the initial outreach, nothing sent yet."""
    engine = db.make_engine(app_server.database_url)
    try:
        with db.read_session(engine) as session:
            sent = set(session.scalars(select(models.EmailMessage.send_key)))
            for rep in sorted(report_store.build(session, AS_OF), key=lambda r: r.customer_id):
                action = rep.timeline.next_action
                if (
                    not rep.customer_id.startswith("zz-")
                    and action is not None
                    and action.step == "initial_outreach"
                    and rep.timeline.program_week < 7
                    and mail.program_key("initial_outreach", rep.customer_id) not in sent
                ):
                    return rep.customer_id
    finally:
        engine.dispose()
    raise AssertionError("the demo data has no customer waiting for the initial outreach")


def no_reply_for_dana(app_server: AppServer) -> str:
    """A customer Today should offer to skip to the final outreach (by lib's rule), handed
    to dana if another owner has it (the 40-customer demo gives dana none of her own)."""
    days = program_settings.load().no_reply_days
    engine = db.make_engine(app_server.database_url)
    try:
        with db.read_session(engine) as session:
            found = next(
                rep
                for rep in report_store.build(session, AS_OF)
                if not rep.customer_id.startswith("zz-")
                and worklist.no_reply_of(rep, AS_OF, days) is not None
            )
        with db.write_session(engine, "admin") as session:
            customer = session.get(models.Customer, found.customer_id)
            assert customer is not None
            customer.owner = TEAM
        return found.customer.name
    finally:
        engine.dispose()


def test_contact_send_reply_engaged_and_no_reply_on_today(
    page: Page, app_server: AppServer, smtp: SmtpServer, imap: ImapServer
) -> None:
    customer_id = waiting_for_outreach(app_server)
    address = f"grace.hopper@{customer_id}.example"
    login(page, TEAM)

    # A contact, added on the Contacts tab, made primary.
    visit(page, f"/customer?id={customer_id}&tab=Contacts")
    page.get_by_role("textbox", name="Name", exact=True).last.fill("Grace Hopper")
    page.get_by_role("textbox", name="Email", exact=True).last.fill(address)
    if not page.get_by_role("checkbox", name="Primary contact").last.is_checked():
        page.get_by_test_id("stCheckbox").filter(has_text="Primary contact").last.click()
    expect(page.get_by_role("checkbox", name="Primary contact").last).to_be_checked()
    page.get_by_role("button", name="Add contact").click()
    notice(page, "Grace Hopper added")
    wait_idle(page)

    # The initial outreach greets her and goes to her.
    visit(page, f"/customer?id={customer_id}&tab=Outreach")
    to = page.get_by_role("textbox", name="To (one per line: Name <email>)")
    expect(to).to_have_value(re.compile(rf"^Grace Hopper <{re.escape(address)}>"))
    to.fill(f"Grace Hopper <{address}>")
    to.press("Tab")
    body = page.get_by_role("textbox", name=re.compile(r"^Message \(Markdown"))
    text = body.input_value()
    assert text.startswith("Hi Grace,"), text[:40]
    wait_idle(page)
    page.get_by_role("button", name="Send", exact=True).click()
    notice(page, "Sent the initial outreach to")
    wait_idle(page)
    (received,) = [r for r in smtp.received if address in r.rcpt_tos]
    plain = received.message.get_body(("plain",))
    assert plain is not None
    assert plain.get_content().replace("\r\n", "\n") == mail.plain_text(text)  # as shown
    assert received.message["From"] == "Dana Team <onboarding@team.example.com>"
    stored = scalar(
        app_server,
        select(models.EmailMessage.raw).where(
            models.EmailMessage.send_key == mail.program_key("initial_outreach", customer_id)
        ),
    )
    assert stored is not None and stored.encode() == received.raw  # kept exactly as sent
    status = scalar(
        app_server,
        select(models.Step.status).where(
            models.Step.customer_id == customer_id, models.Step.step == "initial_outreach"
        ),
    )
    assert status == "done"
    # The page: the step is done (no longer the next action), the email shown as sent,
    # and Send is not offered again.
    expect(page.get_by_text("Next: Initial outreach")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"Sent on .* by dana"))).to_be_visible()
    expect(page.get_by_role("button", name="Send", exact=True)).to_have_count(0)
    shot(page, f"{app_server.database}-outreach-sent")

    # Grace answers; her mail server delivers it to the team's mailbox.
    answer = EmailMessage()
    answer["From"] = f"Grace Hopper <{address}>"
    answer["To"] = received.message["From"]
    answer["Subject"] = f"Re: {received.message['Subject']}"
    answer["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    answer["Message-ID"] = make_msgid(domain=f"{customer_id}.example")
    answer["In-Reply-To"] = received.message["Message-ID"]
    answer["References"] = received.message["Message-ID"]
    answer.set_content("Thanks! Tuesday at 10 works for a call.\n\nGrace")
    imap.deliver(answer)

    visit(page, f"/customer?id={customer_id}&tab=Emails")
    expect(page.get_by_text("Stage: Onboarding initiated")).to_be_visible()  # sent, no answer
    page.get_by_role("button", name="Check mailbox now").click()
    notice(page, "1 new reply recorded (1 from this customer)")
    wait_idle(page)
    visit(page, f"/customer?id={customer_id}&tab=Emails")
    expect(page.get_by_text("Tuesday at 10 works for a call").first).to_be_visible()
    expect(page.get_by_text("Stage: Engaged (replied or call booked)")).to_be_visible()
    shot(page, f"{app_server.database}-reply-engaged")
    visit(page, f"/customer?id={customer_id}&tab=Timeline")
    expect(page.get_by_text("Emails row: triangles are emails sent")).to_be_visible()
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    wait_idle(page)
    shot(page, f"{app_server.database}-timeline-with-emails")
    kind = scalar(
        app_server,
        select(models.EmailMessage.kind).where(
            models.EmailMessage.customer_id == customer_id, models.EmailMessage.direction == "in"
        ),
    )
    assert kind == "reply"

    # Today: the customers with no reply after the setting's days, to skip ahead.
    waiting = no_reply_for_dana(app_server)
    visit(page, "/")
    section = page.get_by_text(re.compile(r"No reply: skip to final outreach \(\d+\)"))
    expect(section).to_be_visible()
    # In the page itself (the sidebar's notices may name the customer too, folded away).
    expect(page.get_by_test_id("stMain").get_by_text(waiting).first).to_be_visible()
