"""The outreach emails rendered from the audit (pure, Jinja2 templates in data/templates):
the initial one (week 1) and the final one (weeks 7-8); docs/rules.md, "Outreach emails"."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from lib import labels, pricing, templates
from lib.audit.engine import RULES_BY_ID
from lib.audit.finding import Finding, combined_bill
from lib.audit.thresholds import SEVERITIES

if TYPE_CHECKING:
    from lib.program.report import CustomerReport
    from lib.store import models

TOP_FINDINGS = 3
HELP_LINKS: tuple[tuple[str, str], ...] = (
    ("Docs", "https://posthog.com/docs"),
    ("Tutorials", "https://posthog.com/tutorials"),
    ("Community questions", "https://posthog.com/questions"),
    ("Support (from the app: Help > Email our support engineers)", "https://posthog.com/support"),
)


@dataclass(frozen=True)
class Draft:
    subject: str
    markdown: str
    text: str


class HomeworkLines(Protocol):
    """Homework completion for the final email (lib.homework.HomeworkSummary has these)."""

    def markdown(self) -> str: ...

    def text(self) -> str: ...


@dataclass(frozen=True)
class PlainHomework:
    """Homework completion given as ready lines (one per task)."""

    lines: tuple[str, ...]

    def markdown(self) -> str:
        return "\n".join(f"- {line}" for line in self.lines)

    def text(self) -> str:
        return "\n".join(f"  - {line}" for line in self.lines)


def _render(name: str, context: dict[str, Any]) -> tuple[str, str]:
    markdown = templates.render(f"{name}.md.j2", context)
    text = templates.render(f"{name}.txt.j2", context)
    return _tidy(markdown), _tidy(text)


def _tidy(body: str) -> str:
    """A blank line before each heading, at most one in a row, one newline at the end."""
    body = re.sub(r"([^\n])\n(#{1,6} )", r"\1\n\n\2", body)
    return re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"


def top_findings(findings: Sequence[Finding], n: int = TOP_FINDINGS) -> list[Finding]:
    """The open findings with the most dollars (then the most severe), at most `n`."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    open_findings = [f for f in findings if f.state == "open"]
    return sorted(
        open_findings,
        key=lambda f: (-round(f.est_monthly_saving_usd, 2), rank.get(f.severity, 9)),
    )[:n]


def _finding_view(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "title": finding.title,
        "evidence": finding.evidence,
        "fix": finding.fix,
        "effort": finding.effort,
        "docs_url": finding.docs_url,
        "saving": finding.est_monthly_saving_usd,
        "has_saving": pricing.usd(finding.est_monthly_saving_usd) >= 1.0,
    }


def initial(
    customer_report: CustomerReport,
    volumes: Mapping[str, float],
    products: frozenset[str],
    as_of: dt.date,
    sender: str,
) -> Draft:
    """The week-1 email: observations with numbers, savings, refunds, a call invitation.

    `volumes` / `products`: the customer's 30-day volumes and subscribed products
    (the fixes of the top findings are priced together through the tiers)."""
    customer = customer_report.customer
    top = top_findings(customer_report.findings)
    bill_now = customer_report.projected_monthly_bill_usd
    bill_after = combined_bill(volumes, products, [f for f in top if f.is_money])
    saving = max(bill_now - bill_after, 0.0)
    refunds: list[dict[str, Any]] = [
        {
            "title": f.title,
            "amount": f.est_refund_usd,
            "scenario": f.refund.scenario if f.refund else "",
            "spike": f.rule == "usage_spike",
        }
        for f in top
        if f.refund_eligible and f.est_refund_usd > 0
    ]
    context = {
        "customer_name": customer.name,
        "sender": sender,
        "findings": [_finding_view(f) for f in top],
        "bill_now": bill_now,
        "bill_after": bill_after,
        "saving": saving,
        "has_saving": pricing.usd(saving) >= 1.0,
        "refunds": refunds,
        "refund_total": sum(r["amount"] for r in refunds),
        "as_of": as_of,
    }
    markdown, text = _render("outreach_initial", context)
    if context["has_saving"]:
        changes = len([f for f in top if f.is_money])
        subject = (
            f"{customer.name} + PostHog: {'a change' if changes == 1 else f'{changes} changes'} "
            f"that could save about {labels.money(saving, cents=False)} a month"
        )
    elif top:
        subject = f"{customer.name} + PostHog: a few things we noticed in your setup"
    else:
        subject = f"{customer.name} + PostHog: your account review"
    return Draft(subject=subject, markdown=markdown, text=text)


def final(
    customer: models.Customer,
    now: Sequence[Finding],
    then: Sequence[Finding],
    decided: Mapping[str, models.FindingState],
    bill_now: float,
    homework_section: HomeworkLines | None,
    as_of: dt.date,
    sender: str,
) -> Draft:
    """The weeks 7-8 email: the audit re-run, what is fixed and what is still open.

    `now` / `then`: every finding (states applied) as of `as_of` and as of the day
    the first audit went out; `decided`: the team's decisions per rule.
    """
    current = {f.rule: f for f in now}
    fixed: list[dict[str, Any]] = []
    seen: set[str] = set()
    for finding in then:
        if finding.rule not in current:
            fixed.append({**_finding_view(finding), "how": "no longer shows in your data"})
            seen.add(finding.rule)
    for finding in now:
        if finding.state == "fixed":
            fixed.append({**_finding_view(finding), "how": "fixed; the data is catching up"})
            seen.add(finding.rule)
    for rule, row in decided.items():
        if row.state == "fixed" and rule not in seen and rule not in current:
            spec = RULES_BY_ID.get(rule)
            if spec is None:
                continue
            fixed.append(
                {
                    "rule": rule,
                    "title": spec.title,
                    "evidence": "",
                    "fix": spec.fix,
                    "effort": spec.effort,
                    "docs_url": spec.docs_url,
                    "saving": row.est_monthly_saving_usd or 0.0,
                    "has_saving": pricing.usd(row.est_monthly_saving_usd or 0.0) >= 1.0,
                    "how": "fixed",
                }
            )
    still_open = [_finding_view(f) for f in top_findings(now, n=5)]
    context = {
        "customer_name": customer.name,
        "sender": sender,
        "fixed": fixed,
        "fixed_saving": sum(f["saving"] for f in fixed),
        "still_open": still_open,
        "bill_now": bill_now,
        "homework_markdown": homework_section.markdown() if homework_section else "",
        "homework_text": homework_section.text() if homework_section else "",
        "help_links": [{"label": label, "url": url} for label, url in HELP_LINKS],
        "as_of": as_of,
    }
    markdown, text = _render("outreach_final", context)
    subject = f"{customer.name} + PostHog: where your setup stands"
    return Draft(subject=subject, markdown=markdown, text=text)
