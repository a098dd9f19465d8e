"""The message as it goes out (pure): addresses checked, the From (the signed-in team
member), Reply-To, To, Subject, Date and a Message-ID, a text/plain part (the text as the
owner edited it) and a text/html part (that text rendered as Markdown, raw HTML escaped),
and attachments such as a meeting's .ics; and the send keys that make a second send of
the same email impossible (docs/rules.md, "Sending")."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from functools import cache

from email_validator import EmailNotValidError, validate_email
from markdown_it import MarkdownIt

from lib.errors import UserError
from lib.vocabulary import SENT_KINDS

PROGRAM_KINDS: tuple[str, ...] = tuple(k for k in SENT_KINDS if k != "meeting_invite")
MAX_SUBJECT_CHARS = 300
MAX_BODY_CHARS = 100_000
MAX_RECIPIENTS = 50
# The address streamlit-authenticator's logins get when nobody gave one (lib.accounts.auth).
PLACEHOLDER_DOMAIN = ".invalid"
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # a Markdown backslash escape (CommonMark)
# CRLF lines, and every part 7-bit safe (quoted-printable or base64 for other text), so any
# server takes it as it is and `raw` is ASCII.
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit")
HTML_PAGE = (
    '<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"></head>\n<body>\n{}</body>\n</html>\n'
)


class AddressError(UserError):
    """An address the console will not send to or from; the message names it."""


@dataclass(frozen=True)
class Attachment:
    """A file sent with the message, e.g. a meeting's invite (text/calendar; method=...)."""

    filename: str
    content: str
    subtype: str = "calendar"  # text/<subtype>
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Outgoing:
    """One email to send: what it is for (the customer, the kind, its send key), the
    message as composed, and the program's date it counts on."""

    customer_id: str
    kind: str  # lib.vocabulary.SENT_KINDS
    send_key: str
    message: EmailMessage
    on: dt.date
    meeting_id: int | None = None
    check_in_on: dt.date | None = None  # homework: the next check-in, for the step's note


# ------------------------------------------------------------------ send keys


def program_key(kind: str, customer_id: str) -> str:
    """One initial outreach, one homework email and one final outreach per customer."""
    if kind not in PROGRAM_KINDS:
        raise UserError(f"email kind {kind!r}: expected one of {', '.join(PROGRAM_KINDS)}")
    return f"{kind}:{customer_id}"


def invite_key(meeting_id: int, starts_at_utc: dt.datetime, cancelled: bool = False) -> str:
    """One invite per meeting and time (a moved meeting sends an updated invite), and one
    cancellation."""
    key = f"meeting_invite:{meeting_id}:{starts_at_utc:%Y-%m-%dT%H:%M}Z"
    return f"{key}:cancel" if cancelled else key


# ------------------------------------------------------------------ addresses


def check_address(address: str, what: str = "address") -> str:
    """`address` as an email address the console can send to (normalised), or
    AddressError naming it and what is wrong."""
    text = address.strip()
    if not text:
        raise AddressError(f"{what}: an email address is needed")
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise AddressError(f"{what}: {text!r} is not a valid email address ({error})") from None
    return str(checked.normalized)


def formatted(name: str, email: str) -> str:
    """`Name <email>` as a header writes it (quoted when the name needs it)."""
    username, _, domain = email.rpartition("@")
    return str(Address(display_name=name.strip(), username=username, domain=domain))


def _pairs(line: str) -> list[tuple[str, str]]:
    """The (name, address) pairs of one line of the To field; AddressError naming the
    piece at fault."""
    pairs = getaddresses([line])
    if pairs and all("@" in email for _, email in pairs):
        return pairs
    for piece in (p.strip() for p in line.split(",")):
        found = getaddresses([piece]) if piece else [("", "@")]
        if not found or any("@" not in email for _, email in found):
            if "@" in piece and not re.search(r"[\s<>]", piece):
                check_address(piece, "To")  # one bare address: say what is wrong with it
            raise AddressError(f"To: {piece!r}: expected `Name <email>` or an email address")
    raise AddressError(f"To: {line.strip()!r}: expected `Name <email>` or an email address")


