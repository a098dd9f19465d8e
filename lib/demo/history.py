"""The program's story so far, planned (pure): when findings were first seen, which are
fixed on the first call and what that changes, and which refunds a customer had."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

import numpy as np

from lib import pricing
from lib.audit import refunds
from lib.audit.refunds import SPIKE_SCENARIOS

if TYPE_CHECKING:
    from lib.audit.finding import Finding
    from lib.program.report import CustomerReport

FIXED_NOTE = "Fixed together on the first call"
REFUND_NOTE = "Offered in the initial outreach"
LEARNING_CURVE_NOTE = "Learning curve: part of the first bill"
SPIKE_NOTE = "Spike refund: the spike is over and a billing limit is set"
# Who takes a refund the policy allows: a wrong-setup refund offered in the initial
# outreach, a spike refund once it is over. A first-bill customer asks for a
# learning-curve refund of the first bill (more often after a wrong-setup one).
WRONG_SETUP_CHANCE = 0.45
SPIKE_CHANCE = 0.8
LEARNING_CURVE_CHANCE = (0.05, 0.3)  # (without, with) a wrong-setup refund before
# Revenue operations decide on a refund waiting for approval within this many days.
APPROVAL_DAYS = 10


# What fixing a finding on the first call changes in the data from that day on:
# usage metrics scaled (0 = the rows go), config values set, products removed.
@dataclass(frozen=True)
class FixOnCall:
    usage: tuple[tuple[str, float], ...] = ()
    config: tuple[tuple[str, str], ...] = ()
    drop_products: tuple[str, ...] = ()


FIXES_ON_CALL: dict[str, FixOnCall] = {
    "identify_overcalled": FixOnCall(usage=(("identify_events", 0.12),)),
    "groupidentify_overcalled": FixOnCall(usage=(("groupidentify_events", 0.1),)),
    "anonymous_person_profiles": FixOnCall(
        usage=(("identified_events", 0.35),), config=(("person_profiles", "identified_only"),)
    ),
    "autocapture_unused": FixOnCall(usage=(("autocapture_events", 0.2),)),
    "replay_short_recordings": FixOnCall(
        usage=(("short_recordings", 0.15), ("recordings", 0.45)),
        config=(("replay_min_duration_s", "2"),),
    ),
    "dev_traffic": FixOnCall(usage=(("dev_events", 0.0),)),
    "flag_local_eval_polling": FixOnCall(
        usage=(("local_eval_requests", 0.1),), config=(("flags_poll_interval_s", "300"),)
    ),
    "identity_merge_errors": FixOnCall(usage=(("merge_warnings", 0.0),)),
    "outdated_sdk": FixOnCall(config=(("sdk_version_age_days", "5"),)),
    "unused_group_analytics": FixOnCall(drop_products=("group_analytics",)),
    "unused_data_pipelines": FixOnCall(drop_products=("data_pipelines",)),
}

StepRecord = tuple[str, dt.date]  # (status, date) of a recorded step


class FindingRow(Protocol):
    """A recorded finding state, as far as the plan reads it."""

    @property
    def rule(self) -> str: ...

    @property
    def est_monthly_saving_usd(self) -> float | None: ...


Row = TypeVar("Row", bound=FindingRow)


def first_seen(outreach: StepRecord | None, entered: dt.date, as_of: dt.date) -> dt.date:
    """Findings are first seen on the initial outreach (two days after entry without one)."""
    seen = outreach[1] if outreach and outreach[0] == "done" else None
    return min(seen or entered + dt.timedelta(days=2), as_of)


def held_call_on(call: StepRecord | None, as_of: dt.date) -> dt.date | None:
    """The day the first call was held, before as-of; None when it was not."""
    if not call or call[0] != "done" or call[1] >= as_of:
        return None
    return call[1]


def fixed_on_call(states: Iterable[Row], rng: np.random.Generator) -> list[Row]:
    """Up to two findings fixed on a held call, the largest savings first (one draw)."""
    fixable = sorted(
        (s for s in states if s.rule in FIXES_ON_CALL),
        key=lambda s: -(s.est_monthly_saving_usd or 0.0),
    )
    return fixable[: int(rng.integers(0, 3))]


@dataclass(frozen=True)
class PlannedRefund:
    """A refund of the story, as `lib.refunds.store.record` takes it."""

    customer_id: str
    scenario: str
    rule: str | None
    on: dt.date
    billing_month: dt.date
    amount_usd: float
    per_product: dict[str, float]
    occurrence: int  # 1 = the customer's first refund
    note: str
    status: str | None  # None: as the policy says (issued, or waiting for approval)


def plan_refunds(
    reports: Iterable[CustomerReport],
    outreach_on: Mapping[str, dt.date],
    as_of: dt.date,
    rng: np.random.Generator,
) -> list[PlannedRefund]:
    """Each customer's refunds so far, oldest first (see _one_customer)."""
    planned: list[PlannedRefund] = []
    for customer_report in reports:
        planned += _one_customer(
            customer_report, outreach_on.get(customer_report.customer_id), as_of, rng
        )
    return planned


