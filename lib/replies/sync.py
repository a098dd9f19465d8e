"""One check of the mailbox: read it (lib.replies.mailbox), decide each message's customer
(lib.replies.matching) and say what is new. No database: lib.replies.store reads what
matching compares with (`known`) before, and records the new replies after, in the
caller's unit of work; a mailbox that cannot be read raises before anything is written."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from lib.replies.mailbox import ImapSettings, fetch
from lib.replies.matching import IGNORED_REASONS, Decision, Incoming, Known, address, decide

SYNC_DAYS = 30  # without --since: the messages received in the last 30 days


@dataclass(frozen=True)
class Reply:
    """A customer's answer found in the mailbox, to record."""

    message: Incoming
    customer_id: str
    how: str  # thread | address


@dataclass(frozen=True)
class SyncResult:
    where: str
    since: dt.date
    checked: int  # messages in the folder since `since`
    new: tuple[Reply, ...]  # customers' answers not recorded before
    already: int  # customers' answers recorded by an earlier check
    ignored: dict[str, int] = field(default_factory=dict)  # IGNORED_REASONS key -> count

    def summary(self, recorded: int | None = None, dry_run: bool = False) -> str:
        """What the check found and recorded, for the command line and the page."""
        count = len(self.new) if recorded is None else recorded
        verb = "would record" if dry_run else "recorded"
        lines = [
            f"Checked {self.checked} message(s) in {self.where} since {self.since.isoformat()}: "
            f"{verb} {count} new repl{'y' if count == 1 else 'ies'}, "
            f"{self.already} recorded before."
        ]
        for reply in self.new:
            day = reply.message.on.isoformat() if reply.message.on else "no date"
            lines.append(
                f"  {reply.customer_id}: {reply.message.sender or '?'}, {day}, "
                f"{reply.message.subject!r} (matched by {reply.how})"
            )
        for reason, n in sorted(self.ignored.items()):
            lines.append(f"  ignored {n}: {IGNORED_REASONS[reason]}")
        return "\n".join(lines)


def default_since(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=SYNC_DAYS)


def team_addresses(settings: ImapSettings, logins: Iterable[str]) -> frozenset[str]:
    """The team's own addresses: the mailbox's login when it is one, and the logins'
    emails (lib.replies.store adds every address the console sent from)."""
    found = {address(text) for text in (settings.user, *logins)}
    return frozenset(a for a in found if "@" in a)


def collect(settings: ImapSettings, known: Known, since: dt.date) -> SyncResult:
    """Read the mailbox since a day and decide every message; full text only for the
    customers' answers not recorded yet. MailboxError (nothing read) when it cannot."""
    decisions: dict[str, Decision] = {}

    def wanted(message: Incoming) -> bool:
        decision = decide(message, known)
        decisions[message.uid] = decision
        return decision.matched and message.message_id not in known.recorded

    fetched = fetch(settings, since, wanted)
    ignored: Counter[str] = Counter()
    already = 0
    for message in fetched.seen:
        decision = decisions[message.uid]
        if not decision.matched:
            ignored[decision.how] += 1
        elif message.message_id in known.recorded:
            already += 1
    new: dict[str, Reply] = {}
    for message in fetched.full:  # one reply per Message-ID, even if stored twice
        decision = decisions.get(message.uid) or decide(message, known)
        if decision.customer_id is not None and message.message_id not in new:
            new[message.message_id] = Reply(message, decision.customer_id, decision.how)
    return SyncResult(
        where=fetched.where,
        since=since,
        checked=len(fetched.seen),
        new=tuple(new.values()),
        already=already,
        ignored=dict(ignored),
    )
