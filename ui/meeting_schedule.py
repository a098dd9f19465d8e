"""The Meetings page's "Schedule a call" form: pick a customer and a call, prefilled with
the customer's contacts (those on their last meeting, else the primary one), the other
people of their last meeting (never the team's own logins) and an agenda from their open
findings."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib import mail, meetings
from lib.meetings import KIND_LABELS, MeetingError, ScheduleRequest
from lib.program import portfolio
from lib.program.report import CustomerReport
from ui import access, actions, data, labels, login, send_panel, telemetry
from ui.meeting_list import open_next


def customer_choices(username: str, as_of: dt.date) -> dict[str, str]:
    """customer id -> label, the user's own customers first, churned ones left out."""
    return portfolio.picker_labels(data.reports(as_of), username, leave_out_churned=True)


def contact_choices(customer_id: str) -> dict[str, str]:
    """The customer's contacts (primary first, the team's logins left out): email -> line."""
    return {
        mail.addresses_of([line])[0].lower(): line
        for line in send_panel.customer_recipients(customer_id)
    }


def _prefill(customer_id: str, kind: str, rep: CustomerReport | None) -> None:
    """Prefill the agenda and the people when the customer or the call changes."""
    prefill_for = f"{customer_id}/{kind}"
    if st.session_state.get("mtg_new_prefill_for") == prefill_for:
        return
    with data.reading() as session:
        history = meetings.for_customer(session, customer_id).meetings
        goals = meetings.customer_goals(session, customer_id)
    last = next(
        (
            [a for a in v.attendees if a.side == "customer"]
            for v in reversed(history)
            if any(a.side == "customer" for a in v.attendees)
        ),
        [],
    )
    team = send_panel.team_emails()
    known = contact_choices(customer_id)  # email -> `Name <email>`
    on_last = [a.email.lower() for a in last]
    chosen = [e for e in known if e in on_last] or list(known)[:1]  # else the primary
    others = [a for a in last if a.email.lower() not in known and a.email.lower() not in team]
    st.session_state["mtg_new_contacts"] = [known[e] for e in chosen]
    st.session_state["mtg_new_people"] = meetings.attendees_text(others)
    st.session_state["mtg_new_agenda"] = meetings.agenda_from_findings(
        rep.findings if rep else [], kind, goals
    )
    st.session_state["mtg_new_duration"] = meetings.DEFAULT_DURATION_MIN[kind]
    st.session_state["mtg_new_prefill_for"] = prefill_for


def schedule_form(as_of: dt.date, default_tz: str, zones: list[str]) -> None:
    """The form; a booked call opens in the detail panel with its invite."""
    user = login.current_user()
    username = user.username if user else ""
    choices = customer_choices(username, as_of)
    if not choices:
        st.info("No customers yet: import them on the Data page.", icon=":material/inbox:")
        return
    wanted = st.query_params.get("customer")
    if wanted in choices and "mtg_new_customer" not in st.session_state:
        st.session_state["mtg_new_customer"] = wanted
    customer_id = st.selectbox(
        "Customer", list(choices), format_func=choices.__getitem__, key="mtg_new_customer"
    )
    rep = data.report_for(customer_id, as_of)
    first_done = rep is not None and rep.timeline.steps["first_meeting"].status == "done"
    kind = st.radio(
        "Call",
        list(KIND_LABELS),
        index=1 if first_done else 0,
        format_func=KIND_LABELS.__getitem__,
        horizontal=True,
        key="mtg_new_kind",
    )
    _prefill(customer_id, kind, rep)
    c1, c2, c3, c4 = st.columns(4)
    day = c1.date_input("Date", value=as_of, key="mtg_new_date", format="YYYY-MM-DD")
    time = c2.time_input("Time", value=dt.time(15, 0), step=900, key="mtg_new_time")
    st.session_state.setdefault("mtg_new_tz", default_tz)
    tz = c3.selectbox("Time zone", zones, key="mtg_new_tz")
    duration = c4.number_input(
        "Minutes", min_value=5, max_value=meetings.MAX_DURATION_MIN, step=5, key="mtg_new_duration"
    )
    invited = st.multiselect(
        "The customer's contacts (invited with the people below)",
        list(contact_choices(customer_id).values()),
        key="mtg_new_contacts",
        placeholder="No contacts yet: add them on the customer page, or below",
    )
    people_text = st.text_area(
        "People from the customer (one per line: Name <email>)",
        key="mtg_new_people",
        placeholder="Ann Lee <ann@acme.com>\nBo Chen <bo@acme.com>",
    )
    team_text = st.text_area(
        "Others from our team (optional; you are added as the organiser)",
        key="mtg_new_team",
        height=68,
    )
    agenda = st.text_area(
        "Agenda (from the open findings; edit freely)", key="mtg_new_agenda", height=180
    )
    if not st.button(
        "Schedule", type="primary", key="mtg_new_submit", icon=":material/event_available:"
    ):
        return
    try:
        typed = meetings.parse_attendees(people_text, "customer")
        listed = {a.email.lower() for a in typed}
        attendees = typed + [
            a
            for a in meetings.parse_attendees("\n".join(invited), "customer")
            if a.email.lower() not in listed
        ]
        attendees += meetings.parse_attendees(team_text, "team")
        organiser = meetings.Attendee(
            user.name if user else username,
            (user.email if user and user.email else f"{username}@example.invalid"),
            "team",
        )
        if all(a.email != organiser.email for a in attendees):
            attendees.append(organiser)
        request = ScheduleRequest(
            customer_id=customer_id,
            kind=kind,
            local_start=dt.datetime.combine(day, time),
            timezone=tz,
            duration_min=int(duration),
            attendees=tuple(attendees),
            agenda=agenda,
        )
        with access.writing("schedule a meeting") as session:
            new_id = meetings.schedule(session, request)
    except MeetingError as error:
        st.error(labels.md(error), icon=":material/error:")
        return
    telemetry.track("meeting_scheduled", customer_id=customer_id, kind=kind)
    open_next(new_id)
    st.session_state.pop("mtg_new_prefill_for", None)
    actions.post(
        f"{KIND_LABELS[kind]} with {labels.md(rep.customer.name if rep else customer_id)} "
        f"scheduled for {day:%a %d %b} {time:%H:%M} {labels.md(tz)}. "
        "Download the invite below."
    )
    st.rerun()
