"""Replies: which customer a message answers (one row per case), the mailbox settings, and
checking a real IMAP mailbox (Dovecot, the `imap` fixture) into SQLite and PostgreSQL:
recorded once, the stage moves to engaged, an unreachable server records nothing; the
`onboarding sync mail` command; "Customer replied" by hand."""

from __future__ import annotations

import datetime as dt
import io
import socket
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from sqlalchemy import Engine, select

from lib import cli, replies
from lib.errors import UserError
from lib.replies import mailbox, matching
from lib.replies.matching import Incoming, Known
from lib.store import db, models
from tests import db_support
from tests.mail_servers import ImapServer, free_port

TODAY = dt.date.today()
SENT_ID = "<initial-1@posthog.example>"
TEAM = "Dana Owner <dana@posthog.example>"

# ------------------------------------------------------------------ matching

KNOWN = Known(
    sent={"initial-1@posthog.example": "acme", "initial-2@posthog.example": "globex"},
    contacts={
        "ada@acme.example": frozenset({"acme"}),
        "bob@globex.example": frozenset({"globex"}),
        "pat@consulting.example": frozenset({"acme", "globex"}),  # advises both
    },
    own=frozenset({"dana@posthog.example", "team@example.com"}),
)


def incoming(**fields: str) -> Incoming:
    return Incoming(uid="1", message_id=fields.pop("message_id", "reply-1@mail.example"), **fields)


@pytest.mark.parametrize(
    ("message", "customer", "how"),
    [
        # the thread first: In-Reply-To, then References (newest, the last, first)
        (incoming(in_reply_to=SENT_ID, from_addr="x@elsewhere.example"), "acme", "thread"),
        (incoming(in_reply_to="initial-1@posthog.example", from_addr="x@y.example"), "acme", "thread"),
        (incoming(references=f"<old@x.example> {SENT_ID}"), "acme", "thread"),
        (incoming(references=f"{SENT_ID}\r\n <initial-2@posthog.example>"), "globex", "thread"),
        (incoming(in_reply_to="<nope@x.example>", references=SENT_ID), "acme", "thread"),
        # the thread wins over the sender's address
        (incoming(in_reply_to=SENT_ID, from_addr="bob@globex.example"), "acme", "thread"),
        # then the sender: a contact of exactly one customer (any case, with a name)
        (incoming(from_addr="Ada Lovelace <ADA@Acme.Example>"), "acme", "address"),
        (incoming(in_reply_to="<unknown@x.example>", from_addr="bob@globex.example"), "globex", "address"),
        (incoming(from_addr="pat@consulting.example"), None, "ambiguous"),
        (incoming(from_addr="stranger@spam.example"), None, "unknown"),
        (incoming(from_addr=""), None, "unknown"),
        # never the team's own mail, nor the console's own copy of what it sent
        (incoming(in_reply_to=SENT_ID, from_addr=TEAM), None, "from_team"),
        (incoming(from_addr="Team <TEAM@example.com>", references=SENT_ID), None, "from_team"),
        (incoming(message_id="initial-1@posthog.example", from_addr=TEAM), None, "sent_by_console"),
        (incoming(message_id="initial-2@posthog.example", from_addr="x@y.example"), None, "sent_by_console"),
    ],
)  # fmt: skip
def test_which_customer_a_message_answers(
    message: Incoming, customer: str | None, how: str
) -> None:
    assert matching.decide(message, KNOWN) == matching.Decision(customer, how)


@pytest.mark.parametrize(
    ("header", "ids"),
    [
        ("<a@b> <c@d>", ["a@b", "c@d"]),
        ("<a@b>\r\n\t<c@d>", ["a@b", "c@d"]),
        ("a@b c@d", ["a@b", "c@d"]),  # a mailer that left the brackets out
        ("", []),
        (None, []),
    ],
)
def test_message_ids(header: str | None, ids: list[str]) -> None:
    assert matching.message_ids(header) == ids


