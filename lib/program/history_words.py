"""The words lib.program.history builds its sentences from (pure): dates, amounts, codes
and user text as a person reads them, who wrote, and what an entry changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lib.contacts.model import ROLE_LABELS
from lib.labels import ENTRY_REASON_LABELS, REFUND_SCENARIO_LABELS, money
from lib.meetings.model import KIND_LABELS
from lib.program.stage import STAGE_LABELS


class Change(Protocol):
    """An audit-log entry as lib.store.journal.Change reads it back."""

    @property
    def at(self) -> dt.datetime: ...
    @property
    def user(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def entity(self) -> str: ...
    @property
    def entity_id(self) -> str | None: ...
    @property
    def changes(self) -> Mapping[str, Any]: ...


Known = Mapping[tuple[str, str], Mapping[str, Any]]
Names = Mapping[str, str]

# Writers that are not people: how a sentence names them.
SYSTEM_WRITERS: dict[str, str] = {
    "system": "The console",
    "cli": "The command line",
    "demo": "The demo loader",
}
# Columns that only keep the books (versions, stamps, who wrote): never a sentence.
BOOKKEEPING = frozenset(
    {
        "id", "customer_id", "version", "created_at", "updated_at", "recorded_at", "set_at",
        "created_by", "updated_by", "recorded_by", "set_by", "at", "by",
    }
)  # fmt: skip
# Field names as words (for the changes a table below does not word itself).
FIELDS: dict[str, str] = {
    "name": "name",
    "plan": "plan",
    "owner": "owner",
    "mrr_usd": "MRR",
    "status": "status",
    "entry_reason": "entry reason",
    "segment_entered_on": "program start",
    "email": "email",
    "role": "role",
    "target": "target",
    "by_when": "date",
    "agenda": "agenda",
    "attendees": "attendees",
    "duration_min": "length (minutes)",
    "timezone": "time zone",
    "reason": "reason",
    "note": "note",
    "scenario": "scenario",
    "billing_month": "billing month",
    "reference": "reference",
    "key": "setting",
    "value": "value",
}
# Code fields and the lib.labels table (or a table here) that names their values.
CODES: dict[str, Mapping[str, str]] = {
    "entry_reason": ENTRY_REASON_LABELS,
    "stage": STAGE_LABELS,
    "role": ROLE_LABELS,
    "scenario": REFUND_SCENARIO_LABELS,
    "kind": KIND_LABELS,
}
NOTE_CHARS = 120


# ------------------------------------------------------------------ values in words


def on(value: Any, year: int | None = None) -> str:
    """A date as "3 Mar" (with its year when not `year`); a datetime as "3 Mar 10:00 UTC"."""
    when = as_date(value)
    if when is None:
        return "no date"
    day = f"{when.day} {when:%b}" + (f" {when.year}" if year and when.year != year else "")
    if isinstance(when, dt.datetime):
        return f"{day} {when:%H:%M} UTC"
    return day


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    except ValueError:
        return None


def quoted(text: Any) -> str:
    """User text in quotes, one line, cut at NOTE_CHARS."""
    line = " ".join(str(text).split())
    return f"“{line[: NOTE_CHARS - 1] + '…' if len(line) > NOTE_CHARS else line}”"


def value_text(field: str, value: Any, year: int | None = None) -> str:
    """A stored value in words: amounts as money, dates as days, codes by their labels."""
    if value is None or value == "" or value == []:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field.endswith("_usd") and isinstance(value, int | float):
        return money(value)
    if field in CODES and isinstance(value, str):
        return CODES[field].get(value, value.replace("_", " "))
    if isinstance(value, str) and as_date(value) is not None and len(value) >= 10:
        return on(value, year)
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list | dict):
        return ", ".join(str(v) for v in value) if isinstance(value, list) else "a new set"
    return quoted(value) if isinstance(value, str) and len(value) > 30 else str(value)


def who(user: str, names: Names) -> str:
    return names.get(user) or SYSTEM_WRITERS.get(user) or user


def pair(value: Any) -> tuple[Any, Any]:
    """An update's [old, new] (an insert's or a delete's value is the new or the old)."""
    if isinstance(value, list) and len(value) == 2:
        return value[0], value[1]
    return None, value