class _Asked(NamedTuple):
    on: dt.date
    scenario: str
    rule: str | None
    full: dict[str, float]  # per product, before any repeat share
    note: str
    billing_month: dt.date


def _one_customer(
    customer_report: CustomerReport,
    outreach: dt.date | None,
    as_of: dt.date,
    rng: np.random.Generator,
) -> list[PlannedRefund]:
    """A wrong-setup refund offered in the initial outreach, a learning-curve refund of
    the first bill, a spike refund once the spike is over and a limit set: each by
    chance; in date order at full, at the repeat share (a second), or not at all (a third)."""
    customer = customer_report.customer
    # Six draws for every customer, whatever it has: one customer's findings changing
    # leaves the others' story as it was.
    chance = rng.random(3)
    share, learning_day, spike_day = rng.uniform(0.25, 0.5), rng.integers(2, 16), rng.integers(1, 4)
    asked: list[_Asked] = []
    wrong_setup = _best(customer_report, lambda s: s == "wrong_setup")
    if wrong_setup is not None and outreach is not None and chance[0] < WRONG_SETUP_CHANCE:
        asked.append(_Asked(outreach, *_full(wrong_setup), REFUND_NOTE, outreach.replace(day=1)))
    # The first bill: the month of entry, billed on the first day of the next month.
    first_month = customer.segment_entered_on.replace(day=1)
    learning_on = _billed_on(first_month) + dt.timedelta(days=int(learning_day))
    if (
        customer.entry_reason == "first_bill_projected"
        and learning_on < as_of
        and customer_report.bill_lines
        and chance[1] < LEARNING_CURVE_CHANCE[1 if asked else 0]
    ):
        # A quarter to a half of the bill, per product.
        by_product = pricing.billed_by_product(customer_report.bill_lines)
        full = {p: v * share for p, v in by_product.items() if v > 0}
        asked.append(
            _Asked(learning_on, "learning_curve", None, full, LEARNING_CURVE_NOTE, first_month)
        )
    spike = _best(customer_report, lambda s: s in SPIKE_SCENARIOS)
    if spike is not None and spike.refund is not None and chance[2] < SPIKE_CHANCE:
        month = spike.refund.billing_month or as_of.replace(day=1)
        on = max(as_of - dt.timedelta(days=int(spike_day)), month, customer.segment_entered_on)
        asked.append(_Asked(on, *_full(spike), SPIKE_NOTE, month))
    planned = []
    first = _occurrence(customer_report)
    for position, refund in enumerate(sorted(asked, key=lambda a: a.on)):
        occurrence = first + position
        repeat_share = refunds.repeat_share(occurrence)
        if repeat_share == 0.0:  # a third refund: usually declined, not offered
            break
        per_product = {p: pricing.usd(v * repeat_share) for p, v in refund.full.items()}
        amount = sum(per_product.values())
        decided = refund.on < as_of - dt.timedelta(days=APPROVAL_DAYS)
        planned.append(
            PlannedRefund(
                customer_id=customer.customer_id,
                scenario=refund.scenario,
                rule=refund.rule,
                on=refund.on,
                billing_month=refund.billing_month,
                amount_usd=amount,
                per_product=per_product,
                occurrence=occurrence,
                note=refund.note,
                # Approved by now (an older one), or as the policy says.
                status="issued" if decided and refunds.needs_approval(amount, occurrence) else None,
            )
        )
    return planned


def _best(customer_report: CustomerReport, scenario: Callable[[str], bool]) -> Finding | None:
    """The open finding with the largest refund the policy allows in a scenario."""
    eligible = [
        f
        for f in customer_report.findings
        if f.refund is not None and f.refund.eligible and scenario(f.refund.scenario)
    ]
    return max(eligible, key=lambda f: f.est_refund_usd, default=None)


def _full(finding: Finding) -> tuple[str, str, dict[str, float]]:
    """A finding's refund scenario, rule and full amount per product (before any repeat
    share the report applied for refunds recorded before)."""
    assert finding.refund is not None
    share = refunds.repeat_share(finding.refund.occurrence)
    full = {p: v / share for p, v in finding.refund.per_product.items()}
    return finding.refund.scenario, finding.rule, full


def _occurrence(customer_report: CustomerReport) -> int:
    """The number the customer's next refund has (refunds recorded before, plus one)."""
    return max((f.refund.occurrence for f in customer_report.findings if f.refund), default=1)


def _billed_on(month: dt.date) -> dt.date:
    """The day a month's usage is billed: the first day of the next month."""
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
