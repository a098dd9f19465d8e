"""The customer page's header, the customer's 360 at a glance (always visible, above the
tabs): who it is and who owns it, the stage and health, the program week and the next
action, the people (the primary contact first) and the goals from the second call, then
the money in four figures. Compact: four short lines and a row of metrics at 1440 px."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import streamlit as st

from lib import contacts, meetings
from lib.meetings import GoalInput
from lib.program.report import CustomerReport
from lib.store import models
from ui import data, labels, login

MAX_PEOPLE = 4  # contacts named in the header; the rest are counted (all on Contacts)
MAX_GOALS = 3


def health_badge(score: float) -> str:
    """The 0-10 score as a coloured badge (green from 7, orange from 4, else red)."""
    colour = "green" if score >= 7 else "orange" if score >= 4 else "red"
    return f":{colour}-badge[Health {score:.1f}/10]"


def people_line(people: Sequence[models.Contact]) -> str:
    """ "Ada Lovelace (primary, Founder) · Bob Stone · 2 more", user text escaped."""
    if not people:
        return "no contacts yet (add them on the Contacts tab)"
    ordered = contacts.ordered(people)
    shown = []
    for person in ordered[:MAX_PEOPLE]:
        role = contacts.ROLE_LABELS.get(person.role, "")
        tags = ", ".join(t for t in ("primary" if person.is_primary else "", role) if t)
        shown.append(f"**{labels.md(person.name)}**" + (f" ({tags})" if tags else ""))
    more = len(ordered) - MAX_PEOPLE
    return " · ".join(shown) + (f" · {more} more" if more > 0 else "")


def goals_line(goals: Sequence[GoalInput], as_of: dt.date) -> str:
    """ "Activation → 40% by 30 Jun · ...", user text escaped."""
    if not goals:
        return "none yet (set on the second call)"
    shown = []
    for goal in goals[:MAX_GOALS]:
        text = labels.md(goal.name)
        if goal.target:
            text += f" → {labels.md(goal.target)}"
        if goal.by_when:
            text += f" by {labels.short_day(goal.by_when, as_of)}"
        shown.append(text)
    more = len(goals) - MAX_GOALS
    return " · ".join(shown) + (f" · {more} more" if more > 0 else "")


def next_line(rep: CustomerReport, as_of: dt.date) -> str:
    action = rep.timeline.next_action
    if action is None:
        return ":green-badge[Nothing due] every open step is done, booked or not yet open."
    return (
        f"Next: **{labels.step(action.step)}** "
        f"{labels.badge(action.status, labels.due_text(action.status, action.due_on, as_of))} "
        f"(window ends {labels.day(action.due_on)})"
    )


def header(rep: CustomerReport, as_of: dt.date) -> None:
    """The sidebar's reminder, the title and the header lines (not the metrics)."""
    customer, line = rep.customer, rep.timeline
    st.set_page_config(page_title=f"{labels.unreordered(customer.name)} · week {line.program_week}")
    with st.sidebar:
        st.divider()
        st.markdown(
            f":material/person: **{labels.md(customer.name)}**  \n"
            f"Week {line.program_week} · {labels.PROGRAM_STATUS_LABELS[line.program_status]}"
        )
    with data.reading() as session:
        people = contacts.for_customer(session, rep.customer_id)
        goals = meetings.customer_goals(session, rep.customer_id)
    health = data.health_for(rep.customer_id, as_of)
    owners = login.users()
    owner = owners[customer.owner].name if customer.owner in owners else customer.owner

    st.title(f"{labels.md(customer.name)}", anchor=False)
    facts = [
        labels.md(customer.customer_id),
        f"plan **{labels.md(customer.plan or 'unknown')}**",
        f"owner **{labels.md(owner or 'nobody')}**",
        f"entered {labels.day(customer.segment_entered_on)} "
        f"({labels.ENTRY_REASON_LABELS.get(customer.entry_reason or '', 'reason not given')})",
    ]
    if customer.status != "active":
        facts.append(
            f"customer status **{labels.md(labels.label('customer_status', customer.status))}**"
        )
    st.markdown(" · ".join(facts))
    st.markdown(
        f":blue-badge[:material/flag: {labels.md(rep.stage.label)}] "
        f"{labels.markdown(health_badge(health.score))} "
        f"· Week {line.program_week} ({labels.PROGRAM_STATUS_LABELS[line.program_status]}) "
        f"· {labels.markdown(next_line(rep, as_of))}",
        help=f"Stage: {labels.md(rep.stage.why)}",
    )
    people_col, goals_col = st.columns(2, gap="medium")
    people_col.markdown(f":material/group: People: {labels.markdown(people_line(people))}")
    goals_col.markdown(
        f":material/target: Goals and KPIs: {labels.markdown(goals_line(goals, as_of))}"
    )
