"""Program outcomes on a small hand-built data set, with every number worked out by hand.

The customers (as of 2026-06-30; retention needs entry on or before 2026-04-01):

  A  2026-03-02 dana  teams  credits_rolloff       every step on time except the optional
                                                    second call; completed; active
  B  2026-03-10 dana  payg   first_bill_projected  outreach, first call and final outreach all
                                                    late; homework never sent; active
  C  2026-03-20 lee   teams  accelerator           outreach on time, then skipped; churned
  D  2026-04-15 lee   startup credits_rolloff      outreach and first call on time, then nothing
  E  2026-06-20 none  teams  manual                nothing yet (outreach overdue)
  F  2026-01-05 dana  teams  credits_rolloff       outside the default period
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pandas as pd
import pytest

from lib import outcomes
from lib.outcomes import Filters, OutcomesData, links, progression
from lib.outcomes.section import sized
from lib.program import settings as program_settings

AS_OF = dt.date(2026, 6, 30)
PERIOD = Filters(dt.date(2026, 3, 1), dt.date(2026, 6, 30))


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def customer(cid: str, entered: str, owner: str | None, plan: str, reason: str, **extra: Any):
    return {
        "customer_id": cid,
        "owner": owner,
        "plan": plan,
        "entry_reason": reason,
        "segment_entered_on": d(entered),
        "status": extra.get("status", "active"),
        "extended_until": extra.get("extended_until"),
        "events_last_30": extra.get("events", 0),
        "first_month_spend_usd": extra.get("first", 0.0),
        "latest_spend_usd": extra.get("latest", 0.0),
        "stage": extra.get("stage"),
    }


CUSTOMERS = [
    customer("A", "2026-03-02", "dana", "teams", "credits_rolloff", events=1000, first=100.0, latest=120.0, stage="onboarded_engaged"),
    customer("B", "2026-03-10", "dana", "pay-as-you-go", "first_bill_projected", events=500, first=200.0, latest=150.0, stage="onboarded_engaged"),
    customer("C", "2026-03-20", "lee", "teams", "accelerator", status="churned", events=0, first=50.0, latest=0.0, stage="churned"),
    customer("D", "2026-04-15", "lee", "startup", "credits_rolloff", events=70, first=10.0, latest=11.0, stage="handed_to_sales"),
    customer("E", "2026-06-20", None, "teams", "manual", events=5, stage="new_account"),
    customer("F", "2026-01-05", "dana", "teams", "credits_rolloff", events=10, first=300.0, latest=330.0, stage="onboarded_engaged"),
]  # fmt: skip


def step(cid: str, name: str, status: str, date: str) -> dict[str, Any]:
    return {"customer_id": cid, "step": name, "status": status, "date": d(date)}


STEPS = [
    step("A", "initial_outreach", "done", "2026-03-04"),  # day 2, window 03-02..03-08
    step("A", "first_meeting", "done", "2026-03-12"),  # day 10, window 03-09..03-22
    step("A", "homework", "done", "2026-04-05"),  # day 34, window 03-30..04-12
    step("A", "final_outreach", "done", "2026-04-15"),  # day 44, window 04-13..04-26
    step("B", "initial_outreach", "done", "2026-03-20"),  # day 10, window ends 03-16: late
    step("B", "first_meeting", "done", "2026-04-10"),  # day 31, window ends 03-30: late
    step("B", "final_outreach", "done", "2026-05-10"),  # day 61, window ends 05-04: late
    step("C", "initial_outreach", "done", "2026-03-22"),  # day 2
    step("C", "first_meeting", "skipped", "2026-04-09"),
    step("C", "second_meeting", "skipped", "2026-04-09"),
    step("C", "homework", "skipped", "2026-04-09"),
    step("D", "initial_outreach", "done", "2026-04-16"),  # day 1
    step("D", "first_meeting", "done", "2026-04-25"),  # day 10
    step("F", "initial_outreach", "done", "2026-01-06"),
    step("F", "first_meeting", "done", "2026-01-14"),
    step("F", "final_outreach", "done", "2026-02-20"),
]


def finding(cid: str, rule: str, state: str, seen: str | None, fixed: str | None, saving: float):
    return {
        "customer_id": cid,
        "rule": rule,
        "state": state,
        "identified_on": d(seen) if seen else None,
        "fixed_on": d(fixed) if fixed else None,
        "est_monthly_saving_usd": saving,
    }


FINDINGS = [
    finding("A", "autocapture_unused", "fixed", "2026-03-04", "2026-03-12", 100.0),
    finding("A", "dev_traffic", "open", "2026-03-04", None, 20.5),
    finding("B", "identify_overcalled", "fixed", "2026-03-20", "2026-04-10", 50.25),
    finding("C", "unused_data_pipelines", "dismissed", "2026-03-22", None, 30.0),
    finding("F", "plan_fit_annual", "fixed", "2026-01-06", "2026-01-14", 999.0),
]


def refund(cid: str, scenario: str, amount: float, on: str, status: str = "issued"):
    return {
        "customer_id": cid,
        "scenario": scenario,
        "amount_usd": amount,
        "recorded_on": d(on),
        "status": status,
    }


REFUNDS = [
    refund("A", "wrong_setup", 40.0, "2026-03-12"),
    refund("B", "learning_curve", 25.5, "2026-04-10"),
    refund("B", "wrong_setup", 10.0, "2026-04-11"),
    refund("C", "under_attack", 99.0, "2026-04-01", status="declined"),  # not issued
    refund("F", "learning_curve", 500.0, "2026-01-20"),  # outside the period
]


def reply(cid: str, on: str) -> dict[str, Any]:
    return {"customer_id": cid, "on": d(on)}


REPLIES = [
    reply("A", "2026-03-06"),  # two days after the outreach
    reply("A", "2026-03-09"),  # a second answer counts once
    reply("B", "2026-03-15"),  # before B's outreach (03-20): not an answer to it
    reply("C", "2026-03-22"),  # the outreach's own day counts
    reply("F", "2026-01-07"),  # outside the period
]


@pytest.fixture
def data() -> OutcomesData:
    return OutcomesData.from_records(
        AS_OF, customers=CUSTOMERS, steps=STEPS, findings=FINDINGS, refunds=REFUNDS,
        replies=REPLIES,
    )  # fmt: skip


def rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return list(frame.itertuples(index=False, name=None))


# ------------------------------------------------------------------ sections


def test_funnel(data: OutcomesData) -> None:
    result = outcomes.compute(data, PERIOD)
    assert result.entrants == 5  # A-E; F entered in January
    assert rows(result.funnel.frame) == [
        # step, label, entrants, reached, on_time, late, not_reached, reached %, on time %
        ("initial_outreach", "Initial outreach", 5, 4, 3, 1, 1, 0.8, 0.6),  # A C D on time, B late
        ("first_meeting", "First call", 5, 3, 2, 1, 2, 0.6, 0.4),  # A D on time, B late
        ("second_meeting", "Second call", 5, 0, 0, 0, 5, 0.0, 0.0),
        ("homework", "Homework", 5, 1, 1, 0, 4, 0.2, 0.2),  # A only
        ("final_outreach", "Final outreach", 5, 2, 1, 1, 3, 0.4, 0.2),  # A on time, B late
    ]
    # Completion counts A-D (8 weeks over by 06-30), not E (entered 06-20): A on time, B late.
    assert result.completion == outcomes.Completion(finished=4, completed=2, on_time=1, still_in=1)
    assert result.funnel.title == (
        "50% completed the program, 25% on time, of the 4 customers whose 8 weeks are over "
        "(n=4, small group; entered 1 Mar-30 Jun 2026); 1 still inside their 8 weeks"
    )


def test_cohorts(data: OutcomesData) -> None:
    section = outcomes.compute(data, PERIOD).cohorts
    assert rows(section.frame) == [
        # month, month label, step, label, entrants, reached, on_time, reached %, on time %
        (
            "2026-03",
            "2026-03 (n=3, small group)",
            "initial_outreach",
            "Initial outreach",
            3,
            3,
            2,
            1.0,
            0.6667,
        ),
        (
            "2026-03",
            "2026-03 (n=3, small group)",
            "first_meeting",
            "First call",
            3,
            2,
            1,
            0.6667,
            0.3333,
        ),
        (
            "2026-03",
            "2026-03 (n=3, small group)",
            "second_meeting",
            "Second call",
            3,
            0,
            0,
            0.0,
            0.0,
        ),
        ("2026-03", "2026-03 (n=3, small group)", "homework", "Homework", 3, 1, 1, 0.3333, 0.3333),
        (
            "2026-03",
            "2026-03 (n=3, small group)",
            "final_outreach",
            "Final outreach",
            3,
            2,
            1,
            0.6667,
            0.3333,
        ),
        (
            "2026-04",
            "2026-04 (n=1, small group)",
            "initial_outreach",
            "Initial outreach",
            1,
            1,
            1,
            1.0,
            1.0,
        ),
        ("2026-04", "2026-04 (n=1, small group)", "first_meeting", "First call", 1, 1, 1, 1.0, 1.0),
        (
            "2026-04",
            "2026-04 (n=1, small group)",
            "second_meeting",
            "Second call",
            1,
            0,
            0,
            0.0,
            0.0,
        ),
        ("2026-04", "2026-04 (n=1, small group)", "homework", "Homework", 1, 0, 0, 0.0, 0.0),
        (
            "2026-04",
            "2026-04 (n=1, small group)",
            "final_outreach",
            "Final outreach",
            1,
            0,
            0,
            0.0,
            0.0,
        ),
        (
            "2026-06",
            "2026-06 (n=1, small group)",
            "initial_outreach",
            "Initial outreach",
            1,
            0,
            0,
            0.0,
            0.0,
        ),
        ("2026-06", "2026-06 (n=1, small group)", "first_meeting", "First call", 1, 0, 0, 0.0, 0.0),
        (
            "2026-06",
            "2026-06 (n=1, small group)",
            "second_meeting",
            "Second call",
            1,
            0,
            0,
            0.0,
            0.0,
        ),
        ("2026-06", "2026-06 (n=1, small group)", "homework", "Homework", 1, 0, 0, 0.0, 0.0),
        (
            "2026-06",
            "2026-06 (n=1, small group)",
            "final_outreach",
            "Final outreach",
            1,
            0,
            0,
            0.0,
            0.0,
        ),
    ]
    assert section.title == (
        "Completion by entry month runs from 0% (2026-04, n=1, small group) to 67% (2026-03, "
        "n=3, small group); on time at most 33%"
    )


def test_cohort_title_for_one_month(data: OutcomesData) -> None:
    march = Filters(d("2026-03-01"), d("2026-03-31"))
    result = outcomes.compute(data, march)
    assert result.cohorts.title == (
        "67% of 2026-03 entrants completed the program; 33% on time (n=3, small group)"
    )
    assert result.funnel.title.startswith("67% completed the program, 33% on time, of the 3 ")


def test_speed(data: OutcomesData) -> None:
    section = outcomes.compute(data, PERIOD).speed
    assert rows(section.frame) == [
        # days: outreach A2 B10 C2 D1; first call A10 B31 D10; completion A44 B61
        ("initial_outreach", "Entry to initial outreach", 4, 2.0, 5.2),  # p80: 2 + 0.4 * 8
        ("first_meeting", "Entry to first call", 3, 10.0, 22.6),  # p80: 10 + 0.6 * 21
        ("final_outreach", "Entry to completion", 2, 52.5, 57.6),  # p80: 44 + 0.8 * 17
    ]
    assert section.title == (
        "Median 2 days to outreach, 10 days to first call, 52.5 days to completion; "
        "80% within 5.2, 22.6, 57.6 days"
    )


def test_savings(data: OutcomesData) -> None:
    section = outcomes.compute(data, PERIOD).savings
    assert rows(section.frame) == [
        # month, identified, realised, findings identified, findings fixed
        ("2026-03", 170.75, 100.0, 3, 1),  # 100 + 20.5 + 50.25 (C's dismissed 30 is not); A's fix
        ("2026-04", 0.0, 50.25, 0, 1),  # B's fix
    ]
    assert section.title == (
        "$171/month of savings identified, $150/month realised (88% of identified)"
    )


def test_refunds(data: OutcomesData) -> None:
    section = outcomes.compute(data, PERIOD).refunds
    assert rows(section.frame) == [
        ("2026-03", "wrong_setup", "Wrong setup", 1, 40.0),
        ("2026-04", "learning_curve", "Learning curve (first bill)", 1, 25.5),
        ("2026-04", "wrong_setup", "Wrong setup", 1, 10.0),
    ]  # C's declined refund and F (outside the period) are not counted
    assert section.title == "$76 refunded in 3 refunds; most for wrong setup ($50)"


def test_retention(data: OutcomesData) -> None:
    section = outcomes.compute(data, PERIOD).retention
    assert rows(section.frame) == [
        # group, label, customers, small, retained, rate, its label, target, first, latest,
        # spend change
        (
            "all",
            "All customers 90+ days in",
            3,
            True,
            2,
            0.6667,
            "67% (n=3, small group)",
            0.9,
            350.0,
            270.0,
            -0.2286,
        ),
        (
            "completed",
            "Completed the program",
            2,
            True,
            2,
            1.0,
            "100% (n=2, small group)",
            0.9,
            300.0,
            270.0,
            -0.1,
        ),
        (
            "not_engaged",
            "Did not engage",
            1,
            True,
            0,
            0.0,
            "0% (n=1, small group)",
            0.9,
            50.0,
            0.0,
            -1.0,
        ),
    ]  # D and E entered after 2026-04-01; nobody is "engaged, not completed"
    assert section.title == (
        "3-month logo retention 67% (n=3, small group), below the 90% target: 100% (n=2, small "
        "group) for completed vs 0% (n=1, small group) for did not engage; spend -23% since the "
        "first month"
    )


def test_response_rate(data: OutcomesData) -> None:
    section = outcomes.compute(data, PERIOD).response
    assert rows(section.frame) == [
        # month, outreach sent, replied, response rate, its label, small group, benchmark
        ("2026-03", 3, 2, 0.6667, "67% (n=3, small group)", True, 0.75),  # A, C; B before it
        ("2026-04", 1, 0, 0.0, "0% (n=1, small group)", True, 0.75),  # D never; E (June) none
    ]
    assert section.title == (
        "50% of 1 Mar-30 Jun 2026 entrants replied to the initial outreach (2 of 4; n=4, small "
        "group), below the handbook's 75%"
    )


def test_end_stages(data: OutcomesData) -> None:
    section = outcomes.compute(data, PERIOD).stages
    assert rows(section.frame) == [
        # month, stage, label, entrants, customers, share
        (
            "2026-03",
            "2026-03 (n=3, small group)",
            "onboarded_engaged",
            "Onboarded and engaged",
            3,
            2,
            0.6667,
        ),
        (
            "2026-03",
            "2026-03 (n=3, small group)",
            "onboarded_no_engagement",
            "Onboarded without engagement",
            3,
            0,
            0.0,
        ),
        ("2026-03", "2026-03 (n=3, small group)", "handed_to_sales", "Handed to sales", 3, 0, 0.0),
        ("2026-03", "2026-03 (n=3, small group)", "churned", "Churned", 3, 1, 0.3333),
        ("2026-03", "2026-03 (n=3, small group)", "in_program", "Still in the program", 3, 0, 0.0),
        (
            "2026-04",
            "2026-04 (n=1, small group)",
            "onboarded_engaged",
            "Onboarded and engaged",
            1,
            0,
            0.0,
        ),
        (
            "2026-04",
            "2026-04 (n=1, small group)",
            "onboarded_no_engagement",
            "Onboarded without engagement",
            1,
            0,
            0.0,
        ),
        ("2026-04", "2026-04 (n=1, small group)", "handed_to_sales", "Handed to sales", 1, 1, 1.0),
        ("2026-04", "2026-04 (n=1, small group)", "churned", "Churned", 1, 0, 0.0),
        ("2026-04", "2026-04 (n=1, small group)", "in_program", "Still in the program", 1, 0, 0.0),
        (
            "2026-06",
            "2026-06 (n=1, small group)",
            "onboarded_engaged",
            "Onboarded and engaged",
            1,
            0,
            0.0,
        ),
        (
            "2026-06",
            "2026-06 (n=1, small group)",
            "onboarded_no_engagement",
            "Onboarded without engagement",
            1,
            0,
            0.0,
        ),
        ("2026-06", "2026-06 (n=1, small group)", "handed_to_sales", "Handed to sales", 1, 0, 0.0),
        ("2026-06", "2026-06 (n=1, small group)", "churned", "Churned", 1, 0, 0.0),
        (
            "2026-06",
            "2026-06 (n=1, small group)",
            "in_program",
            "Still in the program",
            1,
            1,
            1.0,
        ),  # E: a new account
    ]
    assert section.title == (
        "Of the 1 Mar-30 Jun 2026 entrants, 4 of 5 finished (n=4, small group): 50% onboarded "
        "and engaged, 0% onboarded without engagement, 25% handed to sales, 25% churned"
    )


def test_response_benchmark_is_the_program_setting(data: OutcomesData) -> None:
    section = outcomes.compute(data, PERIOD).response
    assert set(section.frame["benchmark_pct"]) == {program_settings.load().response_rate_benchmark}


def test_team(data: OutcomesData) -> None:
    section = outcomes.compute(data, PERIOD).team
    assert rows(section.frame) == [
        # owner, open, overdue, steps due, on time, on-time rate, its label
        ("(unassigned)", 1, 1, 1, 0, 0.0, "0% (n=1, small group)"),  # E: outreach overdue
        ("dana", 0, 0, 8, 4, 0.5, "50% (n=8, small group)"),  # A 4/4; B 0/4 (3 late + homework)
        (
            "lee",
            1,
            1,
            5,
            3,
            0.6,
            "60% (n=5, small group)",
        ),  # C 1/1 (churned: final not counted); D 2/4
    ]
    assert section.title == (
        "(unassigned) carries the most open customers (1, 1 overdue); on-time rates run 0%-60%"
    )


@pytest.mark.parametrize(
    "status,events,retained",
    [
        ("active", 1, True),  # still a customer and still sending events
        ("paused", 10, True),  # paused but using the product counts as kept
        ("active", 0, False),  # no events in 30 days: gone in all but name
        ("churned", 500, False),  # churned, whatever the usage says
    ],
)
def test_retained_means_not_churned_and_recent_events(
    status: str, events: int, retained: bool
) -> None:
    data = OutcomesData.from_records(
        AS_OF,
        customers=[
            customer("X", "2026-01-01", "dana", "teams", "manual", status=status, events=events)
        ],
    )
    row = outcomes.compute(data, Filters(d("2026-01-01"), AS_OF)).retention.frame.iloc[0]
    assert (int(row["customers"]), int(row["retained"])) == (1, int(retained))


@pytest.mark.parametrize(
    "entered,eligible",
    [
        ("2026-04-01", True),  # exactly 90 days before as-of
        ("2026-04-02", False),  # 89 days: too early to tell
    ],
)
def test_retention_counts_from_90_days(entered: str, eligible: bool) -> None:
    data = OutcomesData.from_records(
        AS_OF, customers=[customer("X", entered, "dana", "teams", "manual", events=1)]
    )
    section = outcomes.compute(data, Filters(d("2026-01-01"), AS_OF)).retention
    assert section.is_empty is (not eligible)


def test_extension_moves_the_final_window() -> None:
    # Final outreach on day 60: late against days 42-55, on time inside an extension to day 63.
    steps = [step("X", "final_outreach", "done", "2026-03-02")]
    for extended, on_time in ((None, 0), (d("2026-03-05"), 1)):
        data = OutcomesData.from_records(
            AS_OF,
            customers=[customer("X", "2026-01-01", "dana", "teams", "manual", extended_until=extended)],
            steps=steps,
        )  # fmt: skip
        frame = outcomes.compute(data, Filters(d("2026-01-01"), AS_OF)).funnel.frame
        assert int(frame.set_index("step").at["final_outreach", "on_time"]) == on_time


# ------------------------------------------------------------------ filters


@pytest.mark.parametrize(
    "filters,selected",
    [
        (PERIOD, {"A", "B", "C", "D", "E"}),  # the period alone
        (Filters(d("2026-01-01"), d("2026-01-31")), {"F"}),  # January only
        (Filters(d("2026-03-10"), d("2026-03-20")), {"B", "C"}),  # both ends inclusive
        (Filters(PERIOD.entered_from, AS_OF, owners=("dana",)), {"A", "B"}),
        (Filters(PERIOD.entered_from, AS_OF, owners=("(unassigned)",)), {"E"}),  # no owner
        (Filters(PERIOD.entered_from, AS_OF, entry_reasons=("credits_rolloff",)), {"A", "D"}),
        (Filters(PERIOD.entered_from, AS_OF, plans=("teams",)), {"A", "C", "E"}),
        (Filters(PERIOD.entered_from, AS_OF, owners=("lee",), plans=("teams",)), {"C"}),  # AND
        (Filters(PERIOD.entered_from, AS_OF, owners=("lee", "dana")), {"A", "B", "C", "D"}),  # OR
    ],
)
def test_filters_select(data: OutcomesData, filters: Filters, selected: set[str]) -> None:
    assert set(filters.select(data.customers)["customer_id"]) == selected


@pytest.mark.parametrize(
    "filters",
    [
        Filters(PERIOD.entered_from, AS_OF, owners=("dana",)),
        Filters(PERIOD.entered_from, AS_OF, entry_reasons=("credits_rolloff",)),
        Filters(PERIOD.entered_from, AS_OF, plans=("teams",)),
        Filters(d("2026-03-01"), d("2026-03-31")),
    ],
)
def test_every_section_sees_the_same_customers(data: OutcomesData, filters: Filters) -> None:
    """A filter gives exactly the outcomes of a data set holding only the customers it selects."""
    chosen = set(filters.select(data.customers)["customer_id"])
    subset = OutcomesData.from_records(
        AS_OF,
        customers=[c for c in CUSTOMERS if c["customer_id"] in chosen],
        steps=[s for s in STEPS if s["customer_id"] in chosen],
        findings=[f for f in FINDINGS if f["customer_id"] in chosen],
        refunds=[r for r in REFUNDS if r["customer_id"] in chosen],
        replies=[r for r in REPLIES if r["customer_id"] in chosen],
    )
    everything = Filters(d("2000-01-01"), AS_OF)
    filtered = outcomes.compute(data, filters)
    reference = outcomes.compute(subset, everything)
    for mine, theirs in zip(filtered.sections, reference.sections, strict=True):
        pd.testing.assert_frame_equal(mine.frame, theirs.frame, check_dtype=False)
    assert filtered.entrants == len(chosen)


def test_empty_selection_says_so(data: OutcomesData) -> None:
    nobody = Filters(d("2025-01-01"), d("2025-01-31"))
    result = outcomes.compute(data, nobody)
    assert result.entrants == 0
    for section in result.sections:
        assert section.is_empty, section.key
        assert section.frame.empty
        assert "January 2025" in (section.empty_message or "")


def test_empty_data_set() -> None:
    result = outcomes.compute(OutcomesData.from_records(AS_OF), PERIOD)
    assert all(section.is_empty for section in result.sections)


@pytest.mark.parametrize(
    "start,end,label",
    [
        ("2026-03-01", "2026-03-31", "March 2026"),  # a whole month by name
        ("2026-02-01", "2026-02-28", "February 2026"),
        ("2026-03-01", "2026-06-30", "1 Mar-30 Jun 2026"),  # same year
        ("2025-12-15", "2026-01-14", "15 Dec 2025-14 Jan 2026"),  # across a year
        ("2026-03-01", "2026-03-30", "1 Mar-30 Mar 2026"),  # not the whole month
    ],
)
def test_period_label(start: str, end: str, label: str) -> None:
    assert Filters(d(start), d(end)).period_label == label


def test_period_presets() -> None:
    presets = outcomes.period_presets(AS_OF, first_entry=d("2025-11-03"))
    assert presets["Last 4 weeks"] == Filters(d("2026-06-03"), AS_OF)
    assert presets["June 2026"] == Filters(d("2026-06-01"), d("2026-06-30"))
    assert presets["January 2026"] == Filters(d("2026-01-01"), d("2026-01-31"))
    assert presets["All time"] == Filters(d("2025-11-03"), AS_OF)


def test_choices(data: OutcomesData) -> None:
    assert data.choices("owner") == ["(unassigned)", "dana", "lee"]
    assert data.choices("plan") == ["pay-as-you-go", "startup", "teams"]


# ---------------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    "cell,written",
    [
        ('=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'),  # a formula, quoted by CSV
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("dana", "dana"),  # ordinary text untouched
        ("a=b", "a=b"),  # only a leading character matters
    ],
)
def test_csv_cells_never_formulas(cell: str, written: str) -> None:
    text = outcomes.csv_bytes(pd.DataFrame({"owner": [cell]})).decode("utf-8")
    assert text == f"owner\n{written}\n"


def test_csv_bytes_neutralises_text_not_numbers() -> None:
    frame = pd.DataFrame({"owner": ["=cmd()", "dana"], "spend_change_pct": [-0.25, 0.1]})
    text = outcomes.csv_bytes(frame).decode("utf-8")
    assert text == "owner,spend_change_pct\n'=cmd(),-0.25\ndana,0.1\n"


def test_csv_bytes_round_trip(data: OutcomesData) -> None:
    for section in outcomes.compute(data, PERIOD).sections:
        back = pd.read_csv(io.BytesIO(outcomes.csv_bytes(section.frame)))
        assert list(back.columns) == list(section.frame.columns)
        assert len(back) == len(section.frame)


def test_headline_beside_the_previous_period(data: OutcomesData) -> None:
    """March-June against the 122 days before (30 Oct-28 Feb): F alone, who completed on
    time, was retained, replied and had $999/month fixed."""
    previous = PERIOD.previous()
    assert previous == Filters(d("2025-10-30"), d("2026-02-28"))
    metrics = outcomes.headline(outcomes.compute(data, PERIOD), outcomes.compute(data, previous))
    assert [(m.key, m.label, m.value, m.delta, m.previous, m.group) for m in metrics] == [
        ("entrants", "Entrants", "5", "+4", "1", ""),
        ("completed", "Completed", "50%", "-50 pts", "100%",
         "of the 4 customers whose 8 weeks are over (small group)"),  # A, B of A-D; not E
        ("completed_on_time", "Completed on time", "25%", "-75 pts", "100%",
         "of the 4 customers whose 8 weeks are over (small group)"),
        ("retention", "3-month retention", "67%", "-33 pts", "100%",
         "of the 3 customers 90+ days in (small group)"),
        ("response", "Response rate", "50%", "-50 pts", "100%",
         "of the 4 customers sent the initial outreach (small group)"),  # A, C of A-D
        ("savings", "Savings realised", "$150/mo", "-$849/mo", "$999/mo", ""),  # 100 + 50.25
    ]  # fmt: skip
    for metric in metrics:
        assert "2025-10-30 to 2026-02-28" in metric.help
        assert "shifted back by its own length (122 days)" in metric.help


def test_headline_without_a_previous_number(data: OutcomesData) -> None:
    """Nobody entered in the window before: no change is shown, and the help says why; a
    metric with nothing to measure now is left out."""
    march = Filters(d("2026-03-01"), d("2026-03-31"))
    empty = outcomes.compute(data, Filters(d("2026-01-29"), d("2026-02-28")))
    metrics = outcomes.headline(outcomes.compute(data, march), empty)
    by_key = {m.key: m for m in metrics}
    assert by_key["entrants"].delta == "+3"  # a count of zero is still a number
    assert by_key["completed"].delta is None and by_key["completed"].previous is None
    assert "It has no number for this." in by_key["completed"].help
    assert by_key["completed"].group.endswith("; no number last period")
    later = outcomes.headline(empty, outcomes.compute(data, march))
    assert [m.key for m in later] == ["entrants"]


@pytest.mark.parametrize(
    "entered,extended,final_done,finished,completed,on_time",
    [
        # as of 2026-06-30; the final outreach's window is days 42-55 after entry
        ("2026-05-06", None, None, 0, 0, 0),  # window ends 06-30: not over on its last day
        ("2026-05-05", None, None, 1, 0, 0),  # window ended 06-29: over, not completed
        ("2026-05-05", "2026-07-10", None, 0, 0, 0),  # extended: not over yet
        ("2026-03-02", None, "2026-04-15", 1, 1, 1),  # completed inside the window
        ("2026-03-02", None, "2026-05-15", 1, 1, 0),  # completed late
        ("2026-06-01", None, "2026-06-20", 0, 0, 0),  # completed early: not counted yet
    ],
)
def test_completion_counts_only_customers_past_their_8_weeks(
    entered: str,
    extended: str | None,
    final_done: str | None,
    finished: int,
    completed: int,
    on_time: int,
) -> None:
    steps = [step("X", "final_outreach", "done", final_done)] if final_done else []
    data = OutcomesData.from_records(
        AS_OF,
        customers=[
            customer("X", entered, "dana", "teams", "manual", extended_until=d(extended) if extended else None)
        ],
        steps=steps,
    )  # fmt: skip
    result = outcomes.compute(data, Filters(d("2026-01-01"), AS_OF))
    done = result.completion
    assert (done.finished, done.completed, done.on_time) == (finished, completed, on_time)
    assert done.still_in == 1 - finished


@pytest.mark.parametrize(
    "start,end,before",
    [
        ("2026-03-01", "2026-03-31", ("2026-01-29", "2026-02-28")),  # 31 days back
        ("2026-06-24", "2026-06-30", ("2026-06-17", "2026-06-23")),  # a week
        ("2026-01-01", "2026-01-01", ("2025-12-31", "2025-12-31")),  # one day
    ],
)
def test_previous_period_is_the_window_shifted_back_by_its_length(
    start: str, end: str, before: tuple[str, str]
) -> None:
    filters = Filters(d(start), d(end), owners=("dana",), plans=("teams",))
    previous = filters.previous()
    assert (previous.entered_from, previous.entered_to) == (d(before[0]), d(before[1]))
    assert (previous.owners, previous.plans) == (("dana",), ("teams",))
    assert previous.days == filters.days


@pytest.mark.parametrize(
    "share,n,text",
    [
        (0.72, 25, "72% (n=25)"),
        (0.4, 5, "40% (n=5, small group)"),
        (0.5, 9, "50% (n=9, small group)"),
        (0.5, 10, "50% (n=10)"),  # SMALL_GROUP is the first size not flagged
        (0.0, 0, "0% (n=0, small group)"),
        (1.0, 1234, "100% (n=1,234)"),
    ],
)
def test_every_rate_names_its_group(share: float, n: int, text: str) -> None:
    assert outcomes.SMALL_GROUP == 10
    assert sized(share, n) == text


def test_describe_names_codes_by_their_labels() -> None:
    filters = Filters(
        d("2026-03-01"), d("2026-03-31"), owners=("dana",), entry_reasons=("credits_rolloff",),
        plans=("pay-as-you-go",),
    )  # fmt: skip
    assert filters.describe() == (
        "entered 2026-03-01 to 2026-03-31; owner: dana; entry reason: Credits rolled off; "
        "plan: Pay-as-you-go"
    )


@pytest.mark.parametrize(
    "filters,url",
    [
        ({}, "customers"),
        ({"owner": ["dana"]}, "customers?owner=dana"),
        ({"owner": ["Ann Lee & Co"]}, "customers?owner=Ann%20Lee%20%26%20Co"),
        ({"stage": ["churned", "handed_to_sales"]}, "customers?stage=churned,handed_to_sales"),
        ({"owner": ["lee"], "overdue": True}, "customers?owner=lee&overdue=1"),
        ({"status": ["completed"], "health": ["low"]}, "customers?status=completed&health=low"),
        ({"q": "acme"}, "customers?q=acme"),
        ({"owner": [""], "overdue": False}, "customers"),  # empty filters are left out
    ],
)
def test_links_use_the_customers_page_filters(filters: dict[str, Any], url: str) -> None:
    assert outcomes.customers_url(outcomes.customers_query(**filters)) == url


def test_section_links(data: OutcomesData) -> None:
    result = outcomes.compute(data, PERIOD)
    stages = {link.label: link.query for link in outcomes.section_links(result.stages)}
    # Onboarded without engagement has nobody: no link to an empty list.
    assert stages == {
        "Onboarded and engaged": {"stage": "onboarded_engaged"},
        "Handed to sales": {"stage": "handed_to_sales"},
        "Churned": {"stage": "churned"},
        "Still in the program": {"stage": ",".join(links.IN_PROGRAM_STAGES)},
    }
    assert "new_account" in links.IN_PROGRAM_STAGES and "churned" not in links.IN_PROGRAM_STAGES
    funnel = {link.label: link.query for link in outcomes.section_links(result.funnel)}
    assert funnel["Completed"] == {"status": "completed"}
    team = outcomes.team_table(result.team)
    assert list(team["Customers"]) == [
        "customers?owner=%28unassigned%29", "customers?owner=dana", "customers?owner=lee"
    ]  # fmt: skip
    assert list(team["Overdue customers"])[1] == "customers?owner=dana&overdue=1"
    assert list(team["On-time rate"]) == list(result.team.frame["on_time_label"])
    assert list(team["Open"]) == list(result.team.frame["open_customers"])
    assert outcomes.section_links(result.speed) == []


def test_every_section_has_a_definition(data: OutcomesData) -> None:
    keys = [section.key for section in outcomes.compute(data, PERIOD).sections]
    assert keys == list(outcomes.DEFINITIONS)


# ------------------------------------------------------------------ kept between computes


@pytest.mark.parametrize(
    "change",
    [
        step("E", "initial_outreach", "done", "2026-06-22"),  # a customer with none before
        step("D", "homework", "done", "2026-05-20"),  # one more step of a customer
        step("A", "final_outreach", "done", "2026-04-30"),  # a step's date moved
    ],
    ids=["first-step", "another-step", "moved"],
)
def test_a_written_customer_alone_is_computed_again(change: dict[str, Any]) -> None:
    """Each customer's rows are kept (customer_rows): after a save the next compute does only
    the customer written again, and gives what computing everyone again gives."""
    filters = Filters(d("2026-01-01"), AS_OF)
    before = OutcomesData.from_records(AS_OF, customers=CUSTOMERS, steps=STEPS)
    changed = [
        s for s in STEPS if (s["customer_id"], s["step"]) != (change["customer_id"], change["step"])
    ]
    after = OutcomesData.from_records(AS_OF, customers=CUSTOMERS, steps=[*changed, change])
    progression.customer_rows.cache_clear()
    outcomes.compute(before, filters)  # every customer's rows kept
    misses = progression.customer_rows.cache_info().misses
    kept = outcomes.compute(after, filters).progress
    assert progression.customer_rows.cache_info().misses == misses + 1  # the written one
    progression.customer_rows.cache_clear()
    fresh = outcomes.compute(after, filters).progress  # everyone computed from nothing
    pd.testing.assert_frame_equal(kept, fresh)
    mine = kept[(kept["customer_id"] == change["customer_id"]) & (kept["step"] == change["step"])]
    assert list(mine["done_on"]) == [change["date"]]
