"""Homework in the database: a customer's facts for conditions, the builder's writes
(add, remove, move, edit, tick, mark sent) and verification after every import.

Every write to an item takes a new version (the mapper counts them); a form names the
`version` it showed and a stale one is refused (lib.store.versions.EditConflict), as is
adding a task someone added meanwhile or marking sent a draft list that changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lib.errors import Conflict, UserError
from lib.homework.assignment import AssignmentView, HomeworkSummary
from lib.homework.conditions import MAX_WINDOW_DAYS, Facts, evaluate
from lib.homework.library import CUSTOM_TASK, Library, load_library
from lib.homework.suggestions import SUGGESTION_LIMIT, FindingLike, Suggestion, suggest
from lib.store import journal, models, versions


class HomeworkError(UserError):
    """A homework action the builder refuses; the message says why."""


class HomeworkConflict(HomeworkError, Conflict):
    """Someone changed the customer's homework first (added the same task, changed the
    draft being marked sent); nothing of yours was written."""


def _last_change(session: Session, customer_id: str, assignment_id: int | None = None) -> str:
    """ " by <who> at <when> UTC" from the audit log (the item's, else the customer's list)."""
    log = models.AuditLog
    stmt = select(log.user, log.at).where(
        log.customer_id == customer_id, log.entity == models.HomeworkAssignment.__tablename__
    )
    if assignment_id is not None:
        stmt = stmt.where(log.entity_id == str(assignment_id))
    row = session.execute(stmt.order_by(log.at.desc(), log.id.desc()).limit(1)).first()
    return f" by {row[0]} at {row[1]:%Y-%m-%d %H:%M} UTC" if row else ""


def load_facts(session: Session, customer_id: str, days: int = MAX_WINDOW_DAYS) -> Facts:
    """Daily usage for the `days` up to the customer's latest imported day, plus config."""
    usage = models.Usage
    as_of = session.scalar(select(func.max(usage.date)).where(usage.customer_id == customer_id))
    daily: dict[str, dict[dt.date, float]] = {}
    if as_of is not None:
        start = as_of - dt.timedelta(days=days - 1)
        for metric, date, value in session.execute(
            select(usage.metric, usage.date, usage.value).where(
                usage.customer_id == customer_id, usage.date >= start
            )
        ):
            daily.setdefault(metric, {})[date] = float(value)
    config = dict(
        session.execute(
            select(models.ConfigValue.key, models.ConfigValue.value).where(
                models.ConfigValue.customer_id == customer_id
            )
        ).all()
    )
    subscriptions = dict(
        session.execute(
            select(models.Subscription.product, models.Subscription.billing_limit_usd).where(
                models.Subscription.customer_id == customer_id
            )
        ).all()
    )
    return Facts(as_of=as_of, daily=daily, config=config, subscriptions=subscriptions)


def suggest_for(
    session: Session,
    customer_id: str,
    findings: Iterable[FindingLike],
    library: Library | None = None,
    limit: int | None = SUGGESTION_LIMIT,
) -> list[Suggestion]:
    """`suggest` with the customer's products, goals, data and homework from the database;
    `findings` are the customer's audit findings (the report's)."""
    library = library or load_library()
    products = session.scalars(
        select(models.Subscription.product).where(models.Subscription.customer_id == customer_id)
    ).all()
    goals = session.scalars(
        select(models.Goal).where(models.Goal.customer_id == customer_id).order_by(models.Goal.id)
    ).all()
    assigned = session.scalars(
        select(models.HomeworkAssignment.task_id).where(
            models.HomeworkAssignment.customer_id == customer_id
        )
    ).all()
    facts = load_facts(session, customer_id)
    return suggest(library, findings, products, goals, facts, assigned, limit=limit)


# -------------------------------------------------------------- assignments


def _to_view(row: models.HomeworkAssignment, library: Library) -> AssignmentView:
    task = library.get(row.task_id)
    return AssignmentView(
        id=row.id,
        customer_id=row.customer_id,
        task_id=row.task_id,
        title=row.title,
        body=row.body or "",
        position=row.position,
        status=row.status,
        sent_on=row.sent_on,
        done_on=row.done_on,
        verified_by=row.verified_by,
        evidence=row.evidence,
        docs_url=task.docs_url if task else None,
        verifiable=bool(task and task.verify is not None),
        version=row.version,
    )


def _rows(session: Session, customer_id: str) -> list[models.HomeworkAssignment]:
    return list(
        session.scalars(
            select(models.HomeworkAssignment)
            .where(models.HomeworkAssignment.customer_id == customer_id)
            .order_by(models.HomeworkAssignment.position, models.HomeworkAssignment.id)
        )
    )


