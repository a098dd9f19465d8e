"""The homework builder: a task library, suggestions, the follow-up email, completion.

- The library lives in data/homework_tasks.toml and is validated on load.
- A task's `verify` is a small declarative condition (TOML tables, never
  eval()) on the customer's daily usage, config and subscriptions.
- Suggestions rank library tasks for one customer by its open findings, the
  goals from the second call and its products; tasks already true in the
  data sink to the bottom.
- After sending, `verify` runs after every import (lib.importer calls
  `verify_after_import` in its write transaction): a task whose condition
  holds on data from the day it was sent on is marked done with the evidence.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lib import db, models, settings
from lib.vocabulary import CONFIG_KEYS, METRICS, PRODUCTS

LIBRARY_PATH = settings.DATA_DIR / "homework_tasks.toml"
TEMPLATES_DIR = settings.DATA_DIR / "templates"
MAX_WINDOW_DAYS = 90
SUGGESTION_LIMIT = 8
CUSTOM_TASK = "custom"

SEVERITY_POINTS: dict[str, int] = {"high": 10, "medium": 7, "low": 4}
GOAL_POINTS = 6
ANY_GOAL_POINTS = 3
PRODUCT_POINTS = 2
ALREADY_TRUE_PENALTY = 100

ASSIGNMENT_STATUSES: tuple[str, ...] = ("draft", "sent", "done")


class LibraryError(ValueError):
    """The homework library file is malformed; the message names the task and field."""


class HomeworkError(ValueError):
    """A homework action the builder refuses; the message says why."""


# ------------------------------------------------------- condition language

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_USAGE_KINDS = ("sum", "max", "ratio", "days_with")
_ALL_KINDS = (*_USAGE_KINDS, "config", "billing_limit", "subscribed", "all", "any", "not")


@dataclass(frozen=True)
class Facts:
    """What a condition can look at for one customer.

    `daily[metric][date]` holds the daily values up to `as_of` (the latest
    imported day); `since` clips usage windows to days on/after it (the day
    the homework was sent) so only behaviour after sending counts.
    """

    as_of: dt.date | None
    daily: dict[str, dict[dt.date, float]] = field(default_factory=dict)
    config: dict[str, str] = field(default_factory=dict)
    subscriptions: dict[str, float | None] = field(default_factory=dict)
    since: dt.date | None = None

    def clipped(self, since: dt.date | None) -> Facts:
        return Facts(self.as_of, self.daily, self.config, self.subscriptions, since)


@dataclass(frozen=True)
class Check:
    ok: bool
    evidence: str


def validate_condition(cond: Any, where: str = "verify") -> None:
    """Raise LibraryError if `cond` is not a well-formed condition."""
    if not isinstance(cond, dict):
        raise LibraryError(f"{where}: expected a table, got {cond!r}")
    kinds = [k for k in _ALL_KINDS if k in cond]
    if len(kinds) != 1:
        raise LibraryError(
            f"{where}: expected exactly one of {', '.join(_ALL_KINDS)}, got keys {sorted(cond)}"
        )
    kind = kinds[0]
    allowed: set[str] = {kind}
    if kind in ("all", "any"):
        parts = cond[kind]
        if not isinstance(parts, list) or not parts:
            raise LibraryError(f"{where}.{kind}: expected a non-empty list of conditions")
        for i, part in enumerate(parts):
            validate_condition(part, f"{where}.{kind}[{i}]")
    elif kind == "not":
        validate_condition(cond["not"], f"{where}.not")
    elif kind in _USAGE_KINDS:
        allowed |= {"days", "op", "value"}
        names = cond[kind] if kind == "ratio" else [cond[kind]]
        if kind == "ratio":
            allowed.add("unit")
            if not (isinstance(names, list) and len(names) == 2):
                raise LibraryError(f"{where}.ratio: expected [numerator, denominator] metrics")
            if cond.get("unit", "share") not in ("share", "per"):
                raise LibraryError(f"{where}.unit: expected 'share' or 'per'")
        for name in names:
            if name not in METRICS:
                raise LibraryError(f"{where}: unknown metric {name!r}")
        days = cond.get("days")
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_WINDOW_DAYS:
            raise LibraryError(f"{where}.days: expected a whole number 1-{MAX_WINDOW_DAYS}")
        if kind == "days_with":
            allowed.add("at_least")
            at_least = cond.get("at_least")
            if not isinstance(at_least, int) or not 1 <= at_least <= days:
                raise LibraryError(f"{where}.at_least: expected a whole number 1-{days}")
        _validate_comparison(cond, where, numeric=True)
    elif kind == "config":
        allowed |= {"op", "value"}
        if cond["config"] not in CONFIG_KEYS:
            raise LibraryError(f"{where}: unknown config key {cond['config']!r}")
        _validate_comparison(cond, where, numeric=False)
    elif kind == "billing_limit":
        if cond["billing_limit"] != "any" and cond["billing_limit"] not in PRODUCTS:
            raise LibraryError(f"{where}.billing_limit: expected 'any' or a product")
    elif kind == "subscribed":
        allowed.add("value")
        if cond["subscribed"] not in PRODUCTS:
            raise LibraryError(f"{where}.subscribed: unknown product {cond['subscribed']!r}")
        if not isinstance(cond.get("value", True), bool):
            raise LibraryError(f"{where}.value: expected true or false")
    extra = set(cond) - allowed
    if extra:
        raise LibraryError(f"{where}: unexpected keys {sorted(extra)} for a {kind!r} condition")


def _validate_comparison(cond: dict[str, Any], where: str, numeric: bool) -> None:
    if cond.get("op") not in OPS:
        raise LibraryError(f"{where}.op: expected one of {' '.join(OPS)}")
    value = cond.get("value")
    if numeric and (not isinstance(value, int | float) or isinstance(value, bool)):
        raise LibraryError(f"{where}.value: expected a number")
    if not numeric and not isinstance(value, str | int | float):
        raise LibraryError(f"{where}.value: expected a string or a number")


def _number(value: float) -> str:
    if value == int(value):
        whole = int(value)
        if abs(whole) >= 1_000_000:
            return f"{whole / 1_000_000:.1f}M"
        return f"{whole:,}"
    return f"{value:.2f}"


def _window(facts: Facts, days: int) -> list[dt.date]:
    if facts.as_of is None:
        return []
    start = facts.as_of - dt.timedelta(days=days - 1)
    if facts.since is not None and facts.since > start:
        start = facts.since
    return [start + dt.timedelta(days=i) for i in range((facts.as_of - start).days + 1)]


def _span(facts: Facts, days: int, window: list[dt.date]) -> str:
    if facts.since is not None and len(window) < days:
        return f"the {len(window)} day(s) since {facts.since.isoformat()} (window {days} days)"
    return f"the {days} days to {facts.as_of.isoformat() if facts.as_of else '?'}"


def _no_data(facts: Facts) -> Check:
    if facts.as_of is None:
        return Check(False, "no usage imported yet")
    return Check(
        False,
        f"no usage since {facts.since.isoformat() if facts.since else '?'} yet "
        f"(latest imported day {facts.as_of.isoformat()})",
    )


def _config_value(raw: str) -> Any:
    try:
        return float(raw)
    except ValueError:
        return raw.strip().lower()


def evaluate(cond: dict[str, Any], facts: Facts) -> Check:
    """Evaluate a validated condition on one customer's facts."""
    if "all" in cond:
        checks = [evaluate(c, facts) for c in cond["all"]]
        return Check(all(c.ok for c in checks), "; ".join(c.evidence for c in checks))
    if "any" in cond:
        checks = [evaluate(c, facts) for c in cond["any"]]
        good = [c for c in checks if c.ok]
        return Check(bool(good), "; ".join(c.evidence for c in (good or checks)))
    if "not" in cond:
        inner = evaluate(cond["not"], facts)
        return Check(not inner.ok, f"not ({inner.evidence})")
    if "config" in cond:
        key, op, want = cond["config"], cond["op"], cond["value"]
        raw = facts.config.get(key)
        if raw is None:
            return Check(False, f"{key} is not set (needs {op} {want})")
        have, target = _config_value(raw), _config_value(str(want))
        if isinstance(have, float) != isinstance(target, float):
            return Check(False, f"{key} = {raw} (needs {op} {want})")
        return Check(OPS[op](have, target), f"{key} = {raw} (needs {op} {want})")
    if "billing_limit" in cond:
        which = cond["billing_limit"]
        limited = sorted(p for p, limit in facts.subscriptions.items() if limit is not None)
        if which == "any":
            ok = bool(limited)
            return Check(
                ok,
                f"billing limit set on {', '.join(limited)}" if ok else "no billing limit set",
            )
        ok = which in limited
        return Check(ok, f"{which}: billing limit {'set' if ok else 'not set'}")
    if "subscribed" in cond:
        product, want_on = cond["subscribed"], cond.get("value", True)
        on = product in facts.subscriptions
        return Check(on == want_on, f"{product} {'subscribed' if on else 'not subscribed'}")

    days: int = cond["days"]
    window = _window(facts, days)
    if not window:
        return _no_data(facts)
    op, target = cond["op"], float(cond["value"])
    span = _span(facts, days, window)

    def series(metric: str) -> list[float]:
        values = facts.daily.get(metric, {})
        return [values.get(day, 0.0) for day in window]

    if "sum" in cond:
        total = sum(series(cond["sum"]))
        return Check(
            OPS[op](total, target),
            f"{cond['sum']}: {_number(total)} over {span} (needs {op} {_number(target)})",
        )
    if "max" in cond:
        peak = max(series(cond["max"]))
        return Check(
            OPS[op](peak, target),
            f"{cond['max']}: at most {_number(peak)} a day over {span} "
            f"(needs {op} {_number(target)})",
        )
    if "days_with" in cond:
        metric, at_least = cond["days_with"], int(cond["at_least"])
        hits = sum(1 for v in series(metric) if OPS[op](v, target))
        return Check(
            hits >= at_least,
            f"{metric} {op} {_number(target)} on {hits} of {span} "
            f"(needs {at_least} of {days} days)",
        )
    num_name, den_name = cond["ratio"]
    num, den = sum(series(num_name)), sum(series(den_name))
    if den <= 0:
        return Check(False, f"no {den_name} over {span}")
    ratio = num / den
    if cond.get("unit", "share") == "per":
        return Check(
            OPS[op](ratio, target),
            f"{ratio:.2f} {num_name} per {den_name.rstrip('s')} over {span} "
            f"(needs {op} {target:g})",
        )
    return Check(
        OPS[op](ratio, target),
        f"{num_name} {ratio:.0%} of {_number(den)} {den_name} over {span} "
        f"(needs {op} {target:.0%})",
    )


