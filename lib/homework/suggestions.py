"""Suggestions: library tasks ranked for one customer by its open findings, the goals
from the second call and its products; tasks already true in the data sink to the bottom."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from lib import labels
from lib.homework.conditions import Facts, evaluate
from lib.homework.library import Library, Task

SUGGESTION_LIMIT = 8
SEVERITY_POINTS: dict[str, int] = {"high": 10, "medium": 7, "low": 4}
GOAL_POINTS = 6
ANY_GOAL_POINTS = 3
PRODUCT_POINTS = 2
ALREADY_TRUE_PENALTY = 100


class FindingLike(Protocol):
    """What a suggestion reads of a finding (lib.audit.Finding has these; an optional
    `state` other than "open" leaves it out)."""

    @property
    def rule(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def severity(self) -> str: ...


class GoalLike(Protocol):
    """What a suggestion reads of a goal (lib.meetings.GoalInput, a stored goal)."""

    @property
    def name(self) -> str: ...
    @property
    def target(self) -> str | None: ...


@dataclass(frozen=True)
class Suggestion:
    task: Task
    score: int
    reasons: tuple[str, ...]
    already_true: str | None = None  # evidence, when the condition holds already


def suggest(
    library: Library,
    findings: Iterable[FindingLike],
    products: Iterable[str],
    goals: Iterable[GoalLike],
    facts: Facts | None = None,
    assigned: Iterable[str] = (),
    limit: int | None = SUGGESTION_LIMIT,
) -> list[Suggestion]:
    """Library tasks ranked for one customer, best first (ties keep the library's order).

    Tasks about a product the customer does not use are left out unless they invite
    trying it; tasks already assigned are left out.
    """
    open_findings = [f for f in findings if getattr(f, "state", "open") == "open"]
    subscribed = set(products)
    goal_list = list(goals)
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
            reasons.append(labels.uses(p for p in task.products if p in subscribed))
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
