"""The customer page's Refunds tab: what the policy offers now (propose it), every refund
with its history, and the moves the signed-in login may make (lib.refunds checks each
one on the server; a move based on an old version is refused and says who changed it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from lib import csv_safe
from lib.audit import refunds as policy
from lib.errors import Conflict, UserError
from lib.labels import label, money
from lib.pricing import usd
from lib.program.report import CustomerReport
from lib.refunds import STATUS_LABELS, Actor, RefundView, allowed
from lib.refunds import store as refund_store
from lib.refunds.model import Move
from lib.refunds.offers import Offer, offers
from ui import access, actions, data, labels, login, settings

STATUS_BADGES = {
    "proposed": "gray",
    "requested": "blue",
    "needs_approval": "orange",
    "approved": "violet",
    "issued": "green",
    "declined": "red",
}
MONEY_FORMAT = "dollar"  # $1,618.56


def _base_key(refund_id: int) -> str:
    return f"refund_base_{refund_id}"


@st.cache_data(ttl=data.REPORT_TTL_S, max_entries=64, show_spinner=False)
def _history(url: str, customer_id: str) -> list[RefundView]:
    with data.reading() as session:
        return refund_store.history(session, customer_id)


def history(customer_id: str) -> list[RefundView]:
    """The customer's refunds, newest first (cached; every write clears it)."""
    return _history(settings.database_url(), customer_id)


def badge(status: str) -> str:
    return f":{STATUS_BADGES.get(status, 'gray')}-badge[{labels.md(STATUS_LABELS.get(status, status))}]"


def _act(refund_id: int | None, what: str, change: Callable[[Session], Move | str]) -> None:
    """One refund change as the signed-in user, in one unit of work. A refusal shows here
    (a conflict also forgets the version this page held, so the next run shows the
    current one); success keeps the notice for the next run and reruns."""
    try:
        with access.writing(what) as session:
            result = change(session)
    except UserError as error:
        if isinstance(error, Conflict) and refund_id is not None:
            st.session_state.pop(_base_key(refund_id), None)
        st.error(labels.md(str(error)), icon=":material/error:")
        return
    if refund_id is not None:
        st.session_state.pop(_base_key(refund_id), None)
    actions.post(labels.md(result.message if isinstance(result, Move) else result))
    st.rerun()


# ------------------------------------------------------------------ the panel


def refunds_panel(rep: CustomerReport, as_of: dt.date) -> None:
    me = access.actor()
    refunds = history(rep.customer_id)
    rules = policy.policy()
    approvers = sorted(u.username for u in login.users().values() if u.revops)
    st.subheader("Refunds", anchor=False)
    st.caption(
        labels.md(
            "Proposed from the findings, requested by the customer within "
            f"{rules.ask_within_days} days of the billing date (the first day of the month "
            f"after the billed month), approved by revenue operations when above "
            f"{money(rules.approval_above_usd, cents=False)}, a repeat or an invoice change, "
            "then issued with the billing system's reference. A second refund gives up to "
            f"{rules.second_time_share:.0%}; a third is declined unless an admin overrides. "
            f"Revenue operations: {', '.join(approvers) or 'nobody yet (an admin names them on the Users page)'}."
        )
    )
    recorded = {(r.billing_month, r.scenario) for r in refunds}
    waiting = [o for o in offers(rep.findings, rep.totals.refundable) if o.key not in recorded]
    for offer in waiting:
        _offer_card(rep.customer_id, offer, me, as_of)
    if not refunds:
        if not waiting:
            st.info("No refunds recorded, and none the policy allows now.", icon=":material/info:")
        return
    _table(refunds)
    st.download_button(
        "Download the refunds (CSV)",
        data=csv_safe.to_safe_csv(_export(rep.customer_id)),
        file_name=f"refunds-{rep.customer_id}.csv",
        mime="text/csv",
        key="customer_refunds_csv",
        icon=":material/download:",
    )
    for refund in refunds:
        if refund.is_open or refund.declined_by_policy:
            _refund_card(refund, me, as_of)


def _export(customer_id: str) -> pd.DataFrame:
    with data.reading() as session:
        return refund_store.export_frame(session, [customer_id])