# ------------------------------------------------------------------ library


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    why: str
    steps: tuple[str, ...]
    docs_url: str
    products: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    shows_in: str = ""
    verify: dict[str, Any] | None = None
    new_product: bool = False
    any_goal: bool = False

    def body(self) -> str:
        """The Markdown the builder starts from (the owner may reword it)."""
        lines = [self.why, ""]
        lines += [f"{n}. {step}" for n, step in enumerate(self.steps, start=1)]
        return "\n".join(lines)


@dataclass(frozen=True)
class Library:
    tasks: tuple[Task, ...]
    use_cases: dict[str, tuple[str, ...]]  # use case -> keywords matched in goals

    def get(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.id == task_id), None)

    def use_cases_of_goal(self, text: str) -> set[str]:
        lowered = text.lower()
        return {
            name
            for name, keywords in self.use_cases.items()
            if any(re.search(rf"(?<![a-z]){re.escape(k)}", lowered) for k in keywords)
        }


_TASK_FIELDS = {
    "id",
    "title",
    "why",
    "steps",
    "docs_url",
    "products",
    "use_cases",
    "findings",
    "shows_in",
    "verify",
    "new_product",
    "any_goal",
}


def parse_library(data: dict[str, Any]) -> Library:
    use_cases = data.get("use_cases", {})
    if not isinstance(use_cases, dict):
        raise LibraryError("[use_cases]: expected a table of keyword lists")
    cases = {str(k): tuple(str(w).lower() for w in v) for k, v in use_cases.items()}
    tasks: list[Task] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("task", [])):
        where = f"task {raw.get('id', f'#{i + 1}')!r}"
        extra = set(raw) - _TASK_FIELDS
        if extra:
            raise LibraryError(f"{where}: unknown fields {sorted(extra)}")
        for name in ("id", "title", "why", "docs_url"):
            if not isinstance(raw.get(name), str) or not raw[name].strip():
                raise LibraryError(f"{where}: {name} is required text")
        if raw["id"] in seen or raw["id"] == CUSTOM_TASK:
            raise LibraryError(f"{where}: duplicate or reserved id")
        seen.add(raw["id"])
        if not raw["docs_url"].startswith("https://"):
            raise LibraryError(f"{where}: docs_url must be an https:// link")
        steps = raw.get("steps", [])
        if not isinstance(steps, list) or not steps:
            raise LibraryError(f"{where}: steps must be a non-empty list")
        for product in raw.get("products", []):
            if product not in PRODUCTS:
                raise LibraryError(f"{where}: unknown product {product!r}")
        for case in raw.get("use_cases", []):
            if case not in cases:
                raise LibraryError(f"{where}: unknown use case {case!r} (add it to [use_cases])")
        if "verify" in raw:
            validate_condition(raw["verify"], f"{where}.verify")
        tasks.append(
            Task(
                id=raw["id"],
                title=raw["title"].strip(),
                why=raw["why"].strip(),
                steps=tuple(str(s) for s in steps),
                docs_url=raw["docs_url"],
                products=tuple(raw.get("products", ())),
                use_cases=tuple(raw.get("use_cases", ())),
                findings=tuple(raw.get("findings", ())),
                shows_in=str(raw.get("shows_in", "")),
                verify=raw.get("verify"),
                new_product=bool(raw.get("new_product", False)),
                any_goal=bool(raw.get("any_goal", False)),
            )
        )
    return Library(tasks=tuple(tasks), use_cases=cases)


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float) -> Library:
    with open(path, "rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise LibraryError(f"{path}: {exc}") from None
    return parse_library(data)


def load_library(path: Path | None = None) -> Library:
    """The task library (re-read when the file changes)."""
    path = path or LIBRARY_PATH
    return _load_cached(str(path), path.stat().st_mtime)


# ------------------------------------------------------------------ facts


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


# -------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class OpenFinding:
    """What suggestions need of a finding (lib.audit.Finding has these fields)."""

    rule: str
    title: str
    severity: str


@dataclass(frozen=True)
class Suggestion:
    task: Task
    score: int
    reasons: tuple[str, ...]
    already_true: str | None = None  # evidence, when the condition holds already


def suggest(
    library: Library,
    findings: Iterable[Any],
    products: Iterable[str],
    goals: Iterable[Any],
    facts: Facts | None = None,
    assigned: Iterable[str] = (),
    limit: int | None = SUGGESTION_LIMIT,
) -> list[Suggestion]:
    """Library tasks ranked for one customer.

    Points: each open finding the task fixes (by severity), each goal whose
    words match one of the task's use cases (full points when it is the
    task's first use case, half otherwise), a KPI goal for goal-generic
    tasks, and the customer paying for the task's product. Tasks about a
    product the customer does not use are left out unless they invite trying
    it; tasks already assigned are left out; tasks whose condition already
    holds go last (nothing to do). Ties keep the library's order.
    """
    open_findings = [f for f in findings if getattr(f, "state", "open") == "open"]
    subscribed = set(products)
    goal_list = [g for g in goals]
    taken = set(assigned)
    ranked: list[tuple[int, int, Suggestion]] = []
    for order, task in enumerate(library.tasks):
        if task.id in taken:
            continue
        uses_product = not task.products or bool(subscribed & set(task.products))
        if not uses_product and not task.new_product:
            continue
        score = 0
        reasons: list[str] = []
        for f in open_findings:
            if f.rule in task.findings:
                score += SEVERITY_POINTS.get(f.severity, 4)
                reasons.append(f"fixes: {f.title}")
        for goal in goal_list:
            text = f"{goal.name} {goal.target or ''}"
            matched = library.use_cases_of_goal(text) & set(task.use_cases)
            if matched:
                # A task made for that use case beats one that merely helps it.
                primary = task.use_cases[0] in matched
                score += GOAL_POINTS if primary else GOAL_POINTS // 2
                reasons.append(f"goal: {goal.name}")
            elif task.any_goal:
                score += ANY_GOAL_POINTS
                reasons.append(f"KPI: {goal.name}")
        if task.products and uses_product:
            score += PRODUCT_POINTS
            reasons.append("uses " + ", ".join(p for p in task.products if p in subscribed))
        already = None
        if facts is not None and task.verify is not None and facts.as_of is not None:
            check = evaluate(task.verify, facts)
            if check.ok:
                already = check.evidence
                score -= ALREADY_TRUE_PENALTY
        ranked.append((-score, order, Suggestion(task, score, tuple(reasons), already)))
    ranked.sort(key=lambda item: (item[0], item[1]))
    out = [s for _, _, s in ranked]
    return out[:limit] if limit is not None else out


def suggest_for(
    session: Session,
    customer_id: str,
    findings: Iterable[Any],
    library: Library | None = None,
    limit: int | None = SUGGESTION_LIMIT,
) -> list[Suggestion]:
    """`suggest` with the customer's products, goals, data and homework read from the database.

    `findings` are the customer's audit findings (the report's open ones).
    """
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


@dataclass(frozen=True)
class AssignmentView:
    id: int
    customer_id: str
    task_id: str
    title: str
    body: str
    position: int
    status: str
    sent_on: dt.date | None
    done_on: dt.date | None
    verified_by: str | None
    evidence: str | None
    docs_url: str | None
    verifiable: bool  # the library has a condition for it

    @property
    def done(self) -> bool:
        return self.status == "done"


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
    engine: Engine,
    user: str,
    customer_id: str,
    task_id: str,
    title: str | None = None,
    body: str | None = None,
    library: Library | None = None,
) -> int:
    """Add a library task (or a custom one, task_id='custom') to the draft; returns its id."""
    library = library or load_library()
    task = library.get(task_id)
    if task is None and task_id != CUSTOM_TASK:
        raise HomeworkError(f"unknown homework task {task_id!r}")
    title = (title or (task.title if task else "")).strip()
    if not title:
        raise HomeworkError("a homework task needs a title")
    with db.write_session(engine, user) as session:
        if session.get(models.Customer, customer_id) is None:
            raise HomeworkError(f"customer {customer_id!r} does not exist")
        rows = _rows(session, customer_id)
        if task is not None and any(r.task_id == task_id for r in rows):
            raise HomeworkError(f"{task.title!r} is already in this customer's homework")
        row = models.HomeworkAssignment(
            customer_id=customer_id,
            task_id=task_id,
            title=title[:300],
            body=body if body is not None else (task.body() if task else ""),
            position=len(rows),
            status="draft",
            created_by=user,
        )
        session.add(row)
        session.flush()
        return row.id


