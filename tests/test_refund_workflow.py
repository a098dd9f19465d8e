"""The refund workflow's state machine (lib/refunds/workflow.py), table-driven: every
status x move x login, allowed or refused, and the edges (the 30-day window, the approval
threshold, the second and the third refund, the admin's override). Pure: no database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from lib.audit import refunds as policy
from lib.audit.finding import Finding
from lib.errors import Conflict, UserError
from lib.refunds import model, queue, workflow
from lib.refunds.model import (
    RefundAmountError,
    RefundError,
    RefundNotAllowed,
    RefundStateError,
    RefundView,
    RefundWindowClosed,
)
from lib.refunds.offers import Offer, offers

MARCH = dt.date(2026, 3, 1)  # billed on 2026-04-01; the customer may ask until 2026-05-01
TODAY = dt.date(2026, 3, 20)
RULES = policy.Policy()  # the defaults: $1,667, 50%, a third declined, 30 days

TEAM = model.Actor("dana", "team")
OWNER = TEAM
APPROVER = model.Actor("rita", "team", revops=True)
ADMIN = model.Actor("ada", "admin")
ADMIN_APPROVER = model.Actor("ada", "admin", revops=True)
LEADER = model.Actor("lee", "leadership")
LEADER_FLAGGED = model.Actor("lee", "leadership", revops=True)  # read-only: approves nothing


def refund(status: str = "proposed", **changes: Any) -> RefundView:
    base = RefundView(
        id=7,
        customer_id="acme",
        scenario="under_attack",
        status=status,
        amount_usd=100.0,
        billing_month=MARCH,
        recorded_on=dt.date(2026, 3, 10),
        version=3,
        rule="usage_spike",
        per_product={"product_analytics": 100.0},
        ceiling_usd=100.0,
        occurrence=1,
        requested_on=dt.date(2026, 3, 12) if status != "proposed" else None,
        recorded_by="dana",
    )
    return dataclasses.replace(base, **changes)


POLICY_DECLINED = refund(
    "declined", decided_by=model.POLICY, decision_reason="refund number 3", occurrence=3
)
PERSON_DECLINED = refund("declined", decided_by="dana", decision_reason="customer withdrew")

# ------------------------------------------------------------------ who may do what

OK = None
# (the refund, the move, who tries, what happens: OK or the refusal's type)
TABLE: list[tuple[RefundView, str, model.Actor, type[UserError] | None]] = [
    # proposed: the owner marks it requested or declines it; nothing else happens to it
    (refund("proposed"), "request", TEAM, OK),
    (refund("proposed"), "request", ADMIN, OK),
    (refund("proposed"), "request", LEADER, RefundNotAllowed),  # read-only
    (refund("proposed"), "decline", TEAM, OK),
    (refund("proposed"), "approve", APPROVER, RefundStateError),  # nobody asked for it yet
    (refund("proposed"), "issue", TEAM, RefundStateError),
    (refund("proposed"), "override", ADMIN, RefundStateError),
    # requested (no approval needed): the owner issues or declines it
    (refund("requested"), "issue", TEAM, OK),
    (refund("requested"), "decline", TEAM, OK),
    (refund("requested"), "issue", LEADER, RefundNotAllowed),
    (refund("requested"), "approve", APPROVER, RefundStateError),  # nothing to approve
    (refund("requested"), "request", TEAM, RefundStateError),  # asked once
    # needs_approval: only revenue operations' named approvers decide
    (refund("needs_approval"), "approve", APPROVER, OK),
    (refund("needs_approval"), "approve", ADMIN_APPROVER, OK),
    (refund("needs_approval"), "approve", TEAM, RefundNotAllowed),
    (refund("needs_approval"), "approve", ADMIN, RefundNotAllowed),  # an admin is no approver
    (refund("needs_approval"), "approve", LEADER_FLAGGED, RefundNotAllowed),
    (refund("needs_approval"), "decline", APPROVER, OK),
    (refund("needs_approval"), "decline", TEAM, RefundNotAllowed),
    (refund("needs_approval"), "issue", TEAM, RefundStateError),  # not before approval
    (refund("needs_approval"), "issue", APPROVER, RefundStateError),
    # four eyes: an approver never approves a refund they proposed
    (refund("needs_approval", recorded_by="rita"), "approve", APPROVER, RefundNotAllowed),
    (refund("needs_approval", recorded_by="rita"), "decline", APPROVER, OK),
    # approved: the owner issues it; revenue operations may still decline it
    (refund("approved"), "issue", TEAM, OK),
    (refund("approved"), "decline", APPROVER, OK),
    (refund("approved"), "decline", TEAM, RefundNotAllowed),
    (refund("approved"), "approve", APPROVER, RefundStateError),
    # issued: final
    (refund("issued"), "request", TEAM, RefundStateError),
    (refund("issued"), "approve", APPROVER, RefundStateError),
    (refund("issued"), "decline", APPROVER, RefundStateError),
    (refund("issued"), "issue", TEAM, RefundStateError),
    (refund("issued"), "override", ADMIN, RefundStateError),
    # declined: final, but an admin may override the policy's own decline
    (POLICY_DECLINED, "override", ADMIN, OK),
    (POLICY_DECLINED, "override", TEAM, RefundNotAllowed),
    (POLICY_DECLINED, "override", APPROVER, RefundNotAllowed),
    (POLICY_DECLINED, "request", TEAM, RefundStateError),
    (PERSON_DECLINED, "override", ADMIN, RefundStateError),  # a person's decline stands
    (PERSON_DECLINED, "approve", APPROVER, RefundStateError),
    (PERSON_DECLINED, "issue", TEAM, RefundStateError),
]


@pytest.mark.parametrize(("current", "action", "actor", "refused"), TABLE)
def test_who_may_move_a_refund(
    current: RefundView, action: str, actor: model.Actor, refused: type[UserError] | None
) -> None:
    if refused is None:
        workflow.check(current, action, actor)
        assert action in workflow.allowed(current, actor)
    else:
        with pytest.raises(refused):
            workflow.check(current, action, actor)
        assert action not in workflow.allowed(current, actor)


def test_the_table_covers_every_transition() -> None:
    covered = {(row[0].status, row[1]) for row in TABLE if row[3] is None}
    assert covered == set(workflow.TRANSITIONS)
    every = {(s, a) for s in model.REFUND_STATUSES for a in workflow.ACTIONS}
    for status, action in every - set(workflow.TRANSITIONS):
        for actor in (TEAM, APPROVER, ADMIN_APPROVER):
            with pytest.raises(RefundStateError):
                workflow.check(refund(status), action, actor)


def test_refusals_are_user_errors_that_say_who_may() -> None:
    with pytest.raises(UserError, match="only revenue operations"):
        workflow.check(refund("needs_approval"), "approve", TEAM)
    with pytest.raises(UserError, match="is issued: you cannot approve it"):
        workflow.check(refund("issued"), "approve", APPROVER)


# ------------------------------------------------------------------ the customer asks


@pytest.mark.parametrize(
    ("asked_on", "refused"),
    [
        (dt.date(2026, 3, 1), None),  # the billing month's first day
        (dt.date(2026, 5, 1), None),  # 30 days after the billing date (2026-04-01): in time
        (dt.date(2026, 5, 2), RefundWindowClosed),  # a day late
        (dt.date(2026, 2, 28), RefundWindowClosed),  # before the month was used
        (dt.date(2026, 5, 10), RefundError),  # in the future (today is 2026-05-09 here)
    ],
)
def test_the_customer_asks_within_30_days_of_the_billing_date(
    asked_on: dt.date, refused: type[UserError] | None
) -> None:
    today = dt.date(2026, 5, 9)
    if refused is None:
        move = workflow.request(refund(), OWNER, asked_on, today, {}, RULES)
        assert move.status == "requested" and move.fields["requested_on"] == asked_on
    else:
        with pytest.raises(refused):
            workflow.request(refund(), OWNER, asked_on, today, {}, RULES)


def test_the_billing_date_is_the_first_day_of_the_next_month() -> None:
    assert policy.billing_date(MARCH) == dt.date(2026, 4, 1)
    assert policy.billing_date(dt.date(2026, 12, 1)) == dt.date(2027, 1, 1)
    assert policy.ask_deadline(dt.date(2026, 1, 1), RULES) == dt.date(2026, 3, 3)
    assert refund().ask_deadline(RULES) == dt.date(2026, 5, 1)


@pytest.mark.parametrize(
    ("amount", "invoice_change", "prior", "status", "why"),
    [
        (1_667.00, False, {}, "requested", ()),  # at the threshold: the owner issues it
        (1_667.01, False, {}, "needs_approval", ("above $1,667",)),
        (40.0, True, {}, "needs_approval", ("it changes an invoice already sent",)),
        # a second refund: a repeat, whatever its amount
        (40.0, False, {"wrong_setup": 1}, "needs_approval", ("a repeat (refund number 2)",)),
    ],
)
def test_what_waits_for_revenue_operations(
    amount: float, invoice_change: bool, prior: dict[str, int], status: str, why: tuple[str, ...]
) -> None:
    current = refund(
        amount_usd=amount,
        ceiling_usd=amount,
        occurrence=sum(prior.values()) + 1,
        invoice_change=invoice_change,
    )
    move = workflow.request(current, OWNER, TODAY, TODAY, prior, RULES)
    assert move.status == status
    assert move.fields["needs_approval"] is bool(why)
    assert policy.approval_reasons(amount, sum(prior.values()) + 1, RULES,
                                   invoice_change=invoice_change) == why  # fmt: skip


def test_a_refund_that_became_a_second_one_offers_at_most_half() -> None:
    """Proposed as the first (all of $100); another refund was asked for meanwhile."""
    move = workflow.request(refund(), OWNER, TODAY, TODAY, {"learning_curve": 1}, RULES)
    assert move.status == "needs_approval"
    assert move.fields["occurrence"] == 2
    assert move.fields["amount_usd"] == 50.0 and move.fields["ceiling_usd"] == 50.0
    assert move.fields["per_product"] == {"product_analytics": 50.0}
    assert "lowered to $50.00" in move.message


def test_a_third_refund_is_declined_by_the_policy_until_an_admin_overrides() -> None:
    third = refund(occurrence=3, amount_usd=50.0, ceiling_usd=50.0)
    move = workflow.request(third, OWNER, TODAY, TODAY, {"under_attack": 1, "wrong_setup": 1})
    assert move.status == "declined"
    assert move.fields["decided_by"] == model.POLICY
    assert "refund number 3" in move.fields["decision_reason"]
    declined = dataclasses.replace(third, status=move.status, **move.fields)
    assert declined.declined_by_policy
    with pytest.raises(RefundError, match="reason"):
        workflow.override(declined, ADMIN, "  ", TODAY)
    overridden = workflow.override(declined, ADMIN, "a loyal customer since 2019", TODAY)
    assert overridden.status == "needs_approval"
    assert overridden.fields["override_by"] == "ada"
    assert overridden.fields["decided_by"] is None  # revenue operations decide next
    after = dataclasses.replace(declined, status=overridden.status, **overridden.fields)
    assert workflow.approve(after, APPROVER, "one last time", TODAY).status == "approved"


def test_a_second_wrong_setup_refund_is_declined_first_time_only() -> None:
    second = refund(scenario="wrong_setup", occurrence=2)
    move = workflow.request(second, OWNER, TODAY, TODAY, {"wrong_setup": 1}, RULES)
    assert move.status == "declined" and "first time only" in move.fields["decision_reason"]


# ------------------------------------------------------------------ decisions and issuing


@pytest.mark.parametrize(
    ("amount", "refused"),
    [
        (None, None),  # what was asked for
        (60.0, None),  # lowered
        (100.01, RefundAmountError),  # never raised
        (0.0, RefundAmountError),
    ],
)
def test_revenue_operations_approve_with_a_reason_and_an_amount_up_to_the_one_asked(
    amount: float | None, refused: type[UserError] | None
) -> None:
    waiting = refund("needs_approval")
    if refused is not None:
        with pytest.raises(refused):
            workflow.approve(waiting, APPROVER, "fine", TODAY, amount)
        return
    move = workflow.approve(waiting, APPROVER, "fine", TODAY, amount)
    assert move.fields["amount_usd"] == (amount or 100.0)
    assert move.fields["decided_by"] == "rita" and move.fields["decision_reason"] == "fine"


@pytest.mark.parametrize("status", ["proposed", "requested", "needs_approval", "approved"])
def test_a_decline_needs_a_reason(status: str) -> None:
    who = APPROVER if status in ("needs_approval", "approved") else OWNER
    with pytest.raises(RefundError, match="reason"):
        workflow.decline(refund(status), who, "", TODAY)
    move = workflow.decline(refund(status), who, "abuse suspected", TODAY)
    assert (move.status, move.fields["decision_reason"]) == ("declined", "abuse suspected")


@pytest.mark.parametrize(
    ("on", "reference", "amount", "refused"),
    [
        (TODAY, "CN-1042", None, None),
        (TODAY, "CN-1042", 80.0, None),  # less than approved
        (dt.date(2026, 3, 12), "CN-1042", None, None),  # the day the customer asked
        (dt.date(2026, 3, 11), "CN-1042", None, RefundError),  # before they asked
        (TODAY + dt.timedelta(days=1), "CN-1042", None, RefundError),  # in the future
        (TODAY, "  ", None, RefundError),  # a reference is needed
        (TODAY, "x" * 101, None, RefundError),
        (TODAY, "CN-1042", 100.01, RefundAmountError),  # above the amount approved
    ],
)
def test_issuing_records_the_date_amount_and_reference(
    on: dt.date, reference: str, amount: float | None, refused: type[UserError] | None
) -> None:
    approved = refund("approved")
    if refused is not None:
        with pytest.raises(refused):
            workflow.issue(approved, OWNER, on, reference, TODAY, amount)
        return
    move = workflow.issue(approved, OWNER, on, reference, TODAY, amount)
    assert move.status == "issued"
    assert move.fields == {"issued_on": on, "issued_usd": amount or 100.0, "reference": "CN-1042"}


def test_a_conflict_says_who_changed_the_refund() -> None:
    now = refund("approved", version=4, updated_by="rita", updated_at=dt.datetime(2026, 3, 20, 9))
    error = workflow.conflict(3, now)
    assert isinstance(error, Conflict) and isinstance(error, UserError)
    assert "rita changed refund #7 at 2026-03-20 09:00 UTC" in str(error)
    assert "version 3 -> 4" in str(error) and "now approved" in str(error)


# ------------------------------------------------------------------ proposing


def offer(**changes: Any) -> Offer:
    base = Offer(
        scenario="wrong_setup",
        billing_month=MARCH,
        rules=("dev_traffic",),
        amount_usd=120.0,
        per_product={"product_analytics": 120.0},
        occurrence=1,
        eligible=True,
        declined_as_repeat=False,
        reasons=(),
        full_usd=120.0,
    )
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    ("the_offer", "amount", "actor", "existing", "today", "refused"),
    [
        (offer(), None, TEAM, [], TODAY, None),  # the policy's amount
        (offer(), 90.0, TEAM, [], TODAY, None),  # lowered
        (offer(), 120.01, TEAM, [], TODAY, RefundAmountError),  # never above it
        (offer(), 0.0, TEAM, [], TODAY, RefundAmountError),
        (offer(), None, LEADER, [], TODAY, RefundNotAllowed),
        (None, None, TEAM, [], TODAY, RefundError),  # nothing refundable
        (
            offer(eligible=False, reasons=("not yet: the spike is over",)),
            None,
            TEAM,
            [],
            TODAY,
            RefundError,
        ),  # fmt: skip
        (offer(), None, TEAM, [], dt.date(2026, 5, 2), RefundWindowClosed),  # too late
        # one refund per customer, billing month and scenario, whatever its status
        (
            offer(),
            None,
            TEAM,
            [refund("declined", scenario="wrong_setup")],
            TODAY,
            RefundStateError,
        ),  # fmt: skip
        (
            offer(),
            None,
            TEAM,
            [refund("issued", billing_month=dt.date(2026, 2, 1), scenario="wrong_setup")],
            TODAY,
            None,
        ),  # fmt: skip
        # a third refund may be proposed (at most the repeat share): the policy declines it
        (
            offer(eligible=False, declined_as_repeat=True, occurrence=3, amount_usd=60.0),
            None,
            TEAM,
            [],
            TODAY,
            None,
        ),  # fmt: skip
    ],
)
def test_proposing_a_refund(
    the_offer: Offer | None,
    amount: float | None,
    actor: model.Actor,
    existing: list[RefundView],
    today: dt.date,
    refused: type[UserError] | None,
) -> None:
    def run() -> workflow.Proposal:
        return workflow.propose("acme", the_offer, actor, today, existing, amount_usd=amount)

    if refused is not None:
        with pytest.raises(refused):
            run()
        return
    assert the_offer is not None
    proposal = run()
    assert proposal.amount_usd == (amount or the_offer.amount_usd)
    assert proposal.ceiling_usd == the_offer.amount_usd
    assert sum(proposal.per_product.values()) == pytest.approx(proposal.amount_usd)
    assert (proposal.occurrence == 3) is ("the policy will decline it" in proposal.message)


def test_an_invoice_change_is_flagged_for_approval_from_the_proposal() -> None:
    plain = workflow.propose("acme", offer(), TEAM, TODAY, [])
    changed = workflow.propose("acme", offer(), TEAM, TODAY, [], invoice_change=True)
    assert (plain.needs_approval, changed.needs_approval) == (False, True)


# ------------------------------------------------------------------ offers and Today


def money_finding(rule: str, scenario: str, amount: float, *, occurrence: int = 1) -> Finding:
    prior = {"learning_curve": occurrence - 1} if occurrence > 1 else {}
    assessment = policy.assess(
        scenario, {"product_analytics": amount}, prior, rule=rule, billing_month=MARCH
    )
    return Finding(
        rule=rule, title=rule, severity="high", evidence="e", fix="f", effort="x",
        docs_url="https://posthog.com/docs", refund=assessment,
        refund_eligible=assessment.eligible, est_refund_usd=assessment.amount_usd,
    )  # fmt: skip


def test_wrong_setup_findings_make_one_refund_priced_together() -> None:
    found = [
        money_finding("dev_traffic", "wrong_setup", 100.0),
        money_finding("identify_overcalled", "wrong_setup", 80.0),
        money_finding("usage_spike", "under_attack", 300.0),
    ]
    # The report's refundable total: the spike's 300 and the two fixes together, 150.
    by_scenario = {o.scenario: o for o in offers(found, 450.0)}
    assert by_scenario["wrong_setup"].amount_usd == pytest.approx(150.0)
    assert by_scenario["wrong_setup"].rules == ("dev_traffic", "identify_overcalled")
    assert by_scenario["under_attack"].amount_usd == pytest.approx(300.0)
    # never more than the parts added up
    assert {o.scenario: o.amount_usd for o in offers(found, 10_000.0)}["wrong_setup"] == 180.0


def test_a_third_refund_is_offered_only_to_be_declined() -> None:
    (third,) = offers([money_finding("usage_spike", "under_attack", 300.0, occurrence=3)], 0.0)
    assert third.declined_as_repeat and not third.eligible and third.proposable
    assert third.amount_usd == pytest.approx(150.0)  # the repeat share, if overridden


def test_today_lists_what_waits_for_the_owner_and_for_revenue_operations() -> None:
    mine = dict(owner="dana", customer_name="Acme")
    theirs = dict(owner="ken", customer_name="Bolt", customer_id="bolt")
    refunds = [
        refund("proposed", id=1, **mine),
        refund("proposed", id=2, billing_month=dt.date(2026, 1, 1), **mine),  # window closed
        refund("requested", id=3, **mine),
        refund("approved", id=4, **mine),
        refund("needs_approval", id=5, **theirs),
        refund("needs_approval", id=6, **mine),
        refund("proposed", id=8, **theirs),  # ken's: not dana's work
    ]
    on_offer = {"acme": [offer()], "bolt": [offer()]}
    customers = {"acme": ("Acme", "dana"), "bolt": ("Bolt", "ken")}
    as_of = dt.date(2026, 3, 20)

    def kinds(owner: str | None, approver: bool, recorded: set[Any]) -> list[tuple[str, Any]]:
        tasks = queue.build(refunds, on_offer, customers, recorded, as_of, owner, approver)
        return [(t.kind, t.refund_id) for t in tasks]

    assert kinds("dana", False, set()) == [
        ("expired", 2),
        ("issue", 3),
        ("issue", 4),
        ("ask", 1),
        ("propose", None),
    ]
    # an approver sees every owner's approvals first; what is recorded is not offered again
    recorded = {("acme", MARCH, "wrong_setup")}
    assert kinds("rita", True, recorded) == [("approve", 6), ("approve", 5)]  # by name
    assert [k for k, _ in kinds(None, False, recorded)] == [
        "expired", "issue", "issue", "ask", "ask", "propose",
    ]  # fmt: skip
