"""The audit engine: savings through the price function, states, ordering, many customers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lib import audit, pricing
from lib.audit import AuditData, Finding
from lib.windows import AGGREGATES
from tests.audit_fixtures import with_values

CONTRACT_RULE_IDS = (
    "identify_overcalled",
    "groupidentify_overcalled",
    "anonymous_person_profiles",
    "autocapture_unused",
    "replay_short_recordings",
    "dev_traffic",
    "unused_group_analytics",
    "unused_data_pipelines",
    "flag_local_eval_polling",
    "flag_requests_per_session",
    "usage_spike",
    "identity_merge_errors",
    "outdated_sdk",
    "no_billing_limit",
    "low_adoption",
    "plan_fit_annual",
)
ANALYTICS = frozenset({"product_analytics"})


def only(rule: str, **customer: Any) -> Finding:
    (finding,) = audit.run(AuditData.single(**customer), rules=[audit.RULES_BY_ID[rule]])["c1"]
    return finding


def test_every_contract_rule_exists_with_its_thresholds_and_texts() -> None:
    assert set(audit.RULE_IDS) == set(CONTRACT_RULE_IDS)
    settings = audit.thresholds()
    for rule in audit.RULES:
        assert settings.rule(rule.id).values, f"{rule.id} has no table in audit_thresholds.toml"
        assert settings.rule(rule.id).severity in audit.SEVERITIES
        assert rule.title and rule.fix and rule.effort
        assert re.match(r"https://posthog\.com/", rule.docs_url)


def test_a_customer_without_data_gets_no_finding() -> None:
    assert audit.run(AuditData.single(products=()))["c1"] == []
    assert audit.run(AuditData.single())["c1"] == []


# ------------------------------------------------------------------ savings


@pytest.mark.parametrize(
    ("rule", "customer", "after", "products_after"),
    [
        # autocapture off: the autocapture events go, a quarter of them identified
        (
            "autocapture_unused",
            {
                "last_30": {
                    "events": 20_000_000,
                    "identified_events": 5_000_000,
                    "autocapture_events": 14_000_000,
                },
                "config": {"autocapture_actions": "0"},
            },
            {"events": 6_000_000, "identified_events": 1_500_000},
            ANALYTICS,
        ),
        # identify once per session: 1M calls -> 200k, the excess were identified events
        (
            "identify_overcalled",
            {
                "last_30": {
                    "events": 4_000_000,
                    "identified_events": 3_000_000,
                    "sessions": 200_000,
                    "identify_events": 1_000_000,
                }
            },
            {"events": 3_200_000, "identified_events": 2_200_000},
            ANALYTICS,
        ),
        # identified_only: only sessions that log in (1 in 100 here) keep profiles
        (
            "anonymous_person_profiles",
            {
                "last_30": {
                    "events": 4_000_000,
                    "identified_events": 3_800_000,
                    "sessions": 200_000,
                    "identify_events": 2_000,
                },
                "config": {"person_profiles": "always"},
            },
            {"events": 4_000_000, "identified_events": 40_000},
            ANALYTICS,
        ),
        # the group analytics add-on removed: exactly its charge
        (
            "unused_group_analytics",
            {
                "last_30": {"events": 4_000_000, "identified_events": 3_000_000},
                "products": ("product_analytics", "group_analytics"),
            },
            {"events": 4_000_000, "identified_events": 3_000_000},
            ANALYTICS,
        ),
        # recordings under 2 s no longer captured
        (
            "replay_short_recordings",
            {
                "last_30": {"recordings": 100_000, "short_recordings": 70_000},
                "products": ("session_replay",),
            },
            {"recordings": 30_000},
            frozenset({"session_replay"}),
        ),
        # polling every 300 s instead of 30 s keeps a tenth of the local-evaluation requests
        (
            "flag_local_eval_polling",
            {
                "last_30": {"flag_requests": 3_000_000, "local_eval_requests": 2_000_000},
                "products": ("feature_flags",),
                "config": {"flags_poll_interval_s": "30"},
            },
            {"flag_requests": 1_200_000},
            frozenset({"feature_flags"}),
        ),
    ],
)
def test_saving_is_bill_now_minus_bill_after_the_fix(
    rule: str, customer: dict[str, Any], after: dict[str, float], products_after: frozenset[str]
) -> None:
    finding = only(rule, **customer)
    products = frozenset(customer.get("products", ("product_analytics",)))
    now = pricing.bill(customer["last_30"], products).total
    expected = now - pricing.bill(after, products_after).total
    assert finding.est_monthly_saving_usd == pytest.approx(expected, rel=1e-9)
    assert finding.est_monthly_saving_usd > 0


def test_saving_is_not_the_excess_priced_alone() -> None:
    # 14M autocapture events out of 20M: priced alone from zero they would cost
    # 50 + 12M x 0.0000343 = $461.60, but they come off the top (cheapest) bands.
    finding = only(
        "autocapture_unused",
        last_30={"events": 20_000_000, "autocapture_events": 14_000_000},
        config={"autocapture_actions": "0"},
    )
    alone = pricing.bill({"events": 14_000_000}, ANALYTICS).total
    now = pricing.bill({"events": 20_000_000}, ANALYTICS).total
    after = pricing.bill({"events": 6_000_000}, ANALYTICS).total
    assert finding.est_monthly_saving_usd == pytest.approx(now - after)
    assert finding.est_monthly_saving_usd != pytest.approx(alone)


@pytest.mark.parametrize(
    ("autocapture", "severity"),
    [
        # a big saving (>= $100) is high
        (14_000_000, "high"),
        # a modest saving keeps the rule's own severity (medium)
        (1_150_000, "medium"),
        # a saving under $5 is low ($4.50: 90k events above the free tier)
        (763_000, "low"),
    ],
)
def test_money_findings_take_their_severity_from_the_dollars(
    autocapture: float, severity: str
) -> None:
    events = autocapture / 0.7
    finding = only(
        "autocapture_unused",
        last_30={"events": events, "autocapture_events": autocapture},
        config={"autocapture_actions": "0"},
    )
    assert finding.severity == severity, finding.est_monthly_saving_usd


def test_findings_are_ordered_by_dollars_then_severity() -> None:
    data = AuditData.single(
        last_30={
            "events": 20_000_000,
            "identified_events": 5_000_000,
            "autocapture_events": 14_000_000,
            "dev_events": 1_000_000,
            "merge_warnings": 10,
        },
        config={"autocapture_actions": "0", "sdk_version_age_days": "400"},
    )
    findings = audit.run(data)["c1"]
    rules = [f.rule for f in findings]
    assert rules[:2] == ["autocapture_unused", "dev_traffic"]
    savings = [round(f.est_monthly_saving_usd, 2) for f in findings]
    assert savings == sorted(savings, reverse=True)
    no_dollars = [f for f in findings if f.est_monthly_saving_usd == 0]
    assert no_dollars[0].rule == "identity_merge_errors"  # high before medium


def test_combined_bill_prices_several_fixes_together() -> None:
    volumes = {
        "events": 20_000_000,
        "identified_events": 5_000_000,
        "autocapture_events": 12_000_000,
        "dev_events": 2_000_000,
    }
    data = AuditData.single(last_30=volumes, config={"autocapture_actions": "0"})
    findings = audit.run(data)["c1"]
    both = [f for f in findings if f.rule in {"autocapture_unused", "dev_traffic"}]
    assert len(both) == 2
    together = audit.combined_bill(volumes, ANALYTICS, both)
    now = pricing.bill(volumes, ANALYTICS).total
    # each alone removes events from the cheapest top band; together the second fix
    # reaches dearer bands, so the sum of the separate savings undercounts
    assert now - together > sum(f.est_monthly_saving_usd for f in both)
    after = pricing.bill(
        {"events": 6_000_000, "identified_events": 5_000_000 - 0.25 * 14_000_000}, ANALYTICS
    ).total
    assert together == pytest.approx(after)


def test_finding_json_is_the_contract_object() -> None:
    finding = only(
        "autocapture_unused",
        last_30={"events": 4_200_000, "autocapture_events": 2_982_000},
        config={"autocapture_actions": "0"},
    )
    body = finding.as_json()
    for key in (
        "rule",
        "severity",
        "est_monthly_saving_usd",
        "refund_eligible",
        "est_refund_usd",
        "evidence",
    ):
        assert key in body
    assert body["est_monthly_saving_usd"] == round(finding.est_monthly_saving_usd, 2)
    assert body["refund_eligible"] is False and body["est_refund_usd"] == 0.0


# --------------------------------------------------------- many customers at once


def test_vectorised_run_matches_one_customer_at_a_time() -> None:
    customers = {
        "a": {
            "last_30": {"events": 5e6, "autocapture_events": 4e6, "sessions": 2e5},
            "config": {"autocapture_actions": "0"},
        },
        "b": {
            "last_30": {"events": 3e6, "identify_events": 2e6, "sessions": 1e5},
            "products": ("product_analytics", "group_analytics"),
        },
        "c": {"last_30": {"events": 2e5}, "config": {"sdk_version_age_days": "120"}},
    }
    singles = {cid: AuditData.single(customer_id=cid, **spec) for cid, spec in customers.items()}
    frames: dict[str, Any] = {}
    for name in AGGREGATES + ("subscribed", "limits", "config"):
        frames[name] = pd.concat([getattr(d, name) for d in singles.values()])
    together = AuditData(
        as_of=dt.date(2026, 3, 15),
        plan=pd.concat([d.plan for d in singles.values()]),
        **frames,
    )
    many = audit.run(together)
    for cid, data in singles.items():
        alone = audit.run(data)[cid]
        assert [(f.rule, f.evidence, round(f.est_monthly_saving_usd, 6)) for f in many[cid]] == [
            (f.rule, f.evidence, round(f.est_monthly_saving_usd, 6)) for f in alone
        ]


# ------------------------------------------------------------------ states


@dataclass
class State:
    state: str
    fixed_on: dt.date | None = None
    reason: str | None = None
    note: str | None = None


AS_OF = dt.date(2026, 3, 15)


@pytest.mark.parametrize(
    ("state", "expected_state", "note_starts"),
    [
        # nothing decided: open
        (None, "open", None),
        # dismissed with a reason: stays dismissed, the reason is the note
        (State("dismissed", reason="wants autocapture"), "dismissed", "Dismissed: wants"),
        # fixed 10 days ago: the window still holds old data, stays fixed
        (State("fixed", fixed_on=AS_OF - dt.timedelta(days=10)), "fixed", "Marked fixed"),
        # fixed 29 days ago: still inside the grace period
        (State("fixed", fixed_on=AS_OF - dt.timedelta(days=29)), "fixed", "Marked fixed"),
        # fixed exactly 30 days ago and still in the data: reopened
        (State("fixed", fixed_on=AS_OF - dt.timedelta(days=30)), "open", "Reopened"),
        # an open state with a note keeps the note
        (State("open", note="customer on it"), "open", "customer on it"),
    ],
)
def test_apply_states(state: State | None, expected_state: str, note_starts: str | None) -> None:
    finding = only(
        "autocapture_unused",
        last_30={"events": 4_200_000, "autocapture_events": 2_982_000},
        config={"autocapture_actions": "0"},
    )
    states = {"c1": {"autocapture_unused": state}} if state else {}
    applied = audit.apply_states({"c1": [finding]}, states, AS_OF)["c1"][0]
    assert applied.state == expected_state
    if note_starts is None:
        assert applied.note is None
    else:
        assert applied.note is not None and applied.note.startswith(note_starts)


def test_a_misspelt_severity_in_the_thresholds_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "audit_thresholds.toml"
    bad.write_text('[rules.no_billing_limit]\nseverity = "low"\nseverity_limit_hit = "hihg"\n')
    with pytest.raises(ValueError, match="severity_limit_hit 'hihg'"):
        audit.load_thresholds(bad)


def test_a_switched_off_rule_says_nothing() -> None:
    settings = with_values(audit.thresholds(), "outdated_sdk", enabled=False)
    data = AuditData.single(config={"sdk_version_age_days": "400"})
    assert audit.run(data, settings)["c1"] == []
