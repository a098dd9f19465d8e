"""A customer's money in one figure: every open fix applied together through the tiers
(never above the bill, never the sum of overlapping findings), the one-off refundable
total apart, and which findings overlap. Hand calculations through the tiers of
data/pricing.toml, one row per case."""

from __future__ import annotations

import pytest

from lib import audit
from lib.audit import AuditData, Finding
from lib.audit.totals import money_totals, overlaps

ANALYTICS = frozenset({"product_analytics"})
FLAGS = frozenset({"product_analytics", "feature_flags"})


def finding(rule: str, saving: float = 0.0, **changes: float) -> Finding:
    return Finding(
        rule=rule,
        title=rule,
        severity="medium",
        evidence="",
        fix="",
        effort="",
        docs_url="https://posthog.com/docs",
        est_monthly_saving_usd=saving,
        volume_changes=dict(changes),
    )


def test_identify_overcalled_and_anonymous_profiles_priced_together() -> None:
    # 6M events, 5.8M of them identified. Fixing identify() removes 1M identified events;
    # identified_only moves 4M identified events to anonymous.
    data = AuditData.single(last_30={"events": 6e6, "identified_events": 5.8e6}, products=ANALYTICS)
    identify = finding(
        "identify_overcalled", events=-1e6, identified_events=-1e6, identify_events=-1e6
    )
    profiles = finding("anonymous_person_profiles", identified_events=-4e6)
    (totals,) = money_totals(data, {"c1": [identify, profiles]}).values()
    # Now: anonymous 0.2M (free); identified 5.8M = 1M free + 1M x 0.000248
    #   + 3.8M x 0.000104 = 248 + 395.20 = 643.20.
    # Together: events 5M, identified 0.8M (free), anonymous 4.2M = 1M free
    #   + 1M x 0.00005 + 2.2M x 0.0000343 = 50 + 75.46 = 125.46.
    assert totals.monthly_saving == pytest.approx(643.20 - 125.46)
    # Alone they save 104.00 and 319.34: together more (the tiers), so no overlap.
    volumes = {"events": 6e6, "identified_events": 5.8e6}
    assert overlaps([identify, profiles], volumes, ANALYTICS) == {}


def test_flag_polling_and_requests_per_session_priced_together() -> None:
    # 3M flag requests, 2M of them local evaluation polled every 30 s; 10k sessions.
    data = AuditData.single(
        last_30={"events": 1e5, "sessions": 1e4, "flag_requests": 3e6, "local_eval_requests": 2e6},
        products=FLAGS,
        config={"flags_local_evaluation": "true", "flags_poll_interval_s": "30"},
    )
    found = audit.run(data)["c1"]
    rules = {f.rule: f for f in found}
    polling, per_session = rules["flag_local_eval_polling"], rules["flag_requests_per_session"]
    # Now: 3M requests = 1M free + 1M x 0.0001 + 1M x 0.000045 = 100 + 45 = 145.00.
    # Polling every 5 min keeps 10% of the local ones: -1.8M -> 1.2M = 20.00; saves 125.00.
    assert polling.est_monthly_saving_usd == pytest.approx(125.0)
    # 3 client requests a session: 1M client -> 30k, -0.97M -> 2.03M = 101.35; saves 43.65.
    assert per_session.est_monthly_saving_usd == pytest.approx(43.65)
    # Together: 3M - 1.8M - 0.97M = 0.23M, inside the free million: the whole 145.00,
    # less than 125.00 + 43.65 = 168.65, and never above the bill.
    (totals,) = money_totals(data, {"c1": found}).values()
    assert totals.monthly_saving == pytest.approx(145.0)
    volumes = {"events": 1e5, "flag_requests": 3e6, "local_eval_requests": 2e6}
    assert overlaps(found, volumes, FLAGS) == {
        "flag_local_eval_polling": ("flag_requests_per_session",),
        "flag_requests_per_session": ("flag_local_eval_polling",),
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ([], 0.0),  # nothing to fix, nothing saved
        ([{"events": -2e5}], 0.0),  # anonymous events inside the free tier before and after
        ([{"identified_events": -5.8e6}], 643.20 - 187.20),  # anonymous now: 50 + 137.20
        ([{"events": -6e6, "identified_events": -5.8e6}], 643.20),  # everything: the bill
        ([{"events": -6e6, "identified_events": -5.8e6}] * 2, 643.20),  # twice: still the bill
    ],
)
def test_the_combined_saving_never_exceeds_the_bill(
    changes: list[dict[str, float]], expected: float
) -> None:
    data = AuditData.single(last_30={"events": 6e6, "identified_events": 5.8e6}, products=ANALYTICS)
    found = [finding(f"f{i}", **c) for i, c in enumerate(changes)]
    (totals,) = money_totals(data, {"c1": found}).values()
    assert totals.monthly_saving == pytest.approx(expected)
    assert totals.monthly_saving <= data.bill_now["total"]["c1"] + 1e-9


def test_a_spike_is_a_one_off_never_a_monthly_saving() -> None:
    # 30 days of 20M events against a steady 2M a month: a spike, over and limited.
    data = AuditData.single(
        last_30={"events": 2e7},
        prior_90={"events": 6e6},
        last_3={"events": 2e5},
        limits={"product_analytics": 500.0},
    )
    (spike,) = [f for f in audit.run(data)["c1"] if f.rule == "usage_spike"]
    assert spike.est_monthly_saving_usd == 0.0
    assert spike.one_off_usd > 0 and spike.refund_eligible
    assert spike.est_refund_usd == pytest.approx(spike.one_off_usd)
    (totals,) = money_totals(data, {"c1": [spike]}).values()
    assert totals.monthly_saving == 0.0
    assert totals.refundable == pytest.approx(spike.est_refund_usd)
