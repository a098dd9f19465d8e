"""Finding states: open / fixed (with date) / dismissed (with reason), reopening, savings."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from lib import pricing
from lib.audit import finding_store
from lib.store import db
from tests import db_support
from tests.audit_fixtures import AS_OF, DAYS, add_customer

# 20M events a month, 70% autocapture nobody uses; 2% dev traffic.
NOISY = {
    "events": 666_667,
    "identified_events": 100_000,
    "autocapture_events": 466_667,
    "dev_events": 13_334,
    "sessions": 30_000,
}
NO_ACTIONS = {"autocapture_actions": "0"}


def open_rules(engine: Engine, customer_id: str, as_of: dt.date = AS_OF) -> list[str]:
    (found,) = db_support.reports(engine, as_of, customer_id)
    return [f.rule for f in found.findings]


def test_set_state_fixed_keeps_the_date_and_the_saving(engine: Engine) -> None:
    add_customer(engine, "noisy", NOISY, config=NO_ACTIONS)
    (before,) = [
        f
        for f in db_support.read(engine, finding_store.for_customer, "noisy", AS_OF)
        if f.rule == "autocapture_unused"
    ]
    fixed_on = AS_OF - dt.timedelta(days=2)
    db_support.write(
        engine, "dana", finding_store.set_state, "noisy", "autocapture_unused", "fixed", on=fixed_on
    )
    with db.read_session(engine) as session:
        row = finding_store.states(session, "noisy")["autocapture_unused"]
    assert (row.state, row.fixed_on, row.updated_by) == ("fixed", fixed_on, "dana")
    assert row.first_seen_on == fixed_on
    # the saving was estimated on the day of the fix (the same steady data here)
    assert row.est_monthly_saving_usd == pytest.approx(before.est_monthly_saving_usd)
    # fixed, and the window still holds the old data: not listed as open
    assert "autocapture_unused" not in open_rules(engine, "noisy")
    assert "dev_traffic" in open_rules(engine, "noisy")


def test_a_fixed_finding_the_data_still_shows_is_reopened_with_a_note(engine: Engine) -> None:
    add_customer(engine, "noisy", NOISY, config=NO_ACTIONS)
    fixed_on = AS_OF - dt.timedelta(days=31)
    db_support.write(
        engine, "dana", finding_store.set_state, "noisy", "autocapture_unused", "fixed", on=fixed_on
    )
    # the report (read-only) already lists it as open again ...
    (found,) = db_support.reports(engine, AS_OF, "noisy")
    (reopened,) = [f for f in found.findings if f.rule == "autocapture_unused"]
    assert reopened.state == "open" and reopened.note and reopened.note.startswith("Reopened")
    # ... and sync writes the reopening down
    result = db_support.write(engine, "audit", finding_store.sync, AS_OF)
    assert ("noisy", "autocapture_unused") in result.reopened
    with db.read_session(engine) as session:
        row = finding_store.states(session, "noisy")["autocapture_unused"]
    assert row.state == "open" and row.fixed_on is None
    assert row.note is not None and fixed_on.isoformat() in row.note


def test_dismissed_findings_need_a_reason_and_leave_the_report(engine: Engine) -> None:
    add_customer(engine, "noisy", NOISY, config=NO_ACTIONS)
    with pytest.raises(finding_store.FindingStateError, match="reason"):
        db_support.write(
            engine,
            "dana",
            finding_store.set_state,
            "noisy",
            "dev_traffic",
            "dismissed",
            reason="  ",
        )
    db_support.write(
        engine,
        "dana",
        finding_store.set_state,
        "noisy",
        "dev_traffic",
        "dismissed",
        reason="staging is their demo",
    )
    (found,) = db_support.reports(engine, AS_OF, "noisy")
    assert "dev_traffic" not in [f.rule for f in found.findings]
    body = found.as_json()
    assert body["est_monthly_saving_usd"] == pricing.usd(
        sum(f.est_monthly_saving_usd for f in found.findings)
    )
    everything = db_support.read(
        engine, finding_store.for_customer, "noisy", AS_OF, include_closed=True
    )
    (dismissed,) = [f for f in everything if f.rule == "dev_traffic"]
    assert dismissed.state == "dismissed" and "staging is their demo" in (dismissed.note or "")


@pytest.mark.parametrize(
    ("rule", "state", "message"),
    [
        ("no_such_rule", "open", "unknown audit rule"),  # a typo in the rule id
        ("dev_traffic", "closed", "unknown finding state"),  # not a state
    ],
)
def test_set_state_refuses_bad_input(engine: Engine, rule: str, state: str, message: str) -> None:
    add_customer(engine, "noisy", NOISY, config=NO_ACTIONS)
    with pytest.raises(finding_store.FindingStateError, match=message):
        db_support.write(engine, "dana", finding_store.set_state, "noisy", rule, state)
    with db.read_session(engine) as session:
        assert finding_store.states(session, "noisy") == {}


def test_unknown_customer_is_refused(engine: Engine) -> None:
    with pytest.raises(finding_store.FindingStateError, match="no such customer"):
        db_support.write(engine, "dana", finding_store.set_state, "ghost", "dev_traffic", "open")


def test_reopening_by_hand_clears_the_fix_date(engine: Engine) -> None:
    add_customer(engine, "noisy", NOISY, config=NO_ACTIONS)
    db_support.write(
        engine, "dana", finding_store.set_state, "noisy", "dev_traffic", "fixed", on=AS_OF
    )
    db_support.write(
        engine,
        "lee",
        finding_store.set_state,
        "noisy",
        "dev_traffic",
        "open",
        note="still on staging",
    )
    with db.read_session(engine) as session:
        row = finding_store.states(session, "noisy")["dev_traffic"]
    assert (row.state, row.fixed_on, row.note, row.updated_by) == (
        "open",
        None,
        "still on staging",
        "lee",
    )


def test_sync_records_new_findings_and_closes_the_ones_gone_from_the_data(
    engine: Engine,
) -> None:
    # autocapture stops 40 days before as-of: the 30-day window no longer shows it
    autocapture = [NOISY["autocapture_events"] if i < DAYS - 40 else 0 for i in range(DAYS)]
    events = [NOISY["events"] if i < DAYS - 40 else 200_000 for i in range(DAYS)]
    daily = {**NOISY, "events": events, "autocapture_events": autocapture}
    add_customer(engine, "mended", daily, config=NO_ACTIONS)
    earlier = AS_OF - dt.timedelta(days=45)

    first = db_support.write(engine, "audit", finding_store.sync, earlier)
    assert ("mended", "autocapture_unused") in first.recorded
    with db.read_session(engine) as session:
        row = finding_store.states(session, "mended")["autocapture_unused"]
    assert (row.state, row.first_seen_on) == ("open", earlier)
    identified_saving = row.est_monthly_saving_usd
    assert identified_saving > 0

    again = db_support.write(
        engine, "audit", finding_store.sync, earlier
    )  # nothing new: safe to run again
    assert again.recorded == [] and again.closed == [] and again.reopened == []

    later = db_support.write(engine, "audit", finding_store.sync, AS_OF)
    assert ("mended", "autocapture_unused") in later.closed
    with db.read_session(engine) as session:
        row = finding_store.states(session, "mended")["autocapture_unused"]
        assert (row.state, row.fixed_on) == ("fixed", AS_OF)
        assert row.est_monthly_saving_usd == identified_saving  # kept for "realised"
        # Identified in the month first seen, realised in the month fixed (Outcomes' savings).
        seen = {
            rule: (state.first_seen_on, state.est_monthly_saving_usd)
            for rule, state in finding_store.states(session, "mended").items()
        }
    assert seen["autocapture_unused"] == (earlier, identified_saving)
    assert seen["dev_traffic"] == (earlier, _saving_of(engine, "mended", "dev_traffic"))


def _saving_of(engine: Engine, customer_id: str, rule: str) -> float:
    with db.read_session(engine) as session:
        return finding_store.states(session, customer_id)[rule].est_monthly_saving_usd
