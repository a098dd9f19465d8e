"""The Customers page's bulk actions on the selected rows: reassign the owner, mark the
email they are at as sent, extend the program (lib.program.bulk_store). Each action is one
unit of work; the next run says how many changed and lists every customer refused, with
why (docs/rules.md, "Bulk actions")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from lib.errors import UserError
from lib.program import bulk_store
from lib.program.bulk_store import Outcome, Seen
from lib.program.portfolio import Row
from lib.program.worklist import ONE_CLICK_DONE
from ui import access, actions, data, labels, login

SEEN = "customers_bulk"  # the step versions the panel showed (ui.actions.base)
RESULT = "_customers_bulk_result"
EXTEND_DAYS = 14  # the extension suggested: two weeks from as-of


def _seen(picked: Sequence[Row]) -> dict[str, Seen]:
    """What the page showed: each row's customer version (the table's) and its steps'
    (read now; the ones shown on the run before when a button is pressed)."""
    with data.reading() as session:
        current = bulk_store.seen(session, [r.customer_id for r in picked])
    shown: dict[str, Seen] = actions.base(SEEN, current)
    return {
        r.customer_id: Seen(r.version, (shown.get(r.customer_id) or Seen(r.version)).steps)
        for r in picked
        if r.customer_id in current
    }


def _run(what: str, change: Callable[[Session], Outcome]) -> None:
    """One action in one unit of work; its outcome is shown after the rerun."""
    try:
        with access.writing(what) as session:
            outcome = change(session)
    except UserError as error:
        st.error(labels.md(error), icon=":material/error:")
        return
    st.session_state[RESULT] = (what, outcome)
    st.rerun()


def result(names: dict[str, str]) -> None:
    """The last bulk action's outcome, once: how many changed, and every refused customer."""
    kept = st.session_state.pop(RESULT, None)
    if kept is None:
        return
    what, outcome = kept
    title = what[:1].upper() + what[1:]
    if not outcome.refused:
        st.success(
            f"{labels.md(title)}: {labels.markdown(outcome.summary)}.",
            icon=":material/check_circle:",
        )
        return
    st.warning(
        f"{labels.md(title)}: {labels.markdown(outcome.summary)}. The refused customers were left "
        "as they were; nothing else was written for them. Reload the page to see what is "
        "stored now.",
        icon=":material/sync_problem:",
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Customer": [names.get(r.customer_id, r.customer_id) for r in outcome.refused],
                "Why refused": [r.reason for r in outcome.refused],
            }
        ),
        hide_index=True,
        width="stretch",
        key="customers_bulk_refused",
        column_config={
            "Customer": st.column_config.TextColumn(width="medium"),
            "Why refused": st.column_config.TextColumn(width="large"),
        },
    )


def panel(picked: Sequence[Row], owners: Sequence[str], as_of: dt.date) -> None:
    """The actions on the selected rows (team and admin roles)."""
    if not picked or not access.can(*access.TEAM_WRITERS):
        return
    shown = _seen(picked)
    emails = sum(1 for r in picked if r.next_step in ONE_CLICK_DONE)
    with st.container(border=True):
        st.markdown(f"**{len(picked)} selected**: apply to all of them")
        reassign, mark, extend = st.tabs(
            ["Reassign owner", f"Mark email sent ({labels.md(emails)})", "Extend the program"]
        )
    with reassign, st.form("customers_bulk_owner", border=False):
        me = login.current_user()
        choices = sorted({*owners, *([me.username] if me else [])})
        owner = st.selectbox(
            "New owner",
            choices,
            index=None,
            placeholder="Pick an owner",
            key="customers_bulk_owner_name",
        )
        typed = st.text_input(
            "Or another name",
            key="customers_bulk_owner_typed",
            help="Anyone, with or without a login (as customers.csv's owner column)",
        )
        nobody = st.checkbox("No owner (unassign)", key="customers_bulk_nobody")
        if st.form_submit_button("Reassign", icon=":material/person_edit:", type="primary"):
            chosen = None if nobody else (typed or "").strip() or owner
            if not nobody and not chosen:
                st.error("Pick or type the new owner, or tick No owner.")
            else:
                _run(
                    f"reassign to {chosen}" if chosen else "unassign the owner",
                    lambda session: bulk_store.reassign(session, shown, chosen),
                )
    with mark, st.form("customers_bulk_mark", border=False):
        st.caption(
            "Records as done the email each customer is at (initial outreach, homework, "
            "final outreach). Customers at a call, or with nothing due, are refused and "
            "listed."
        )
        on = st.date_input(
            "Sent on", value=as_of, max_value=as_of, format="YYYY-MM-DD", key="customers_bulk_on"
        )
        if st.form_submit_button("Mark sent", icon=":material/mark_email_read:"):
            steps = {r.customer_id: r.next_step for r in picked}
            _run(
                "mark the email sent",
                lambda session: bulk_store.mark_sent(session, shown, steps, on),
            )
    with extend, st.form("customers_bulk_extend", border=False):
        until = st.date_input(
            "Until",
            value=as_of + dt.timedelta(days=EXTEND_DAYS),
            min_value=as_of,
            format="YYYY-MM-DD",
            key="customers_bulk_until",
            help="Final outreach's window is moved to this day; a customer whose own "
            "window ends later is refused and listed.",
        )
        reason = st.text_input("Reason (required)", key="customers_bulk_reason")
        if st.form_submit_button("Extend", icon=":material/more_time:"):
            _run(
                "extend the program",
                lambda session: bulk_store.extend(session, shown, until, reason, as_of),
            )
