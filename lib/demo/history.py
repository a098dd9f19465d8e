"""The program's story so far, planned (pure): when findings were first seen, which are
fixed on the first call and what that changes, and which refund a customer is offered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

from lib.audit.refunds import SPIKE_SCENARIOS

if TYPE_CHECKING:
    from lib.audit.finding import Finding
    from lib.program.report import CustomerReport

FIXED_NOTE = "Fixed together on the first call"
REFUND_NOTE = "Offered in the initial outreach"
# One refund per customer, offered to this share of those who could have one.
REFUND_CHANCE = 0.7


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
class RefundOffer:
    finding: Finding
    on: dt.date


def refund_offer(
    customer_report: CustomerReport, as_of: dt.date, rng: np.random.Generator
) -> RefundOffer | None:
    """The refund a customer is offered, if any: the largest the policy allows (a draw
    only where one is allowed, a second one for the date of a spike's refund)."""
    eligible: Sequence[Finding] = [
        f for f in customer_report.findings if f.refund is not None and f.refund.eligible
    ]
    # One refund per customer: a second would be a repeat, at half and for approval.
    if not eligible or rng.random() > REFUND_CHANCE:
        return None
    finding = max(eligible, key=lambda f: f.est_refund_usd)
    assert finding.refund is not None
    if finding.refund.scenario in SPIKE_SCENARIOS:
        on = as_of - dt.timedelta(days=int(rng.integers(1, 4)))
    else:
        on = customer_report.customer.segment_entered_on + dt.timedelta(days=5)
    return RefundOffer(finding, min(on, as_of))
