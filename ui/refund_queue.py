"""Today's refunds: what waits for the signed-in owner (to propose, to mark as asked for,
to issue) and, for revenue operations, what waits for approval (lib.refunds.queue). The
moves themselves are made on the customer's Refunds tab."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import streamlit as st

from lib.labels import label, money
from lib.program.report import CustomerReport
from lib.refunds import queue
from lib.refunds import store as refund_store
from lib.refunds.model import RefundView
from lib.refunds.offers import offers
from ui import access, data, labels, settings
from ui.no_reply import capped

CAP = 10  # rows drawn until "Show all": the most urgent


@st.cache_data(ttl=data.REPORT_TTL_S, max_entries=8, show_spinner=False)
def _recorded(url: str) -> tuple[list[RefundView], set[tuple[str, dt.date | None, str]]]:
    with data.reading() as session:
        return refund_store.open_refunds(session), refund_store.keys(session)


def tasks(
    reports: Sequence[CustomerReport], as_of: dt.date, owner: str | None
) -> list[queue.RefundTask]:
    """The refund tasks of `owner` (None: everyone), and approvals for an approver."""
    open_refunds, recorded = _recorded(settings.database_url())
    customers = {r.customer_id: (r.customer.name, r.customer.owner) for r in reports}
    proposable = {
        r.customer_id: found
        for r in reports
        if r.est_refund_usd > 0 and (found := offers(r.findings, r.totals.refundable))
    }
    return queue.build(
        open_refunds, proposable, customers, recorded, as_of, owner, access.is_approver()
    )


def refunds_section(reports: Sequence[CustomerReport], as_of: dt.date, owner: str | None) -> None:
    waiting = tasks(reports, as_of, owner)
    title = f"Refunds waiting ({len(waiting)})"
    with st.expander(title, icon=":material/request_quote:", expanded=bool(waiting)):
        if not waiting:
            st.caption("No refund waits for you: nothing to propose, issue or approve.")
        for task in capped(waiting, "today_refunds_all", "most urgent first", CAP):
            row = st.columns([2.4, 3.2, 2.2, 1.2], vertical_alignment="center")
            row[0].page_link(
                "app_pages/customer.py",
                label=labels.md(task.name),
                icon=":material/open_in_new:",
                query_params={"id": task.customer_id, "tab": "Refunds"},
            )
            if owner is None or task.owner != owner:
                row[0].caption(f"owner: {labels.md(task.owner or 'nobody')}")
            number = f"#{task.refund_id} " if task.refund_id else ""
            row[1].markdown(f"{number}{labels.md(task.what)}")
            month = f", {task.billing_month:%b %Y}" if task.billing_month else ""
            row[2].markdown(labels.md(f"{label('refund_scenario', task.scenario)}{month}"))
            due = f" · by {task.due_on:%Y-%m-%d}" if task.due_on else ""
            row[3].markdown(labels.md(f"{money(task.amount_usd)}{due}"))
