"""The agenda a new call is prefilled with: the customer's open findings, or their goals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lib.labels import money
from lib.meetings.model import GoalInput

MAX_AGENDA_FINDINGS = 5
SEVERITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}


def agenda_from_findings(
    findings: Iterable[Any], kind: str = "first", goals: Iterable[GoalInput] = ()
) -> str:
    """A Markdown agenda from the customer's open findings (most severe, then costliest first).

    `findings` are lib.audit.Finding objects (or anything with rule, title,
    severity, state, fix and est_monthly_saving_usd).
    """
    open_findings = [f for f in findings if getattr(f, "state", "open") == "open"]
    open_findings.sort(
        key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), -float(f.est_monthly_saving_usd or 0))
    )
    lines: list[str] = []
    if kind == "second":
        lines.append("1. Your business goals and the KPIs that show them")
        goal_list = list(goals)
        for goal in goal_list:
            lines.append(f"   - {goal.line()}")
        lines.append("2. How to track them in PostHog (dashboards, funnels, retention)")
        if open_findings:
            lines.append("3. Open points from the audit:")
            for f in open_findings[:MAX_AGENDA_FINDINGS]:
                lines.append(f"   - {f.title}")
        return "\n".join(lines)
    lines.append("Hands-on fixes from the account audit:")
    for number, f in enumerate(open_findings[:MAX_AGENDA_FINDINGS], start=1):
        saving = float(f.est_monthly_saving_usd or 0)
        about = f" (about {money(saving, cents=False)}/month)" if saving >= 1 else ""
        lines.append(f"{number}. {f.title}{about}: {f.fix}")
    if len(open_findings) > MAX_AGENDA_FINDINGS:
        lines.append(f"- and {len(open_findings) - MAX_AGENDA_FINDINGS} smaller points")
    if not open_findings:
        lines.append("1. Walk through the setup together; the audit found nothing open")
    lines.append("")
    lines.append("Questions, and whether a second call on your goals would help.")
    return "\n".join(lines)
