"""The customer page's next step, one click from the header, as on Today: an email step
marked sent (with Undo), and the same "Next step" dialog as Today's rows
(ui/today_dialog.py) to send the email, book or log the call, or extend the program."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib.program import step_store, timeline, worklist
from lib.program.report import CustomerReport
from ui import access, labels, telemetry, today_dialog

LAST_DONE = "customer_last_done"  # {"customer_id", "step", "label", "previous"}


def _record(rep: CustomerReport, step: str, on: dt.date) -> None:
    label = timeline.STEP_LABELS[step]
    with access.writing(f"record {label.lower()} as done") as session:
        previous = step_store.record(session, rep.customer_id, step, "done", on)
    telemetry.track(
        "step_recorded", customer_id=rep.customer_id, step=step, status="done", source="customer"
    )
    st.session_state[LAST_DONE] = {
        "customer_id": rep.customer_id,
        "step": step,
        "label": worklist.ONE_CLICK_DONE[step],
        "on": on,
        "previous": previous,
    }
    st.rerun()


def _undo_bar(rep: CustomerReport) -> None:
    last = st.session_state.get(LAST_DONE)
    if not last or last["customer_id"] != rep.customer_id:
        return
    note, undo = st.columns([6, 1], vertical_alignment="center")
    note.success(
        f"{labels.md(last['label'])} recorded on {labels.day(last['on'])}.",
        icon=":material/check_circle:",
    )
    if undo.button("Undo", key="customer_undo", icon=":material/undo:", width="stretch"):
        with access.writing("undo a recorded step") as session:
            step_store.restore(session, last["customer_id"], last["step"], last["previous"])
        del st.session_state[LAST_DONE]
        st.rerun()


def next_step_bar(rep: CustomerReport, as_of: dt.date, can_write: bool) -> None:
    """The buttons for the customer's next action (nothing for a read-only role)."""
    _undo_bar(rep)
    action = rep.timeline.next_action
    if not can_write or action is None:
        return
    step = action.step
    bar = st.container(horizontal=True, gap="small", vertical_alignment="center")
    done = worklist.ONE_CLICK_DONE.get(step)
    if done and bar.button(
        done,
        key=f"customer_done_{step}",
        icon=":material/check:",
        help=f"Record {timeline.STEP_LABELS[step].lower()} as done on {labels.day(as_of)}",
    ):
        _record(rep, step, as_of)
    if step in timeline.MEETING_STEPS:
        booked = rep.timeline.steps[step].date is not None
        label, icon = (
            ("Log the call", ":material/edit_note:")
            if booked
            else (
                "Book the call",
                ":material/add_call:",
            )
        )
    elif step in today_dialog.OUTREACH_KINDS:
        label, icon = "Send the email", ":material/send:"
    else:
        label, icon = "More", ":material/more_horiz:"
    bar.button(
        label,
        key=f"customer_next_{step}",
        icon=icon,
        type="primary" if step in timeline.MEETING_STEPS else "secondary",
        help="The same dialog as Today's row: the email to send, the call to book or log, "
        "or more time",
        on_click=today_dialog.open_for,
        args=(rep.customer_id, step),
    )
    wanted = st.session_state.get(today_dialog.OPEN)
    if wanted and wanted["customer_id"] != rep.customer_id:
        today_dialog.close()  # left open for another customer (on Today): not here
    today_dialog.show(as_of)
