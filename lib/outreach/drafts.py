"""The outreach emails rendered from the audit (pure, Jinja2 templates in data/templates):
the initial one (week 1) and the final one (weeks 7-8); docs/rules.md, "Outreach emails".

Every figure comes from the report: the customer's saving is the report's combined
`est_monthly_saving_usd` (never a sum of findings), the refund its `est_refund_usd`. Prose
rounds to whole dollars; the bill table keeps cents. Nothing the team wrote for itself
(finding notes, dismissal reasons, the refund policy's reasons, step notes) is in the
context a template sees. A draft greets the customer's primary contact by first name
(else the company's team) and suggests every contact as a recipient, the primary first."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from lib import pricing, templates
from lib.audit import refunds
from lib.audit.engine import RULES_BY_ID
from lib.audit.finding import Finding
from lib.audit.thresholds import SEVERITIES
from lib.contacts.model import ContactLike, greeting_name, recipients

if TYPE_CHECKING:
    from lib.program.report import CustomerReport
    from lib.store import models

TOP_FINDINGS = 3
STILL_OPEN = 5
FINAL_WEEK, LAST_PROGRAM_WEEK = 7, 8  # the final outreach's window
PRICING_URL = "https://posthog.com/pricing"
SPIKES = refunds.SPIKE_SCENARIOS  # a one-off amount: no fix to wait for
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
    # What the owner must do before sending (shown on the page, never in the email).
    before_sending: tuple[str, ...] = ()
    # The suggested To addresses: every contact as "Name <email>", the primary first.
    recipients: tuple[str, ...] = ()


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


def _dollars(finding: Finding) -> float:
    """What a finding is worth to the customer: its monthly saving, or a one-off amount
    (a spike's excess, its refund) when that is larger."""
    return max(finding.est_monthly_saving_usd, finding.est_refund_usd, finding.one_off_usd)


def top_findings(findings: Sequence[Finding], n: int = TOP_FINDINGS) -> list[Finding]:
    """The open findings with the most dollars (then the most severe), at most `n`."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    open_findings = [f for f in findings if f.state == "open"]
    return sorted(
        open_findings,
        key=lambda f: (-round(_dollars(f), 2), rank.get(f.severity, 9)),
    )[:n]


def _has_dollars(amount: float) -> bool:
    return pricing.usd(amount) >= 1.0


def _finding_view(finding: Finding, alone: bool = False) -> dict[str, Any]:
    """What a template may say about a finding: the rule's words and the numbers the data
    shows (never the finding's note: that is the team's)."""
    return {
        "rule": finding.rule,
        "title": finding.title,
        "evidence": templates.whole_dollars(finding.evidence),
        "fix": finding.fix,
        "effort": finding.effort,
        "docs_url": finding.docs_url,
        "saving": finding.est_monthly_saving_usd,
        "has_saving": finding.is_money and _has_dollars(finding.est_monthly_saving_usd),
        "alone": alone,
    }


def _bill_context(bill_now: float, saving: float, money: Sequence[Finding]) -> dict[str, Any]:
    """The bill now, the combined saving (the report's) and the bill after it; `money`: the
    open findings with a saving (they overlap when their savings alone add up to more)."""
    saving = min(max(saving, 0.0), bill_now)
    return {
        "overlap": _has_dollars(saving)
        and sum(f.est_monthly_saving_usd for f in money) - saving >= 1.0,
        "bill_now": bill_now,
        "free_tier": pricing.usd(bill_now) == 0.0,
        "saving": saving,
        "bill_after": bill_now - saving,
        "free_after": pricing.usd(bill_now - saving) == 0.0,
        "has_saving": _has_dollars(saving),
    }


def _refund_context(customer_report: CustomerReport) -> dict[str, Any]:
    eligible = [
        f
        for f in customer_report.findings
        if f.state == "open" and f.refund_eligible and f.refund and f.est_refund_usd > 0
    ]
    # the report's refundable total (lib.audit.totals), never a sum of the findings
    total = pricing.usd(customer_report.est_refund_usd) if eligible else 0.0
    if not _has_dollars(total):
        eligible, total = [], 0.0
    approval = bool(eligible) and (
        any(f.refund is not None and f.refund.needs_approval for f in eligible)
        or total > refunds.policy().approval_above_usd
    )
    return {
        "refunds": [
            {"title": f.title, "spike": f.refund is not None and f.refund.scenario in SPIKES}
            for f in eligible
        ],
        "refund_total": total,
        "refund_needs_approval": approval,
        "refund_after_fix": len(
            [f for f in eligible if f.refund is not None and f.refund.scenario not in SPIKES]
        ),
    }


def initial(
    customer_report: CustomerReport,
    as_of: dt.date,
    sender: str,
    contacts: Sequence[ContactLike] = (),
) -> Draft:
    """The week-1 email: the team's position on price, observations with numbers, the
    combined saving and the bill after it, a refund, a call invitation. `contacts`: the
    customer's people (the primary one is greeted by first name)."""
    customer = customer_report.customer
    open_findings = [f for f in customer_report.findings if f.state == "open"]
    top = top_findings(open_findings)
    money = [f for f in open_findings if f.is_money and _has_dollars(f.est_monthly_saving_usd)]
    several = len(money) > 1
    bill = _bill_context(
        customer_report.projected_monthly_bill_usd, customer_report.est_monthly_saving_usd, money
    )
    refund = _refund_context(customer_report)
    context = {
        "customer_name": customer.name,
        "contact_name": greeting_name(contacts),
        "sender": sender,
        "pricing_url": PRICING_URL,
        "findings": [_finding_view(f, alone=several) for f in top],
        "more": len(open_findings) - len(top),
        "more_money": len([f for f in money if f not in top]),
        **bill,
        **refund,
        "as_of": as_of,
    }
    markdown, text = _render("outreach_initial", context)
    if bill["has_saving"]:
        changes = "a change" if len(money) == 1 else f"{len(money)} changes"
        subject = (
            f"{customer.name} + PostHog: {changes} that could save "
            f"about {templates.dollars(bill['saving'])} a month"
        )
    elif top:
        subject = f"{customer.name} + PostHog: a few things we noticed in your setup"
    else:
        subject = f"{customer.name} + PostHog: your account review"
    before: tuple[str, ...] = ()
    if refund["refund_needs_approval"]:
        before = (
            "This draft tells the customer you have asked our billing team to review a refund "
            f"of about {templates.dollars(refund['refund_total'])}: propose the refund for "
            "revenue operations to approve before you send it.",
        )
    return Draft(
        subject=subject,
        markdown=markdown,
        text=text,
        before_sending=before,
        recipients=tuple(recipients(contacts)),
    )


def position(customer_report: CustomerReport) -> str:
    """Where the customer is, for the final email's opening: "first_weeks" (weeks 7-8 of
    an active customer), "early" (before week 7), "late" (past week 8 or past the final
    window), "paused" or "churned"."""
    status = customer_report.customer.status
    program = customer_report.timeline
    if status == "churned" or program.program_status == "churned":
        return "churned"
    if status == "paused":
        return "paused"
    if program.program_status == "overdue" or program.program_week > LAST_PROGRAM_WEEK:
        return "late"
    return "first_weeks" if program.program_week >= FINAL_WEEK else "early"


def _fixed(
    now: Sequence[Finding],
    then: Sequence[Finding],
    decided: Mapping[str, models.FindingState],
) -> list[dict[str, Any]]:
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
            saving = row.est_monthly_saving_usd or 0.0
            fixed.append(
                {
                    "rule": rule,
                    "title": spec.title,
                    "evidence": "",
                    "fix": spec.fix,
                    "effort": spec.effort,
                    "docs_url": spec.docs_url,
                    "saving": saving,
                    "has_saving": spec.money and _has_dollars(saving),
                    "alone": False,
                    "how": "fixed",
                }
            )
    return fixed


def final(
    customer_report: CustomerReport,
    now: Sequence[Finding],
    then: Sequence[Finding],
    decided: Mapping[str, models.FindingState],
    homework_section: HomeworkLines | None,
    as_of: dt.date,
    sender: str,
    contacts: Sequence[ContactLike] = (),
) -> Draft:
    """The weeks 7-8 email: the audit re-run, what is fixed and what is still open, the
    bill with the open fixes in (the report's combined saving), homework, help.

    `now` / `then`: every finding (states applied) as of `as_of` and as of the day
    the first audit went out; `decided`: the team's decisions per rule; `contacts`: the
    customer's people (the primary one is greeted by first name).
    """
    customer = customer_report.customer
    open_now = [f for f in now if f.state == "open"]
    money = [f for f in open_now if f.is_money and _has_dollars(f.est_monthly_saving_usd)]
    shown = top_findings(open_now, n=STILL_OPEN)
    context = {
        "customer_name": customer.name,
        "contact_name": greeting_name(contacts),
        "sender": sender,
        "position": position(customer_report),
        "program_week": customer_report.timeline.program_week,
        "fixed": _fixed(now, then, decided),
        "still_open": [_finding_view(f, alone=len(money) > 1) for f in shown],
        "more": len(open_now) - len(shown),
        **_bill_context(
            customer_report.projected_monthly_bill_usd,
            customer_report.est_monthly_saving_usd,
            money,
        ),
        "homework_markdown": homework_section.markdown() if homework_section else "",
        "homework_text": homework_section.text() if homework_section else "",
        "help_links": [{"label": label, "url": url} for label, url in HELP_LINKS],
        "as_of": as_of,
    }
    markdown, text = _render("outreach_final", context)
    subject = f"{customer.name} + PostHog: where your setup stands"
    return Draft(
        subject=subject, markdown=markdown, text=text, recipients=tuple(recipients(contacts))
    )
