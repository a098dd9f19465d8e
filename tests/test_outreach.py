"""Outreach drafts: the initial email from the top findings, the final one from a re-run.

Every figure is the report's (the combined saving, the refundable total); prose rounds to
whole dollars and the bill table keeps cents; a refund the owner may not grant alone is
never promised; nothing the team wrote for itself reaches the customer (docs/rules.md,
"Outreach emails")."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lib import audit, homework, meetings, outreach, pricing, templates
from lib.audit import finding_store, refunds
from lib.audit.finding import Finding
from lib.demo import homework_history_store
from lib.errors import NotFound
from lib.homework import Email
from lib.outreach import drafts
from lib.program.report import CustomerReport
from lib.store import db, models
from tests import db_support, test_dollars
from tests.apptest_support import AS_OF as DEMO_AS_OF
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
CHEAPEST = "We aim to be the cheapest option for every product we sell"
GRANT = "Reply to this email and I will take care of it."
ASKED = "I have asked our billing team to review a refund of about"
CENTS = re.compile(r"\\?\$\d[\d,]*\.\d\d")
TABLE_LABELS = ("Projected bill now", "With every change", "With the open changes", "Saving")


def money(amount: float) -> str:
    """An amount with cents, as the bill table shows it."""
    return f"${pricing.usd(amount):,.2f}"


def md_money(amount: float) -> str:
    """The same amount in the Markdown draft (every `$` escaped)."""
    return "\\" + money(amount)


def about(amount: float) -> str:
    """An amount in prose: whole dollars."""
    return templates.dollars(amount)


def prose_with_cents(draft: outreach.Draft) -> list[str]:
    """Lines outside the bill table that state an amount with cents (there must be none)."""
    found = []
    for line in draft.markdown.splitlines():
        if CENTS.search(line) and not line.startswith("|"):
            found.append(line)
    for line in draft.text.splitlines():
        if CENTS.search(line) and not line.strip().startswith(TABLE_LABELS):
            found.append(line)
    return found


def test_initial_draft_names_the_top_three_findings_by_dollars(engine: Engine) -> None:
    add_customer(engine, "messy", MESSY, products=MESSY_PRODUCTS, config=MESSY_CONFIG)
    found = db_support.read(engine, finding_store.for_customer, "messy", AS_OF)
    by_dollars = sorted(found, key=lambda f: -f.est_monthly_saving_usd)
    assert len([f for f in by_dollars if f.est_monthly_saving_usd > 0]) >= 4

    draft = db_support.read(engine, outreach.initial_draft, "messy", AS_OF, sender="Dana")
    for finding in by_dollars[:3]:
        assert finding.title in draft.markdown and finding.title in draft.text
        assert templates.whole_dollars(finding.evidence) in draft.text
        # each with its own saving, rounded, said to be the fix's alone
        saving = about(finding.est_monthly_saving_usd)
        assert f"Saves: about {saving} a month on its own" in draft.text
        assert f"**Saves:** about \\{saving} a month on its own" in draft.markdown
    noticed = draft.markdown.partition("## Your bill")[0]
    for finding in by_dollars[3:]:
        assert finding.title not in noticed
    more = len(found) - 3
    assert f"I found {more} more thing{'s' if more != 1 else ''} worth a look" in draft.text

    (customer_report,) = db_support.reports(engine, AS_OF, "messy")
    assert md_money(customer_report.projected_monthly_bill_usd) in draft.markdown  # the table
    assert "30-minute call" in draft.markdown and "30-minute call" in draft.text
    assert "could save about $" in draft.subject
    assert draft.markdown.rstrip().endswith("Dana")
    assert prose_with_cents(draft) == []


def test_the_saving_in_the_email_is_the_reports_combined_figure(engine: Engine) -> None:
    add_customer(engine, "messy", MESSY, products=MESSY_PRODUCTS, config=MESSY_CONFIG)
    (customer_report,) = db_support.reports(engine, AS_OF, "messy")
    bill = customer_report.projected_monthly_bill_usd
    saving = customer_report.est_monthly_saving_usd
    assert 1 <= saving <= bill
    draft = db_support.read(engine, outreach.initial_draft, "messy", AS_OF, sender="Dana")
    # prose: rounded; the table: cents; the subject: the same figure
    assert f"about {about(bill - saving)}: about {about(saving)} a month less" in draft.text
    assert f"| Saving | {md_money(saving)} |" in draft.markdown
    assert f"| With every change | {md_money(bill - saving)} |" in draft.markdown
    assert re.search(rf"Saving\s+{re.escape(money(saving))} a month", draft.text)
    assert draft.subject.endswith(f"could save about {about(saving)} a month")
    # the findings alone add up to more (they overlap): the email says so
    alone = sum(f.est_monthly_saving_usd for f in customer_report.findings if f.is_money)
    if alone - saving >= 1:
        assert "together they save less than their savings added up" in draft.text


def test_the_initial_email_states_the_price_position_once_with_a_link(engine: Engine) -> None:
    add_customer(engine, "messy", MESSY, products=MESSY_PRODUCTS, config=MESSY_CONFIG)
    draft = db_support.read(engine, outreach.initial_draft, "messy", AS_OF, sender="Dana")
    assert draft.markdown.count(CHEAPEST) == 1 and draft.text.count(CHEAPEST) == 1
    assert f"([how we price]({outreach.PRICING_URL}))" in draft.markdown
    assert outreach.PRICING_URL in draft.text
    # an aim, not a promise
    assert "guarantee" not in draft.text.lower() and "always the cheapest" not in draft.text


def test_refunds_are_offered_only_where_eligible(engine: Engine) -> None:
    add_customer(engine, "messy", MESSY, products=MESSY_PRODUCTS, config=MESSY_CONFIG)
    (customer_report,) = db_support.reports(engine, AS_OF, "messy")
    draft = db_support.read(engine, outreach.initial_draft, "messy", AS_OF, sender="Dana")
    eligible = [f for f in customer_report.findings if f.refund_eligible and f.est_refund_usd]
    assert eligible, "wrong-setup findings earn a first refund"
    assert not any(f.refund.needs_approval for f in eligible)
    refund_part = draft.markdown.partition("## A refund")[2].partition("## A 30-minute")[0]
    for finding in customer_report.findings:
        assert (f"- **{finding.title}**" in refund_part) == (finding in eligible)
    total = customer_report.est_refund_usd
    assert f"We can refund about {about(total)} of this month's bill" in draft.text
    assert GRANT in draft.text and ASKED not in draft.text
    assert draft.before_sending == ()


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
    # 1.5M events a month: a small bill, stated in whole dollars
    assert prose_with_cents(draft) == []


def test_a_zero_bill_reads_as_the_free_tier(engine: Engine) -> None:
    # 300k events a month, 70% unused autocapture: a finding, but nothing to pay
    add_customer(
        engine,
        "free",
        {"events": 10_000, "autocapture_events": 7_000, "sessions": 1_000},
        config={"autocapture_actions": "0"},
        steps={"initial_outreach": ("done", AS_OF - dt.timedelta(days=15))},
    )
    (customer_report,) = db_support.reports(engine, AS_OF, "free")
    assert pricing.usd(customer_report.projected_monthly_bill_usd) == 0.0
    for make in (outreach.initial_draft, outreach.final_draft):
        draft = db_support.read(engine, make, "free", AS_OF, sender="Dana")
        for body in (draft.markdown, draft.text):
            assert "You are within the free tier" in body
            assert "$0.00" not in body and "\\$0.00" not in body
            assert "projected bill" not in body.lower()


def test_a_fix_that_takes_the_bill_into_the_free_tier_says_so() -> None:
    report = fake_report([money_finding("autocapture_unused", 80.0)], bill=80.0, saving=80.0)
    draft = drafts.initial(report, AS_OF, "Dana")
    assert "you would be within the free tier: about $80 a month less" in draft.text
    assert "about $0" not in draft.text


def test_names_from_the_data_are_escaped_in_markdown_only(engine: Engine) -> None:
    add_customer(engine, "odd", {"events": 1_000}, name="Star*Corp [beta] $x^2$")
    draft = db_support.read(engine, outreach.initial_draft, "odd", AS_OF, sender="Dana_B")
    assert "Hi Star\\*Corp \\[beta\\] \\$x\\^2\\$ team," in draft.markdown
    assert "Hi Star*Corp [beta] $x^2$ team," in draft.text
    assert "Dana\\_B" in draft.markdown and "Dana_B" in draft.text
    assert "**" not in draft.text and "](" not in draft.text


def test_unknown_customer(engine: Engine) -> None:
    with pytest.raises(NotFound):
        db_support.read(engine, outreach.initial_draft, "ghost", AS_OF, sender="Dana")
    with pytest.raises(NotFound):
        db_support.read(engine, outreach.final_draft, "ghost", AS_OF, sender="Dana")


# ------------------------------------------------------------------ refunds


CALM_EVENTS = 400_000
SPIKE_DAYS = range(DAYS - 10, DAYS - 5)  # five days at 40x, over 5 days before as-of


def spiky(customer_id: str, engine: Engine) -> None:
    """A bot spike that stopped, with a billing limit: a first refund above the approval
    threshold (the 30-day window's bill is far above the baseline's)."""
    events = [CALM_EVENTS * (40 if i in SPIKE_DAYS else 1) for i in range(DAYS)]
    daily = {"events": events, "identified_events": [e * 0.3 for e in events], "sessions": 20_000}
    add_customer(engine, customer_id, daily, products={"product_analytics": 20_000.0})


def test_a_refund_above_the_threshold_is_asked_for_never_promised(engine: Engine) -> None:
    spiky("spiky", engine)
    (customer_report,) = db_support.reports(engine, AS_OF, "spiky")
    (spike,) = [f for f in customer_report.findings if f.rule == "usage_spike"]
    assert spike.refund_eligible and spike.refund.needs_approval
    assert spike.est_refund_usd > refunds.policy().approval_above_usd
    draft = db_support.read(engine, outreach.initial_draft, "spiky", AS_OF, sender="Dana")
    total = about(customer_report.est_refund_usd)
    assert f"{ASKED} {total} of this month's bill" in draft.text
    assert "the spike has stopped and a billing limit is in place" in draft.text
    for body in (draft.markdown, draft.text):
        assert GRANT not in body and "We can refund" not in body
    # the owner is told to ask for the approval (on the page, not in the email)
    assert draft.before_sending and "revenue operations" in draft.before_sending[0]
    # a spike's excess is a one-off amount, never a monthly saving
    assert "Saves:" not in draft.text.partition(spike.title)[2].partition("How:")[0]
    assert customer_report.est_monthly_saving_usd == 0
    assert "a month less" not in draft.text


def test_a_repeat_refund_is_asked_for_whatever_its_amount() -> None:
    small = money_finding("unused_group_analytics", 40.0, refund=40.0, occurrence=2)
    assert small.refund is not None and small.refund.needs_approval  # a repeat
    draft = drafts.initial(fake_report([small], 300.0, 40.0, 40.0), AS_OF, "Dana")
    assert f"{ASKED} $40 of this month's bill" in draft.text
    assert GRANT not in draft.text
    first = money_finding("unused_group_analytics", 40.0, refund=40.0, occurrence=1)
    draft = drafts.initial(fake_report([first], 300.0, 40.0, 40.0), AS_OF, "Dana")
    assert "We can refund about $40 of this month's bill once the fix is in. " + GRANT in (
        " ".join(draft.text.split())
    )
    assert ASKED not in draft.text


def test_refunds_that_together_pass_the_threshold_are_asked_for() -> None:
    limit = refunds.policy().approval_above_usd
    parts = [
        money_finding("unused_group_analytics", limit * 0.6, refund=limit * 0.6),
        money_finding("unused_data_pipelines", limit * 0.6, refund=limit * 0.6),
    ]
    assert not any(f.refund and f.refund.needs_approval for f in parts)
    draft = drafts.initial(fake_report(parts, 5_000.0, limit * 1.2, limit * 1.2), AS_OF, "D")
    assert ASKED in draft.text and GRANT not in draft.text


# ------------------------------------------------------------------ internal wording


def test_notes_and_policy_reasons_never_reach_a_draft(engine: Engine) -> None:
    # the last five days at 30x (every share as before): a spike still running
    spiking = ("events", "autocapture_events", "dev_events")
    daily = {k: [v * (30 if i >= DAYS - 5 and k in spiking else 1) for i in range(DAYS)]
             for k, v in MESSY.items()}  # fmt: skip
    add_customer(
        engine,
        "noted",
        daily,
        products=MESSY_PRODUCTS,
        config=MESSY_CONFIG,
        entered=AS_OF - dt.timedelta(days=50),
        steps={"initial_outreach": ("done", AS_OF - dt.timedelta(days=45))},
    )
    secret = "Customer is price sensitive, CFO cc'd"
    db_support.write(
        engine, "dana", finding_store.set_state, "noted", "dev_traffic", "dismissed", AS_OF,
        reason=secret,
    )  # fmt: skip
    db_support.write(
        engine, "dana", finding_store.set_state, "noted", "autocapture_unused", "fixed",
        AS_OF - dt.timedelta(days=40), note="Fixed on the call (meeting 7)",
    )  # fmt: skip
    found = db_support.read(engine, finding_store.for_customer, "noted", AS_OF, include_closed=True)
    notes = [f.note for f in found if f.note]
    reasons = [r for f in found if f.refund for r in f.refund.reasons if r.startswith("not yet")]
    assert notes and reasons, "the customer has notes and a policy reason to leak"
    for make in (outreach.initial_draft, outreach.final_draft):
        draft = db_support.read(engine, make, "noted", AS_OF, sender="Dana")
        body = draft.subject + draft.markdown + draft.text
        for text in [secret, *notes, *reasons, *INTERNAL]:
            assert text not in body, (make.__name__, text)


INTERNAL = (
    "Dismissed:",
    "Reopened:",
    "not yet:",
    "policy",
    "(meeting ",
    "audit log",
    "revenue operations",
    "Policy check",
)


# ------------------------------------------------------------------ final


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
    # week 8 of an active customer: the first weeks are nearly done
    assert "Your first weeks with PostHog are nearly done" in draft.text
    assert prose_with_cents(draft) == []


def test_final_draft_states_the_reports_combined_saving(engine: Engine) -> None:
    mended(engine)
    (customer_report,) = db_support.reports(engine, AS_OF, "mended")
    saving = customer_report.est_monthly_saving_usd
    bill = customer_report.projected_monthly_bill_usd
    assert saving >= 1
    draft = db_support.read(
        engine, outreach.final_draft, "mended", AS_OF, sender="Dana", homework=[]
    )
    assert f"| Saving | {md_money(saving)} |" in draft.markdown
    assert f"| With the open changes | {md_money(bill - saving)} |" in draft.markdown
    assert f"about {about(saving)} a month less" in draft.text


@pytest.mark.parametrize(
    ("entered_days_ago", "status", "opening"),
    [
        (50, "active", "Your first weeks with PostHog are nearly done"),
        (20, "active", "Here is a look at where your account stands"),
        (80, "active", "You have been with PostHog for 12 weeks now"),
        (50, "paused", "Here is a look at where your account stands"),
        (80, "paused", "Here is a look at where your account stands"),
        (80, "churned", "Thank you for giving PostHog a try"),
    ],
)
def test_the_final_email_fits_where_the_customer_is(
    engine: Engine, entered_days_ago: int, status: str, opening: str
) -> None:
    add_customer(
        engine,
        "later",
        {"events": 666_667, "dev_events": 13_334},
        entered=AS_OF - dt.timedelta(days=entered_days_ago),
        status=status,
        steps={"initial_outreach": ("done", AS_OF - dt.timedelta(days=entered_days_ago - 3))},
    )
    draft = db_support.read(
        engine, outreach.final_draft, "later", AS_OF, sender="Dana", homework=[]
    )
    assert opening in draft.text and opening in draft.markdown
    if (entered_days_ago, status) != (50, "active"):
        assert "first weeks" not in draft.text.lower()


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


# ------------------------------------------------------------------ pure helpers


def money_finding(rule: str, saving: float, *, refund: float = 0.0, occurrence: int = 1) -> Finding:
    """A finding of `rule` saving `saving` a month, with a wrong-setup refund if given."""
    spec = audit.RULES_BY_ID[rule]
    assessment = None
    if refund:
        assessment = refunds.assess(
            "wrong_setup",
            {"product_analytics": refund / refunds.repeat_share(occurrence)},
            {"under_attack": occurrence - 1} if occurrence > 1 else {},
            rule=rule,
        )
    return Finding(
        rule=rule,
        title=spec.title,
        severity="medium",
        evidence=f"Evidence of {rule}",
        fix=spec.fix,
        effort=spec.effort,
        docs_url=spec.docs_url,
        est_monthly_saving_usd=saving,
        refund_eligible=bool(assessment and assessment.eligible),
        est_refund_usd=assessment.amount_usd if assessment else 0.0,
        refund=assessment,
        volume_changes={"events": -1.0},
    )


def fake_report(
    findings: list[Finding], bill: float, saving: float, refund: float = 0.0
) -> SimpleNamespace:
    """What lib.outreach.drafts reads of a CustomerReport."""
    customer = models.Customer(customer_id="acme", name="Acme", status="active")
    timeline = SimpleNamespace(program_status="in_progress", program_week=1)
    return SimpleNamespace(
        customer=customer,
        timeline=timeline,
        projected_monthly_bill_usd=bill,
        est_monthly_saving_usd=saving,
        est_refund_usd=refund,
        findings=findings,
    )


# ------------------------------------------------------------------ the demo customers


def homework_email(session: Session, customer_id: str, name: str) -> Email | None:
    """The homework follow-up email as the Homework page writes it (default recap)."""
    items = homework.assignments(session, customer_id)
    if not items:
        return None
    last_call = meetings.for_customer(session, customer_id).last_held()
    titles = {f.rule: f.title for f in finding_store.for_customer(session, customer_id, DEMO_AS_OF)}
    goals = meetings.customer_goals(session, customer_id)
    return homework.render_email(
        name,
        [homework.greeting_for(last_call)],
        "Dana",
        homework.recap_for(last_call, titles, goals),
        homework.email_items(items),
        DEMO_AS_OF + dt.timedelta(days=14),
    )


def team_notes(session: Session) -> dict[str, set[str]]:
    """customer -> every note, reason and agenda the team wrote (lines of 12+ characters)."""
    texts: dict[str, set[str]] = {}
    sources = [
        select(models.Step.customer_id, models.Step.note),
        select(models.Meeting.customer_id, models.Meeting.notes),
        select(models.Meeting.customer_id, models.Meeting.agenda),
        select(models.FindingState.customer_id, models.FindingState.reason),
        select(models.FindingState.customer_id, models.FindingState.note),
        select(models.Refund.customer_id, models.Refund.note),
        select(models.Customer.customer_id, models.Customer.extension_reason),
    ]
    for query in sources:
        for customer_id, text in session.execute(query):
            for line in (text or "").splitlines():
                if len(line.strip()) >= 12:
                    texts.setdefault(customer_id, set()).add(line.strip())
    return texts


def test_no_demo_draft_holds_internal_wording_or_cents_in_prose(demo_db_url_any: str) -> None:
    engine = db.make_engine(demo_db_url_any)
    try:
        with db.write_session(engine, "demo") as session:  # as `onboarding demo` does
            homework_history_store.assign_homework(session, DEMO_AS_OF)
        everyone = db_support.reports(engine, DEMO_AS_OF)
        with db.read_session(engine) as session:
            notes = team_notes(session)
            checked = {"initial": 0, "final": 0, "homework": 0}
            for customer_report in everyone:
                cid, name = customer_report.customer_id, customer_report.customer.name
                written: list[tuple[str, str, str]] = []
                for kind, make in (
                    ("initial", outreach.initial_draft),
                    ("final", outreach.final_draft),
                ):
                    draft = make(session, cid, DEMO_AS_OF, "Dana")
                    written.append((kind, draft.subject, draft.markdown + draft.text))
                    assert prose_with_cents(draft) == [], (cid, kind)
                    assert dollar_pairs(draft.markdown) == [], (cid, kind)
                    if kind == "initial":
                        check_initial_figures(customer_report, draft)
                email = homework_email(session, cid, name)
                if email is not None:
                    written.append(("homework", email.subject, email.markdown + email.text))
                    assert dollar_pairs(email.markdown) == [], cid
                for kind, subject, body in written:
                    checked[kind] += 1
                    for text in [*INTERNAL, *notes.get(cid, ())]:
                        assert text not in subject + body, (cid, kind, text)
        assert checked["initial"] == len(everyone) >= 40 and checked["homework"] > 0, checked
        assert any(n for n in notes.values()), "the demo has notes to leak"
    finally:
        engine.dispose()


def check_initial_figures(customer_report: CustomerReport, draft: outreach.Draft) -> None:
    """The initial email's figures are the report's (report --json): the combined saving,
    never above the bill, and the refundable total."""
    report = customer_report.as_json()
    saving, bill = report["est_monthly_saving_usd"], report["projected_monthly_bill_usd"]
    assert saving <= bill + 0.005
    assert CHEAPEST in draft.text
    if saving >= 1:
        assert f"| Saving | {md_money(saving)} |" in draft.markdown
        assert draft.subject.endswith(f"about {about(saving)} a month")
    else:
        assert "| Saving |" not in draft.markdown
    if pricing.usd(bill) == 0:
        assert "You are within the free tier" in draft.text
    refund = report.get("est_refund_usd", 0.0)
    if refund >= 1:
        assert f"about {about(refund)} of this month's bill" in draft.text
        assert (GRANT in draft.text) != (ASKED in draft.text)
    else:
        assert "A REFUND" not in draft.text


def dollar_pairs(markdown: str) -> list[str]:
    """Stretches between two bare `$` in one paragraph (what Streamlit reads as maths)."""
    return test_dollars.latex_stretches(markdown)