def parse_recipients(text: str) -> list[str]:
    """The To field: one or more `Name <email>` or bare addresses, separated by new lines,
    commas or semicolons. Each checked; the same address twice is kept once."""
    found: dict[str, str] = {}
    for line in text.replace(";", ",").splitlines():
        if not line.strip(" ,"):
            continue
        for name, email in _pairs(line):
            checked = check_address(email, "To")
            found.setdefault(checked.lower(), formatted(name, checked))
    if not found:
        raise AddressError("To: add at least one recipient")
    if len(found) > MAX_RECIPIENTS:
        raise AddressError(f"To: at most {MAX_RECIPIENTS} recipients")
    return list(found.values())


def addresses_of(header_values: Sequence[str]) -> list[str]:
    """The bare addresses of `Name <email>` values (for the SMTP envelope)."""
    return [email for _, email in getaddresses(list(header_values)) if email]


def is_placeholder(email: str | None) -> bool:
    return not email or email.strip().lower().endswith(PLACEHOLDER_DOMAIN)


def sender(name: str, email: str | None, fallback: str | None) -> str:
    """The From: the signed-in team member's name and email; when their login has no real
    email, their name at the configured fallback address (ONBOARDING_MAIL_FROM)."""
    if not is_placeholder(email):
        assert email is not None
        return formatted(name, check_address(email, "your login's email"))
    if fallback:
        pairs = getaddresses([fallback])
        if len(pairs) == 1 and pairs[0][1]:
            fallback_name, address = pairs[0]
            checked = check_address(address, "ONBOARDING_MAIL_FROM")
            return formatted(name or fallback_name, checked)
        raise AddressError(f"ONBOARDING_MAIL_FROM: {fallback!r}: expected `Name <email>`")
    raise AddressError(
        "your login has no email address to send from: an admin can add one on the Users "
        "page (or set ONBOARDING_MAIL_FROM for the whole team)"
    )


# ------------------------------------------------------------------ the message


@cache
def _markdown() -> MarkdownIt:
    # CommonMark with tables (the bill table); raw HTML in the text is escaped, never kept.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render_html(markdown: str) -> str:
    """The HTML part: the Markdown rendered, any HTML in it shown as text."""
    return HTML_PAGE.format(_markdown().render(markdown))


def plain_text(markdown: str) -> str:
    """The text part: the Markdown as written, without its backslash escapes (a draft's
    `\\$` reads `$`) and the zero-width spaces lib.labels.md adds, ending in one new line."""
    return _ESCAPED.sub(r"\1", markdown).replace("\u200b", "").strip("\n") + "\n"


def _one_line(value: str) -> str:
    return " ".join(value.split())


def compose_message(
    *,
    sender: str,
    to: Sequence[str],
    subject: str,
    body: str,
    reply_to: str | None = None,
    attachments: Sequence[Attachment] = (),
    now: dt.datetime | None = None,
) -> EmailMessage:
    """The message: headers, a text/plain and a text/html alternative of `body` (Markdown),
    then the attachments. Subject and body must not be empty."""
    subject = _one_line(subject)
    if not subject:
        raise UserError("Subject: write a subject")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise UserError(f"Subject: at most {MAX_SUBJECT_CHARS} characters")
    if not body.strip():
        raise UserError("Message: the email is empty")
    if len(body) > MAX_BODY_CHARS:
        raise UserError(f"Message: at most {MAX_BODY_CHARS:,} characters")
    if not to:
        raise AddressError("To: add at least one recipient")
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = ", ".join(to)
    if reply_to:
        pairs = getaddresses([reply_to])
        if len(pairs) != 1 or not pairs[0][1]:
            raise AddressError(f"ONBOARDING_MAIL_REPLY_TO: {reply_to!r}: expected an address")
        message["Reply-To"] = formatted(pairs[0][0], check_address(pairs[0][1], "Reply-To"))
    message["Subject"] = subject
    message["Date"] = format_datetime((now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC))
    domain = addresses_of([sender])[0].rpartition("@")[2]
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(plain_text(body))
    message.add_alternative(render_html(body), subtype="html")
    for attachment in attachments:
        message.add_attachment(
            attachment.content,
            subtype=attachment.subtype,
            filename=attachment.filename,
            params=dict(attachment.params),
        )
    return message


def serialize(message: EmailMessage) -> bytes:
    """The message exactly as it goes to the server (and is kept): CRLF lines, ASCII."""
    return message.as_bytes(policy=MAIL_POLICY)


def text_part(message: EmailMessage, subtype: str) -> str | None:
    """The message's text/<subtype> body as a string (None when it has none)."""
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_type() != f"text/{subtype}":
        return None
    content = part.get_content()
    return str(content)