def _own_row(session: Session, assignment_id: int) -> models.HomeworkAssignment:
    row = session.get(models.HomeworkAssignment, assignment_id)
    if row is None:
        raise HomeworkError(f"homework item {assignment_id} does not exist (removed meanwhile?)")
    return row


def remove(engine: Engine, user: str, assignment_id: int) -> None:
    with db.write_session(engine, user) as session:
        row = _own_row(session, assignment_id)
        if row.status != "draft":
            raise HomeworkError(f"{row.title!r} was already sent; tick it instead of removing it")
        customer_id = row.customer_id
        session.delete(row)
        session.flush()
        _renumber(_rows(session, customer_id))


def move(engine: Engine, user: str, assignment_id: int, delta: int) -> None:
    """Move an item up (delta < 0) or down in the customer's list."""
    with db.write_session(engine, user) as session:
        row = _own_row(session, assignment_id)
        rows = _rows(session, row.customer_id)
        index = next(i for i, r in enumerate(rows) if r.id == assignment_id)
        target = max(0, min(len(rows) - 1, index + delta))
        if target == index:
            return
        rows.insert(target, rows.pop(index))
        _renumber(rows)


def edit(engine: Engine, user: str, assignment_id: int, title: str, body: str) -> None:
    title = title.strip()
    if not title:
        raise HomeworkError("a homework task needs a title")
    with db.write_session(engine, user) as session:
        row = _own_row(session, assignment_id)
        if row.title != title[:300]:
            row.title = title[:300]
        if (row.body or "") != body:
            row.body = body