def _table(refunds: list[RefundView]) -> None:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "#": r.id,
                    "Scenario": label("refund_scenario", r.scenario),
                    "Billing month": f"{r.billing_month:%b %Y}" if r.billing_month else "",
                    "Amount": r.amount_usd,
                    "Status": STATUS_LABELS.get(r.status, r.status),
                    "Asked on": r.requested_on,
                    "Decided": (
                        f"{r.decided_by}: {r.decision_reason or ''}" if r.decided_by else ""
                    ),
                    "Issued": r.issued_usd,
                    "Issued on": r.issued_on,
                    "Reference": r.reference or "",
                    "Proposed by": r.recorded_by or "",
                }
                for r in refunds
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "Amount": st.column_config.NumberColumn(format=MONEY_FORMAT),
            "Issued": st.column_config.NumberColumn(format=MONEY_FORMAT),
            "Asked on": st.column_config.DateColumn(format="YYYY-MM-DD"),
            "Issued on": st.column_config.DateColumn(format="YYYY-MM-DD"),
        },
        key="customer_refunds_table",
    )


def _offer_card(customer_id: str, offer: Offer, me: Actor, as_of: dt.date) -> None:
    deadline = policy.ask_deadline(offer.billing_month)
    key = f"refund_offer_{offer.scenario}_{offer.billing_month:%Y%m}"
    with st.container(border=True):
        head = (
            f"**{labels.md(label('refund_scenario', offer.scenario))}**, "
            f"{offer.billing_month:%B %Y}: up to **{labels.md(money(offer.amount_usd))}**"
        )
        if offer.declined_as_repeat:
            head += " :red-badge[a third refund: the policy declines it]"
        elif offer.needs_approval:
            head += " :orange-badge[needs approval]"
        st.markdown(head)
        st.caption(
            labels.md(
                f"From: {', '.join(offer.titles)}. Refund number {offer.occurrence} for this "
                f"customer; the customer must ask by {deadline:%Y-%m-%d}. "
                + "; ".join(offer.reasons)
            )
        )
        if not me.writer:
            return
        with st.form(key, border=False):
            cols = st.columns([1, 1, 2], vertical_alignment="bottom")
            amount = cols[0].number_input(
                "Amount (USD)",
                min_value=0.0,
                max_value=usd(offer.amount_usd),
                value=usd(offer.amount_usd),
                step=1.0,
                format="%.2f",
                key=f"{key}_amount",
                help="What the policy allows; lower it if you want, never above it.",
            )
            invoice = cols[1].checkbox(
                "Changes an invoice already sent",
                key=f"{key}_invoice",
                help="An invoice change always goes to revenue operations for approval.",
            )
            note = cols[2].text_input("Note (optional, internal)", key=f"{key}_note")
            if st.form_submit_button("Propose refund", icon=":material/request_quote:"):
                _act(
                    None,
                    "propose a refund",
                    lambda session: refund_store.propose(
                        session,
                        access.actor(),
                        customer_id,
                        offer.scenario,
                        as_of,
                        amount_usd=amount,
                        invoice_change=invoice,
                        note=note,
                    )[1],
                )


def _refund_card(current: RefundView, me: Actor, as_of: dt.date) -> None:
    """One refund in progress: where it stands and, from the version this page first
    showed (kept per refund), the moves this login may make."""
    base: RefundView = st.session_state.setdefault(_base_key(current.id), current)
    rid = current.id
    with st.container(border=True, key=f"refund_card_{rid}"):
        month = f"{current.billing_month:%B %Y}" if current.billing_month else "no month"
        st.markdown(
            f"**#{rid}** {labels.md(label('refund_scenario', current.scenario))} · {month} · "
            f"**{labels.md(money(current.amount_usd))}** {badge(current.status)}"
        )
        _facts(current)
        if base.version != current.version:
            st.warning(
                labels.md(
                    f"{current.updated_by or 'Someone'} changed this refund after you opened "
                    f"it (now: {STATUS_LABELS.get(current.status, current.status).lower()}). "
                    "What you do below is based on what you saw and will be refused."
                ),
                icon=":material/sync_problem:",
            )
            if st.button("Show the current state", key=f"refund_{rid}_reload"):
                st.session_state.pop(_base_key(rid), None)
                st.rerun()
        moves = allowed(base, me)
        if not moves:
            if current.status == "needs_approval" and not me.approver:
                st.caption("Waiting for revenue operations to approve or decline.")
            return
        _forms(base, moves, as_of)


