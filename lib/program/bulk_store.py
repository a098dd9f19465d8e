"""The Customers page's bulk actions on the selected rows: reassign the owner, mark the email
step they are at as sent, extend the program (docs/rules.md, "Bulk actions").

One action is one unit of work (the caller's). Each customer's change runs in a savepoint:
a customer refused (someone changed it since the page showed it, its step is no email, the
date does not fit it) writes nothing of its own and is listed with the reason; the others
are written. Nothing is refused silently: `Outcome` names every customer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lib.errors import UserError
from lib.program import owner_store, step_store, timeline
from lib.program.worklist import ONE_CLICK_DONE
from lib.store import models
from lib.store.versions import NOTHING

CHUNK = 500  # ids per IN list
MAX_SELECTED = 2_000  # the most customers one action changes


@dataclass(frozen=True)
class Seen:
    """What the page showed of one customer: its version and its steps' (0: none)."""

    version: int
    steps: dict[str, int] = field(default_factory=dict)

    def step_version(self, step: str) -> int:
        return self.steps.get(step, NOTHING)


@dataclass(frozen=True)
class Refused:
    customer_id: str
    reason: str


@dataclass(frozen=True)
class Outcome:
    """What one bulk action did: changed, already so (nothing to write), refused."""

    changed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    refused: tuple[Refused, ...] = ()

    @property
    def summary(self) -> str:
        """E.g. "3 changed, 1 already so, 2 refused"."""
        parts = [f"{len(self.changed)} changed"]
        if self.unchanged:
            parts.append(f"{len(self.unchanged)} already so")
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        return ", ".join(parts)


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def seen(session: Session, customer_ids: Collection[str]) -> dict[str, Seen]:
    """The versions a page shows for the selected customers (read now): each customer's
    and its recorded steps'. Unknown ids are left out."""
    ids = sorted(set(customer_ids))
    found: dict[str, int] = {}
    steps: dict[str, dict[str, int]] = {}
    for chunk in _chunks(ids):
        customer = models.Customer
        for cid, version in session.execute(
            select(customer.customer_id, customer.version).where(customer.customer_id.in_(chunk))
        ):
            found[cid] = version or 1
        step = models.Step
        for cid, name, version in session.execute(
            select(step.customer_id, step.step, step.version).where(step.customer_id.in_(chunk))
        ):
            steps.setdefault(cid, {})[name] = version
    return {cid: Seen(version, steps.get(cid, {})) for cid, version in found.items()}


def _check_size(customer_ids: Collection[str]) -> None:
    if not customer_ids:
        raise UserError("select at least one customer first")
    if len(customer_ids) > MAX_SELECTED:
        raise UserError(
            f"{len(customer_ids)} customers selected: one action changes at most "
            f"{MAX_SELECTED}; narrow the filters"
        )


def reassign(session: Session, shown: Mapping[str, Seen], owner: str | None) -> Outcome:
    """Make `owner` (None or empty: nobody) the owner of every customer in `shown`."""
    _check_size(shown)
    new = owner_store.clean_owner(owner)  # a bad name refuses the whole action
    changed: list[str] = []
    unchanged: list[str] = []
    refused: list[Refused] = []
    for cid, base in shown.items():
        try:
            with session.begin_nested():
                before = owner_store.reassign(session, cid, new, version=base.version)
        except UserError as error:
            refused.append(Refused(cid, str(error)))
            continue
        (unchanged if before == new else changed).append(cid)
    return Outcome(tuple(changed), tuple(unchanged), tuple(refused))


def mark_sent(
    session: Session,
    shown: Mapping[str, Seen],
    next_steps: Mapping[str, str | None],
    on: dt.date,
) -> Outcome:
    """Record as done `on` the email step each customer is at (`next_steps`: its next
    action as the page showed it): the initial outreach, the homework or the final
    outreach. A customer at a call, or with nothing due, is refused."""
    _check_size(shown)
    done = _recorded_done(session, list(shown))
    changed: list[str] = []
    refused: list[Refused] = []
    for cid, base in shown.items():
        step = next_steps.get(cid)
        if step is None:
            refused.append(Refused(cid, "nothing is due: no email to mark as sent"))
            continue
        if step not in ONE_CLICK_DONE:
            refused.append(
                Refused(cid, f"its next step is the {timeline.STEP_LABELS[step]}, not an email")
            )
            continue
        if (cid, step) in done:
            refused.append(
                Refused(cid, f"{timeline.STEP_LABELS[step]} is already recorded {done[cid, step]}")
            )
            continue
        try:
            with session.begin_nested():
                step_store.record(session, cid, step, "done", on, version=base.step_version(step))
        except UserError as error:
            refused.append(Refused(cid, str(error)))
            continue
        changed.append(cid)
    return Outcome(tuple(changed), (), tuple(refused))


def _recorded_done(session: Session, ids: list[str]) -> dict[tuple[str, str], str]:
    """(customer, step) -> "done on ..." for the steps already settled (done or skipped)."""
    out: dict[tuple[str, str], str] = {}
    step = models.Step
    for chunk in _chunks(sorted(ids)):
        for cid, name, status, date in session.execute(
            select(step.customer_id, step.step, step.status, step.date).where(
                step.customer_id.in_(chunk), step.status.in_(("done", "skipped"))
            )
        ):
            out[cid, name] = f"{status} on {date.isoformat()}"
    return out


def extend(
    session: Session,
    shown: Mapping[str, Seen],
    until: dt.date,
    reason: str,
    as_of: dt.date,
) -> Outcome:
    """Extend every customer's program to `until` with one reason (required). A customer
    whose final outreach window already ends after `until` is refused; `until` before
    `as_of` refuses the whole action."""
    _check_size(shown)
    if not (reason or "").strip():
        raise step_store.StepError("reason: say why the window changes (it is kept in the log)")
    if until < as_of:
        raise step_store.StepError(
            f"extend until {until.isoformat()}: that day is already past (as of "
            f"{as_of.isoformat()}); pick today or a later day"
        )
    changed: list[str] = []
    refused: list[Refused] = []
    for cid, base in shown.items():
        try:
            with session.begin_nested():
                step_store.extend(session, cid, until, reason, version=base.version, as_of=as_of)
        except UserError as error:
            refused.append(Refused(cid, str(error)))
            continue
        changed.append(cid)
    return Outcome(tuple(changed), (), tuple(refused))
