"""One customer's homework, whole: the step and the goals from the second call, then Build
(ui/homework_editor.py), the follow-up email (ui/homework_email.py) and Progress
(ui/homework_progress.py). The Homework page draws it for the customer picked there, the
customer page on its Homework tab, so the owner never leaves the customer's page."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib import homework, meetings
from lib.program.report import CustomerReport
from ui import data, homework_editor, homework_email, homework_progress, labels, login


def draw(rep: CustomerReport, as_of: dt.date, can_write: bool) -> None:
    customer_id, step = rep.customer_id, rep.timeline.steps["homework"]
    library = homework.load_library()
    with data.reading() as session:
        items = homework.assignments(session, customer_id, library)
        suggestions = homework.suggest_for(session, customer_id, rep.findings, library)
        history = meetings.for_customer(session, customer_id)
        goals = meetings.customer_goals(session, customer_id)
        summary = homework.completion_summary(session, customer_id)
    drafts = [i for i in items if i.status == "draft"]
    last_call = history.last_held()
    user = login.current_user()

    st.markdown(
        f"**{labels.md(rep.customer.name)}** · week {rep.timeline.program_week} · homework "
        f"step {labels.badge(step.status)} "
        f"(window {step.window_start:%d %b} - {step.window_end:%d %b})"
        + (f" · last call held {labels.day(last_call.day)}" if last_call else " · no call held yet")
    )
    if goals:
        st.caption("Goals from the second call: " + "; ".join(labels.md(g.line()) for g in goals))

    tab_build, tab_email, tab_progress = st.tabs(
        [
            f"Build ({len(drafts)} draft)",
            "Follow-up email",
            f"Progress ({summary.done}/{summary.total})",
        ]
    )
    with tab_build:
        homework_editor.draw(customer_id, items, suggestions, library, can_write)
    with tab_email:
        homework_email.draw(
            customer_id,
            rep.customer.name,
            user.name if user else "",
            items,
            last_call,
            goals,
            as_of,
            can_write,
        )
    with tab_progress:
        homework_progress.draw(customer_id, summary, as_of, can_write)