def _facts(refund: RefundView) -> None:
    parts = []
    if refund.requested_on:
        parts.append(f"asked on {refund.requested_on:%Y-%m-%d}")
    elif refund.status == "proposed" and refund.billing_month:
        parts.append(f"the customer must ask by {refund.ask_deadline():%Y-%m-%d}")
    reasons = refund.approval_reasons()
    if refund.status in ("needs_approval", "approved") and reasons:
        parts.append(f"approval needed: {'; '.join(reasons)}")
    if refund.decided_by:
        parts.append(f"decided by {refund.decided_by}: {refund.decision_reason or ''}")
    if refund.override_by:
        parts.append(f"policy overridden by {refund.override_by}: {refund.override_reason}")
    if refund.note:
        parts.append(f"note: {refund.note}")
    if parts:
        st.caption(labels.md(" · ".join(parts)))


def _forms(base: RefundView, moves: tuple[str, ...], as_of: dt.date) -> None:
    rid, version = base.id, base.version
    key = f"refund_{rid}"
    with st.form(f"refund_form_{rid}", border=False):
        cols = st.columns(3, vertical_alignment="bottom")
        if "request" in moves:
            asked_on = cols[0].date_input(
                "The customer asked on", value=as_of, format="YYYY-MM-DD", key=f"{key}_asked"
            )
        if "issue" in moves or "approve" in moves:
            amount = cols[0 if "request" not in moves else 1].number_input(
                "Amount (USD)",
                min_value=0.0,
                max_value=usd(base.amount_usd),
                value=usd(base.amount_usd),
                step=1.0,
                format="%.2f",
                key=f"{key}_amount",
                help="Never above the amount proposed or approved.",
            )
        if "issue" in moves:
            issued_on = cols[1].date_input(
                "Issued on", value=as_of, format="YYYY-MM-DD", key=f"{key}_issued_on"
            )
            reference = cols[2].text_input(
                "Reference (credit note or invoice)", max_chars=100, key=f"{key}_reference"
            )
        if {"approve", "decline", "override"} & set(moves):
            reason = st.text_input("Reason (kept with the refund)", key=f"{key}_reason")
        buttons = st.columns(len(moves))
        pressed = {
            move: buttons[i].form_submit_button(BUTTONS[move], icon=ICONS[move])
            for i, move in enumerate(moves)
        }
    me = access.actor
    if pressed.get("request"):
        _act(rid, "mark a refund requested", lambda s: refund_store.request(
            s, me(), rid, version, asked_on, as_of))  # fmt: skip
    elif pressed.get("approve"):
        _act(rid, "approve a refund", lambda s: refund_store.approve(
            s, me(), rid, version, reason, as_of, amount))  # fmt: skip
    elif pressed.get("decline"):
        _act(rid, "decline a refund", lambda s: refund_store.decline(
            s, me(), rid, version, reason, as_of))  # fmt: skip
    elif pressed.get("issue"):
        _act(rid, "mark a refund issued", lambda s: refund_store.issue(
            s, me(), rid, version, issued_on, reference, as_of, amount))  # fmt: skip
    elif pressed.get("override"):
        _act(rid, "override the refund policy", lambda s: refund_store.override(
            s, me(), rid, version, reason, as_of))  # fmt: skip


BUTTONS = {
    "request": "Mark requested",
    "approve": "Approve",
    "decline": "Decline",
    "issue": "Mark issued",
    "override": "Override the policy",
}
ICONS = {
    "request": ":material/mark_email_read:",
    "approve": ":material/thumb_up:",
    "decline": ":material/thumb_down:",
    "issue": ":material/receipt_long:",
    "override": ":material/gavel:",
}