def tick(
    engine: Engine, user: str, assignment_id: int, done: bool, on: dt.date | None = None
) -> None:
    """Mark a sent item done (or not) by hand."""
    with db.write_session(engine, user) as session:
        row = _own_row(session, assignment_id)
        if row.status == "draft":
            raise HomeworkError("send the homework before ticking it off")
        if done:
            row.status, row.done_on, row.verified_by = "done", on or dt.date.today(), "hand"
            row.evidence = f"ticked by {user}"
        elif row.status == "done":
            row.status, row.done_on, row.verified_by, row.evidence = "sent", None, None, None


def mark_sent(
    engine: Engine,
    user: str,
    customer_id: str,
    on: dt.date,
    check_in_on: dt.date | None = None,
) -> int:
    """Every draft item becomes sent; the homework step is done on `on`. Returns the count."""
    with db.write_session(engine, user) as session:
        drafts = [r for r in _rows(session, customer_id) if r.status == "draft"]
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
    """Check every sent task that has a condition; mark it done when the data shows it.

    Runs inside the caller's transaction (the import's, or mark_sent's).
    Usage windows count only days from the day the homework was sent.
    """
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


def verify_customer(engine: Engine, user: str, customer_id: str) -> VerifyResult:
    """Check one customer's sent homework now (the page's "check now")."""
    with db.write_session(engine, user) as session:
        return verify(session, [customer_id])


