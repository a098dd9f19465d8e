"""The Meetings page's "Schedule a call": pick a customer, then the shared call form
(ui/call_panel.py). The customer is the one the user came from (`?customer=`), else the
one whose call is most urgent (lib.meetings.most_urgent_call), the user's own first."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib import meetings
from lib.program import portfolio
from ui import call_panel, data, login
from ui.meeting_list import Clock, open_next

PREFIX = "mtg_new"


def customer_choices(username: str, as_of: dt.date) -> dict[str, str]:
    """customer id -> label, the user's own customers first, churned ones left out."""
    return portfolio.picker_labels(data.reports(as_of), username, leave_out_churned=True)


def default_customer(choices: dict[str, str], username: str, as_of: dt.date) -> str:
    wanted = st.query_params.get("customer")
    if wanted in choices:
        return str(wanted)
    urgent = meetings.most_urgent_call(
        (r for r in data.reports(as_of) if r.customer_id in choices), username
    )
    return urgent or next(iter(choices))


def schedule_form(as_of: dt.date, clock: Clock, zones: list[str]) -> None:
    """The form; a booked call opens under it with its invite."""
    user = login.current_user()
    username = user.username if user else ""
    choices = customer_choices(username, as_of)
    if not choices:
        st.info("No customers yet: import them on the Data page.", icon=":material/inbox:")
        return
    if st.session_state.get(f"{PREFIX}_customer") not in choices:
        st.session_state[f"{PREFIX}_customer"] = default_customer(choices, username, as_of)
    customer_id = st.selectbox(
        "Customer",
        list(choices),
        format_func=choices.__getitem__,
        key=f"{PREFIX}_customer",
        persist_state="page",
    )
    rep = data.report_for(customer_id, as_of)
    if rep is not None:
        call_panel.call_steps(rep, as_of)
    call_panel.book_form(
        PREFIX, customer_id, rep, clock, zones, on_booked=lambda mid: open_next(mid, "new")
    )
