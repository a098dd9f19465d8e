"""Each audit rule, table-driven: fires, stays quiet, at and around its threshold.

A customer is built with AuditData.single (steady usage unless a row says
otherwise); the thresholds are data/audit_thresholds.toml's unless a row
overrides one. Each row: (comment, customer, fires?).
"""

from __future__ import annotations

from typing import Any

import pytest

from lib import audit, pricing
from lib.audit import AuditData, Finding
from tests.audit_fixtures import with_values

# A mid-sized account: 4M events a month, a quarter identified, 20 events a session.
BASE: dict[str, float] = {
    "events": 4_000_000,
    "identified_events": 1_000_000,
    "sessions": 200_000,
}


def run_rule(rule: str, settings: audit.Thresholds | None = None, **customer: Any) -> list[Finding]:
    data = AuditData.single(**customer)
    return audit.run(data, settings, rules=[audit.RULES_BY_ID[rule]])["c1"]


def usage(**metrics: float) -> dict[str, float]:
    return {**BASE, **metrics}


Row = tuple[str, dict[str, Any], bool]


def check(rule: str, customer: dict[str, Any], fires: bool) -> list[Finding]:
    found = run_rule(rule, **customer)
    assert bool(found) is fires, [f.evidence for f in found]
    for finding in found:
        assert finding.rule == rule
        assert finding.severity in audit.SEVERITIES
        assert finding.evidence and any(ch.isdigit() for ch in finding.evidence)
    return found


# ------------------------------------------------------------- identify_overcalled

IDENTIFY: list[Row] = [
    # 5 per session (and 25% of events): fires
    ("five per session", {"last_30": usage(identify_events=1_000_000)}, True),
    # exactly 4 per session and exactly 5% of events: both at the threshold, quiet
    (
        "at both thresholds",
        {"last_30": usage(identify_events=200_000, sessions=50_000)},
        False,
    ),
    # just over 4 per session while only 2% of events: the per-session limit alone fires
    (
        "just over per session",
        {"last_30": usage(events=10_000_000, identify_events=200_001, sessions=50_000)},
        True,
    ),
    # 1 per session but 6% of events: the share limit alone fires
    ("share only", {"last_30": usage(identify_events=240_000, sessions=240_000)}, True),
    # 1 per session and exactly 5%: quiet
    ("share at threshold", {"last_30": usage(identify_events=200_000)}, False),
    # no identify data at all: says nothing
    ("no identify data", {"last_30": usage()}, False),
    # identify calls but no events/sessions reported: no share to judge, quiet
    ("no denominators", {"last_30": {"identify_events": 1_000}}, False),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), IDENTIFY, ids=[r[0] for r in IDENTIFY])