def verify_after_import(
    session: Session, customer_ids: Iterable[str] | None = None
) -> VerifyResult:
    """The hook lib.importer.import_sources calls at the end of its write transaction."""
    return verify(session, customer_ids)


# ---------------------------------------------------------------- summary


@dataclass(frozen=True)
class HomeworkSummary:
    customer_id: str
    items: tuple[AssignmentView, ...]  # sent or done, in email order

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.done)

    @property
    def done_by_data(self) -> int:
        return sum(1 for i in self.items if i.done and i.verified_by == "data")

    @property
    def sent_on(self) -> dt.date | None:
        dates = [i.sent_on for i in self.items if i.sent_on]
        return min(dates) if dates else None

    def line(self) -> str:
        if not self.items:
            return "No homework was sent."
        text = f"{self.done} of {self.total} homework task{'s' if self.total != 1 else ''} done"
        if self.done_by_data:
            text += f" ({self.done_by_data} confirmed in your data)"
        return text + "."

    def markdown(self) -> str:
        """A checklist for the final outreach email."""
        if not self.items:
            return ""
        lines = [self.line(), ""]
        for item in self.items:
            mark = "x" if item.done else " "
            lines.append(f"- [{mark}] {item.title}")
        return "\n".join(lines)

    def text(self) -> str:
        if not self.items:
            return ""
        lines = [self.line(), ""]
        for item in self.items:
            lines.append(f"  {'[done]' if item.done else '[open]'} {item.title}")
        return "\n".join(lines)


