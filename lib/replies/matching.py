"""Which customer a message from the mailbox answers (pure; docs/rules.md, "Replies").

First the thread: the In-Reply-To, then the References (newest first) naming a message
the console sent; then the sender: a contact's address of exactly one customer. Never a
message the console sent itself (a copy in the shared inbox), nor one from the team's
own addresses. Also the few text helpers a stored reply needs (its first lines, an
HTML-only message as text).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from lib.labels import MESSAGE_KIND_LABELS

_ANGLED = re.compile(r"<([^<>\s]+)>")

MANUAL_SUBJECT = "Customer replied (recorded by hand)"  # a reply recorded by hand

# What an email of the conversation is (models.EmailMessage.kind), for people.
KIND_LABELS = MESSAGE_KIND_LABELS  # the one label table (lib.labels)

# Why a message was not recorded (SyncResult.ignored keys).
IGNORED_REASONS: dict[str, str] = {
    "sent_by_console": "sent from the console (its own copy)",
    "from_team": "from the team's own addresses",
    "ambiguous": "from an address several customers share",
    "unknown": "not from a customer (no thread, no contact's address)",
}


def message_id(text: str | None) -> str:
    """A Message-ID as compared: without angle brackets and white space ('' when none)."""
    if not text:
        return ""
    found = _ANGLED.search(text)
    return (found.group(1) if found else text).strip().strip("<>").strip()


def synthetic_id(from_addr: str, date: str, subject: str) -> str:
    """A stable stand-in for a message that has no Message-ID (the same message, the same
    id: a second sync records nothing new)."""
    digest = hashlib.sha256("\n".join((from_addr, date, subject)).encode()).hexdigest()
    return f"{digest[:40]}@no-message-id.invalid"


def message_ids(header: str | None) -> list[str]:
    """The ids an In-Reply-To or References header names, in order (angle-bracketed, or
    separated by white space when a mailer left the brackets out)."""
    if not header:
        return []
    found = _ANGLED.findall(header)
    return found if found else [part.strip("<>") for part in header.split() if part.strip("<>")]


def address(text: str | None) -> str:
    """The bare address of a From or To value, lower-case ('' when none)."""
    return parseaddr(text or "")[1].strip().lower()


def addresses(values: Iterable[str]) -> list[str]:
    return [addr.strip().lower() for _, addr in getaddresses(list(values)) if addr.strip()]


@dataclass(frozen=True)
class Incoming:
    """One message read from the mailbox (headers; the body once fetched in full)."""

    uid: str
    message_id: str  # as compared (lib.replies.matching.message_id)
    in_reply_to: str = ""
    references: str = ""
    from_addr: str = ""  # the From header as written ("Name <addr>")
    to_addrs: tuple[str, ...] = ()
    subject: str = ""
    at: dt.datetime | None = None  # the Date header, in UTC (naive)
    text: str = ""
    html: str = ""
    raw: str = ""

    @property
    def sender(self) -> str:
        return address(self.from_addr)

    @property
    def on(self) -> dt.date | None:
        return self.at.date() if self.at else None


@dataclass(frozen=True)
class Known:
    """What matching compares a message with: the console's sent messages (Message-ID ->
    customer), the contacts' addresses (address -> customers), the team's own addresses,
    and the Message-IDs of replies already recorded."""

    sent: Mapping[str, str] = field(default_factory=dict)
    contacts: Mapping[str, frozenset[str]] = field(default_factory=dict)
    own: frozenset[str] = frozenset()
    recorded: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    """A message's customer and how it was matched ("thread" or "address"), or why not
    (a key of IGNORED_REASONS)."""

    customer_id: str | None
    how: str

    @property
    def matched(self) -> bool:
        return self.customer_id is not None


def decide(message: Incoming, known: Known) -> Decision:
    """The customer a message answers, or why it is not a customer's answer."""
    if message.message_id and message.message_id in known.sent:
        return Decision(None, "sent_by_console")
    sender = message.sender
    if sender and sender in known.own:
        return Decision(None, "from_team")
    thread = message_ids(message.in_reply_to) + list(reversed(message_ids(message.references)))
    for parent in thread:
        customer_id = known.sent.get(parent)
        if customer_id is not None:
            return Decision(customer_id, "thread")
    customers = known.contacts.get(sender, frozenset()) if sender else frozenset()
    if len(customers) == 1:
        return Decision(next(iter(customers)), "address")
    return Decision(None, "ambiguous" if customers else "unknown")


# ------------------------------------------------------------------ text


class _Text(HTMLParser):
    SKIP = frozenset({"script", "style", "head", "title"})
    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The words of an HTML-only message, as plain text (tags dropped, never rendered)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def first_lines(text: str | None, lines: int = 3, width: int = 300) -> str:
    """The opening of a message: its first non-empty lines before the quoted history."""
    kept: list[str] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith(">") or re.match(r"^On .+ wrote:$", stripped):
            break
        if stripped:
            kept.append(stripped)
        if len(kept) == lines:
            break
    opening = "\n".join(kept)
    return opening if len(opening) <= width else opening[: width - 1].rstrip() + "…"