@pytest.mark.parametrize(
    ("text", "opening"),
    [
        ("Hi Dana,\n\nThanks!\nThursday works.\nBest", "Hi Dana,\nThanks!\nThursday works."),
        ("Sounds good.\n\nOn Mon, 2 Mar 2026 Dana wrote:\n> the audit", "Sounds good."),
        ("Yes\n> quoted", "Yes"),
        ("", ""),
        ("x" * 400, "x" * 299 + "…"),
    ],
)
def test_first_lines(text: str, opening: str) -> None:
    assert matching.first_lines(text) == opening


def test_html_only_message_as_text() -> None:
    html = "<html><head><style>p{}</style></head><body><p>Hi <b>Dana</b>,</p><script>x()</script><p>Yes &amp; thanks</p></body></html>"
    assert matching.html_to_text(html) == "Hi Dana,\n\nYes & thanks"


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("env", "secrets", "expected"),
    [
        ({}, {}, None),  # not configured: replies by hand
        (
            {"ONBOARDING_IMAP_HOST": "imap.example.com", "ONBOARDING_IMAP_USER": "team@example.com",
             "ONBOARDING_IMAP_PASSWORD": "s3cr3t-pw"},
            {},
            ("imap.example.com", 993, "tls", "INBOX", 30.0),
        ),
        (
            {"ONBOARDING_IMAP_SECURITY": "STARTTLS"},
            {"host": "mail.example.com", "user": "u", "password": "s3cr3t-pw", "folder": "Replies",
             "timeout": 5},
            ("mail.example.com", 143, "starttls", "Replies", 5.0),
        ),
        (
            {"ONBOARDING_IMAP_HOST": "env.example.com", "ONBOARDING_IMAP_PORT": "1143"},
            {"host": "secret.example.com", "user": "u", "password": "s3cr3t-pw", "security": "none"},
            ("env.example.com", 1143, "none", "INBOX", 30.0),
        ),  # the environment wins, key by key
    ],
)  # fmt: skip
def test_settings(env: dict[str, str], secrets: dict[str, object], expected: object) -> None:
    found = mailbox.load(env, secrets)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found.host, found.port, found.security, found.folder, found.timeout_s) == expected
        assert "s3cr3t-pw" not in repr(found)


@pytest.mark.parametrize(
    ("secrets", "message"),
    [
        ({"host": "h", "user": "u", "password": "p", "security": "ssl"}, "expected one of"),
        ({"host": "h", "user": "u", "password": "p", "port": "imap"}, "from 1 to 65535"),
        ({"host": "h", "user": "u", "password": "p", "port": 99.5}, "a whole number"),
        ({"host": "h", "user": "u", "password": "p", "timeout": 0}, "from 0.01 to 300"),
        ({"host": "h", "user": "u"}, "the login is not"),
        ({"host": "h"}, "ONBOARDING_IMAP_USER"),
    ],
)
def test_unusable_settings_say_which(secrets: dict[str, object], message: str) -> None:
    with pytest.raises(mailbox.MailboxSettingsError, match=message):
        mailbox.load({}, secrets)


# ------------------------------------------------------------- the real mailbox


def setup_customers(engine: Engine) -> None:
    """acme (contact ada@acme.example) got the initial outreach SENT_ID from dana; globex
    (contact bob@globex.example) got nothing yet."""
    with db.write_session(engine, "dana") as session:
        for cid, name, contact in (("acme", "Acme", "ada"), ("globex", "Globex", "bob")):
            session.add(
                models.Customer(
                    customer_id=cid, name=name, owner="dana",
                    segment_entered_on=TODAY - dt.timedelta(days=10),
                )
            )  # fmt: skip
            session.flush()
            session.add(
                models.Contact(
                    customer_id=cid, name=contact.title(), email=f"{contact}@{cid}.example",
                    is_primary=True,
                )
            )  # fmt: skip
        session.add(
            models.Step(customer_id="acme", step="initial_outreach", status="done",
                        date=TODAY - dt.timedelta(days=8))
        )  # fmt: skip
        session.add(
            models.EmailMessage(
                customer_id="acme", direction="out", kind="initial_outreach", status="sent",
                send_key="acme/initial", message_id=SENT_ID, from_addr=TEAM,
                to_addrs=["ada@acme.example"], subject="Acme + PostHog: your account review",
                body_text="Hello", on=TODAY - dt.timedelta(days=8),
            )
        )  # fmt: skip