def assignments(
    session: Session, customer_id: str, library: Library | None = None
) -> list[AssignmentView]:
    """All of a customer's homework, in the order the email lists it."""
    library = library or load_library()
    return [_to_view(r, library) for r in _rows(session, customer_id)]


def _renumber(rows: Sequence[models.HomeworkAssignment]) -> None:
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position


def add(
    session: Session,
    customer_id: str,
    task_id: str,
    title: str | None = None,
    body: str | None = None,
    library: Library | None = None,
) -> int:
    """Add a library task (or one of the owner's own, task_id=CUSTOM_TASK) to the draft;
    returns its id."""
    library = library or load_library()
    task = library.get(task_id)
    if task is None and task_id != CUSTOM_TASK:
        raise HomeworkError(f"unknown homework task {task_id!r}")
    title = (title or (task.title if task else "")).strip()
    if not title:
        raise HomeworkError("a homework task needs a title")
    if session.get(models.Customer, customer_id) is None:
        raise HomeworkError(f"customer {customer_id!r} does not exist")
    rows = _rows(session, customer_id)
    there = next((r for r in rows if task is not None and r.task_id == task_id), None)
    if there is not None:
        raise HomeworkConflict(
            f"{there.title!r} is already in this customer's homework (added"
            f"{_last_change(session, customer_id, there.id) or ' meanwhile'}); it is now "
            f"{_now(there)}. Nothing of yours was written."
        )
    row = models.HomeworkAssignment(
        customer_id=customer_id,
        task_id=task_id,
        title=title[:300],
        body=body if body is not None else (task.body() if task else ""),
        position=len(rows),
        status="draft",
        created_by=journal.user_of(session),
    )
    session.add(row)
    session.flush()
    return row.id


def _now(row: models.HomeworkAssignment) -> str:
    status = {"draft": "in the draft", "sent": f"sent on {row.sent_on}"}.get(row.status)
    return f"\u201c{row.title}\u201d, number {row.position + 1}, " + (
        status or f"done on {row.done_on} ({row.verified_by or 'by hand'})"
    )


def _stored(session: Session, row: models.HomeworkAssignment) -> versions.Stored:
    who, when = versions.last_change(
        session, models.HomeworkAssignment.__tablename__, str(row.id), row.customer_id
    )
    return versions.Stored(row.version, _now(row), who, when or row.updated_at)


def _removed(session: Session, assignment_id: int) -> versions.Stored:
    who, when = versions.last_change(
        session, models.HomeworkAssignment.__tablename__, str(assignment_id), None
    )
    return versions.Stored(versions.NOTHING, "no longer in the homework", who, when)


def _own_row(
    session: Session, assignment_id: int, version: int | None = None
) -> models.HomeworkAssignment:
    """The item, as the form that showed `version` of it may change it (None: unchecked)."""
    row = session.get(models.HomeworkAssignment, assignment_id)
    what = (
        f"homework item {assignment_id}"
        if row is None
        else f"the homework item \u201c{row.title}\u201d"
    )
    if row is None and version is not None:
        raise versions.EditConflict(what, version, _removed(session, assignment_id))
    if row is None:
        raise HomeworkError(f"homework item {assignment_id} does not exist (removed meanwhile?)")
    versions.check(what, version, row.version, lambda: _stored(session, row))
    return row


def remove(session: Session, assignment_id: int, *, version: int | None = None) -> None:
    row = _own_row(session, assignment_id, version)
    if row.status != "draft":
        raise HomeworkError(f"{row.title!r} was already sent; tick it instead of removing it")
    customer_id = row.customer_id
    session.delete(row)
    session.flush()
    _renumber(_rows(session, customer_id))


def move(session: Session, assignment_id: int, delta: int, *, version: int | None = None) -> None:
    """Move an item up (delta < 0) or down in the customer's list."""
    row = _own_row(session, assignment_id, version)
    rows = _rows(session, row.customer_id)
    index = next(i for i, r in enumerate(rows) if r.id == assignment_id)
    target = max(0, min(len(rows) - 1, index + delta))
    if target == index:
        return
    rows.insert(target, rows.pop(index))
    _renumber(rows)


def edit(
    session: Session, assignment_id: int, title: str, body: str, *, version: int | None = None
) -> None:
    title = title.strip()
    if not title:
        raise HomeworkError("a homework task needs a title")
    row = _own_row(session, assignment_id, version)
    if row.title != title[:300]:
        row.title = title[:300]
    if (row.body or "") != body:
        row.body = body


