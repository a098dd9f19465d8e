"""A notice (pure): what happened, to which customer, when, and the page it opens; its key
is stable, so a notice marked read stays read (docs/rules.md, "Notices")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

WINDOW = dt.timedelta(days=14)  # notices older than this are not shown
MAX_SHOWN = 50
KINDS: dict[str, str] = {
    "reply": "Reply",
    "approval": "Waiting for your approval",
    "refund": "Refund decided",
    "assigned": "Assigned to you",
}


@dataclass(frozen=True)
class Notice:
    key: str  # e.g. "reply:42": stable, what a read marks
    kind: str  # a key of KINDS
    at: dt.datetime  # UTC, naive
    customer_id: str
    name: str  # the customer's
    text: str
    query: dict[str, str] = field(default_factory=dict)  # the customer page's query

    @property
    def label(self) -> str:
        return KINDS[self.kind]


def unread(found: Iterable[Notice], read: set[str]) -> list[Notice]:
    """The notices not marked read, newest first (at most MAX_SHOWN)."""
    fresh = {n.key: n for n in found if n.key not in read}
    return sorted(fresh.values(), key=lambda n: (n.at, n.key), reverse=True)[:MAX_SHOWN]