def completion_summary(session: Session, customer_id: str) -> HomeworkSummary:
    """Homework completion for the final outreach (lib.outreach.final_draft)."""
    items = [a for a in assignments(session, customer_id) if a.status != "draft"]
    return HomeworkSummary(customer_id=customer_id, items=tuple(items))


# ------------------------------------------------------------------ email


@dataclass(frozen=True)
class EmailItem:
    title: str
    body: str
    docs_url: str | None


@dataclass(frozen=True)
class Email:
    subject: str
    markdown: str
    text: str


def _environment() -> jinja2.Environment:
    # Plain text and Markdown, not HTML: nothing to escape, every variable must exist.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=False,  # Markdown and plain text, never rendered as HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def default_recap(
    meeting_kind: str | None,
    meeting_day: dt.date | None,
    fixed_titles: Sequence[str],
    goals: Sequence[Any],
) -> str:
    """A starting recap from the last held call; the owner rewrites it freely."""
    if meeting_day is None:
        return "Thanks for your time. Here is what we suggest as next steps."
    call = "second call" if meeting_kind == "second" else "call"
    lines = [f"Thanks for the {call} on {meeting_day:%A %d %B}."]
    if fixed_titles:
        lines.append("Together we fixed:")
        lines += [f"- {t}" for t in fixed_titles]
    if goals:
        lines.append("The goals you shared:")
        for goal in goals:
            target = f": {goal.target}" if goal.target else ""
            when = f" by {goal.by_when:%d %B %Y}" if goal.by_when else ""
            lines.append(f"- {goal.name}{target}{when}")
    return "\n".join(lines)