def changed_fields(change: Change) -> dict[str, tuple[Any, Any]]:
    """The fields an entry changed, as (old, new), without the bookkeeping."""
    if change.action == "delete":
        return {}
    return {k: pair(v) for k, v in change.changes.items() if k not in BOOKKEEPING}


def generic(change: Change, fields: Iterable[str]) -> list[str]:
    """ "the plan from teams to scale" for each field (secrets never shown)."""
    year = change.at.year
    parts = []
    for field in fields:
        old, new = pair(change.changes[field])
        name = FIELDS.get(field, field.replace("_", " "))
        if field == "password":
            parts.append("the password")
        elif old is None or change.action != "update":
            parts.append(f"the {name} to {value_text(field, new, year)}")
        else:
            parts.append(
                f"the {name} from {value_text(field, old, year)} to {value_text(field, new, year)}"
            )
    return parts


def and_list(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def note_text(text: Any, what: str = "note") -> str:
    return f" ({what}: {quoted(text)})" if text else ""


# ------------------------------------------------------------------ one sentence per entity


@dataclass(frozen=True)
class Entry:
    """An entry with what is known of its row (`row`: stored fields, then the entry's own)."""

    change: Change
    row: Mapping[str, Any]
    names: Names

    @property
    def year(self) -> int:
        return self.change.at.year

    @property
    def changed(self) -> dict[str, tuple[Any, Any]]:
        return changed_fields(self.change)

    def on(self, field: str) -> str:
        return on(self.row.get(field), self.year)

    def rest(self, handled: Iterable[str], of: str = "") -> list[str]:
        """ "changed the agenda of the first call" for the fields no rule below words."""
        others = [f for f in self.changed if f not in handled]
        return [f"changed {and_list(generic(self.change, others))}{of}"] if others else []


# ------------------------------------------------------------------ word tables

# What each entity is, in words (imports and anything not worded below).
NOUNS: dict[str, str] = {
    "customers": "customers",
    "subscriptions": "subscriptions",
    "config_values": "config values",
    "usage": "usage",
    "steps": "steps",
    "meetings": "calls",
    "goals": "goals",
    "homework_assignments": "homework tasks",
    "finding_states": "findings",
    "refunds": "refunds",
    "contacts": "contacts",
    "email_messages": "emails",
    "stage_overrides": "stages",
    "logins": "logins",
    "sign_in_locks": "sign-in locks",
    "posthog_sync_state": "PostHog data",
}


EMAIL_KINDS: dict[str, str] = {
    "initial_outreach": "the initial outreach",
    "homework": "the homework email",
    "final_outreach": "the final outreach",
    "meeting_invite": "a call invitation",
    "reply": "a reply from the customer",
    "manual_reply": "a reply from the customer",
}


# How a done step reads: "recorded the first call as held".
DONE_WORDS: dict[str, str] = {
    "initial_outreach": "sent",
    "first_meeting": "held",
    "second_meeting": "held",
    "homework": "sent",
    "final_outreach": "sent",
}


MEETING_OUTCOMES: dict[str, str] = {
    "held": "logged {the} of {when} as held",
    "no_show": "logged {the} of {when} as a no-show",
    "cancelled": "cancelled {the} of {when}",
    "rescheduled": "marked {the} of {when} as rescheduled",
    "scheduled": "set {the} of {when} back to scheduled",
}


REFUND_INSERTS: dict[str, str] = {
    "proposed": "proposed a refund of {amount}",
    "requested": "recorded the customer's request for a refund of {amount}",
    "needs_approval": "proposed a refund of {amount}, which needs approval",
    "approved": "recorded an approved refund of {amount}",
    "issued": "recorded a refund of {amount} issued",
    "declined": "recorded a declined refund of {amount}",
}
REFUND_MOVES: dict[str, str] = {
    "proposed": "set the refund of {amount} back to proposed",
    "requested": "recorded that the customer asked for the refund of {amount}",
    "needs_approval": "asked revenue operations to approve the refund of {amount}",
    "approved": "approved the refund of {amount}",
    "issued": "issued the refund of {amount}",
    "declined": "declined the refund of {amount}",
}