def test_identify_overcalled(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("identify_overcalled", customer, fires)


# -------------------------------------------------------- groupidentify_overcalled

GROUPIDENTIFY: list[Row] = [
    # 10% of events are $groupidentify: fires
    ("ten percent", {"last_30": usage(groupidentify_events=400_000)}, True),
    # exactly 5%: quiet
    ("at threshold", {"last_30": usage(groupidentify_events=200_000)}, False),
    # one call over 5%: fires
    ("just over", {"last_30": usage(groupidentify_events=200_001)}, True),
    # 1%: quiet
    ("normal", {"last_30": usage(groupidentify_events=40_000)}, False),
    # calls but no events reported: quiet
    ("no events", {"last_30": {"groupidentify_events": 500}}, False),
]


@pytest.mark.parametrize(
    ("comment", "customer", "fires"), GROUPIDENTIFY, ids=[r[0] for r in GROUPIDENTIFY]
)
def test_groupidentify_overcalled(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("groupidentify_overcalled", customer, fires)


# ------------------------------------------------------- anonymous_person_profiles

ALWAYS = {"person_profiles": "always"}
ANONYMOUS: list[Row] = [
    # 95% identified, 0.01 identify calls per session, profiles always: fires
    (
        "classic",
        {"last_30": usage(identified_events=3_800_000, identify_events=2_000), "config": ALWAYS},
        True,
    ),
    # identified share exactly 90%: fires (>=)
    (
        "share at threshold",
        {"last_30": usage(identified_events=3_600_000, identify_events=2_000), "config": ALWAYS},
        True,
    ),
    # just under 90%: quiet
    (
        "share just under",
        {"last_30": usage(identified_events=3_599_999, identify_events=2_000), "config": ALWAYS},
        False,
    ),
    # exactly 0.05 identify calls per session: fires (<=)
    (
        "identify at threshold",
        {"last_30": usage(identified_events=3_800_000, identify_events=10_000), "config": ALWAYS},
        True,
    ),
    # just over 0.05 per session: users do log in, quiet
    (
        "identify just over",
        {"last_30": usage(identified_events=3_800_000, identify_events=10_001), "config": ALWAYS},
        False,
    ),
    # already identified_only: quiet
    (
        "identified_only",
        {
            "last_30": usage(identified_events=3_800_000, identify_events=2_000),
            "config": {"person_profiles": "identified_only"},
        },
        False,
    ),
    # config unknown: says nothing
    ("no config", {"last_30": usage(identified_events=3_800_000, identify_events=2_000)}, False),
    # no sessions reported: cannot tell logins per session, says nothing
    (
        "no sessions",
        {
            "last_30": {"events": 4_000_000, "identified_events": 3_800_000},
            "config": ALWAYS,
        },
        False,
    ),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), ANONYMOUS, ids=[r[0] for r in ANONYMOUS])
def test_anonymous_person_profiles(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("anonymous_person_profiles", customer, fires)


# -------------------------------------------------------------- autocapture_unused

NO_ACTIONS = {"autocapture_actions": "0"}
AUTOCAPTURE: list[Row] = [
    # 71% autocapture, no action: fires
    ("71 percent", {"last_30": usage(autocapture_events=2_840_000), "config": NO_ACTIONS}, True),
    # exactly 50%: quiet
    ("at threshold", {"last_30": usage(autocapture_events=2_000_000), "config": NO_ACTIONS}, False),
    # one event over 50%: fires
    ("just over", {"last_30": usage(autocapture_events=2_000_001), "config": NO_ACTIONS}, True),
    # 71% but three actions use autocapture: quiet
    (
        "actions exist",
        {"last_30": usage(autocapture_events=2_840_000), "config": {"autocapture_actions": "3"}},
        False,
    ),
    # actions unknown: says nothing
    ("actions unknown", {"last_30": usage(autocapture_events=2_840_000)}, False),
]


@pytest.mark.parametrize(
    ("comment", "customer", "fires"), AUTOCAPTURE, ids=[r[0] for r in AUTOCAPTURE]
)
def test_autocapture_unused(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("autocapture_unused", customer, fires)


def test_autocapture_evidence_reads_like_the_handbook() -> None:
    (finding,) = run_rule(
        "autocapture_unused",
        last_30={"events": 4_200_000, "autocapture_events": 2_982_000},
        config=NO_ACTIONS,
    )
    assert finding.evidence == "71% of your 4.2M events are autocapture; no action uses them"


# --------------------------------------------------------- replay_short_recordings

REPLAY = {"recordings": 100_000}
SHORT: list[Row] = [
    # 70% short, no minimum set: fires
    ("mostly short", {"last_30": {**REPLAY, "short_recordings": 70_000}}, True),
    # exactly half: quiet
    ("at threshold", {"last_30": {**REPLAY, "short_recordings": 50_000}}, False),
    # one more than half: fires
    ("just over", {"last_30": {**REPLAY, "short_recordings": 50_001}}, True),
    # minimum duration of 2 s set: quiet
    (
        "minimum set",
        {
            "last_30": {**REPLAY, "short_recordings": 70_000},
            "config": {"replay_min_duration_s": "2"},
        },
        False,
    ),
    # minimum of 1.5 s is too short: fires
    (
        "minimum too short",
        {
            "last_30": {**REPLAY, "short_recordings": 70_000},
            "config": {"replay_min_duration_s": "1.5"},
        },
        True,
    ),
    # no recordings: quiet
    ("no replay", {"last_30": usage()}, False),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), SHORT, ids=[r[0] for r in SHORT])
def test_replay_short_recordings(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("replay_short_recordings", customer, fires)


# ------------------------------------------------------------------- dev_traffic

DEV: list[Row] = [
    # 5% from localhost: fires
    ("five percent", {"last_30": usage(dev_events=200_000)}, True),
    # exactly 1%: quiet
    ("at threshold", {"last_30": usage(dev_events=40_000)}, False),
    # just over 1%: fires
    ("just over", {"last_30": usage(dev_events=40_001)}, True),
    # none: quiet
    ("none", {"last_30": usage()}, False),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), DEV, ids=[r[0] for r in DEV])
def test_dev_traffic(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("dev_traffic", customer, fires)


# -------------------------------------------------------- unused_group_analytics

WITH_GROUPS = ("product_analytics", "group_analytics")
GROUPS: list[Row] = [
    # add-on on, no group calls, no events with groups: fires
    ("unused", {"last_30": usage(), "products": WITH_GROUPS}, True),
    # a single $groupidentify call: in use, quiet
    ("one call", {"last_30": usage(groupidentify_events=1), "products": WITH_GROUPS}, False),
    # events carry groups: quiet
    ("group events", {"last_30": usage(group_events=10), "products": WITH_GROUPS}, False),
    # add-on not subscribed: quiet
    ("not subscribed", {"last_30": usage()}, False),
    # no usage data at all: says nothing
    ("no data", {"products": WITH_GROUPS}, False),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), GROUPS, ids=[r[0] for r in GROUPS])
def test_unused_group_analytics(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("unused_group_analytics", customer, fires)


# --------------------------------------------------------- unused_data_pipelines

WITH_PIPELINES = ("product_analytics", "data_pipelines")
PIPELINES: list[Row] = [
    # add-on on, zero destinations: fires
    (
        "no destination",
        {
            "last_30": usage(),
            "products": WITH_PIPELINES,
            "config": {"pipeline_destinations": "0"},
        },
        True,
    ),
    # one destination: quiet
    (
        "one destination",
        {
            "last_30": usage(),
            "products": WITH_PIPELINES,
            "config": {"pipeline_destinations": "1"},
        },
        False,
    ),
    # destinations unknown: says nothing
    ("unknown", {"last_30": usage(), "products": WITH_PIPELINES}, False),
    # not subscribed: quiet
    ("not subscribed", {"last_30": usage(), "config": {"pipeline_destinations": "0"}}, False),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), PIPELINES, ids=[r[0] for r in PIPELINES])
def test_unused_data_pipelines(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("unused_data_pipelines", customer, fires)


# ------------------------------------------------------- flag_local_eval_polling

FLAGS = ("product_analytics", "feature_flags")


def polling(requests: float, poll: str | None) -> dict[str, Any]:
    config = {"flags_local_evaluation": "true"}
    if poll is not None:
        config["flags_poll_interval_s"] = poll
    return {
        "last_30": usage(flag_requests=1_000_000 + requests, local_eval_requests=requests),
        "products": FLAGS,
        "config": config,
    }


POLLING: list[Row] = [
    # 500k local-evaluation requests at the default 30 s: fires
    ("default poll", polling(500_000, "30"), True),
    # interval not configured: the SDK default (30 s) is assumed, fires
    ("poll unknown", polling(500_000, None), True),
    # already every 5 minutes: quiet
    ("five minutes", polling(500_000, "300"), False),
    # one second short of 5 minutes: fires
    ("just under five minutes", polling(500_000, "299"), True),
    # exactly the minimum volume worth a finding: fires (>=)
    ("volume at threshold", polling(50_000, "30"), True),
    # just under it: quiet
    ("volume just under", polling(49_999, "30"), False),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), POLLING, ids=[r[0] for r in POLLING])
def test_flag_local_eval_polling(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("flag_local_eval_polling", customer, fires)


# ----------------------------------------------------- flag_requests_per_session

PER_SESSION: list[Row] = [
    # 30 client requests per session: fires
    ("thirty", {"last_30": usage(sessions=100_000, flag_requests=3_000_000)}, True),
    # exactly 10: quiet
    ("at threshold", {"last_30": usage(sessions=100_000, flag_requests=1_000_000)}, False),
    # one request over 10 per session: fires
    ("just over", {"last_30": usage(sessions=100_000, flag_requests=1_000_001)}, True),
    # server local-evaluation requests do not count as client requests: quiet
    (
        "local evaluation excluded",
        {"last_30": usage(sessions=100_000, flag_requests=1_500_000, local_eval_requests=500_001)},
        False,
    ),
    # no sessions reported: says nothing
    ("no sessions", {"last_30": {"flag_requests": 3_000_000}}, False),
]


@pytest.mark.parametrize(
    ("comment", "customer", "fires"), PER_SESSION, ids=[r[0] for r in PER_SESSION]
)
def test_flag_requests_per_session(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("flag_requests_per_session", customer, fires)


# ------------------------------------------------------------------- usage_spike

CALM = {"events": 9_000_000}  # 3M a month, 100k a day over the 90 baseline days


def spike(last: float, peak: float | None = None, history: int = 90) -> dict[str, Any]:
    return {
        "prior_90": CALM,
        "last_30": {"events": last},
        "max_day_30": {"events": peak if peak is not None else last / 30},
        "days_prior_90": {"events": history},
    }


SPIKES: list[Row] = [
    # the month at 4x the 3-month average: fires
    ("month at 4x", spike(12_000_000), True),
    # exactly 200%: quiet
    ("month at threshold", spike(6_000_000), False),
    # one event over 200%: fires
    ("month just over", spike(6_000_001), True),
    # a day exactly 10x the average day (month at 1.3x): quiet
    ("day at threshold", spike(3_900_000, peak=1_000_000), False),
    # a day just over 10x: fires
    ("day just over", spike(3_900_000, peak=1_000_001), True),
    # too little history for a baseline (59 days): says nothing
    ("short history", spike(12_000_000, history=59), False),
    # exactly the history needed (60 days): fires
    ("history at threshold", spike(12_000_000, history=60), True),
    # no baseline at all: says nothing
    ("no baseline", {"last_30": {"events": 12_000_000}}, False),
    # tripled, but still inside the free tier: costs nothing, quiet
    (
        "free tier",
        {
            "prior_90": {"events": 900_000},
            "last_30": {"events": 900_000},
            "max_day_30": {"events": 100_000},
            "days_prior_90": {"events": 90},
        },
        False,
    ),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), SPIKES, ids=[r[0] for r in SPIKES])
def test_usage_spike(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("usage_spike", customer, fires)


# --------------------------------------------------------- identity_merge_errors

MERGES: list[Row] = [
    # none: quiet
    ("none", {"last_30": usage()}, False),
    # a single warning: fires (any)
    ("one", {"last_30": usage(merge_warnings=1)}, True),
    # many: fires
    ("many", {"last_30": usage(merge_warnings=1_200)}, True),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), MERGES, ids=[r[0] for r in MERGES])
def test_identity_merge_errors(comment: str, customer: dict[str, Any], fires: bool) -> None:
    found = check("identity_merge_errors", customer, fires)
    # a churn risk: always high, no dollars
    assert all(f.severity == "high" and f.est_monthly_saving_usd == 0 for f in found)


# -------------------------------------------------------------------- outdated_sdk

SDK: list[Row] = [
    # 200 days behind: fires
    ("old", {"config": {"sdk": "posthog-js", "sdk_version_age_days": "200"}}, True),
    # exactly 90 days: quiet
    ("at threshold", {"config": {"sdk_version_age_days": "90"}}, False),
    # 91 days: fires
    ("just over", {"config": {"sdk_version_age_days": "91"}}, True),
    # unknown: says nothing
    ("unknown", {"config": {"sdk": "posthog-js"}}, False),
    # not a number: says nothing
    ("garbage", {"config": {"sdk_version_age_days": "recent"}}, False),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), SDK, ids=[r[0] for r in SDK])
def test_outdated_sdk(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("outdated_sdk", customer, fires)


# ---------------------------------------------------------------- no_billing_limit

ANALYTICS_BILL = pricing.bill(BASE, frozenset({"product_analytics"})).total
LIMITS: list[Row] = [
    # a paid product without a limit: fires (low)
    ("no limit", {"last_30": usage()}, True),
    # a limit well above the bill: quiet
    ("limit set", {"last_30": usage(), "limits": {"product_analytics": 1_000}}, False),
    # the bill exactly reaches the limit: fires (high, data is dropped)
    ("limit hit", {"last_30": usage(), "limits": {"product_analytics": ANALYTICS_BILL}}, True),
    # free usage without a limit: nothing to protect, quiet
    ("free usage", {"last_30": {"events": 500_000}}, False),
    # no subscriptions at all: says nothing
    ("no products", {"last_30": usage(), "products": ()}, False),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), LIMITS, ids=[r[0] for r in LIMITS])
def test_no_billing_limit(comment: str, customer: dict[str, Any], fires: bool) -> None:
    found = check("no_billing_limit", customer, fires)
    if comment == "limit hit":
        assert found[0].severity == "high"
        assert "limit reached" in found[0].evidence.lower()
    if comment == "no limit":
        assert found[0].severity == "low"


# ----------------------------------------------------------------- low_adoption


def adoption(users: float, insights_7: float, insights_reported: bool = True) -> dict[str, Any]:
    return {
        "last_30": usage(active_users=users * 20, insights_viewed=insights_7 * 4),
        "max_day_30": {"active_users": users},
        "last_7": {"insights_viewed": insights_7},
        "days_prior_90": {"active_users": 90, "insights_viewed": 90 if insights_reported else 0},
        "days_30": {"active_users": 30, "insights_viewed": 30 if insights_reported else 0},
    }


ADOPTION: list[Row] = [
    # at most 2 people ever active: fires
    ("two users", adoption(2, 15), True),
    # 3 people on the busiest day and insights viewed: quiet
    ("three users", adoption(3, 15), False),
    # a healthy team that viewed no insight in 7 days: fires
    ("no insights", adoption(8, 0), True),
    # one insight viewed: quiet
    ("one insight", adoption(8, 1), False),
    # insights never reported: only the user count is judged, quiet
    ("insights unknown", adoption(8, 0, insights_reported=False), False),
    # no team activity data at all: says nothing
    ("no data", {"last_30": usage()}, False),
]


@pytest.mark.parametrize(("comment", "customer", "fires"), ADOPTION, ids=[r[0] for r in ADOPTION])
def test_low_adoption(comment: str, customer: dict[str, Any], fires: bool) -> None:
    check("low_adoption", customer, fires)


# ---------------------------------------------------------------- plan_fit_annual

# 40M events, half identified: about $2,571 a month, steady over the baseline.
BIG = {"events": 40_000_000, "identified_events": 20_000_000}
BIG_BILL = pricing.bill(BIG, frozenset({"product_analytics"})).total


def steady(last: dict[str, float] = BIG, plan: str = "scale") -> dict[str, Any]:
    return {
        "last_30": last,
        "prior_90": {k: v * 3 for k, v in BIG.items()},
        "plan": plan,
    }


def test_big_bill_is_above_the_annual_threshold() -> None:
    assert BIG_BILL == pytest.approx(2570.9)


PLAN: list[tuple[str, dict[str, Any], dict[str, float], bool]] = [
    # steady $2,571 a month on pay-as-you-go: fires
    ("steady big spender", steady(), {}, True),
    # already on an annual (enterprise) plan: quiet
    ("already annual", steady(plan="enterprise"), {}, False),
    # the threshold exactly at the bill: fires (>=)
    ("bill at threshold", steady(), {"min_monthly_bill_usd": BIG_BILL}, True),
    # the threshold a cent above the bill: quiet
    ("bill just under", steady(), {"min_monthly_bill_usd": BIG_BILL + 0.01}, False),
    # the month doubled against the baseline: not steady, quiet
    (
        "not steady",
        steady(last={"events": 80_000_000, "identified_events": 40_000_000}),
        {},
        False,
    ),
    # no baseline history: says nothing
    ("no history", {"last_30": BIG, "plan": "scale"}, {}, False),
]


@pytest.mark.parametrize(
    ("comment", "customer", "overrides", "fires"), PLAN, ids=[r[0] for r in PLAN]
)
def test_plan_fit_annual(
    comment: str, customer: dict[str, Any], overrides: dict[str, float], fires: bool
) -> None:
    settings = with_values(audit.thresholds(), "plan_fit_annual", **overrides)
    found = run_rule("plan_fit_annual", settings, **customer)
    assert bool(found) is fires
    if found:
        # 20% of the bill, through the price function
        assert found[0].est_monthly_saving_usd == pytest.approx(0.2 * BIG_BILL)
