"""lib.outcomes.load on SQLite and PostgreSQL: the per-customer windows summed in SQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lib import outcomes
from lib.store import db, models

AS_OF = dt.date(2026, 6, 30)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def loaded(engine: Engine) -> outcomes.OutcomesData:
    with db.write_session(engine, "test") as session:
        session.add_all(
            [
                models.Customer(
                    customer_id="x",
                    name="X Ltd",
                    owner="dana",
                    plan="teams",
                    segment_entered_on=d("2026-03-01"),
                    entry_reason="credits_rolloff",
                    status="active",
                ),
                models.Customer(
                    customer_id="y",
                    name="Y Ltd",
                    owner=None,
                    segment_entered_on=d("2026-06-15"),
                    status="churned",
                ),
            ]
        )
        session.flush()
        session.add(models.Subscription(customer_id="x", product="product_analytics"))
        for cid, day, value in (
            ("x", "2026-02-28", 9_000_000),  # the day before entry: outside the first month
            ("x", "2026-03-01", 1_000_000),  # day 0
            ("x", "2026-03-30", 500_000),  # day 29: last day of the first month
            ("x", "2026-03-31", 7_000_000),  # day 30: outside
            ("x", "2026-05-31", 9_000_000),  # the day before the latest 30 days
            ("x", "2026-06-01", 2_000_000),  # first day of the 30 days ending on as-of
            ("y", "2026-06-20", 5_000_000),  # y subscribes to nothing: no bill
        ):
            session.add(models.Usage(customer_id=cid, metric="events", date=d(day), value=value))
        session.add(
            models.Step(
                customer_id="x", step="initial_outreach", status="done", date=d("2026-03-03")
            )
        )
        session.add_all(
            [
                models.FindingState(
                    customer_id="x",
                    rule="autocapture_unused",
                    state="fixed",
                    first_seen_on=d("2026-03-02"),
                    fixed_on=d("2026-04-01"),
                    est_monthly_saving_usd=12.5,
                ),
                models.FindingState(
                    customer_id="x",
                    rule="dev_traffic",
                    state="fixed",
                    first_seen_on=None,  # recorded fixed without a first-seen date
                    fixed_on=d("2026-04-02"),
                    est_monthly_saving_usd=3.0,
                ),
            ]
        )
        session.add(
            models.Refund(
                customer_id="x",
                scenario="wrong_setup",
                amount_usd=25.0,
                recorded_on=d("2026-03-10"),
                status="issued",
            )
        )  # fmt: skip
        # Proposed at $30 in March, issued at $18 in April: what was issued counts.
        session.add(
            models.Refund(
                customer_id="x",
                scenario="learning_curve",
                amount_usd=30.0,
                recorded_on=d("2026-03-20"),
                status="issued",
                issued_on=d("2026-04-05"),
                issued_usd=18.0,
            )
        )
        session.add(
            models.Refund(
                customer_id="x",
                scenario="under_attack",
                amount_usd=99.0,
                recorded_on=d("2026-04-01"),
                status="needs_approval",
            )
        )
    with db.read_session(engine) as session:
        return outcomes.load(session, AS_OF)


def test_load_customers_and_spend(loaded: outcomes.OutcomesData) -> None:
    customers = loaded.customers.set_index("customer_id")
    # First month (days 0-29): 1.5M events, 0.5M above the free million at $0.00005.
    assert customers.at["x", "first_month_spend_usd"] == pytest.approx(25.0)
    # Latest 30 days: 2M events, 1M billed at $0.00005.
    assert customers.at["x", "latest_spend_usd"] == pytest.approx(50.0)
    assert customers.at["x", "events_last_30"] == 2_000_000
    # y is not 90 days in (no first-month bill needed), and it pays for nothing.
    assert customers.at["y", "first_month_spend_usd"] == 0.0
    assert customers.at["y", "latest_spend_usd"] == 0.0
    assert customers.at["y", "events_last_30"] == 5_000_000
    assert customers.at["y", "status"] == "churned"
    assert customers.at["x", "segment_entered_on"] == d("2026-03-01")


def test_load_steps_findings_refunds(loaded: outcomes.OutcomesData) -> None:
    assert [tuple(r) for r in loaded.steps.itertuples(index=False, name=None)] == [
        ("x", "initial_outreach", "done", d("2026-03-03"))
    ]
    findings = loaded.findings.sort_values("rule")
    assert [tuple(r) for r in findings.itertuples(index=False, name=None)] == [
        ("x", "autocapture_unused", "fixed", d("2026-03-02"), d("2026-04-01"), 12.5),
        # No first-seen date: identified when it was fixed.
        ("x", "dev_traffic", "fixed", d("2026-04-02"), d("2026-04-02"), 3.0),
    ]
    assert [tuple(r) for r in loaded.refunds.itertuples(index=False, name=None)] == [
        ("x", "wrong_setup", 25.0, d("2026-03-10"), "issued", None),
        ("x", "learning_curve", 18.0, d("2026-03-20"), "issued", d("2026-04-05")),
        ("x", "under_attack", 99.0, d("2026-04-01"), "needs_approval", None),
    ]


def test_loaded_data_computes(loaded: outcomes.OutcomesData) -> None:
    result = outcomes.compute(loaded, outcomes.Filters(d("2026-01-01"), AS_OF))
    assert result.entrants == 2
    assert list(result.savings.frame.itertuples(index=False, name=None)) == [
        ("2026-03", 12.5, 0.0, 1, 0),
        ("2026-04", 3.0, 15.5, 1, 2),
    ]
    # Issued refunds by the month issued, at the amount issued; the waiting one not at all.
    assert list(result.refunds.frame.itertuples(index=False, name=None)) == [
        ("2026-03", "wrong_setup", "Wrong setup", 1, 25.0),
        ("2026-04", "learning_curve", "Learning curve (first bill)", 1, 18.0),
    ]
    retention = result.retention.frame.set_index("group")
    assert retention.at["all", "customers"] == 1  # y entered 15 days ago
    assert retention.at["all", "spend_change_pct"] == 1.0  # $25 -> $50


def test_savings_agree_with_lib_findings(engine: Engine) -> None:
    """The outcomes page and `savings_by_month` below (the old finding-store count in SQL, kept
    here as an independent oracle now that no lib code uses it) count identified/realised
    savings the same way (for findings with a first-seen date, which
    lib.audit.finding_store always writes)."""
    with db.write_session(engine, "test") as session:
        session.add(models.Customer(customer_id="z", name="Z", segment_entered_on=d("2026-01-05")))
        session.flush()
        for rule, state, seen, fixed, saving in (
            ("autocapture_unused", "fixed", "2026-01-08", "2026-02-03", 40.0),
            ("dev_traffic", "open", "2026-01-08", None, 5.5),
            ("identify_overcalled", "dismissed", "2026-02-01", None, 99.0),
            ("usage_spike", "fixed", "2026-02-10", "2026-02-11", 0.25),
        ):
            session.add(
                models.FindingState(
                    customer_id="z",
                    rule=rule,
                    state=state,
                    first_seen_on=d(seen),
                    fixed_on=d(fixed) if fixed else None,
                    est_monthly_saving_usd=saving,
                )
            )
    with db.read_session(engine) as session:
        theirs = savings_by_month(session)
        loaded = outcomes.load(session, AS_OF)
    mine = outcomes.compute(loaded, outcomes.Filters(d("2000-01-01"), AS_OF)).savings.frame
    assert [
        (f"{m:%Y-%m}", round(i, 2), round(r, 2), int(ic), int(rc))
        for m, i, ic, r, rc in theirs.itertuples(index=False, name=None)
    ] == list(mine.itertuples(index=False, name=None))
    assert list(mine.itertuples(index=False, name=None)) == [
        ("2026-01", 45.5, 0.0, 2, 0),
        ("2026-02", 0.25, 40.25, 1, 2),  # the dismissed 99 is not a saving
    ]


# ------------------------------------------------------------------ the oracle


def savings_by_month(
    session: Session,
    since: dt.date | None = None,
    until: dt.date | None = None,
    owner: str | None = None,
) -> pd.DataFrame:
    """Savings identified and realised per month (USD a month, unrounded).

    Columns: month (first day), identified_usd, identified_count (findings
    first seen that month, dismissed ones left out), realised_usd,
    realised_count (findings fixed that month). `since`/`until` bound the month.
    """
    state = models.FindingState
    stmt = select(state.state, state.first_seen_on, state.fixed_on, state.est_monthly_saving_usd)
    if owner is not None:
        stmt = stmt.join(models.Customer, models.Customer.customer_id == state.customer_id).where(
            models.Customer.owner == owner
        )
    rows = pd.DataFrame(
        session.execute(stmt).all(), columns=["state", "first_seen_on", "fixed_on", "saving"]
    )
    columns = ["month", "identified_usd", "identified_count", "realised_usd", "realised_count"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows["saving"] = rows["saving"].fillna(0.0).astype(float)

    def month(day: dt.date | None) -> dt.date | None:
        return day.replace(day=1) if day is not None and not pd.isna(day) else None

    identified = rows[(rows["state"] != "dismissed") & rows["first_seen_on"].notna()].copy()
    identified["month"] = identified["first_seen_on"].map(month)
    realised = rows[(rows["state"] == "fixed") & rows["fixed_on"].notna()].copy()
    realised["month"] = realised["fixed_on"].map(month)
    left = identified.groupby("month")["saving"].agg(["sum", "size"])
    right = realised.groupby("month")["saving"].agg(["sum", "size"])
    out = pd.DataFrame(
        {
            "identified_usd": left["sum"],
            "identified_count": left["size"],
            "realised_usd": right["sum"],
            "realised_count": right["size"],
        }
    ).fillna(0)
    out.index.name = "month"
    out = out.reset_index()
    if since is not None:
        out = out[out["month"] >= since.replace(day=1)]
    if until is not None:
        out = out[out["month"] <= until]
    out["identified_count"] = out["identified_count"].astype(int)
    out["realised_count"] = out["realised_count"].astype(int)
    return out[columns].sort_values("month").reset_index(drop=True)
