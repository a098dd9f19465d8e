"""A refund through every state in a real browser, checked in the database too.

The team member (dana) proposes a first refund from a customer's findings, marks it
requested when the customer asks and issues it with the billing system's reference; a
repeat waits for revenue operations, whose named approver (rita, in a browser of her
own) approves it before dana issues it; a third refund is declined by the policy when
the customer asks. Every state: proposed, requested, needs_approval, approved, issued,
declined.
"""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from lib.accounts import auth
from lib.program import report_store
from lib.refunds import store as refund_store
from lib.refunds.offers import Offer, offers
from lib.store import db, models
from tests.browser.conftest import AS_OF, PASSWORD, TEAM, AppServer, shot
from tests.browser.helpers import login, notice, scalar, visit, wait_idle

APPROVER = "rita"


def candidates(app_server: AppServer) -> list[tuple[str, Offer]]:
    """Customers the policy offers exactly one first refund now, none recorded yet (the
    hostile demo customers left alone), largest offer first."""
    engine = db.make_engine(app_server.database_url)
    try:
        with db.read_session(engine) as session:
            reports = report_store.build(session, AS_OF)
            recorded = {key[0] for key in refund_store.keys(session)}
        found = []
        for rep in reports:
            if rep.customer_id.startswith("zz-") or rep.customer_id in recorded:
                continue
            on_offer = [o for o in offers(rep.findings, rep.totals.refundable) if o.proposable]
            if len(on_offer) == 1 and on_offer[0].eligible and on_offer[0].amount_usd >= 5:
                found.append((rep.customer_id, on_offer[0]))
        return sorted(found, key=lambda f: -f[1].amount_usd)
    finally:
        engine.dispose()


def had_refunds(app_server: AppServer, customer_id: str, count: int) -> None:
    """`count` refunds the customer had before (issued in earlier months), as history."""
    engine = db.make_engine(app_server.database_url)
    try:
        for months_ago in range(1, count + 1):
            month = (AS_OF.replace(day=1) - dt.timedelta(days=31 * months_ago)).replace(day=1)
            with db.write_session(engine, "demo") as session:
                refund_store.record(
                    session, customer_id, "learning_curve", 25.0, {}, month,
                    status="issued", on=month + dt.timedelta(days=5),
                )  # fmt: skip
    finally:
        engine.dispose()


def status(app_server: AppServer, customer_id: str) -> str | None:
    """The status of the customer's newest refund (the one this test moves)."""
    return scalar(
        app_server,
        select(models.Refund.status)
        .where(models.Refund.customer_id == customer_id)
        .order_by(models.Refund.id.desc())
        .limit(1),
    )


def open_refunds(page: Page, customer_id: str) -> None:
    visit(page, f"/customer?id={customer_id}&tab=Refunds")
    expect(page.get_by_role("heading", name="Refunds")).to_be_visible()
    wait_idle(page)


def click(page: Page, button: str, then: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    notice(page, then)
    wait_idle(page)


def test_a_refund_goes_through_every_state(
    page: Page, app_server: AppServer, browser: Browser
) -> None:
    auth.add_user(app_server.auth_file, APPROVER, "team", PASSWORD, name="Rita Ops", revops=True)
    found = candidates(app_server)
    assert len(found) >= 3, "the demo data offers too few refunds for this test"
    # The first one the owner may issue alone: under the approval threshold.
    first = next(cid for cid, offer in found if not offer.needs_approval)
    repeat, third = [cid for cid, _ in found if cid != first][:2]
    had_refunds(app_server, repeat, 1)  # this one will be the customer's second
    had_refunds(app_server, third, 2)  # and this one the third

    # A first refund: proposed, requested, issued by the owner alone.
    login(page, TEAM)
    open_refunds(page, first)
    click(page, "Propose refund", "proposed")
    assert status(app_server, first) == "proposed"
    click(page, "Mark requested", "requested")
    assert status(app_server, first) == "requested"
    page.get_by_role("textbox", name="Reference (credit note or invoice)").fill("CN-5001")
    click(page, "Mark issued", "issued")
    assert status(app_server, first) == "issued"
    expect(page.get_by_text("CN-5001").first).to_be_visible()
    shot(page, f"{app_server.database}-refund-issued")

    # A repeat: at most half, and it waits for revenue operations.
    open_refunds(page, repeat)
    expect(page.get_by_text("needs approval").first).to_be_visible()
    click(page, "Propose refund", "proposed")
    click(page, "Mark requested", "waits for revenue operations")
    assert status(app_server, repeat) == "needs_approval"
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # not hers to approve

    # Revenue operations, in a browser of their own, approve it with a reason.
    approver = browser.new_context(
        viewport={"width": 1400, "height": 1000}, base_url=app_server.url, timezone_id="UTC"
    )
    approver.set_default_timeout(20_000)
    try:
        rita = approver.new_page()
        login(rita, APPROVER)
        open_refunds(rita, repeat)
        rita.get_by_role("textbox", name="Reason (kept with the refund)").fill(
            "a second spike, fixed in good faith"
        )
        click(rita, "Approve", "approved")
        assert status(app_server, repeat) == "approved"
        shot(rita, f"{app_server.database}-refund-approved")
    finally:
        approver.close()

    # The owner issues it.
    open_refunds(page, repeat)
    page.get_by_role("textbox", name="Reference (credit note or invoice)").fill("CN-5002")
    click(page, "Mark issued", "issued")
    assert status(app_server, repeat) == "issued"

    # A third: the policy declines it when the customer asks.
    open_refunds(page, third)
    expect(page.get_by_text("a third refund: the policy declines it")).to_be_visible()
    click(page, "Propose refund", "the policy will decline it")
    click(page, "Mark requested", "Declined by the policy")
    assert status(app_server, third) == "declined"
    decided_by = scalar(
        app_server,
        select(models.Refund.decided_by)
        .where(models.Refund.customer_id == third)
        .order_by(models.Refund.id.desc())
        .limit(1),
    )
    assert decided_by == "policy"
    expect(page.get_by_role("button", name="Override the policy")).to_have_count(0)  # admins
    shot(page, f"{app_server.database}-refund-third-declined")

    # Every move is in the change log, under who made it.
    users = {
        row
        for row in [
            scalar(
                app_server,
                select(models.AuditLog.user)
                .where(models.AuditLog.entity == "refunds", models.AuditLog.user == who)
                .limit(1),
            )
            for who in (TEAM, APPROVER)
        ]
    }
    assert users == {TEAM, APPROVER}
