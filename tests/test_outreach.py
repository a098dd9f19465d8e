"""Outreach drafts: the initial email from the top findings, the final one from a re-run."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from lib import audit, outreach, pricing
from lib.audit import finding_store
from lib.errors import NotFound
from tests import db_support
from tests.audit_fixtures import AS_OF, DAYS, add_customer

# 20M events a month: 70% unused autocapture, 2% dev traffic, identify 5x per session,
# a data pipelines add-on with no destination, and identity-merge warnings.
MESSY = {
    "events": 666_667,
    "identified_events": 300_000,
    "autocapture_events": 466_667,
    "dev_events": 13_334,
    "sessions": 30_000,
    "identify_events": 150_000,
    "merge_warnings": 3,
}
MESSY_CONFIG = {"autocapture_actions": "0", "pipeline_destinations": "0"}
MESSY_PRODUCTS: dict[str, float | None] = {"product_analytics": None, "data_pipelines": None}


def money(amount: float) -> str:
    return f"${pricing.usd(amount):,.2f}"


def test_initial_draft_names_the_top_three_findings_by_dollars(engine: Engine) -> None:
    add_customer(engine, "messy", MESSY, products=MESSY_PRODUCTS, config=MESSY_CONFIG)
    found = db_support.read(engine, finding_store.for_customer, "messy", AS_OF)
    by_dollars = sorted(found, key=lambda f: -f.est_monthly_saving_usd)
    assert len([f for f in by_dollars if f.est_monthly_saving_usd > 0]) >= 4

    draft = db_support.read(engine, outreach.initial_draft, "messy", AS_OF, sender="Dana")
    for finding in by_dollars[:3]:
        assert finding.title in draft.markdown and finding.title in draft.text
        assert finding.evidence in draft.markdown
        assert money(finding.est_monthly_saving_usd) in draft.markdown
    for finding in by_dollars[3:]:
        assert finding.title not in draft.markdown

    (customer_report,) = db_support.reports(engine, AS_OF, "messy")
    assert money(customer_report.projected_monthly_bill_usd) in draft.markdown
    assert "30-minute call" in draft.markdown and "30-minute call" in draft.text
    assert "could save about $" in draft.subject
    assert draft.markdown.rstrip().endswith("Dana")


def test_the_saving_in_the_email_prices_the_fixes_together(engine: Engine) -> None:
    add_customer(engine, "messy", MESSY, products=MESSY_PRODUCTS, config=MESSY_CONFIG)
    top = outreach.top_findings(db_support.read(engine, finding_store.for_customer, "messy", AS_OF))
    (customer_report,) = db_support.reports(engine, AS_OF, "messy")
    volumes = {k: float(v) * 30 for k, v in MESSY.items()}
    after = audit.combined_bill(volumes, frozenset(MESSY_PRODUCTS), top)
    draft = db_support.read(engine, outreach.initial_draft, "messy", AS_OF, sender="Dana")
    assert f"would be about **{money(after)}**" in draft.markdown
    assert money(customer_report.projected_monthly_bill_usd - after) in draft.markdown


def test_refunds_are_offered_only_where_eligible(engine: Engine) -> None:
    add_customer(engine, "messy", MESSY, products=MESSY_PRODUCTS, config=MESSY_CONFIG)
    top = outreach.top_findings(db_support.read(engine, finding_store.for_customer, "messy", AS_OF))
    draft = db_support.read(engine, outreach.initial_draft, "messy", AS_OF, sender="Dana")
    eligible = [f for f in top if f.refund_eligible]
    assert eligible, "wrong-setup findings in the top three earn a first refund"
    assert "## A refund" in draft.markdown
    for finding in eligible:
        assert f"we can refund **{money(finding.est_refund_usd)}**" in draft.markdown
    for finding in top:
        if not finding.refund_eligible:
            assert f"**{finding.title}**: we can refund" not in draft.markdown


def test_a_clean_account_gets_a_short_friendly_email(engine: Engine) -> None:
    add_customer(
        engine,
        "clean",
        {"events": 50_000, "active_users": 5, "insights_viewed": 20},
        products={"product_analytics": 100.0},
        config={"autocapture_actions": "4", "sdk_version_age_days": "10"},
    )
    draft = db_support.read(engine, outreach.initial_draft, "clean", AS_OF, sender="Dana")
    assert "setup looks healthy" in draft.markdown
    assert "A refund" not in draft.markdown
    assert draft.subject == "Clean + PostHog: your account review"


def test_names_from_the_data_are_escaped_in_markdown_only(engine: Engine) -> None:
    add_customer(engine, "odd", {"events": 1_000}, name="Star*Corp [beta]")
    draft = db_support.read(engine, outreach.initial_draft, "odd", AS_OF, sender="Dana_B")
    assert "Hi Star\\*Corp \\[beta\\] team," in draft.markdown
    assert "Hi Star*Corp [beta] team," in draft.text
    assert "Dana\\_B" in draft.markdown and "Dana_B" in draft.text
    assert "**" not in draft.text and "](" not in draft.text


def test_unknown_customer(engine: Engine) -> None:
    with pytest.raises(NotFound):
        db_support.read(engine, outreach.initial_draft, "ghost", AS_OF, sender="Dana")
    with pytest.raises(NotFound):
        db_support.read(engine, outreach.final_draft, "ghost", AS_OF, sender="Dana")


# ------------------------------------------------------------------- final


def mended(engine: Engine) -> None:
    """Autocapture switched off 40 days ago; dev traffic still flowing. First email 45 days ago."""
    autocapture = [MESSY["autocapture_events"] if i < DAYS - 40 else 0 for i in range(DAYS)]
    events = [MESSY["events"] if i < DAYS - 40 else 200_000 for i in range(DAYS)]
    daily = {
        "events": events,
        "identified_events": 50_000,
        "autocapture_events": autocapture,
        "dev_events": 13_334,
        "sessions": 10_000,
    }
    add_customer(
        engine,
        "mended",
        daily,
        config={"autocapture_actions": "0"},
        entered=AS_OF - dt.timedelta(days=50),
        steps={"initial_outreach": ("done", AS_OF - dt.timedelta(days=45))},
    )


def test_final_draft_lists_what_is_fixed_and_what_is_still_open(engine: Engine) -> None:
    mended(engine)
    draft = db_support.read(
        engine, outreach.final_draft, "mended", AS_OF, sender="Dana", homework=[]
    )
    fixed_part, _, open_part = draft.markdown.partition("## Still open")
    assert "## Fixed since the first review" in fixed_part
    assert audit.RULES_BY_ID["autocapture_unused"].title in fixed_part
    assert audit.RULES_BY_ID["dev_traffic"].title in open_part
    assert "## Your homework" not in draft.markdown
    assert "Where to get help" in draft.markdown and "WHERE TO GET HELP" in draft.text
    assert draft.subject == "Mended + PostHog: where your setup stands"


def test_final_draft_counts_a_finding_marked_fixed_as_fixed(engine: Engine) -> None:
    add_customer(
        engine,
        "marked",
        {"events": 666_667, "dev_events": 13_334},
        steps={"initial_outreach": ("done", AS_OF - dt.timedelta(days=15))},
    )
    db_support.write(
        engine, "dana", finding_store.set_state, "marked", "dev_traffic", "fixed", on=AS_OF
    )
    draft = db_support.read(
        engine, outreach.final_draft, "marked", AS_OF, sender="Dana", homework=[]
    )
    fixed_part = draft.markdown.partition("## Fixed since the first review")[2]
    assert audit.RULES_BY_ID["dev_traffic"].title in fixed_part
    assert "the data is catching up" in fixed_part


def test_final_draft_takes_homework_lines_from_the_caller(engine: Engine) -> None:
    mended(engine)
    lines = ["[done] Build a weekly signups dashboard", "[open] Define the activation funnel"]
    draft = db_support.read(
        engine, outreach.final_draft, "mended", AS_OF, sender="Dana", homework=lines
    )
    assert "## Your homework" in draft.markdown
    for line in lines:
        assert f"- {line}" in draft.markdown and line in draft.text


def test_final_draft_asks_the_homework_module_when_not_given(engine: Engine) -> None:
    mended(engine)
    draft = db_support.read(engine, outreach.final_draft, "mended", AS_OF, sender="Dana")
    # no homework was sent to this customer: the section stays out
    assert "## Your homework" not in draft.markdown