def mail(
    sender: str, subject: str, text: str = "Thanks, Thursday works.\n\n> Hello", **headers: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "team@example.com"
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid(domain="mail.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def settings_of(imap: ImapServer) -> replies.ImapSettings:
    found = replies.load(imap.environment())
    assert found is not None
    return found


def check(engine: Engine, imap: ImapServer | replies.ImapSettings) -> replies.SyncResult:
    """One check of the mailbox as the page and the command make it."""
    settings = imap if isinstance(imap, replies.ImapSettings) else settings_of(imap)
    with db.read_session(engine) as session:
        known = replies.known(session, replies.team_addresses(settings, []))
    found = replies.collect(settings, known, replies.default_since(TODAY))
    db_support.write(engine, "dana", replies.record, found.new, TODAY)
    return found


def stored(engine: Engine) -> list[models.EmailMessage]:
    with db.read_session(engine) as session:
        return list(
            session.scalars(
                select(models.EmailMessage)
                .where(models.EmailMessage.direction == "in")
                .order_by(models.EmailMessage.id)
            )
        )


def test_a_reply_in_the_thread_is_recorded_once_and_engages(
    engine: Engine, imap: ImapServer
) -> None:
    setup_customers(engine)
    (before,) = db_support.reports(engine, TODAY, "acme")
    assert before.as_json()["stage"] == "onboarding_initiated"
    # From an address nobody knows: the thread says who it is.
    imap.deliver(
        mail("Ada at home <ada.personal@home.example>", "Re: Acme + PostHog: your account review",
             In_Reply_To=SENT_ID, References=SENT_ID)
    )  # fmt: skip
    first = check(engine, imap)
    assert (first.checked, len(first.new), first.already) == (1, 1, 0)
    (row,) = stored(engine)
    assert (row.customer_id, row.kind, row.status, row.on) == ("acme", "reply", "received", TODAY)
    assert row.in_reply_to == SENT_ID and row.from_addr == "Ada at home <ada.personal@home.example>"
    assert row.body_text is not None and row.body_text.startswith("Thanks, Thursday works.")
    assert row.raw is not None and "In-Reply-To" in row.raw
    body = db_support.reports(engine, TODAY, "acme")[0].as_json()
    assert (body["stage"], body["last_customer_reply_on"]) == ("engaged", TODAY.isoformat())
    # Twice: nothing new; the message is still unread in the team's inbox.
    again = check(engine, imap)
    assert (again.checked, len(again.new), again.already) == (1, 0, 1)
    assert len(stored(engine)) == 1
    with imap.mailbox() as box:
        assert [m.flags for m in box.fetch(mark_seen=False)] == [()]
    with db.read_session(engine) as session:
        logged = session.scalars(
            select(models.AuditLog).where(models.AuditLog.entity == "email_messages")
        ).all()
    replies_logged = [e for e in logged if (e.changes or {}).get("direction") == "in"]
    assert [(e.user, e.action, e.customer_id) for e in replies_logged] == [
        ("dana", "insert", "acme")
    ]


def test_a_reply_matched_by_the_contacts_address(engine: Engine, imap: ImapServer) -> None:
    setup_customers(engine)
    imap.deliver(mail("Bob <Bob@Globex.example>", "Question about our bill"))
    found = check(engine, imap)
    assert [(r.customer_id, r.how) for r in found.new] == [("globex", "address")]
    assert db_support.reports(engine, TODAY, "globex")[0].stage.stage == "engaged"


def test_foreign_team_and_own_messages_are_ignored(engine: Engine, imap: ImapServer) -> None:
    setup_customers(engine)
    imap.deliver(mail("Newsletter <news@vendor.example>", "Our spring sale"))
    imap.deliver(mail(TEAM, "Re: Acme", In_Reply_To=SENT_ID))  # a colleague in the thread
    own = mail(TEAM, "Acme + PostHog: your account review")
    del own["Message-ID"]
    own["Message-ID"] = SENT_ID  # the console's own copy (Bcc to the shared inbox)
    imap.deliver(own)
    found = check(engine, imap)
    assert (found.checked, found.new) == (3, ())
    assert found.ignored == {"unknown": 1, "from_team": 1, "sent_by_console": 1}
    assert stored(engine) == []
    assert "ignored 1: not from a customer" in found.summary()


def test_an_html_only_reply_is_kept_as_text(engine: Engine, imap: ImapServer) -> None:
    setup_customers(engine)
    message = mail("ada@acme.example", "Re: review", In_Reply_To=SENT_ID)
    message.set_content("<p>Yes <script>alert(1)</script>please</p>", subtype="html")
    imap.deliver(message)
    check(engine, imap)
    (row,) = stored(engine)
    assert row.body_text == "Yes please" and "<script>" in (row.body_html or "")
    (view,) = [
        m for m in db_support.read(engine, replies.conversation, "acme") if m.kind == "reply"
    ]
    assert view.text == "Yes please"


def test_a_message_without_message_id_is_recorded_once(engine: Engine, imap: ImapServer) -> None:
    setup_customers(engine)
    message = mail("ada@acme.example", "No id")
    del message["Message-ID"]
    imap.deliver(message)
    assert len(check(engine, imap).new) == 1
    assert len(check(engine, imap).new) == 0
    (row,) = stored(engine)
    assert row.message_id is not None and row.message_id.endswith("@no-message-id.invalid")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung server)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        yield int(server.getsockname()[1])


@pytest.mark.parametrize("problem", ["closed port", "bad password", "no folder", "hung server"])
def test_an_unreachable_mailbox_says_why_and_records_nothing(
    engine: Engine, imap: ImapServer, problem: str, silent_port: int
) -> None:
    setup_customers(engine)
    imap.deliver(mail("ada@acme.example", "Re: review", In_Reply_To=SENT_ID))
    good = settings_of(imap)
    settings, message = {
        "closed port": (
            replies.ImapSettings(good.host, good.user, good.password, free_port(), "none"),
            "Cannot reach the mailbox at 127.0.0.1",
        ),
        "bad password": (
            replies.ImapSettings(good.host, good.user, "wrong", good.port, "none"),
            "refused the login of 'team@example.com'",
        ),
        "no folder": (
            replies.ImapSettings(good.host, good.user, good.password, good.port, "none", "Nope"),
            "has no folder 'Nope'",
        ),
        "hung server": (
            replies.ImapSettings(good.host, "u", "p", silent_port, "none", timeout_s=0.3),
            "no answer within 0.3 s",
        ),
    }[problem]
    with pytest.raises(replies.MailboxError, match=message):
        check(engine, settings)
    assert stored(engine) == []
    assert "wrong" not in message


# ------------------------------------------------------------------ by hand


def test_customer_replied_by_hand(engine: Engine) -> None:
    setup_customers(engine)
    on = TODAY - dt.timedelta(days=2)
    db_support.write(engine, "dana", replies.record_manual, "globex", on, TODAY, "  by phone ")
    (row,) = stored(engine)
    assert (row.kind, row.on, row.body_text, row.by) == ("manual_reply", on, "by phone", "dana")
    assert db_support.reports(engine, TODAY, "globex")[0].last_customer_reply_on == on
    for bad_day, message in ((on, "already recorded"), (TODAY + dt.timedelta(days=1), "future")):
        with pytest.raises(UserError, match=message):
            db_support.write(engine, "dana", replies.record_manual, "globex", bad_day, TODAY)
    with pytest.raises(UserError, match="no such customer"):
        db_support.write(engine, "dana", replies.record_manual, "nobody", on, TODAY)
    # Taken back: only a reply recorded by hand.
    db_support.write(engine, "dana", replies.remove_manual, "globex", row.id)
    assert stored(engine) == []


def test_the_conversation_is_newest_first(engine: Engine) -> None:
    setup_customers(engine)
    db_support.write(engine, "dana", replies.record_manual, "acme", TODAY, TODAY, "Yes!")
    views = db_support.read(engine, replies.conversation, "acme")
    assert [(v.direction, v.kind) for v in views] == [
        ("in", "manual_reply"),
        ("out", "initial_outreach"),
    ]
    assert views[0].sender == "recorded by dana" and views[0].opening == "Yes!"
    assert views[1].sender == TEAM and views[1].to == ("ada@acme.example",)


# ------------------------------------------------------------------ the command


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = cli.main(argv)
    finally:
        sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def no_imap_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in mailbox.ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_sync_mail_command(
    db_url: str, imap: ImapServer, monkeypatch: pytest.MonkeyPatch, no_imap_env: None
) -> None:
    engine = db.make_engine(db_url)
    try:
        setup_customers(engine)
        imap.deliver(mail("Ada <ada@acme.example>", "Re: your account review",
                          In_Reply_To=SENT_ID))  # fmt: skip
        imap.deliver(mail("news@vendor.example", "Spring sale"))
        for name, value in imap.environment().items():
            monkeypatch.setenv(name, value)
        code, out, _ = run(["--db", db_url, "sync", "mail", "--dry-run"])
        assert code == 0 and "would record 1 new reply" in out
        assert stored(engine) == []
        code, out, err = run(["--db", db_url, "sync", "mail", "--user", "cron"])
        assert (code, err) == (0, "")
        assert "Checked 2 message(s) in team@example.com at 127.0.0.1" in out
        assert "recorded 1 new reply, 0 recorded before." in out
        assert "acme: ada@acme.example, " in out and "(matched by thread)" in out
        assert "ignored 1: not from a customer" in out
        assert [r.by for r in stored(engine)] == ["cron"]
        since = (TODAY + dt.timedelta(days=1)).isoformat()  # nothing received since tomorrow
        code, out, _ = run(["--db", db_url, "sync", "mail", "--since", since])
        assert code == 0 and out.startswith("Checked 0 message(s)")
        code, out, _ = run(["--db", db_url, "sync", "mail"])
        assert code == 0 and "recorded 0 new replies, 1 recorded before." in out
    finally:
        engine.dispose()


def test_sync_mail_refusals(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, no_imap_env: None
) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    code, _, err = run(["--db", url, "sync", "mail"])
    assert code == 2 and "no mailbox is configured" in err
    monkeypatch.setenv("ONBOARDING_IMAP_HOST", "127.0.0.1")
    monkeypatch.setenv("ONBOARDING_IMAP_SECURITY", "carrier-pigeon")
    code, _, err = run(["--db", url, "sync", "mail"])
    assert code == 2 and "ONBOARDING_IMAP_SECURITY" in err
    monkeypatch.setenv("ONBOARDING_IMAP_SECURITY", "none")
    monkeypatch.setenv("ONBOARDING_IMAP_PORT", str(free_port()))
    monkeypatch.setenv("ONBOARDING_IMAP_USER", "u")
    monkeypatch.setenv("ONBOARDING_IMAP_PASSWORD", "a-secret-password")
    code, out, err = run(["--db", url, "sync", "mail"])
    assert code == 1 and out == ""
    assert "Cannot reach the mailbox at 127.0.0.1" in err and "nothing was recorded" in err
    assert "a-secret-password" not in err


def test_every_mailbox_setting_is_documented() -> None:
    from lib.settings import PROJECT_ROOT

    interface = (PROJECT_ROOT / "docs" / "interface.md").read_text(encoding="utf-8")
    assert [n for n in mailbox.ENV_NAMES if f"`{n}`" not in interface] == []
    assert [k for _, k in mailbox.SOURCES.values() if f"| `{k}` |" not in interface] == []
    program = (PROJECT_ROOT / "data" / "program.toml").read_text(encoding="utf-8")
    for key in ("no_reply_days", "response_rate_benchmark"):
        assert key in program and f"`{key}`" in interface
