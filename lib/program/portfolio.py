"""Every customer in one table: the facts the Customers page shows and filters on, and its
filters as a URL (a bookmarkable view: docs/rules.md, "The Customers table") (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from lib.program import timeline
from lib.program.report import CustomerReport

PROGRAM_WEEKS = 8
SETTLED = frozenset({"done", "skipped"})

# The health score's bands (0-10, lib/audit/health.py): at least HEALTHY, at least WATCH.
HEALTH_BANDS: tuple[str, ...] = ("healthy", "watch", "at_risk")
HEALTHY, WATCH = 7.0, 4.0


def health_band(score: float | None) -> str | None:
    """ "healthy" (7-10), "watch" (4 to under 7), "at_risk" (under 4); None: not scored."""
    if score is None:
        return None
    return "healthy" if score >= HEALTHY else "watch" if score >= WATCH else "at_risk"


@dataclass(frozen=True)
class Row:
    customer_id: str
    name: str
    owner: str | None
    plan: str | None
    customer_status: str
    program_status: str
    program_week: int
    segment_entered_on: dt.date
    next_step: str | None
    next_status: str | None
    due_on: dt.date | None
    steps_settled: int  # done or skipped, of 5
    findings: int
    projected_monthly_bill_usd: float
    est_monthly_saving_usd: float
    mrr_usd: float | None
    stage: str = "new_account"  # the engagement pipeline (lib.program.stage)
    last_customer_reply_on: dt.date | None = None
    health: float | None = None  # the 0-10 score (lib.audit.health), None: not scored
    version: int = 1  # the customer's (lib.store.versions), as the table read it

    @property
    def health_band(self) -> str | None:
        return health_band(self.health)

    @property
    def overdue(self) -> bool:
        """The next action is overdue (a step past its window, a call past its day)."""
        return self.next_status == "overdue"

    @property
    def next_action(self) -> str:
        """E.g. "First call (overdue)"; empty when nothing is due."""
        if self.next_step is None:
            return ""
        return f"{timeline.STEP_LABELS[self.next_step]} ({self.next_status})"


def row_of(report: CustomerReport, health: float | None = None) -> Row:
    customer = report.customer
    line = report.timeline
    action = line.next_action
    return Row(
        customer_id=customer.customer_id,
        name=customer.name,
        owner=customer.owner,
        plan=customer.plan,
        customer_status=customer.status,
        program_status=line.program_status,
        program_week=line.program_week,
        segment_entered_on=customer.segment_entered_on,
        next_step=action.step if action else None,
        next_status=action.status if action else None,
        due_on=action.due_on if action else None,
        steps_settled=sum(1 for s in line.steps.values() if s.status in SETTLED),
        findings=len(report.findings),
        projected_monthly_bill_usd=report.projected_monthly_bill_usd,
        est_monthly_saving_usd=report.est_monthly_saving_usd,
        mrr_usd=customer.mrr_usd,
        stage=report.stage.stage,
        last_customer_reply_on=report.last_customer_reply_on,
        health=health,
        version=customer.version or 1,
    )


def rows(reports: Iterable[CustomerReport], health: Mapping[str, float] | None = None) -> list[Row]:
    """Every customer's row, by name; `health`: customer id -> score (lib.audit.health)."""
    scores = health or {}
    return sorted(
        (row_of(r, scores.get(r.customer_id)) for r in reports),
        key=lambda r: (r.name.lower(), r.customer_id),
    )


def matches(
    row: Row,
    query: str = "",
    owners: Collection[str] = (),
    program_statuses: Collection[str] = (),
    next_steps: Collection[str] = (),
    with_findings: bool = False,
    *,
    stages: Collection[str] = (),
    health: Collection[str] = (),
    overdue_only: bool = False,
) -> bool:
    """Search text (in name, id or owner, any case) and filters; an empty filter passes."""
    text = query.strip().lower()
    if text and not any(text in (v or "").lower() for v in (row.name, row.customer_id, row.owner)):
        return False
    if owners and (row.owner or "") not in owners:
        return False
    if program_statuses and row.program_status not in program_statuses:
        return False
    if next_steps and (row.next_step or "") not in next_steps:
        return False
    if stages and row.stage not in stages:
        return False
    if health and (row.health_band or "") not in health:
        return False
    if overdue_only and not row.overdue:
        return False
    return not (with_findings and row.findings == 0)


def picker_labels(
    reports: Sequence[CustomerReport], username: str, leave_out_churned: bool = False
) -> dict[str, str]:
    """customer id -> "Name (id)" for a picker: the user's own customers first, others'
    with their owner."""
    mine = [r for r in reports if r.customer.owner == username]
    others = [r for r in reports if r.customer.owner != username]
    return {
        r.customer_id: f"{r.customer.name} ({r.customer_id})"
        + ("" if r.customer.owner == username else f" · {r.customer.owner or 'no owner'}")
        for r in [*mine, *others]
        if not (leave_out_churned and r.customer.status == "churned")
    }
