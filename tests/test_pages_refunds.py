"""Refunds on the pages, from app.py after sign-in (AppTest): the customer page's Refunds
tab (propose, mark requested, approve, issue; a stale click refused), Today's refunds
waiting, naming approvers on the Users page, and every refund downloading on Outcomes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from lib.accounts import auth
from lib.audit import refunds as policy
from lib.pricing import usd
from lib.refunds import Actor, RefundView
from lib.refunds import store as refund_store
from lib.refunds.offers import Offer, offers
from lib.store import db
from tests import db_support
from tests.apptest_support import AS_OF, PASSWORD, page_errors
from ui import refund_queue

CUSTOMER_PAGE = "app_pages/customer.py"
TODAY = "app_pages/today.py"
MONTH = AS_OF.replace(day=1)


@pytest.fixture
def app_engine(demo_db_url: str) -> Iterator[Engine]:
    engine = db.make_engine(demo_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def rita(app_env: Path) -> str:
    """Revenue operations: a team login marked as a refund approver."""
    auth.add_user(app_env, "rita", "team", PASSWORD, name="Rita Ops", revops=True)
    return "rita"


def offered(engine: Engine, below_threshold: bool = True) -> tuple[str, Offer]:
    """A demo customer the policy offers a first refund now (the largest such offer under
    the approval threshold, or the largest of all)."""
    found = []
    for rep in db_support.reports(engine, AS_OF):
        for offer in offers(rep.findings, rep.totals.refundable):
            if offer.eligible and offer.occurrence == 1 and offer.amount_usd >= 1:
                found.append((rep.customer_id, offer))
    limit = policy.policy().approval_above_usd
    fits = [f for f in found if not below_threshold or f[1].amount_usd <= limit]
    assert fits, "the demo data offers no first refund"
    return max(fits, key=lambda f: (f[1].amount_usd, f[0]))


def refunds_tab(login_app: Callable[..., AppTest], user: str, customer_id: str) -> AppTest:
    return login_app(user, page=CUSTOMER_PAGE, query={"id": customer_id, "tab": "Refunds"})


def stored(engine: Engine, customer_id: str) -> list[RefundView]:
    return db_support.read(engine, refund_store.history, customer_id)


def submit(at: AppTest, form: str, button: str) -> AppTest:
    at.button(key=f"FormSubmitter:{form}-{button}").click()
    return at.run()


BARE_DOLLAR = re.compile(r"(?<!\\)\$")


def assert_no_maths(at: AppTest) -> None:
    """No Markdown on the page holds two bare `$` (Streamlit would render what is between
    them as LaTeX): every amount the refunds panels write is escaped."""
    texts = [
        e.value
        for group in (at.markdown, at.caption, at.success, at.error, at.warning, at.info)
        for e in group
    ]
    texts += [e.label for e in at.expander]
    assert [t for t in texts if len(BARE_DOLLAR.findall(str(t))) >= 2] == []
    assert any("$" in str(t) for t in texts)  # amounts were shown


def notices(at: AppTest) -> str:
    return " | ".join([s.value for s in at.success] + [e.value for e in at.error])


def test_propose_request_and_issue_a_first_refund(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id, offer = offered(app_engine)
    at = refunds_tab(login_app, "priya", customer_id)
    assert not page_errors(at)
    assert [s.value for s in at.subheader] == ["Refunds"]
    form = f"refund_offer_{offer.scenario}_{offer.billing_month:%Y%m}"
    assert at.number_input(key=f"{form}_amount").value == usd(offer.amount_usd)
    assert_no_maths(at)
    at = submit(at, form, "Propose refund")
    assert not page_errors(at), notices(at)
    assert_no_maths(at)
    (proposed,) = stored(app_engine, customer_id)
    assert (proposed.status, proposed.recorded_by) == ("proposed", "priya")
    assert f"Refund \\#{proposed.id} of" in at.success[0].value  # the notice, escaped

    at = submit(at, f"refund_form_{proposed.id}", "Mark requested")
    assert not page_errors(at), notices(at)
    assert stored(app_engine, customer_id)[0].status == "requested"

    at.text_input(key=f"refund_{proposed.id}_reference").input("CN-2044")
    at = submit(at, f"refund_form_{proposed.id}", "Mark issued")
    assert not page_errors(at), notices(at)
    (issued,) = stored(app_engine, customer_id)
    assert (issued.status, issued.reference, issued.issued_on) == ("issued", "CN-2044", AS_OF)
    table = at.dataframe[0].value
    assert list(table["Status"]) == ["Issued"]
    assert_no_maths(at)
    assert at.get("download_button")  # the customer's refunds as refunds.csv


def test_an_invoice_change_waits_for_revenue_operations(
    login_app: Callable[..., AppTest], app_engine: Engine, rita: str
) -> None:
    customer_id, offer = offered(app_engine)
    at = refunds_tab(login_app, "priya", customer_id)
    form = f"refund_offer_{offer.scenario}_{offer.billing_month:%Y%m}"
    at.checkbox(key=f"{form}_invoice").check()
    at = submit(at, form, "Propose refund")
    (refund,) = stored(app_engine, customer_id)
    at = submit(at, f"refund_form_{refund.id}", "Mark requested")
    assert stored(app_engine, customer_id)[0].status == "needs_approval"
    # The owner cannot approve: no such button for her.
    assert not [b for b in at.button if b.label == "Approve"]
    assert "Waiting for revenue operations" in " ".join(c.value for c in at.caption)

    approver = refunds_tab(login_app, rita, customer_id)
    approver.text_input(key=f"refund_{refund.id}_reason").input("invoice re-issued by billing")
    approver = submit(approver, f"refund_form_{refund.id}", "Approve")
    assert not page_errors(approver), notices(approver)
    approved = stored(app_engine, customer_id)[0]
    assert (approved.status, approved.decided_by) == ("approved", "rita")


def test_a_move_on_a_stale_refund_is_refused_and_says_who(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id, _ = offered(app_engine)
    refund_id, _ = db_support.write(
        app_engine, "dana", refund_store.propose, Actor("dana", "team"), customer_id,
        offered(app_engine)[1].scenario, AS_OF,
    )  # fmt: skip
    at = refunds_tab(login_app, "priya", customer_id)  # priya opens version 1
    db_support.write(
        app_engine, "dana", refund_store.decline, Actor("dana", "team"), refund_id, 1,
        "the customer withdrew", AS_OF,
    )  # fmt: skip
    at = submit(at, f"refund_form_{refund_id}", "Mark requested")
    assert not at.exception
    assert "dana changed refund" in at.error[0].value
    assert stored(app_engine, customer_id)[0].status == "declined"  # nothing of priya's
    # The next run shows the refund as it is now: declined, nothing left to do.
    at.run()
    assert not [b for b in at.button if b.label == "Mark requested"]


def test_leadership_sees_refunds_but_moves_nothing(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id, offer = offered(app_engine)
    db_support.write(
        app_engine, "dana", refund_store.propose, Actor("dana", "team"), customer_id,
        offer.scenario, AS_OF,
    )  # fmt: skip
    at = refunds_tab(login_app, "lead", customer_id)
    assert not page_errors(at)
    assert at.dataframe[0].value["Status"].tolist() == ["Proposed"]
    assert not [b for b in at.button if b.key and b.key.startswith("FormSubmitter:refund")]


def test_today_lists_what_waits_for_the_owner_and_the_approver(
    login_app: Callable[..., AppTest], app_engine: Engine, rita: str
) -> None:
    reports = db_support.reports(app_engine, AS_OF)
    priyas = next(r.customer_id for r in reports if r.customer.owner == "priya")
    others = next(r.customer_id for r in reports if r.customer.owner not in ("priya", "rita"))
    db_support.write(
        app_engine, "priya", refund_store.record, priyas, "learning_curve", 30.0, {}, MONTH,
        status="proposed", on=AS_OF,
    )  # fmt: skip
    db_support.write(
        app_engine, "ken", refund_store.record, others, "learning_curve", 2_000.0, {}, MONTH,
        on=AS_OF - dt.timedelta(days=1),
    )  # fmt: skip
    at = login_app("priya", page=TODAY)
    assert not page_errors(at)
    (waiting,) = [e for e in at.expander if e.label.startswith("Refunds waiting")]
    text = " ".join(m.value for m in waiting.markdown)
    assert "Mark it requested when the customer asks" in text
    assert "Approve or decline" not in text  # priya is no approver

    approver = login_app(rita, page=TODAY)
    (waiting,) = [e for e in approver.expander if e.label.startswith("Refunds waiting")]
    text = " ".join(m.value for m in waiting.markdown)
    assert "Approve or decline" in text  # ken's customer: every approval, whoever owns it
    assert_no_maths(approver)


def test_an_admin_names_a_refund_approver(login_app: Callable[..., AppTest], app_env: Path) -> None:
    at = login_app("admin", page="app_pages/users.py")
    at.selectbox(key="users_revops_user").set_value("dana")
    at.toggle(key="users_revops_on").set_value(True)
    at = submit(at, "users_revops", "Save")
    assert not page_errors(at)
    assert {u.username: u.revops for u in auth.users(app_env)}["dana"] is True
    assert at.dataframe[0].value.set_index("Username").at["dana", "Approves refunds"]
    at.selectbox(key="users_revops_user").set_value("lead")
    at = submit(at, "users_revops", "Save")
    assert "only a team or admin login can approve refunds" in at.error[0].value


def test_outcomes_offers_every_refund_as_refunds_csv(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id = db_support.reports(app_engine, AS_OF)[0].customer_id
    db_support.write(
        app_engine, "priya", refund_store.record, customer_id, "learning_curve", 30.0, {},
        MONTH, on=AS_OF,
    )  # fmt: skip
    at = login_app("priya", page="app_pages/outcomes.py", query={"view": "Money"})
    at.selectbox(key="outcomes_period").set_value("All time")
    at.run()
    assert not page_errors(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert any(label.startswith("Download every refund (1") for label in labels)


@pytest.mark.parametrize(
    ("proposed", "capped"),
    [(0, None), (refund_queue.CAP + 5, True)],  # None: capped only if the demo's offers are many
)
def test_today_caps_the_refunds_until_show_all(
    login_app: Callable[..., AppTest], app_engine: Engine, proposed: int, capped: bool | None
) -> None:
    for report in db_support.reports(app_engine, AS_OF)[:proposed]:  # each waits to be asked
        db_support.write(
            app_engine, "priya", refund_store.record, report.customer_id, "learning_curve",
            30.0, {}, MONTH, status="proposed", on=AS_OF,
        )  # fmt: skip
    at = login_app("admin", page=TODAY)  # everyone's refunds
    assert not page_errors(at)
    (waiting,) = [e for e in at.expander if e.label.startswith("Refunds waiting")]
    total = int(waiting.label.removeprefix("Refunds waiting (").removesuffix(")"))
    assert total >= proposed
    if capped is None:
        capped = total > refund_queue.CAP
    rows = waiting.get("page_link")
    assert len(rows) == (refund_queue.CAP if capped else total)
    assert ("today_refunds_all" in [t.key for t in at.toggle]) == capped
    if capped:
        assert f"Showing {refund_queue.CAP} of {total}, most urgent first." in [
            c.value for c in waiting.caption
        ]
        at.toggle(key="today_refunds_all").set_value(True).run()
        assert not page_errors(at)
        (waiting,) = [e for e in at.expander if e.label.startswith("Refunds waiting")]
        assert len(waiting.get("page_link")) == total
