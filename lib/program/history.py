"""The customer page's History: audit-log entries (lib.store.journal.Change) as sentences a
person reads, newest first and grouped by day (pure).

    "Dana marked “identify() is called too often” fixed on 12 Mar"
    "Priya recorded the first call as held on 3 Mar (note: went well)"
    "Sam proposed a refund of $843.22 (Learning curve (first bill))"

Names come from the login file's display names, codes through lib.labels' tables, amounts
through lib.labels.money; never a table name, a column name or a raw float. What an update
does not carry (the step a row is, the title of a homework task) comes from `known`: the
fields of (entity, entity_id), from the log's own earlier entries (`remember`) and the rows
stored now (lib.program.history_store). The sentences are plain text: the page escapes them.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lib.audit.engine import RULES_BY_ID
from lib.contacts.model import ROLE_LABELS
from lib.labels import REFUND_SCENARIO_LABELS, label, money
from lib.meetings.model import KIND_LABELS
from lib.program.history_words import (
    BOOKKEEPING,
    DONE_WORDS,
    EMAIL_KINDS,
    MEETING_OUTCOMES,
    NOUNS,
    REFUND_INSERTS,
    REFUND_MOVES,
    Change,
    Entry,
    Known,
    Names,
    and_list,
    generic,
    note_text,
    on,
    pair,
    quoted,
    value_text,
    who,
)
from lib.program.stage import STAGE_LABELS

__all__ = ["Line", "by_day", "lines", "on", "remember", "sentence"]


@dataclass(frozen=True)
class Line:
    """One change as a sentence, with when it was written (UTC)."""

    at: dt.datetime
    text: str

    @property
    def day(self) -> dt.date:
        return self.at.date()


def _steps(e: Entry) -> str:
    code = e.row.get("step")
    the = f"the {label('step', code).lower()}" if code else "a step"
    if e.change.action == "delete":
        return f"cleared what was recorded for {the} (the timeline computes it again)"
    changed = e.changed
    if e.change.action == "insert" or {"status", "date"} & set(changed):
        status = str(e.row.get("status"))
        word = DONE_WORDS.get(code or "", "done") if status == "done" else status
        note = (
            e.row.get("note") if e.change.action == "insert" else changed.get("note", ("", ""))[1]
        )
        return f"recorded {the} as {word} on {e.on('date')}" + note_text(note)
    if "note" in changed:
        new = changed["note"][1]
        return (
            f"changed the note of {the} to {quoted(new)}" if new else f"removed the note of {the}"
        )
    return and_list(e.rest(()) or [f"changed {the}"])


def _meetings(e: Entry) -> str:
    kind = e.row.get("kind")
    call = KIND_LABELS.get(kind or "", "call").lower()
    the, when = f"the {call}", e.on("starts_at")
    if e.change.action == "insert":
        return f"booked {the} for {when}"
    if e.change.action == "delete":
        return f"deleted {the} of {when}"
    changed, parts = e.changed, []
    if "starts_at" in changed:
        parts.append(f"moved {the} to {when}")
    if "status" in changed:
        status = str(changed["status"][1])
        template = MEETING_OUTCOMES.get(status, "set {the} of {when} to " + status)
        parts.append(template.format(the=the, when=when))
    if "fixed_rules" in changed:
        old, new = changed["fixed_rules"]
        added = [r for r in new or [] if r not in (old or [])]
        if added:
            parts.append(f"noted {and_list([finding_title(r) for r in added])} fixed in {the}")
    if "notes" in changed:
        parts.append(f"updated the notes of {the}")
    for field, yes, no in (
        ("second_call_offered", "offered a second call", "noted no second call was offered"),
        ("second_call_accepted", "noted the customer wants a second call",
         "noted the customer declined a second call"),
    ):  # fmt: skip
        if field in changed and changed[field][1] is not None:
            parts.append(yes if changed[field][1] else no)
    handled = ("starts_at", "status", "fixed_rules", "notes", "second_call_offered",
               "second_call_accepted")  # fmt: skip
    parts += e.rest(handled, f" of {the}")
    return and_list(parts or [f"changed {the}"])


def _goals(e: Entry) -> str:
    goal = quoted(e.row.get("name") or "a goal")
    if e.change.action == "insert":
        target, by = e.row.get("target"), e.row.get("by_when")
        details = [f"target {quoted(target)}"] if target else []
        details += [f"by {e.on('by_when')}"] if by else []
        return f"set the goal {goal}" + (f" ({', '.join(details)})" if details else "")
    if e.change.action == "delete":
        return f"removed the goal {goal}"
    return and_list(e.rest((), f" of the goal {goal}") or [f"changed the goal {goal}"])


def _homework(e: Entry) -> str:
    task = quoted(e.row.get("title") or "a task")
    if e.change.action == "insert":
        return f"added the homework task {task}"
    if e.change.action == "delete":
        return f"removed the homework task {task}"
    changed, parts = e.changed, []
    old_status, status = changed.get("status", (None, None))
    if status == "sent" and old_status == "done":
        parts.append(f"marked {task} not done")
    elif status == "sent":
        parts.append(f"sent the homework task {task} on {e.on('sent_on')}")
    elif status == "done" and e.row.get("verified_by") == "data":
        parts.append(f"saw in the data that {task} is done ({e.row.get('evidence') or 'checked'})")
    elif status == "done":
        parts.append(f"ticked {task} done on {e.on('done_on')}")
    if "position" in changed:
        old, new = changed["position"]
        parts.append(f"moved {task} {'up' if (new or 0) < (old or 0) else 'down'}")
    if {"title", "body"} & set(changed):
        parts.append(f"reworded the homework task {task}")
    if "evidence" in changed and status is None and changed["evidence"][1]:
        parts.append(f"checked {task} against the data ({changed['evidence'][1]})")
    handled = ("status", "sent_on", "done_on", "verified_by", "evidence", "position", "title",
               "body", "task_id")  # fmt: skip
    parts += e.rest(handled, f" of {task}")
    return and_list(parts or [f"changed the homework task {task}"])


def finding_title(rule: str) -> str:
    found = RULES_BY_ID.get(rule)
    return quoted(found.title if found else rule.replace("_", " "))


def _findings(e: Entry) -> str:
    rule = e.row.get("rule") or (e.change.entity_id or "").rsplit("/", 1)[-1]
    finding = finding_title(str(rule))
    if e.change.action == "delete":
        return f"forgot what was decided about {finding}"
    changed, parts = e.changed, []
    state = e.row.get("state")
    if "state" in changed or e.change.action == "insert":
        if state == "fixed":
            parts.append(f"marked {finding} fixed on {e.on('fixed_on')}")
        elif state == "dismissed":
            parts.append(f"dismissed {finding}" + note_text(e.row.get("reason"), "reason"))
        elif e.change.action == "insert":
            saving = e.row.get("est_monthly_saving_usd")
            worth = f", worth about {money(saving)} a month" if saving else ""
            parts.append(f"first saw {finding} on {e.on('first_seen_on')}{worth}")
        else:
            parts.append(f"reopened {finding}")
    if e.change.action == "update":
        if "note" in changed:
            new = changed["note"][1]
            parts.append(f"noted on {finding}: {quoted(new)}" if new else "removed its note")
        if "est_monthly_saving_usd" in changed:
            saving = money(changed["est_monthly_saving_usd"][1])
            parts.append(f"updated the saving of {finding} to {saving} a month")
        if "counted_saving_usd" in changed and changed["counted_saving_usd"][1] is not None:
            parts.append(f"counted {money(changed['counted_saving_usd'][1])} a month saved")
    handled = ("state", "fixed_on", "reason", "note", "est_monthly_saving_usd",
               "counted_saving_usd", "first_seen_on", "rule")  # fmt: skip
    parts += e.rest(handled, f" of {finding}") if e.change.action == "update" else []
    return and_list(parts or [f"changed {finding}"])


def _refunds(e: Entry) -> str:
    amount = money(e.row.get("amount_usd"))
    status = str(e.row.get("status") or "proposed")
    if e.change.action == "insert":
        scenario = e.row.get("scenario")
        text = REFUND_INSERTS.get(status, REFUND_INSERTS["proposed"]).format(amount=amount)
        return text + (f" ({REFUND_SCENARIO_LABELS.get(scenario, scenario)})" if scenario else "")
    if e.change.action == "delete":
        return f"deleted the refund of {amount}"
    changed, parts = e.changed, []
    if "amount_usd" in changed:
        old, new = changed["amount_usd"]
        parts.append(f"changed a refund from {money(old)} to {money(new)}")
    if "status" in changed:
        text = REFUND_MOVES.get(status, "moved the refund of {amount} to " + status)
        text = text.format(amount=amount)
        issued = e.row.get("issued_usd")
        if status == "issued" and issued is not None and money(issued) != amount:
            text += f" as {money(issued)}"
        if status == "issued" and e.row.get("reference"):
            text += f" (reference {e.row['reference']})"
        if status == "declined":
            text += note_text(e.row.get("decision_reason"), "reason")
        parts.append(text)
    if "override_by" in changed and changed["override_by"][1]:
        parts.append(
            f"overrode the refund policy for the refund of {amount}"
            + note_text(e.row.get("override_reason"), "reason")
        )
    handled = ("amount_usd", "status", "issued_usd", "reference", "decision_reason", "decided_on",
               "issued_on", "override_by", "override_reason", "needs_approval", "per_product",
               "ceiling_usd", "decided_by")  # fmt: skip
    parts += e.rest(handled, f" of the refund of {amount}")
    return and_list(parts or [f"changed the refund of {amount}"])


def _contacts(e: Entry) -> str:
    person = str(e.row.get("name") or e.row.get("email") or "a contact")
    if e.change.action == "insert":
        role = ROLE_LABELS.get(str(e.row.get("role")), "Other")
        return (
            f"added the contact {person} ({role}{', primary' if e.row.get('is_primary') else ''})"
        )
    if e.change.action == "delete":
        return f"removed the contact {person}"
    changed, parts = e.changed, []
    if "is_primary" in changed:
        primary = changed["is_primary"][1]
        parts.append(
            f"made {person} the primary contact" if primary else f"made {person} not primary"
        )
    parts += e.rest(("is_primary",), f" of the contact {person}")
    return and_list(parts or [f"changed the contact {person}"])


def _emails(e: Entry) -> str:
    kind = EMAIL_KINDS.get(str(e.row.get("kind")), "an email")
    subject = f" {quoted(e.row['subject'])}" if e.row.get("subject") else ""
    to = e.row.get("to_addrs") or []
    to_text = f" to {', '.join(str(t) for t in to)}" if to else ""
    if e.change.action == "delete":
        return f"removed an unfinished send of {kind}"
    if e.row.get("direction") == "in":
        return f"recorded {kind}{subject} of {e.on('on')}"
    if e.row.get("status") == "sending":
        return f"started sending {kind}{subject}{to_text}"
    return f"sent {kind}{subject}{to_text}"


def _stages(e: Entry) -> str:
    if e.change.action == "delete":
        return "removed the stage set by hand (the facts decide it again)"
    stage = STAGE_LABELS.get(str(e.row.get("stage")), str(e.row.get("stage")))
    reason = e.row.get("reason") if "reason" in e.change.changes else None
    return f"set the stage to {stage}" + note_text(reason, "reason")


def _customers(e: Entry) -> str:
    name = e.row.get("name") or e.change.entity_id or "a customer"
    if e.change.action == "insert":
        return f"added the customer {name}"
    if e.change.action == "delete":
        return f"removed the customer {name}"
    changed, parts = e.changed, []
    if "extended_until" in changed:
        until = changed["extended_until"][1]
        why = note_text(e.row.get("extension_reason"), "reason")
        parts.append(
            f"extended the program to {e.on('extended_until')}{why}"
            if until
            else f"removed the program's extension{why}"
        )
    if "relationship_rating" in changed:
        rating = changed["relationship_rating"][1]
        parts.append(
            f"rated the relationship {rating} out of 5"
            if rating
            else "cleared the relationship rating"
        )
    if "owner" in changed:
        old, new = changed["owner"]
        parts.append(
            f"made {who(new, e.names) if new else 'nobody'} the owner"
            + (f" (was {who(old, e.names)})" if old else "")
        )
    if "status" in changed:
        old, new = (label("customer_status", s) for s in changed["status"])
        parts.append(f"changed the customer's status from {old} to {new}")
    handled = ("extended_until", "extension_reason", "relationship_rating", "owner", "status")
    parts += e.rest(handled)
    return and_list(parts or ["changed the customer"])


def _logins(e: Entry) -> str:
    login = e.change.entity_id or "a login"
    changes = e.change.changes
    if e.change.action in ("add", "insert"):
        return f"added the login {login} ({changes.get('role', 'team')})"
    if e.change.action in ("delete", "remove"):
        return f"removed the login {login}"
    parts = []
    if changes.get("password") == "reset":
        parts.append(f"reset the password of {login}")
    if "revops" in changes:
        approver = pair(changes["revops"])[1]
        parts.append(f"made {login} {'a' if approver else 'no longer a'} refund approver")
    others = [f for f in changes if f not in ("revops", "password") and f not in BOOKKEEPING]
    if others or (changes.get("password") not in (None, "reset")):
        shown = others + (["password"] if changes.get("password") not in (None, "reset") else [])
        parts.append(f"changed {and_list(generic(e.change, shown))} of the login {login}")
    return and_list(parts or [f"changed the login {login}"])


def _sign_in_locks(e: Entry) -> str:
    changes = e.change.changes
    count = changes.get("failures", 0)
    return (
        f"cleared {count} failed sign-in{'s' if count != 1 else ''} of the "
        f"{changes.get('kind', 'name')} {e.change.entity_id or ''}".rstrip()
    )


def _config(e: Entry) -> str:
    key = e.row.get("key") or (e.change.entity_id or "").rsplit("/", 1)[-1] or "a setting"
    if e.change.action == "delete":
        return f"removed the setting {key}"
    return f"set {key} to {value_text('value', e.row.get('value'), e.year)}"


WORDED = {
    "customers": _customers,
    "steps": _steps,
    "meetings": _meetings,
    "goals": _goals,
    "homework_assignments": _homework,
    "finding_states": _findings,
    "refunds": _refunds,
    "contacts": _contacts,
    "email_messages": _emails,
    "stage_overrides": _stages,
    "config_values": _config,
    "logins": _logins,
    "sign_in_locks": _sign_in_locks,
}
ROW_ACTIONS = frozenset({"insert", "update", "delete"})
VERBS = {"insert": "added", "update": "changed", "delete": "removed", "add": "added"}


def _other(change: Change) -> str:
    """Imports, the demo, PostHog syncs, and anything not worded above."""
    noun = NOUNS.get(change.entity, change.entity.replace("_", " "))
    changes = change.changes
    if change.action == "import":
        counts = f"{changes.get('added', 0)} added, {changes.get('updated', 0)} updated"
        files = changes.get("files") or []
        source = f" from {', '.join(str(f) for f in files)}" if files else ""
        return f"imported {noun} ({counts}){source}"
    if change.action == "demo":
        return f"loaded the demo data ({changes.get('customers', 0)} customers)"
    if change.action == "posthog_sync":
        project = changes.get("project")
        return "synced usage from PostHog" + (f" ({project})" if project else "")
    return f"{VERBS.get(change.action, change.action.replace('_', ' '))} {noun}"


# ------------------------------------------------------------------ the log as sentences


def remember(changes: Iterable[Change]) -> dict[tuple[str, str], dict[str, Any]]:
    """What the log itself says of each row (entries in any order; later ones win)."""
    known: dict[tuple[str, str], dict[str, Any]] = {}
    for change in sorted(changes, key=lambda c: c.at):
        if change.entity_id is None or change.action not in ROW_ACTIONS:
            continue
        row = known.setdefault((change.entity, change.entity_id), {})
        for field, value in change.changes.items():
            row[field] = pair(value)[1] if change.action == "update" else value
    return known


def sentence(change: Change, names: Names, known: Known | None = None) -> str:
    """One entry as a sentence: who did what, in words (plain text)."""
    worded = WORDED.get(change.entity)
    if worded is None or (change.action not in ROW_ACTIONS and change.entity != "logins"):
        text = _other(change)
    else:
        row = dict((known or {}).get((change.entity, change.entity_id or ""), {}))
        for field, value in change.changes.items():
            row[field] = pair(value)[1] if change.action == "update" else value
        text = worded(Entry(change, row, names))
    return f"{who(change.user, names)} {text}"


def lines(changes: Sequence[Change], names: Names, stored: Known | None = None) -> list[Line]:
    """The entries as sentences, in their order (the log reads newest first). `stored`: the
    rows as they are now, for what an entry does not say (the log's own entries win)."""
    known: dict[tuple[str, str], dict[str, Any]] = {k: dict(v) for k, v in (stored or {}).items()}
    for key, fields in remember(changes).items():
        known.setdefault(key, {}).update(fields)
    return [Line(c.at, sentence(c, names, known)) for c in changes]


def by_day(entries: Sequence[Line]) -> list[tuple[dt.date, list[Line]]]:
    """The lines grouped by their day, in the order given."""
    return [(day, list(group)) for day, group in itertools.groupby(entries, key=lambda x: x.day)]
