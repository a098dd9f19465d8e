"""Outreach email drafts from the audit: the initial one (week 1) and the final one (weeks 7-8).

Both come as a `Draft(subject, markdown, text)` rendered from Jinja2 templates
in data/templates (outreach_initial.*.j2, outreach_final.*.j2): Markdown for
pasting into an email client that takes it, plain text for the rest. The
drafts are for the owner to read and send; the app never sends mail.

Initial: the customer's top three open findings by dollars (then severity),
each with its evidence in numbers, the fix and the effort; the projected bill
and the bill once those fixes are in (priced together through the tiered
prices); a refund offer for each finding the policy makes eligible; an
invitation to a 30-minute call.

Final: the audit re-run on as-of, compared with the audit of the day the
initial outreach went out (or the entry day): what is fixed (gone from the
data, or marked fixed) and what is still open; homework completion; where to
get help. Homework lines come from the `homework` argument, or else from
`lib.homework.completion_summary` (the homework engineer's module).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import jinja2
from sqlalchemy import Engine, select

from lib import audit, db, models, pricing, settings
from lib import findings as finding_states
from lib.audit import Finding

TEMPLATES_DIR = settings.DATA_DIR / "templates"
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


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(value: Any) -> str:
    """Escape text from the data (names) so Markdown shows it as written."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=False,  # Markdown and plain text, never rendered as HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md
    env.filters["usd"] = lambda amount: f"${pricing.usd(float(amount)):,.2f}"
    return env


def _render(name: str, context: dict[str, Any]) -> tuple[str, str]:
    env = _environment()
    markdown = env.get_template(f"{name}.md.j2").render(**context)
    text = env.get_template(f"{name}.txt.j2").render(**context)
    return _tidy(markdown), _tidy(text)


def _tidy(body: str) -> str:
    """A blank line before each heading, at most one in a row, one newline at the end."""
    body = re.sub(r"([^\n])\n(#{1,6} )", r"\1\n\n\2", body)
    return re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"


def _customer(engine: Engine, customer_id: str) -> models.Customer:
    with db.read_session(engine) as session:
        customer = session.get(models.Customer, customer_id)
    if customer is None:
        raise LookupError(f"no such customer {customer_id!r}")
    return customer


def _report(engine: Engine, customer_id: str, as_of: dt.date) -> Any:
    from lib import report

    found = report.build(engine, as_of, customer_id)
    if not found:
        raise LookupError(f"no such customer {customer_id!r}")
    return found[0]


def _volumes_and_products(
    engine: Engine, customer_id: str, as_of: dt.date
) -> tuple[dict[str, float], frozenset[str]]:
    from lib import report

    with db.read_session(engine) as session:
        data = report.load_customer_data(session, as_of, customer_id)
    volumes = data.usage.customer(customer_id)["last_30"]
    products = frozenset(data.subscriptions.get(customer_id, {}))
    return volumes, products


def top_findings(findings: Sequence[Finding], n: int = TOP_FINDINGS) -> list[Finding]:
    """The open findings with the most dollars (then the most severe), at most `n`."""
    rank = {s: i for i, s in enumerate(audit.SEVERITIES)}
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


def initial_draft(engine: Engine, customer_id: str, as_of: dt.date, sender: str) -> Draft:
    """The week-1 email: observations with numbers, savings, refunds, a call invitation."""
    customer_report = _report(engine, customer_id, as_of)
    customer: models.Customer = customer_report.customer
    top = top_findings(customer_report.findings)
    volumes, products = _volumes_and_products(engine, customer_id, as_of)
    bill_now = customer_report.projected_monthly_bill_usd
    bill_after = audit.combined_bill(volumes, products, [f for f in top if f.is_money])
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
            f"that could save about ${pricing.usd(saving):,.0f} a month"
        )
    elif top:
        subject = f"{customer.name} + PostHog: a few things we noticed in your setup"
    else:
        subject = f"{customer.name} + PostHog: your account review"
    return Draft(subject=subject, markdown=markdown, text=text)


def _initial_audit_day(engine: Engine, customer: models.Customer) -> dt.date:
    """The day the first audit went out (initial outreach sent), else the entry day."""
    with db.read_session(engine) as session:
        sent = session.scalar(
            select(models.Step.date).where(
                models.Step.customer_id == customer.customer_id,
                models.Step.step == "initial_outreach",
                models.Step.status == "done",
            )
        )
    return sent or customer.segment_entered_on


def final_draft(
    engine: Engine,
    customer_id: str,
    as_of: dt.date,
    sender: str,
    homework: HomeworkLines | Sequence[str] | None = None,
) -> Draft:
    """The weeks 7-8 email: the audit re-run, what is fixed and what is still open.

    `homework`: homework completion lines for the email: an object with
    markdown()/text() (lib.homework.HomeworkSummary) or plain lines. None asks
    lib.homework.completion_summary; an empty list leaves the section out.
    """
    customer = _customer(engine, customer_id)
    now = audit.for_customer(engine, customer_id, as_of, include_closed=True)
    then_day = min(_initial_audit_day(engine, customer), as_of)
    then = audit.for_customer(engine, customer_id, then_day, include_closed=True)
    with db.read_session(engine) as session:
        decided = finding_states.states(session, customer_id)
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
            spec = audit.RULES_BY_ID.get(rule)
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
    customer_report = _report(engine, customer_id, as_of)
    homework_section = _homework(engine, customer_id, homework)
    context = {
        "customer_name": customer.name,
        "sender": sender,
        "fixed": fixed,
        "fixed_saving": sum(f["saving"] for f in fixed),
        "still_open": still_open,
        "bill_now": customer_report.projected_monthly_bill_usd,
        "homework_markdown": homework_section.markdown() if homework_section else "",
        "homework_text": homework_section.text() if homework_section else "",
        "help_links": [{"label": label, "url": url} for label, url in HELP_LINKS],
        "as_of": as_of,
    }
    markdown, text = _render("outreach_final", context)
    subject = f"{customer.name} + PostHog: where your setup stands"
    return Draft(subject=subject, markdown=markdown, text=text)


def _homework(
    engine: Engine, customer_id: str, homework: HomeworkLines | Sequence[str] | None
) -> HomeworkLines | None:
    if homework is None:
        try:
            from lib import homework as homework_module
        except ImportError:  # the homework module is not part of every install
            return None
        summary = getattr(homework_module, "completion_summary", None)
        if summary is None:
            return None
        with db.read_session(engine) as session:
            found: HomeworkLines = summary(session, customer_id)
        return found
    if isinstance(homework, str):
        return PlainHomework((homework,))
    if isinstance(homework, Sequence):
        return PlainHomework(tuple(str(line) for line in homework)) if homework else None
    return homework
