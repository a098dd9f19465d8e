"""The engagement stage, one row per rule of docs/rules.md ("Stages"), edges included; the
override and its reason; the stage in the report (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine

from lib import outcomes, replies
from lib.errors import UserError
from lib.program import stage_store
from lib.program.stage import RULES, STAGE_LABELS, Facts, Override, decide
from lib.store import db, models
from lib.vocabulary import END_STAGES, STAGES
from tests import db_support

AS_OF = dt.date(2026, 3, 16)
ENTERED = dt.date(2026, 1, 5)  # week 11 on AS_OF: the final outreach's window opened 02-16
RECENT = dt.date(2026, 3, 2)  # week 3 on AS_OF: the final outreach's window opens 04-13


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def facts(entered: dt.date = RECENT, **given: Any) -> Facts:
    steps = {
        name: (value.split(" ")[0], d(value.split(" ")[1]))
        for name, value in given.pop("steps", {}).items()
    }
    return Facts(
        steps=steps,
        as_of=AS_OF,
        final_opens_on=entered + dt.timedelta(days=42),
        **given,
    )


OUTREACH = {"initial_outreach": "done 2026-03-03"}
CALL_HELD = {**OUTREACH, "first_meeting": "done 2026-03-10"}
SKIPPED = {
    **OUTREACH,
    "first_meeting": "skipped 2026-03-12",
    "second_meeting": "skipped 2026-03-12",
    "homework": "skipped 2026-03-12",
}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # nothing yet
        (facts(), "new_account"),
        (facts(sent=frozenset({"meeting_invite"})), "new_account"),  # an invite is no outreach
        # the initial outreach: recorded done, or sent from the console
        (facts(steps=OUTREACH), "onboarding_initiated"),
        (facts(sent=frozenset({"initial_outreach"})), "onboarding_initiated"),
        (facts(steps={"initial_outreach": "skipped 2026-03-03"}), "new_account"),
        # engaged: a reply, or a call booked
        (facts(steps=OUTREACH, last_reply_on=d("2026-03-05")), "engaged"),
        (facts(steps={**OUTREACH, "first_meeting": "scheduled 2026-03-20"}), "engaged"),
        (facts(steps={**OUTREACH, "second_meeting": "scheduled 2026-03-20"}), "engaged"),
        (facts(last_reply_on=d("2026-03-05")), "engaged"),  # they wrote before the outreach
        # the calls and homework, the furthest wins
        (facts(steps=CALL_HELD), "intro_call_done"),
        (facts(steps=CALL_HELD, last_reply_on=d("2026-03-05")), "intro_call_done"),
        (facts(steps={**CALL_HELD, "second_meeting": "done 2026-03-14"}), "second_call_done"),
        (facts(steps={**CALL_HELD, "homework": "done 2026-03-14"}), "homework_offered"),
        (facts(steps=OUTREACH, sent=frozenset({"homework"})), "homework_offered"),
        # awaiting the final outreach: skipped to it, or its window open with nothing left
        (facts(steps=SKIPPED), "awaiting_final_outreach"),
        (facts(ENTERED, steps={**CALL_HELD, "homework": "done 2026-02-10"}), "awaiting_final_outreach"),
        (facts(ENTERED, steps=CALL_HELD), "intro_call_done"),  # homework still open
        (
            facts(ENTERED, steps={**CALL_HELD, "homework": "done 2026-02-10",
                                  "second_meeting": "scheduled 2026-03-20"}),
            "homework_offered",
        ),  # a second call booked and waiting
        (facts(steps={**SKIPPED, "initial_outreach": "skipped 2026-03-03"}), "new_account"),
        # the end stages
        (facts(steps={**OUTREACH, "final_outreach": "done 2026-03-15"}), "onboarded_no_engagement"),
        (facts(steps={**SKIPPED, "final_outreach": "done 2026-03-15"}), "onboarded_no_engagement"),
        (
            facts(steps={**OUTREACH, "final_outreach": "done 2026-03-15"},
                  last_reply_on=d("2026-03-04")),
            "onboarded_engaged",
        ),
        (facts(steps={**CALL_HELD, "final_outreach": "done 2026-03-15"}), "onboarded_engaged"),
        (
            facts(steps={**OUTREACH, "first_meeting": "scheduled 2026-03-09",
                         "final_outreach": "done 2026-03-15"}),
            "onboarded_engaged",
        ),  # a call booked is engagement too
        # churned, whatever else
        (facts(customer_status="churned"), "churned"),
        (
            facts(customer_status="churned", steps={**CALL_HELD, "final_outreach": "done 2026-03-15"}),
            "churned",
        ),
        (facts(customer_status="paused", steps=CALL_HELD), "intro_call_done"),
    ],
)  # fmt: skip
def test_stage_follows_the_facts(given: Facts, expected: str) -> None:
    stage = decide(given)
    assert (stage.stage, stage.by_facts, stage.override) == (expected, expected, None)
    assert stage.why  # every stage says why


def test_every_rule_is_reached_and_handed_to_sales_only_by_hand() -> None:
    ruled = [rule.stage for rule in RULES]
    assert sorted(ruled) == sorted(s for s in STAGES if s != "handed_to_sales")
    assert tuple(STAGE_LABELS) == STAGES
    assert set(END_STAGES) <= set(STAGE_LABELS)


@pytest.mark.parametrize("chosen", STAGES)
def test_an_override_wins_with_its_reason(chosen: str) -> None:
    given = facts(steps=CALL_HELD)
    stage = decide(given, Override(chosen, "handed to Sam in sales", "dana"))
    assert stage.stage == chosen
    assert stage.by_facts == "intro_call_done"  # what the facts alone say stays visible
    assert stage.why == "set by hand by dana: handed to Sam in sales"


@pytest.mark.parametrize(
    ("given", "why"),
    [
        (facts(steps=OUTREACH, last_reply_on=d("2026-03-05")), "the customer replied on 2026-03-05"),
        (facts(steps=SKIPPED), "skipped to the final outreach"),
        (facts(steps=OUTREACH), "initial outreach sent on 2026-03-03; no reply yet"),
    ],
)  # fmt: skip
def test_why(given: Facts, why: str) -> None:
    assert decide(given).why == why


# ------------------------------------------------------------------ database


def customer(engine: Engine, cid: str = "acme", entered: dt.date = RECENT) -> None:
    with db.write_session(engine, "test") as session:
        session.add(models.Customer(customer_id=cid, name="Acme", segment_entered_on=entered))


def test_the_report_carries_the_stage_and_the_last_reply(engine: Engine) -> None:
    customer(engine)
    (before,) = db_support.reports(engine, AS_OF, "acme")
    assert before.as_json()["stage"] == "new_account"
    assert before.as_json()["last_customer_reply_on"] is None
    with db.write_session(engine, "dana") as session:
        session.add(models.Step(customer_id="acme", step="initial_outreach", status="done",
                                date=d("2026-03-03")))  # fmt: skip
    assert db_support.reports(engine, AS_OF, "acme")[0].as_json()["stage"] == (
        "onboarding_initiated"
    )
    db_support.write(engine, "dana", replies.record_manual, "acme", d("2026-03-05"), AS_OF, "phone")
    db_support.write(engine, "dana", replies.record_manual, "acme", d("2026-03-09"), AS_OF)
    (after,) = db_support.reports(engine, AS_OF, "acme")
    body = after.as_json()
    assert (body["stage"], body["last_customer_reply_on"]) == ("engaged", "2026-03-09")
    assert list(body)[-2:] == ["stage", "last_customer_reply_on"]  # after the older fields
    # As of a day before the replies, there were none.
    (earlier,) = db_support.reports(engine, d("2026-03-04"), "acme")
    assert earlier.as_json()["last_customer_reply_on"] is None
    # Everyone's report (the summary path) says the same.
    (everyone,) = db_support.reports(engine, AS_OF)
    assert everyone.as_json()["stage"] == "engaged"


def test_override_set_and_cleared_with_its_reason(engine: Engine) -> None:
    customer(engine)
    db_support.write(engine, "dana", stage_store.set_override, "acme", "handed_to_sales", " Sam ")
    (rep,) = db_support.reports(engine, AS_OF, "acme")
    assert rep.stage.stage == "handed_to_sales" and rep.stage.by_facts == "new_account"
    assert rep.stage.override is not None
    assert (rep.stage.override.reason, rep.stage.override.set_by) == ("Sam", "dana")
    db_support.write(engine, "lee", stage_store.set_override, "acme", "churned", "gone")
    assert db_support.reports(engine, AS_OF, "acme")[0].stage.why == "set by hand by lee: gone"
    assert db_support.write(engine, "lee", stage_store.clear_override, "acme") is True
    assert db_support.write(engine, "lee", stage_store.clear_override, "acme") is False
    assert db_support.reports(engine, AS_OF, "acme")[0].stage.stage == "new_account"
    with db.read_session(engine) as session:
        logged = [
            (e.user, e.action)
            for e in session.query(models.AuditLog).filter_by(entity="stage_overrides")
        ]
    assert logged == [("dana", "insert"), ("lee", "update"), ("lee", "delete")]


@pytest.mark.parametrize(
    ("cid", "stage", "reason", "message"),
    [
        ("acme", "engaged", "  ", "say why"),
        ("acme", "sold", "x", "stage 'sold'"),
        ("nobody", "engaged", "x", "no such customer"),
        ("acme", "engaged", "x" * 2_001, "at most 2000"),
    ],
)
def test_override_refusals_write_nothing(
    engine: Engine, cid: str, stage: str, reason: str, message: str
) -> None:
    customer(engine)
    with pytest.raises(UserError, match=message):
        db_support.write(engine, "dana", stage_store.set_override, cid, stage, reason)
    with db.read_session(engine) as session:
        assert session.query(models.StageOverride).count() == 0


def test_outcomes_read_the_stage_the_report_gives(engine: Engine) -> None:
    customer(engine, "acme")
    customer(engine, "sold")
    customer(engine, "old", ENTERED)
    with db.write_session(engine, "dana") as session:
        session.add_all(
            [
                models.Step(customer_id="acme", step="initial_outreach", status="done",
                            date=d("2026-03-03")),
                models.Step(customer_id="old", step="initial_outreach", status="done",
                            date=d("2026-01-06")),
                models.Step(customer_id="old", step="final_outreach", status="done",
                            date=d("2026-02-20")),
            ]
        )  # fmt: skip
    db_support.write(engine, "dana", replies.record_manual, "acme", d("2026-03-05"), AS_OF)
    db_support.write(
        engine, "dana", replies.record_manual, "acme", d("2026-04-01"), d("2026-04-01")
    )
    db_support.write(engine, "dana", stage_store.set_override, "sold", "handed_to_sales", "Sam")
    with db.read_session(engine) as session:
        loaded = outcomes.load(session, AS_OF)
    stages = dict(zip(loaded.customers["customer_id"], loaded.customers["stage"], strict=True))
    reported = {r.customer_id: r.stage.stage for r in db_support.reports(engine, AS_OF)}
    assert (
        stages
        == reported
        == {
            "acme": "engaged",
            "old": "onboarded_no_engagement",
            "sold": "handed_to_sales",
        }
    )
    # Replies up to as-of only (the April one is after it).
    assert [tuple(r) for r in loaded.replies.itertuples(index=False, name=None)] == [
        ("acme", d("2026-03-05"))
    ]
    result = outcomes.compute(loaded, outcomes.Filters(d("2026-01-01"), AS_OF))
    frame = result.response.frame[
        ["entry_month", "outreach_sent", "replied", "response_pct", "benchmark_pct"]
    ]
    assert [tuple(r) for r in frame.itertuples(index=False, name=None)] == [
        ("2026-01", 1, 0, 0.0, 0.75),
        ("2026-03", 1, 1, 1.0, 0.75),
    ]
    assert list(result.response.frame["small_group"]) == [True, True]  # n=1 each
