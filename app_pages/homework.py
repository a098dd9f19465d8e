"""Homework: build a customer's homework from ranked suggestions, write the follow-up
email, mark it sent, and follow completion (checked against the data after every import,
or ticked by hand)."""

from __future__ import annotations

import streamlit as st

from lib import homework, meetings
from ui import (
    access,
    actions,
    customer_picker,
    data,
    homework_editor,
    homework_email,
    homework_progress,
    labels,
    login,
)

CUSTOMER = "hw_customer"

as_of = data.as_of()
user = login.current_user()
username = user.username if user else ""
can_write = access.can(*access.TEAM_WRITERS)
library = homework.load_library()

st.title(":material/assignment: Homework", anchor=False)
actions.show_notice()

everyone = data.reports(as_of)
if not everyone:
    st.info("No customers yet: import them on the Data page.", icon=":material/inbox:")
    st.stop()
customer_id = customer_picker.pick(everyone, username, CUSTOMER)
if customer_id is None:
    st.stop()

rep = data.report_for(customer_id, as_of)
if rep is None:
    st.warning("That customer no longer exists.", icon=":material/search_off:")
    st.stop()
customer = rep.customer
step = rep.timeline.steps["homework"]

with data.reading() as session:
    items = homework.assignments(session, customer_id, library)
    suggestions = homework.suggest_for(session, customer_id, rep.findings, library)
    history = meetings.for_customer(session, customer_id)
    goals = meetings.customer_goals(session, customer_id)
    summary = homework.completion_summary(session, customer_id)
drafts = [i for i in items if i.status == "draft"]
last_call = history.last_held()

st.markdown(
    f"**{labels.md(customer.name)}** · week {rep.timeline.program_week} · homework step "
    f"{labels.badge(step.status)} (window {step.window_start:%d %b} - {step.window_end:%d %b})"
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
        customer.name,
        user.name if user else username,
        items,
        last_call,
        goals,
        as_of,
        can_write,
    )

with tab_progress:
    homework_progress.draw(customer_id, summary, as_of, can_write)
