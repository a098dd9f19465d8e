"""The customer page's step log (record, correct, extend) and its change history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from lib.program import history as changelog
from lib.program import history_store, step_store, timeline
from lib.program.report import CustomerReport
from lib.store import journal
from ui import actions, data, labels, login, telemetry

HISTORY_LIMIT = 100  # the newest changes the History tab shows


def step_log(rep: CustomerReport, as_of: dt.date, can_write: bool) -> None:
    """What is recorded per step, and the forms that record, correct and extend."""
    with data.reading() as session:
        entries = step_store.recorded(session, rep.customer_id)
        edits = step_store.customer_edits(session, rep.customer_id)
    table = pd.DataFrame(
        [
            {
                "Step": labels.step(s.step),
                "Window": f"{s.window_start:%Y-%m-%d} - {s.window_end:%Y-%m-%d}",
                "Status": s.status,
                "Date": s.date,
                "Note": (entries[s.step].note or "") if s.step in entries else "",
                "Recorded by": (entries[s.step].recorded_by or "") if s.step in entries else "",
            }
            for s in rep.timeline.steps.values()
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={"Date": st.column_config.DateColumn(format="YYYY-MM-DD")},
    )
    if rep.customer.extended_until:
        st.caption(
            f"Program extended to {labels.day(rep.customer.extended_until)}: "
            f"{labels.md(rep.customer.extension_reason or 'no reason recorded')}"
        )
    if not can_write:
        st.caption("Read-only: your role cannot change the step log.")
        return
    # The versions the forms below were showing when a button was pressed (docs/rules.md).
    steps_seen, extension_seen = f"steps_{rep.customer_id}", f"extension_{rep.customer_id}"
    shown = actions.base(steps_seen, step_store.versions_of(entries))
    shown_customer = actions.base(extension_seen, edits.version)
    actions.conflict(steps_seen)
    actions.conflict(extension_seen)
    record_col, other_col = st.columns(2)
    with record_col, st.form("customer_record", border=True):
        st.markdown("**Record a step**")
        step = st.selectbox("Step", timeline.STEPS, format_func=labels.step, key="customer_step")
        status = st.segmented_control(
            "Status", timeline.RECORDED_STATUSES, default="done", key="customer_status"
        )
        on = st.date_input("Date", value=as_of, format="YYYY-MM-DD", key="customer_on")
        note = st.text_area(
            "Note (optional)", key="customer_note", help="Leave empty to keep the step's note"
        )
        if st.form_submit_button("Save", type="primary", icon=":material/save:"):
            chosen_status = status or "done"
            actions.apply(
                f"record {labels.step(step).lower()}",
                f"{labels.step(step)} recorded as {chosen_status} on {on:%Y-%m-%d}.",
                telemetry.after(
                    lambda session: step_store.record(
                        session,
                        rep.customer_id,
                        step,
                        chosen_status,
                        on,
                        note or None,
                        version=shown.get(step, 0),
                    ),
                    "step_recorded",
                    customer_id=rep.customer_id,
                    step=step,
                    status=chosen_status,
                    source="customer",
                ),
                seen=steps_seen,
            )
    with other_col:
        with st.form("customer_extend", border=True):
            st.markdown("**Extend the program**")
            earliest, suggested = timeline.extension_dates(
                rep.customer.segment_entered_on, rep.customer.extended_until, as_of
            )
            until = st.date_input(
                "Until",
                value=suggested,
                min_value=earliest,
                format="YYYY-MM-DD",
                key="customer_until",
            )
            reason = st.text_input("Reason (required)", key="customer_reason")
            if st.form_submit_button("Extend", icon=":material/more_time:"):
                actions.apply(
                    "extend the program",
                    f"Program extended to {until:%Y-%m-%d}.",
                    lambda session: step_store.extend(
                        session,
                        rep.customer_id,
                        until,
                        reason,
                        version=shown_customer,
                        as_of=as_of,
                    ),
                    seen=extension_seen,
                )
        recorded_steps = [s for s in timeline.STEPS if s in entries]
        if recorded_steps:
            with st.form("customer_fix", border=True):
                st.markdown("**Correct a recorded step**")
                which = st.selectbox(
                    "Step", recorded_steps, format_func=labels.step, key="customer_fix_step"
                )
                new_note = st.text_area("Note", key="customer_fix_note", help="Empty removes it")
                left, right = st.columns(2)
                if left.form_submit_button("Save note", icon=":material/edit_note:"):
                    actions.apply(
                        "change a step's note",
                        f"Note of {labels.step(which).lower()} saved.",
                        lambda session: step_store.set_note(
                            session, rep.customer_id, which, new_note, version=shown.get(which, 0)
                        ),
                        seen=steps_seen,
                    )
                if right.form_submit_button("Clear what was recorded", icon=":material/undo:"):
                    actions.apply(
                        "clear a recorded step",
                        f"{labels.step(which)} is computed from the timeline again.",
                        lambda session: step_store.clear(
                            session, rep.customer_id, which, version=shown.get(which, 0)
                        ),
                        seen=steps_seen,
                    )
        if rep.customer.extended_until:
            with st.form("customer_unextend", border=True):
                why = st.text_input("Reason for removing the extension", key="customer_unreason")
                if st.form_submit_button("Remove the extension", icon=":material/event_busy:"):
                    actions.apply(
                        "remove the extension",
                        "Extension removed.",
                        lambda session: step_store.extend(
                            session, rep.customer_id, None, why, version=shown_customer
                        ),
                        seen=extension_seen,
                    )


def history(rep: CustomerReport) -> None:
    """Every change written about the customer as sentences, newest first, by day."""
    with data.reading() as session:
        entries = journal.recent(session, rep.customer_id, limit=HISTORY_LIMIT)
        stored = history_store.known(session, rep.customer_id) if entries else {}
    if not entries:
        st.caption("No changes recorded for this customer yet.")
        return
    names = {username: user.name for username, user in login.users().items() if user.name}
    for day, lines in changelog.by_day(changelog.lines(entries, names, stored)):
        st.markdown(f"**{labels.day(day)}**")
        st.markdown(
            "\n".join(f"- {line.at:%H:%M} · {labels.md(line.text)}" for line in lines),
            width="stretch",
        )
    st.caption(
        f"The last {len(entries)} changes, times in UTC. Older changes stay in the audit log."
        if len(entries) >= HISTORY_LIMIT
        else "Times in UTC."
    )
