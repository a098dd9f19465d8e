"""The refund policy (docs/rules.md, "Refunds"): amounts through the price function,
eligibility, repeats; refunds recorded as history count as repeats (the workflow itself:
test_refund_workflow.py, test_refund_store.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lib import pricing
from lib.audit import Finding, refunds
from lib.errors import UserError
from lib.refunds import store as refund_store
from lib.store import db, models
from lib.store.customer_data import prior_refund_counts
from tests import db_support
from tests.audit_fixtures import AS_OF, DAYS, add_customer, window_sums

ANALYTICS = frozenset({"product_analytics"})


# ------------------------------------------------------------------ amounts


def test_spike_refund_is_bill_actual_minus_bill_baseline_per_product() -> None:
    actual = {"events": 20_000_000, "identified_events": 2_000_000, "recordings": 20_000}
    baseline = {"events": 3_000_000, "identified_events": 1_000_000, "recordings": 20_000}
    products = frozenset({"product_analytics", "session_replay", "group_analytics"})
    total, per_product = refunds.spike_refund(actual, baseline, products)
    expected = pricing.bill(actual, products).total - pricing.bill(baseline, products).total
    assert total == pytest.approx(expected)
    # replay did not move: no replay refund; the add-on rose with identified events
    assert set(per_product) == {"product_analytics", "group_analytics"}


def test_a_product_that_fell_is_not_netted_against_one_that_rose() -> None:
    actual = {"events": 20_000_000, "recordings": 10_000}
    baseline = {"events": 3_000_000, "recordings": 40_000}
    products = frozenset({"product_analytics", "session_replay"})
    total, per_product = refunds.spike_refund(actual, baseline, products)
    analytics_up = pricing.bill(actual, ANALYTICS).total - pricing.bill(baseline, ANALYTICS).total
    assert per_product == pytest.approx({"product_analytics": analytics_up})
    assert total == pytest.approx(analytics_up)


@pytest.mark.parametrize(
    ("scenario", "prior", "conditions", "eligible", "share", "approval"),
    [
        # first refund: in full, no approval below the threshold
        ("under_attack", {}, {"the spike is over": True}, True, 1.0, False),
        # second refund: up to 50%, and a repeat goes to revenue operations
        ("under_attack", {"under_attack": 1}, {}, True, 0.5, True),
        # a different earlier scenario still makes this a repeat
        ("unexpected_stardom", {"learning_curve": 1}, {}, True, 0.5, True),
        # third refund: usually declined
        ("under_attack", {"under_attack": 1, "wrong_setup": 1}, {}, False, 0.0, False),
        # a condition not met (the spike still running): not eligible
        ("under_attack", {}, {"the spike is over": False}, False, 0.0, False),
        # wrong setup: first time only
        ("wrong_setup", {"wrong_setup": 1}, {}, False, 0.0, False),
        # wrong setup after an unrelated refund: eligible, at the repeat share
        ("wrong_setup", {"under_attack": 1}, {}, True, 0.5, True),
    ],
)
def test_policy(
    scenario: str,
    prior: dict[str, int],
    conditions: dict[str, bool],
    eligible: bool,
    share: float,
    approval: bool,
) -> None:
    result = refunds.assess(scenario, {"product_analytics": 300.0}, prior, conditions=conditions)
    assert result.eligible is eligible
    assert result.amount_usd == pytest.approx(300.0 * share)
    assert result.needs_approval is approval
    assert result.occurrence == sum(prior.values()) + 1
    assert result.reasons


@pytest.mark.parametrize(
    ("amount", "approval"),
    [
        (1_667.0, False),  # at the threshold: no approval needed
        (1_667.01, True),  # above ~$1,667 a month: revenue operations approve
    ],
)
def test_large_refunds_need_approval(amount: float, approval: bool) -> None:
    assert refunds.assess("under_attack", {"product_analytics": amount}, {}).needs_approval is (
        approval
    )


def test_nothing_above_baseline_is_not_a_refund() -> None:
    result = refunds.assess("under_attack", {}, {})
    assert not result.eligible and result.amount_usd == 0.0


# ----------------------------------------------------- the planted 40x spike

CALM_EVENTS = 100_000
SPIKE_DAYS = range(DAYS - 10, DAYS - 5)  # five days, over 5 days before as-of


def spiky_usage(spike_days: range = SPIKE_DAYS) -> dict[str, list[float]]:
    events = [CALM_EVENTS * (40 if i in spike_days else 1) for i in range(DAYS)]
    return {
        "events": events,
        "identified_events": [e * 0.3 for e in events],
        "sessions": [5_000.0] * DAYS,
        "recordings": [1_000.0] * DAYS,
    }


LAST_MONTH = (AS_OF.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
TWO_MONTHS_AGO = (LAST_MONTH - dt.timedelta(days=1)).replace(day=1)


def spike_finding(engine: Engine, customer_id: str) -> Finding:
    (found,) = db_support.reports(engine, AS_OF, customer_id)
    spikes = [f for f in found.findings if f.rule == "usage_spike"]
    assert len(spikes) == 1, [f.rule for f in found.findings]
    return spikes[0]


def test_planted_spike_yields_an_eligible_refund_of_bill_actual_minus_bill_baseline(
    engine: Engine,
) -> None:
    daily = spiky_usage()
    products = {"product_analytics": 2_000.0, "session_replay": None}
    add_customer(engine, "spiky", daily, products=products)
    finding = spike_finding(engine, "spiky")

    actual, baseline = window_sums(daily)
    subscribed = frozenset(products)
    expected = pricing.bill(actual, subscribed).total - pricing.bill(baseline, subscribed).total
    assert expected > 100
    assert finding.refund_eligible is True
    assert finding.est_refund_usd == pytest.approx(expected, rel=1e-9)
    # A one-off amount on this month's bill, never a monthly saving (docs/interface.md).
    assert finding.est_monthly_saving_usd == 0.0
    assert finding.one_off_usd == pytest.approx(expected, rel=1e-9)
    assessment = finding.refund
    assert assessment.scenario == "under_attack"  # one day at 40x the usual day
    assert set(assessment.per_product) == {"product_analytics"}  # replay did not move
    assert finding.as_json()["est_refund_usd"] == pricing.usd(expected)


def test_spike_without_a_billing_limit_is_not_yet_eligible(engine: Engine) -> None:
    add_customer(engine, "nolimit", spiky_usage())
    finding = spike_finding(engine, "nolimit")
    assert finding.refund_eligible is False
    assert finding.est_refund_usd == 0.0
    assert any("billing limit" in r for r in finding.refund.reasons)


def test_spike_still_running_is_not_yet_eligible(engine: Engine) -> None:
    add_customer(
        engine,
        "running",
        spiky_usage(range(DAYS - 5, DAYS)),
        products={"product_analytics": 2_000.0},
    )
    finding = spike_finding(engine, "running")
    assert finding.refund_eligible is False
    assert "still running" in finding.evidence


def test_recorded_refunds_count_as_repeats_next_time(engine: Engine) -> None:
    add_customer(engine, "again", spiky_usage(), products={"product_analytics": 2_000.0})
    first = spike_finding(engine, "again")
    full = first.est_refund_usd

    refund_id = db_support.write(
        engine,
        "dana",
        refund_store.record,
        "again",
        "under_attack",
        full,
        first.refund.per_product,
        TWO_MONTHS_AGO,  # an earlier month's spike
        note="bot traffic",
        rule="usage_spike",
    )
    with db.read_session(engine) as session:
        stored = session.get(models.Refund, refund_id)
        assert stored is not None
        assert stored.status == "issued" and not stored.needs_approval
        assert stored.amount_usd == pricing.usd(full)
        assert prior_refund_counts(session, ["again"]) == {"again": {"under_attack": 1}}
        assert [r.id for r in history(session, "again")] == [refund_id]
        log = session.scalars(
            select(models.AuditLog).where(models.AuditLog.entity == "refunds")
        ).all()
        assert log and log[-1].user == "dana"

    second = spike_finding(engine, "again")
    assert second.refund_eligible is True
    assert second.est_refund_usd == pytest.approx(full * 0.5)
    assert second.refund.needs_approval is True

    db_support.write(
        engine,
        "dana",
        refund_store.record,
        "again",
        "under_attack",
        full / 2,
        {},
        LAST_MONTH,
    )
    with db.read_session(engine) as session:
        latest = history(session, "again")[-1]
        assert latest.status == "needs_approval" and latest.needs_approval
    third = spike_finding(engine, "again")
    assert third.refund_eligible is False
    assert any("usually declined" in r for r in third.refund.reasons)


def test_a_refund_on_record_for_the_month_is_not_offered_again(engine: Engine) -> None:
    add_customer(engine, "asked", spiky_usage(), products={"product_analytics": 2_000.0})
    first = spike_finding(engine, "asked")
    assert first.refund_eligible
    db_support.write(
        engine,
        "dana",
        refund_store.record,
        "asked",
        "under_attack",
        first.est_refund_usd,
        first.refund.per_product,
        AS_OF.replace(day=1),
        rule="usage_spike",
    )
    again = spike_finding(engine, "asked")
    assert again.refund_eligible is False and again.est_refund_usd == 0.0
    assert any("already on record" in r for r in again.refund.reasons)
    (report,) = db_support.reports(engine, AS_OF, "asked")
    assert report.est_refund_usd == 0.0  # counted once, on the Refunds tab


def test_declined_refunds_do_not_count(engine: Engine) -> None:
    add_customer(engine, "declined", spiky_usage(), products={"product_analytics": 2_000.0})
    db_support.write(
        engine,
        "dana",
        refund_store.record,
        "declined",
        "under_attack",
        10.0,
        {},
        None,
        status="declined",
    )
    finding = spike_finding(engine, "declined")
    assert finding.refund.occurrence == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scenario": "because"}, "unknown refund scenario"),  # not a policy scenario
        ({"amount_usd": -1.0}, "negative"),  # a refund is never negative
        ({"status": "maybe"}, "unknown refund status"),  # not a status
        ({"customer_id": "nobody"}, "no such customer"),  # unknown customer
    ],
)
def test_record_refuses_bad_input(engine: Engine, kwargs: dict[str, object], message: str) -> None:
    add_customer(engine, "acme", {"events": 1_000})
    args: dict[str, object] = {
        "customer_id": "acme",
        "scenario": "wrong_setup",
        "amount_usd": 10.0,
        "per_product": {},
        "billing_month": None,
        **kwargs,
    }
    with pytest.raises(UserError, match=message):
        db_support.write(engine, "dana", refund_store.record, **args)  # type: ignore[arg-type]
    with db.read_session(engine) as session:
        assert session.scalars(select(models.Refund)).all() == []


def history(session: Session, customer_id: str) -> list[models.Refund]:
    """A customer's refunds, oldest first."""
    stmt = (
        select(models.Refund)
        .where(models.Refund.customer_id == customer_id)
        .order_by(models.Refund.recorded_on, models.Refund.id)
    )
    return list(session.scalars(stmt))


@pytest.mark.parametrize(
    ("prior", "conditions", "declined_as_repeat"),
    [
        ({"under_attack": 2}, {"the spike is over": True}, True),  # only the number declines
        ({"under_attack": 2}, {"the spike is over": False}, False),  # not eligible anyway
        ({"under_attack": 1}, {}, False),  # a second: eligible at 50%
    ],
)
def test_a_third_refund_is_declined_for_its_number_alone(
    prior: dict[str, int], conditions: dict[str, bool], declined_as_repeat: bool
) -> None:
    """What an admin may override (lib/refunds): everything holds but the repeat number."""
    result = refunds.assess(
        "under_attack", {"product_analytics": 300.0}, prior, conditions=conditions
    )
    assert result.declined_as_repeat is declined_as_repeat
    assert result.full_per_product == {"product_analytics": 300.0}
