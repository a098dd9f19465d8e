"""The customer page's next step, one click from the header, as on Today: an email step
marked sent (with Undo), and the same "Next step" dialog as Today's rows
(ui/today_dialog.py) to send the email, book or log the call, or extend the program."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib.program import timeline, worklist
from lib.program.report import CustomerReport
from ui import labels, step_done, today_dialog

LAST_DONE = "customer_last_done"  # the last step marked done here (ui.step_done)


def next_step_bar(rep: CustomerReport, as_of: dt.date, can_write: bool) -> None:
    """The buttons for the customer's next action (nothing for a read-only role)."""
    step_done.undo_bar(LAST_DONE, "customer_undo", rep.customer_id)
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
        step_done.record(LAST_DONE, rep.customer_id, rep.customer.name, step, as_of, "customer")
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
