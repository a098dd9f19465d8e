"""Sending the program's emails through a real SMTP server (aiosmtpd over a socket): the
message as composed and kept, the step recorded, every failure a clear UserError with
nothing recorded, and one message however many times (or by however many people) the
same email is sent. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lib import homework, mail, meetings
from lib.errors import UserError
from lib.mail import settings as mail_settings
from lib.meetings import Attendee, ScheduleRequest
from lib.program import step_store
from lib.settings import PROJECT_ROOT
from lib.store import db, models
from tests.mail_servers import SmtpServer, free_port

ENTERED = dt.date(2026, 3, 1)
ON = dt.date(2026, 3, 4)  # week 1: the initial outreach's window
SENDER = "Dana Team <dana@team.example.com>"
REPLY_TO = "Onboarding <onboarding@team.example.com>"
BODY = (
    "Hi **Ann**,\n\nYour bill is about \\$1,080 a month; with the fixes \\$640.\n\n"
    "<script>alert('x')</script> <b>not bold</b>\n\n| | Per month |\n|---|---:|\n"
    "| Now | \\$1,080.00 |\n"
)


@pytest.fixture
def customer(engine: Engine) -> str:
    with db.write_session(engine, "setup") as session:
        session.add(
            models.Customer(
                customer_id="acme", name="Acme", owner="dana", segment_entered_on=ENTERED
            )
        )
    return "acme"


def unit(engine: Engine, user: str = "dana") -> Callable[[], AbstractContextManager[Session]]:
    return lambda: db.write_session(engine, user)


def settings_for(smtp: SmtpServer, **changes: object) -> mail.SmtpSettings:
    found = mail.load(smtp.environment())
    assert found is not None
    return dataclasses.replace(found, **changes)  # type: ignore[arg-type]


def message(
    to: str = "Ann Lee <ann@acme.com>",
    body: str = BODY,
    subject: str = "Acme: your PostHog setup",
    attachments: tuple[mail.Attachment, ...] = (),
) -> EmailMessage:
    return mail.compose_message(
        sender=SENDER,
        to=mail.parse_recipients(to),
        subject=subject,
        body=body,
        reply_to=REPLY_TO,
        attachments=attachments,
        now=dt.datetime(2026, 3, 4, 9, 30, tzinfo=dt.UTC),
    )


def outgoing(kind: str = "initial_outreach", **kwargs: object) -> mail.Outgoing:
    return mail.Outgoing("acme", kind, mail.program_key(kind, "acme"), message(**kwargs), ON)  # type: ignore[arg-type]


def rows(engine: Engine) -> list[models.EmailMessage]:
    with db.read_session(engine) as session:
        return list(session.scalars(select(models.EmailMessage).order_by(models.EmailMessage.id)))


def step(engine: Engine, name: str) -> step_store.Entry | None:
    with db.read_session(engine) as session:
        return step_store.recorded(session, "acme").get(name)


def parts(raw: bytes) -> tuple[EmailMessage, str, str]:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    text, html = mail.text_part(parsed, "plain"), mail.text_part(parsed, "html")
    assert text is not None and html is not None
    return parsed, text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


# ------------------------------------------------------------------ compose (pure)


def test_compose_headers_and_both_parts() -> None:
    composed = message(to='Ann Lee <ann@acme.com>, "Lee, Bo" <bo@acme.com>')
    assert composed["From"] == SENDER
    assert composed["To"] == 'Ann Lee <ann@acme.com>, "Lee, Bo" <bo@acme.com>'
    assert composed["Reply-To"] == REPLY_TO
    assert composed["Subject"] == "Acme: your PostHog setup"
    assert composed["Date"] == "Wed, 04 Mar 2026 09:30:00 +0000"
    assert str(composed["Message-ID"]).endswith("@team.example.com>")
    assert message()["Message-ID"] != composed["Message-ID"]  # a new one every time
    assert composed.get_content_type() == "multipart/alternative"
    _, text, html = parts(mail.serialize(composed))
    # The text part is the text as written, without Markdown's escapes: `$` reads `$`.
    assert "about $1,080 a month; with the fixes $640." in text
    assert "<script>alert('x')</script>" in text  # text stays text
    assert "\\$" not in text
    # The HTML part: the Markdown rendered, `$` as written, HTML in the text escaped.
    assert "<strong>Ann</strong>" in html
    assert "about $1,080 a month" in html and "\\$" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html and "&lt;b&gt;not bold&lt;/b&gt;" in html
    assert "<table>" in html and ">$1,080.00</td>" in html


def test_compose_attaches_the_invite_as_a_calendar() -> None:
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    composed = message(
        attachments=(mail.Attachment("acme-first.ics", ics, "calendar", (("method", "REQUEST"),)),)
    )
    parsed, text, _ = parts(mail.serialize(composed))
    assert parsed.get_content_type() == "multipart/mixed"
    (attached,) = list(parsed.iter_attachments())
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_param("method") == "REQUEST"
    assert attached.get_filename() == "acme-first.ics"
    assert "METHOD:REQUEST" in attached.get_content()
    assert "Hi **Ann**" in text


def test_names_and_text_beyond_ascii_go_as_ascii() -> None:
    composed = mail.compose_message(
        sender=mail.sender("Zoë Ünal", "zoe@team.example.com", None),
        to=mail.parse_recipients("Jürgen Groß <jg@acme.com>"),
        subject="Grüße: 5 € a month",
        body="Hallo Jürgen, das spart **5 €**.",
    )
    raw = mail.serialize(composed)
    assert raw.isascii() and b"\r\n" in raw
    parsed, text, html = parts(raw)
    assert (parsed["From"], parsed["To"]) == (
        "Zoë Ünal <zoe@team.example.com>", "Jürgen Groß <jg@acme.com>",
    )  # fmt: skip
    assert parsed["Subject"] == "Grüße: 5 € a month"
    assert text == "Hallo Jürgen, das spart **5 €**.\n"
    assert "<strong>5 €</strong>" in html


@pytest.mark.parametrize(
    "to,said",
    [
        ("ann@", "'ann@' is not a valid email address"),
        ("Ann <ann@acme>", "'ann@acme' is not a valid email address"),
        ("ann lee acme.com", "expected `Name <email>`"),
        ("ann@acme.com, bo@@acme.com", "is not a valid email address"),
        ("", "add at least one recipient"),
        ("Ann <ann@example.invalid>", "'ann@example.invalid' is not a valid email address"),
    ],
)
def test_bad_addresses_say_which(to: str, said: str) -> None:
    with pytest.raises(mail.AddressError, match="^To: ") as refused:
        mail.parse_recipients(to)
    assert said in str(refused.value)


def test_the_same_recipient_twice_is_kept_once() -> None:
    assert mail.parse_recipients("Ann <ann@acme.com>\nANN@ACME.COM") == ["Ann <ann@acme.com>"]


def test_subject_and_body_must_be_written() -> None:
    with pytest.raises(UserError, match="Subject"):
        message(subject="  \n ")
    with pytest.raises(UserError, match="empty"):
        message(body="\n  \n")
    assert message(subject="Hello\r\nBcc: all@acme.com")["Subject"] == "Hello Bcc: all@acme.com"


def test_the_sender_is_the_team_member_or_the_fallback() -> None:
    assert mail.sender("Dana Team", "dana@team.example.com", None) == SENDER
    # A login without a real email (the login file's placeholder) sends from the fallback.
    fallback = "Onboarding <onboarding@team.example.com>"
    assert mail.sender("Dana Team", "dana@example.invalid", fallback) == (
        "Dana Team <onboarding@team.example.com>"
    )
    with pytest.raises(mail.AddressError, match="no email address to send from"):
        mail.sender("Dana Team", "dana@example.invalid", None)


def test_settings_from_the_environment_then_the_secrets() -> None:
    assert mail.load({}) is None  # no host: not configured
    env = {"ONBOARDING_SMTP_HOST": "smtp.example.com", "ONBOARDING_SMTP_USER": "bot"}
    found = mail.load(env, {"password": "s3cret", "port": 2525, "reply_to": "team@example.com"})
    assert found == mail.SmtpSettings(
        "smtp.example.com", 2525, "starttls", "bot", "s3cret", 20.0, None, "team@example.com"
    )
    assert "s3cret" not in repr(found)
    tls = mail.load({"ONBOARDING_SMTP_SECURITY": "tls"}, {"host": "h"})
    assert tls == mail.SmtpSettings("h", 465, "tls")  # the port follows the security
    for bad, said in [
        ({"ONBOARDING_SMTP_PORT": "eighty"}, "ONBOARDING_SMTP_PORT"),
        ({"ONBOARDING_SMTP_PORT": "70000"}, "ONBOARDING_SMTP_PORT"),
        ({"ONBOARDING_SMTP_SECURITY": "ssl"}, "expected one of starttls, tls, none"),
        ({"ONBOARDING_SMTP_TIMEOUT": "0"}, "ONBOARDING_SMTP_TIMEOUT"),
        ({"ONBOARDING_SMTP_USER": "bot"}, "no password"),
    ]:
        with pytest.raises(mail.MailSettingsError, match=said):
            mail.load({"ONBOARDING_SMTP_HOST": "h", **bad})


def test_every_mail_setting_is_documented() -> None:
    documented = (PROJECT_ROOT / "docs" / "interface.md").read_text(encoding="utf-8")
    assert [name for name in mail.ENV_NAMES if f"`{name}`" not in documented] == []
    assert [key for _, key in mail_settings.SOURCES.values() if f"`{key}`" not in documented] == []


# ------------------------------------------------------------------ sending (database)


def test_a_send_arrives_exactly_as_kept_and_the_step_is_done(
    engine: Engine, customer: str, smtp: SmtpServer
) -> None:
    result = mail.send(unit(engine), outgoing(), settings_for(smtp))
    (received,) = smtp.received
    (row,) = rows(engine)
    assert (row.status, row.direction, row.kind, row.send_key) == (
        "sent", "out", "initial_outreach", "initial_outreach:acme",
    )  # fmt: skip
    assert (row.on, row.by, row.to_addrs) == (ON, "dana", ["Ann Lee <ann@acme.com>"])
    assert result.sent.id == row.id and result.step == "initial_outreach"
    # What the server got is what is kept, byte for byte.
    assert row.raw is not None and received.raw == row.raw.encode()
    assert received.mail_from == "dana@team.example.com"
    assert received.rcpt_tos == ["ann@acme.com"]
    got, text, html = parts(received.raw)
    assert got["Message-ID"] == row.message_id and got["Subject"] == row.subject
    assert got["From"] == row.from_addr == SENDER and got["Reply-To"] == REPLY_TO
    assert text == row.body_text and html == row.body_html
    assert "$1,080" in text
    done = step(engine, "initial_outreach")
    assert done is not None and (done.status, done.date, done.recorded_by) == ("done", ON, "dana")
    assert done.note == "Email sent from the console to Ann Lee <ann@acme.com>"


def test_the_same_email_is_never_sent_twice(
    engine: Engine, customer: str, smtp: SmtpServer
) -> None:
    mail.send(unit(engine), outgoing(), settings_for(smtp))
    with pytest.raises(mail.AlreadySent, match=r"Already sent: dana sent this email") as again:
        mail.send(unit(engine, "priya"), outgoing(body="Edited again"), settings_for(smtp))
    assert "Ann Lee <ann@acme.com> on 04 Mar 2026" in str(again.value)
    assert len(smtp.received) == 1 and len(rows(engine)) == 1
    # The final outreach is another email: it goes.
    mail.send(unit(engine), outgoing("final_outreach"), settings_for(smtp))
    assert len(smtp.received) == 2


def test_a_step_done_already_keeps_its_date(
    engine: Engine, customer: str, smtp: SmtpServer
) -> None:
    with db.write_session(engine, "priya") as session:
        step_store.record(session, "acme", "initial_outreach", "done", ENTERED, "by phone")
    result = mail.send(unit(engine), outgoing(), settings_for(smtp))
    assert result.step is None
    done = step(engine, "initial_outreach")
    assert done is not None and (done.date, done.note) == (ENTERED, "by phone")


def test_homework_sent_by_email_marks_the_tasks_sent(
    engine: Engine, customer: str, smtp: SmtpServer
) -> None:
    with db.write_session(engine, "dana") as session:
        homework.add(session, "acme", homework.CUSTOM_TASK, "Set a billing limit", "Do it.")
    sent = dataclasses.replace(outgoing("homework"), check_in_on=ON + dt.timedelta(days=14))
    assert mail.send(unit(engine), sent, settings_for(smtp)).step == "homework"
    with db.read_session(engine) as session:
        (task,) = homework.assignments(session, "acme")
    assert (task.status, task.sent_on) == ("sent", ON)
    done = step(engine, "homework")
    assert done is not None and (done.status, done.date) == ("done", ON)
    assert done.note is not None and "next check-in 2026-03-18" in done.note


def test_a_meeting_invite_goes_with_its_ics(
    engine: Engine, customer: str, smtp: SmtpServer
) -> None:
    request = ScheduleRequest(
        customer_id="acme",
        kind="first",
        local_start=dt.datetime(2026, 3, 10, 15, 0),
        timezone="Europe/Berlin",
        duration_min=30,
        attendees=(
            Attendee("Ann Lee", "ann@acme.com", "customer"),
            Attendee("Dana Team", "dana@team.example.com", "team"),
        ),
        agenda="1. Autocapture (about $210/month)",
    )
    with db.write_session(engine, "dana") as session:
        meeting_id = meetings.schedule(session, request)
    with db.read_session(engine) as session:
        view = meetings.get(session, meeting_id)
    invite = mail.invite_email(view, "Dana Team", "dana@team.example.com")
    assert invite.to == ("Ann Lee <ann@acme.com>",)  # the customer's people only
    assert "Hi Ann," in invite.markdown and "about $210/month" in invite.markdown
    composed = mail.compose_message(
        sender=SENDER,
        to=list(invite.to),
        subject=invite.subject,
        body=invite.markdown,
        attachments=(invite.attachment,),
    )
    key = mail.invite_key(view.id, view.starts_at)
    assert key == f"meeting_invite:{meeting_id}:2026-03-10T14:00Z"
    sent = mail.Outgoing("acme", "meeting_invite", key, composed, ON, meeting_id=meeting_id)
    assert mail.send(unit(engine), sent, settings_for(smtp)).step is None
    (received,) = smtp.received
    (attached,) = list(received.message.iter_attachments())
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_param("method") == "REQUEST"
    calendar = attached.get_content()
    assert 'ORGANIZER;CN="Dana Team":mailto:dana@team.example.com' in calendar
    assert "mailto:ann@acme.com" in calendar and "TZID=Europe/Berlin" in calendar
    (row,) = rows(engine)
    assert (row.kind, row.meeting_id) == ("meeting_invite", meeting_id)
    assert step(engine, "first_meeting") is not None  # scheduled by the meeting, not the mail
    # A moved meeting is another invite; a cancelled one sends METHOD:CANCEL.
    assert mail.invite_key(view.id, view.starts_at + dt.timedelta(hours=1)) != key
    cancelled = mail.invite_email(
        dataclasses.replace(view, status="cancelled"), "Dana Team", "dana@team.example.com"
    )
    assert dict(cancelled.attachment.params)["method"] == "CANCEL"
    assert cancelled.subject.startswith("Cancelled:")


def assert_nothing_recorded(engine: Engine) -> None:
    assert rows(engine) == []
    assert step(engine, "initial_outreach") is None


@pytest.mark.parametrize(
    "case,said",
    [
        ("refused", "refused the recipients: ann@acme.com (550 5.1.1 <ann@acme.com>: recipient"),
        ("slow", "did not answer within 0.3 s while sending"),
        ("unreachable", "Could not reach the mail server 127.0.0.1:"),
        ("bad address", "To: 'ann@acme' is not a valid email address"),
    ],
)
def test_a_failed_send_says_what_happened_and_records_nothing(
    engine: Engine, customer: str, smtp: SmtpServer, case: str, said: str
) -> None:
    settings = settings_for(smtp, timeout_s=0.3)
    if case == "refused":
        smtp.behave("refuse")
    elif case == "slow":
        smtp.behave("slow", slow_seconds=1.0)
    elif case == "unreachable":
        settings = dataclasses.replace(settings, port=free_port())  # nothing listens there
    with pytest.raises(UserError) as refused:
        sent = outgoing(to="Ann <ann@acme>" if case == "bad address" else "Ann Lee <ann@acme.com>")
        mail.send(unit(engine), sent, settings)
    assert said in str(refused.value)
    if case != "bad address":
        assert isinstance(refused.value, mail.SendFailed)
    assert_nothing_recorded(engine)
    if case == "slow":
        assert "may still deliver it" in str(refused.value)
        time.sleep(1.2)  # the server finishes its sleep (and may keep the message)
    else:
        assert smtp.received == []
    # The claim is gone: once the server answers, the same email goes.
    smtp.behave("accept")
    mail.send(unit(engine), outgoing(), settings_for(smtp))
    assert [r.status for r in rows(engine)] == ["sent"]


def test_a_claim_left_by_a_crash_blocks_for_ten_minutes(
    engine: Engine, customer: str, smtp: SmtpServer
) -> None:
    started = dt.datetime(2026, 3, 4, 9, 0)
    with db.write_session(engine, "priya") as session:
        mail.claim(session, outgoing(), now=started)
    later = started + mail.STALE_AFTER - dt.timedelta(seconds=1)
    with pytest.raises(mail.AlreadySent, match="priya is sending this email right now") as busy:
        mail.send(unit(engine), outgoing(), settings_for(smtp), now=lambda: later)
    assert "can be sent again from 09:10 UTC" in str(busy.value)
    assert smtp.received == []
    stale = started + mail.STALE_AFTER
    mail.send(unit(engine), outgoing(), settings_for(smtp), now=lambda: stale)
    assert len(smtp.received) == 1
    (row,) = rows(engine)
    assert (row.status, row.by) == ("sent", "dana")


def test_two_people_sending_at_once_send_one_message(db_url: str, smtp: SmtpServer) -> None:
    setup = db.make_engine(db_url)
    with db.write_session(setup, "setup") as session:
        session.add(models.Customer(customer_id="acme", name="Acme", segment_entered_on=ENTERED))
    smtp.behave("slow", slow_seconds=0.5)  # the first send is still going when the second comes
    settings = settings_for(smtp, timeout_s=10)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def person(user: str) -> None:
        engine = db.make_engine(db_url)
        try:
            barrier.wait(timeout=30)
            mail.send(unit(engine, user), outgoing(body=f"From {user}"), settings)
            outcomes[user] = "sent"
        except mail.AlreadySent as refused:
            outcomes[user] = str(refused)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=person, args=(u,)) for u in ("dana", "priya")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert sorted(outcomes) == ["dana", "priya"]
        (winner,) = [u for u, said in outcomes.items() if said == "sent"]
        (loser,) = [u for u in outcomes if u != winner]
        assert f"{winner} is sending this email right now" in outcomes[loser]
        assert len(smtp.received) == 1
        assert f"From {winner}" in parts(smtp.received[0].raw)[1]
        with setup.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(models.EmailMessage)) == 1
    finally:
        setup.dispose()
