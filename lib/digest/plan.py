"""Who gets a digest, of which kind, for which day (pure; docs/rules.md, "The morning
digest"). Owners (every owner named on a customer) get theirs; revenue operations'
approvers who own no customers get one when approvals wait; leadership logins get the
week's summary. Run without --as-of and --owner (the hourly run), only those whose hour
has come today in their own zone, who chose a channel, and leadership on Mondays; with
either, everyone named, for that day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lib.accounts.digest_prefs import Recipient
from lib.digest.model import LEADERSHIP, OWNER
from lib.errors import UserError

SUMMARY_WEEKDAY = 0  # Monday: leadership's weekly summary in the hourly run


@dataclass(frozen=True)
class Planned:
    username: str
    name: str
    kind: str  # OWNER | LEADERSHIP
    day: dt.date  # the digest's as-of date (the reader's local date in the hourly run)
    recipient: Recipient | None  # None: an owner with no login (printed, never sent)
    approver: bool = False
    owns_customers: bool = True  # False: an approver's digest, sent only when approvals wait


def plan(
    owners: Iterable[str],
    recipients: Mapping[str, Recipient],
    now_utc: dt.datetime,
    as_of: dt.date | None = None,
    only: str | None = None,
) -> list[Planned]:
    owned = sorted(set(owners))
    hourly = as_of is None and only is None
    found: list[Planned] = []

    def day_of(recipient: Recipient | None) -> dt.date:
        if as_of is not None:
            return as_of
        if recipient is None:
            return now_utc.astimezone(dt.UTC).date()
        return recipient.prefs.local_now(now_utc).date()

    def due(recipient: Recipient | None, kind: str) -> bool:
        if not hourly:
            return True
        if recipient is None or not recipient.prefs.channels:
            return False
        if not recipient.prefs.hour_has_come(now_utc):
            return False
        return kind == OWNER or recipient.prefs.local_now(now_utc).weekday() == SUMMARY_WEEKDAY

    for owner in owned:
        recipient = recipients.get(owner)
        if due(recipient, OWNER):
            name = recipient.user.name if recipient else owner
            approver = bool(recipient and recipient.user.revops)
            found.append(Planned(owner, name, OWNER, day_of(recipient), recipient, approver))
    for username, recipient in sorted(recipients.items()):
        user = recipient.user
        if user.role == "leadership" and due(recipient, LEADERSHIP):
            found.append(Planned(username, user.name, LEADERSHIP, day_of(recipient), recipient))
        elif user.revops and username not in owned and due(recipient, OWNER):
            found.append(
                Planned(username, user.name, OWNER, day_of(recipient), recipient, True, False)
            )
    if only is not None:
        found = [p for p in found if p.username == only]
        if not found:
            raise UserError(
                f"--owner {only!r}: no owner of a customer, leadership login or refund "
                "approver has that name"
            )
    return found