def tick(
    session: Session,
    assignment_id: int,
    done: bool,
    on: dt.date | None = None,
    *,
    version: int | None = None,
) -> None:
    """Mark a sent item done (or not) by hand."""
    row = _own_row(session, assignment_id, version)
    if row.status == "draft":
        raise HomeworkError("send the homework before ticking it off")
    if done:
        row.status, row.done_on, row.verified_by = "done", on or dt.date.today(), "hand"
        row.evidence = f"ticked by {journal.user_of(session)}"
    elif row.status == "done":
        row.status, row.done_on, row.verified_by, row.evidence = "sent", None, None, None


def draft_versions(items: Iterable[AssignmentView]) -> dict[int, int]:
    """id -> version of the draft items a page shows (what `mark_sent` checks)."""
    return {i.id: i.version for i in items if i.status == "draft"}


def mark_sent(
    session: Session,
    customer_id: str,
    on: dt.date,
    check_in_on: dt.date | None = None,
    *,
    seen: Mapping[int, int] | None = None,
) -> int:
    """Every draft item becomes sent; the homework step is done on `on`. Returns the count.
    `seen`: the drafts the page showed (draft_versions); refused when they changed since."""
    user = journal.user_of(session)
    drafts = [r for r in _rows(session, customer_id) if r.status == "draft"]
    if seen is not None and dict(seen) != {r.id: r.version for r in drafts}:
        listed = "; ".join(f"{n}. {r.title}" for n, r in enumerate(drafts, start=1))
        raise HomeworkConflict(
            f"The draft homework changed after you opened it (last"
            f"{_last_change(session, customer_id) or ' meanwhile'}); it is now: "
            f"{listed or 'empty'}. Nothing was marked sent: reload, check the email, then "
            "mark it sent again."
        )
    if not drafts:
        raise HomeworkError("there is no draft homework to send")
    for row in drafts:
        row.status, row.sent_on = "sent", on
    note = f"Homework sent: {len(drafts)} task(s)"
    if check_in_on:
        note += f"; next check-in {check_in_on.isoformat()}"
    step = session.scalar(
        select(models.Step).where(
            models.Step.customer_id == customer_id, models.Step.step == "homework"
        )
    )
    if step is None:
        session.add(
            models.Step(
                customer_id=customer_id,
                step="homework",
                status="done",
                date=on,
                note=note,
                recorded_by=user,
            )
        )
    elif step.status != "done":
        step.status, step.date, step.note, step.recorded_by = "done", on, note, user
    session.flush()
    verify(session, [customer_id])
    return len(drafts)


# ------------------------------------------------------------ verification


@dataclass
class VerifyResult:
    checked: int = 0
    newly_done: list[tuple[str, str]] = field(default_factory=list)  # (customer_id, title)


def verify(
    session: Session, customer_ids: Iterable[str] | None = None, library: Library | None = None
) -> VerifyResult:
    """Check every sent task that has a condition (of `customer_ids`, or everyone's); mark
    it done when the data shows it. Usage counts only from the day the homework was sent."""
    library = library or load_library()
    stmt = select(models.HomeworkAssignment).where(models.HomeworkAssignment.status == "sent")
    if customer_ids is not None:
        ids = list(customer_ids)
        if not ids:
            return VerifyResult()
        stmt = stmt.where(models.HomeworkAssignment.customer_id.in_(ids))
    result = VerifyResult()
    facts_by_customer: dict[str, Facts] = {}
    for row in session.scalars(stmt.order_by(models.HomeworkAssignment.id)):
        task = library.get(row.task_id)
        if task is None or task.verify is None:
            continue
        if row.customer_id not in facts_by_customer:
            facts_by_customer[row.customer_id] = load_facts(session, row.customer_id)
        facts = facts_by_customer[row.customer_id].clipped(row.sent_on)
        check = evaluate(task.verify, facts)
        result.checked += 1
        if check.ok:
            row.status, row.verified_by = "done", "data"
            row.done_on = facts.as_of or row.sent_on
            row.evidence = check.evidence
            result.newly_done.append((row.customer_id, row.title))
        elif row.evidence != f"not yet: {check.evidence}":
            row.evidence = f"not yet: {check.evidence}"
    return result


def verify_customer(session: Session, customer_id: str) -> VerifyResult:
    """Check one customer's sent homework now (the page's "check now")."""
    return verify(session, [customer_id])


def verify_after_import(
    session: Session, customer_ids: Iterable[str] | None = None
) -> VerifyResult:
    """Check the sent homework of the customers an import (or a sync) touched."""
    return verify(session, customer_ids)


def completion_summary(session: Session, customer_id: str) -> HomeworkSummary:
    """Homework completion (sent and done items) for the final outreach email."""
    items = [a for a in assignments(session, customer_id) if a.status != "draft"]
    return HomeworkSummary(customer_id=customer_id, items=tuple(items))
