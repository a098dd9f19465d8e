"""The homework builder's Progress tab: each sent task, done or not yet and who confirmed
it (the data after each import, or a tick by hand), with the evidence."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from lib import homework
from ui import actions, labels


def draw(
    customer_id: str, summary: homework.HomeworkSummary, as_of: dt.date, can_write: bool
) -> None:
    sent = summary.items
    if not sent:
        st.info("Nothing sent yet.", icon=":material/schedule_send:")
        return
    st.markdown(f"**{labels.md(summary.line())}**")
    frame = pd.DataFrame(
        [
            {
                "Task": i.title,
                "Status": "Done" if i.done else "Not yet",
                "Checked by": i.checked_by,
                "Evidence": i.evidence or "",
                "Sent": i.sent_on,
                "Done on": i.done_on,
            }
            for i in sent
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch", key="hw_progress_table")
    if not can_write:
        return
    st.caption("Tick a task by hand when the data cannot show it.")
    for item in sent:
        shown = actions.base(f"hw_{item.id}", item.version)  # as the page showed it
        actions.conflict(f"hw_{item.id}")
        cells = st.columns([6, 2], vertical_alignment="center")
        cells[0].markdown(labels.md(item.title))
        if item.done:
            if cells[1].button("Not done", key=f"hw_untick_{item.id}"):
                _tick(item, False, as_of, shown)
        elif cells[1].button("Done", key=f"hw_tick_{item.id}", icon=":material/check:"):
            _tick(item, True, as_of, shown)
    if st.button("Check against the data now", key="hw_verify", icon=":material/fact_check:"):
        actions.apply(
            "check homework",
            "Checked against the latest imported data.",
            lambda session: homework.verify_customer(session, customer_id),
        )


def _tick(item: homework.AssignmentView, done: bool, as_of: dt.date, shown: int) -> None:
    actions.apply(
        "tick homework",
        f"{'Ticked' if done else 'Marked not done'}: {labels.md(item.title)}",
        lambda session: homework.tick(
            session, item.id, done, on=as_of if done else None, version=shown
        ),
        seen=f"hw_{item.id}",
    )
