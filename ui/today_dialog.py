"""Today's "next step" dialog: one customer's next action done where the owner is, one
click from their row.

- a call (first or second): the shared call panel (ui/call_panel.py), the form the
  Meetings page and the customer page's Calls tab use: book it, or log the outcome of the
  one booked;
- an outreach email (initial or final): the draft, sent from the console
  (ui/send_panel.py) or copied, then "mark sent" on the row;
- the homework email: built and sent on the customer page's Homework tab (the tasks
  come first);
- always: extend the program (lib.program.step_store.extend), as on the step log.

The dialog stays open across the page's reruns (`OPEN` in the session) until it is closed,
the outcome of its call is saved, the email is sent or the program extended.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib import mail, meetings
from lib.errors import UserError
from lib.program import step_store, timeline
from lib.program.report import CustomerReport
from ui import access, actions, call_panel, data, labels, login, send_panel
from ui.meeting_list import browser_zone, clock_for

OPEN = "today_dialog"  # {"customer_id", "step"} of the dialog open
PREFIX = "today_call"  # the call panel's keys
OUTREACH_KINDS = {"initial_outreach": "initial", "final_outreach": "final"}
CUSTOMER_TAB = {
    "initial_outreach": "Outreach",
    "first_meeting": "Calls",
    "second_meeting": "Calls",
    "homework": "Homework",
    "final_outreach": "Outreach",
}


def open_for(customer_id: str, step: str) -> None:
    """Open the dialog for `customer_id`'s `step` (a button's on_click)."""
    st.session_state[OPEN] = {"customer_id": customer_id, "step": step}


def close() -> None:
    st.session_state.pop(OPEN, None)


def show(as_of: dt.date) -> None:
    """Draw the dialog when one is open (call once per run, after the list)."""
    wanted = st.session_state.get(OPEN)
    if not wanted:
        return
    rep = data.report_for(wanted["customer_id"], as_of)
    if rep is None:
        close()
        return
    next_step(rep, wanted["step"], as_of)


@st.dialog("Next step", width="large", on_dismiss=close)
def next_step(rep: CustomerReport, step: str, as_of: dt.date) -> None:
    state = rep.timeline.steps[step]
    status = call_panel.step_badge(state, as_of)
    st.markdown(f"### {labels.md(rep.customer.name)}")
    st.markdown(
        f"Week {rep.timeline.program_week} · {labels.step(step)} {status} · "
        f"window {labels.day(state.window_start)} - {labels.day(state.window_end)}"
    )
    st.page_link(
        "app_pages/customer.py",
        label="Open the customer page",
        icon=":material/open_in_new:",
        query_params={"id": rep.customer_id, "tab": CUSTOMER_TAB.get(step, "Audit")},
    )
    if step in timeline.MEETING_STEPS:
        call_section(rep, as_of)
    elif step in OUTREACH_KINDS:
        email_section(rep, step, as_of)
    elif step == "homework":
        st.info(
            "The homework email carries the customer's tasks: build and send it on the "
            "customer page's Homework tab, or use **Homework sent** on the row once it went "
            "out another way.",
            icon=":material/assignment:",
        )
        st.page_link(
            "app_pages/customer.py",
            label="Build and send the homework",
            icon=":material/assignment:",
            query_params={"id": rep.customer_id, "tab": "Homework"},
        )
    with st.expander("Extend the program", icon=":material/more_time:"):
        extend_form(rep, as_of)


# ------------------------------------------------------------------ a call


def call_section(rep: CustomerReport, as_of: dt.date) -> None:
    st.session_state.setdefault("today_tz", browser_zone())
    clock = clock_for(as_of, str(st.session_state["today_tz"]))

    def saved(result: meetings.SaveResult) -> None:
        if result.meeting.status != "scheduled" and not result.new_meeting_id:
            close()  # the outcome is in: back to the list, the notice says what changed

    call_panel.call_panel(
        rep, as_of, clock, meetings.timezones(), PREFIX, after_save=saved, customer_link=False
    )


# ------------------------------------------------------------------ an email


def email_section(rep: CustomerReport, step: str, as_of: dt.date) -> None:
    me = login.current_user()
    sender = me.name if me else "The onboarding team"
    draft = data.draft(OUTREACH_KINDS[step], rep.customer_id, sender, as_of)
    send_key = mail.program_key(step, rep.customer_id)
    with data.reading() as session:
        found = mail.find(session, send_key)
    if found is not None and found.status == "sent":
        close()  # shown this once: the step is done
    for before in draft.before_sending:
        st.warning(labels.markdown(before), icon=":material/approval:")
    try:
        configured = send_panel.smtp_settings() is not None
    except UserError:  # unusable settings: the send panel below says what is wrong
        configured = True
    if not configured:
        st.caption("Subject")
        st.code(draft.subject, language=None, wrap_lines=True)
        st.caption("Text (copy with the icon at the top right; then mark it sent on the row)")
        st.code(draft.text, language=None, wrap_lines=True, height=300)
    send_panel.send_panel(
        send_panel.SendDraft(
            customer_id=rep.customer_id,
            kind=step,
            send_key=send_key,
            subject=draft.subject,
            body=draft.markdown,
            on=as_of,
            label=f"the {labels.step(step).lower()}",
            event=("outreach_sent", {"customer_id": rep.customer_id, "kind": OUTREACH_KINDS[step]}),
        ),
        access.can(*access.TEAM_WRITERS),
    )


# ------------------------------------------------------------------ the extension


def extend_form(rep: CustomerReport, as_of: dt.date) -> None:
    customer = rep.customer
    if customer.extended_until:
        st.caption(
            f"Extended to {labels.day(customer.extended_until)}: "
            f"{labels.md(customer.extension_reason or 'no reason recorded')}"
        )
    if not access.can(*access.TEAM_WRITERS):
        st.caption("Read-only: your role cannot extend a program.")
        return
    with data.reading() as session:
        edits = step_store.customer_edits(session, rep.customer_id)
    # The version this form showed when Extend is pressed (docs/rules.md, "Concurrent edits").
    shown = actions.base(f"today_extension_{rep.customer_id}", edits.version)
    earliest, suggested = timeline.extension_dates(
        customer.segment_entered_on, customer.extended_until, as_of
    )
    until = st.date_input(
        "Until",
        value=suggested,
        min_value=earliest,
        format="YYYY-MM-DD",
        key=f"today_until_{rep.customer_id}",
    )
    reason = st.text_input("Reason (required)", key=f"today_reason_{rep.customer_id}")
    if not st.button("Extend", icon=":material/more_time:", key=f"today_extend_{rep.customer_id}"):
        return
    if not isinstance(until, dt.date):
        st.error("Pick the date to extend the program to.", icon=":material/error:")
        return
    try:
        with access.writing("extend the program") as session:
            step_store.extend(session, rep.customer_id, until, reason, version=shown, as_of=as_of)
    except UserError as error:  # a colleague's change in between says who and what
        st.error(labels.md(error), icon=":material/error:")
        return
    close()
    actions.post(f"Program of {labels.md(customer.name)} extended to {until:%Y-%m-%d}.")
    st.rerun()