def render_email(
    customer_name: str,
    recipient_names: Sequence[str],
    sender_name: str,
    recap: str,
    items: Sequence[EmailItem],
    check_in_on: dt.date | None,
) -> Email:
    """The follow-up email from data/templates/homework_email.{md,txt}.j2."""
    env = _environment()
    context = {
        "customer_name": customer_name,
        "greeting": ", ".join(n for n in recipient_names if n) or "there",
        "sender_name": sender_name,
        "recap": recap.strip(),
        "items": list(items),
        "check_in_on": check_in_on,
        "check_in_text": f"{check_in_on:%A %d %B}" if check_in_on else None,
    }
    subject = f"Your PostHog homework, {customer_name}"
    return Email(
        subject=subject,
        markdown=env.get_template("homework_email.md.j2").render(context),
        text=env.get_template("homework_email.txt.j2").render(context),
    )


def email_items(views: Sequence[AssignmentView]) -> list[EmailItem]:
    return [EmailItem(v.title, v.body, v.docs_url) for v in views]


# ------------------------------------------------------------------- demo


def demo_assignments(
    engine: Engine, as_of: dt.date, user: str = "demo", per_customer: int = 3
) -> int:
    """Homework for demo customers whose homework step is done: their top suggestions
    (from the report's findings, their goals and products), sent on the step's day,
    then verified against the demo usage -- so some show done with evidence and
    some not yet. Returns the number of tasks. Deterministic; once only.

    Call after lib.demo.load (e.g. in `onboarding demo`).
    """
    from lib import report

    library = load_library()
    findings = {r.customer_id: list(r.findings) for r in report.build(engine, as_of)}
    with db.write_session(engine, user) as session:
        done_steps = session.execute(
            select(models.Step.customer_id, models.Step.date).where(
                models.Step.step == "homework", models.Step.status == "done"
            )
        ).all()
        have = set(session.scalars(select(models.HomeworkAssignment.customer_id).distinct()))
        count = 0
        for customer_id, sent_on in sorted(done_steps):
            if customer_id in have or sent_on > as_of:
                continue
            products = session.scalars(
                select(models.Subscription.product).where(
                    models.Subscription.customer_id == customer_id
                )
            ).all()
            goals = session.scalars(
                select(models.Goal).where(models.Goal.customer_id == customer_id)
            ).all()
            # No "already true" penalty: in the story the customer may have done it since.
            picks = suggest(
                library, findings.get(customer_id, []), products, goals, limit=per_customer
            )
            for position, pick in enumerate(picks):
                session.add(
                    models.HomeworkAssignment(
                        customer_id=customer_id,
                        task_id=pick.task.id,
                        title=pick.task.title,
                        body=pick.task.body(),
                        position=position,
                        status="sent",
                        sent_on=sent_on,
                        created_by=user,
                    )
                )
                count += 1
        session.flush()
        verify(session, library=library)
        return count
