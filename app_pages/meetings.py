"""Meetings: the owner's first and second calls, by day and by week; schedule a call
with an .ics invite; log what happened (ui.meeting_form, ui.meeting_schedule). A meeting
opens right where it was opened from: under its row, under the week, under the form
that booked it."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib import meetings
from lib.meetings import (
    KIND_LABELS,
    STATUS_LABELS,
    STATUSES,
    MeetingError,
    MeetingFilter,
    MeetingView,
    SaveResult,
)
from ui import access, actions, data, login
from ui.meeting_form import show_meeting
from ui.meeting_list import (
    OPEN,
    OPEN_WHERE,
    Clock,
    browser_zone,
    close,
    day_table,
    open_next,
    page_buttons,
    page_count,
    page_of,
    take_open_next,
    week_grid,
)
from ui.meeting_schedule import schedule_form

EVERYONE = "(everyone)"

as_of = data.as_of()
user = login.current_user()
username = user.username if user else ""
real_now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
ZONES = meetings.timezones()

# ------------------------------------------------------------------ header

st.title(":material/event: Meetings", anchor=False)
actions.show_notice()

with data.reading() as session:
    owner_names = meetings.owners(session)

if username and username not in owner_names:
    owner_names = sorted([*owner_names, username])
owner_options = [EVERYONE, *owner_names]
cols = st.columns([2, 2, 3, 3])
owner_choice = cols[0].selectbox(
    "Owner",
    owner_options,
    index=owner_options.index(username) if username in owner_options else 0,
    key="mtg_owner",
    help="Your meetings by default; switch to see a colleague's or everyone's.",
)
kinds = cols[1].multiselect(
    "Call", list(KIND_LABELS), format_func=KIND_LABELS.__getitem__, key="mtg_kinds"
)
statuses = cols[2].multiselect(
    "Status", list(STATUSES), format_func=STATUS_LABELS.__getitem__, key="mtg_statuses"
)
st.session_state.setdefault("mtg_tz", browser_zone())
view_tz = cols[3].selectbox(
    "Show times in", ZONES, key="mtg_tz", help="Each meeting keeps its own zone in the invite."
)
# The pages show the sidebar's "as of" day; upcoming/past is judged at this time of that day.
clock = Clock(now=real_now, ref_now=dt.datetime.combine(as_of, real_now.time()), tz=view_tz)

flt = MeetingFilter(
    owner=None if owner_choice == EVERYONE else owner_choice,
    kinds=tuple(kinds),
    statuses=tuple(statuses),
)
with data.reading() as session:
    listed = meetings.list_meetings(session, flt)
upcoming, past = meetings.split_upcoming(listed, now=clock.ref_now)
show_past = int(st.session_state.get("mtg_past_days", 60))
recent = [v for v in past if v.starts_at >= clock.ref_now - dt.timedelta(days=show_past)]
picked = st.session_state.get("mtg_week_of", as_of)
monday = meetings.week_start(picked if isinstance(picked, dt.date) else as_of)
start, end = meetings.week_range_utc(monday, view_tz)
week_filter = MeetingFilter(
    owner=flt.owner, kinds=flt.kinds, statuses=flt.statuses, start=start, end=end
)
with data.reading() as session:
    week_meetings = meetings.list_meetings(session, week_filter)

# ------------------------------------------------------------------ the meeting opened

TABS = ("By day", "Week", "Schedule a call")
taken = take_open_next()  # a meeting just booked or rescheduled opens, on its tab
if taken is not None:
    st.session_state["mtg_tab"] = TABS[2] if taken[1] == "new" else TABS[0]
wanted_meeting = st.query_params.get("meeting")
if wanted_meeting and wanted_meeting.isdigit() and OPEN not in st.session_state:
    st.session_state[OPEN] = int(wanted_meeting)
    st.session_state["mtg_tab"] = TABS[0]  # a link to a meeting opens it on the list
elif st.query_params.get("customer") and "mtg_tab" not in st.session_state:
    st.session_state["mtg_tab"] = TABS[2]  # a link to a customer: to schedule their call
opened: int | None = st.session_state.get(OPEN)
if opened is not None:
    try:
        with data.reading() as session:
            meetings.get(session, opened)
    except MeetingError:
        close()
        opened = None
# A page of each list is drawn (back to the first page when the filters change).
filters = (owner_choice, tuple(kinds), tuple(statuses))
upcoming_page = page_of(upcoming, "up", filters)
recent_page = page_of(recent, "past", (*filters, show_past))
# Where it is drawn: where it was opened from, else under its row on the page shown, else
# atop the list.
where = st.session_state.get(OPEN_WHERE)
in_list: dict[str, set[int | None]] = {
    "up": {v.id for v in upcoming_page},
    "past": {v.id for v in recent_page},
    "week": {v.id for v in week_meetings},
    "new": {opened},
}
if where not in in_list or opened not in in_list[where]:
    where = next((w for w in ("up", "past") if opened in in_list[w]), "top")


def follow(result: SaveResult) -> None:
    """A reschedule opens the new date."""
    if result.new_meeting_id:
        open_next(result.new_meeting_id)


def draw_opened(meeting_id: int) -> None:
    show_meeting(meeting_id, clock, ZONES, as_of, after_save=follow)


def draw_open(view: MeetingView) -> None:
    draw_opened(view.id)


def boxed(place: str) -> None:
    """The meeting opened, in a box of its own with a Close button (not under a row)."""
    if opened is None or where != place:
        return
    with st.container(border=True):
        st.button("Close", key=f"mtg_close_{place}", icon=":material/close:", on_click=close)
        draw_opened(opened)


def opened_at(place: str) -> int | None:
    return opened if where == place else None


def list_tab() -> None:
    boxed("top")
    st.subheader(f"Upcoming ({len(upcoming)})", anchor=False)
    if upcoming:
        page_count(len(upcoming), "up", "upcoming")
        day_table(upcoming_page, "up", clock, opened_at("up"), draw_open)
        page_buttons(len(upcoming), "up")
    else:
        st.caption("No upcoming meetings for this selection.")
    st.subheader(f"Past ({len(past)})", anchor=False)
    missing = [v for v in past if v.needs_outcome(clock.ref_now)]
    if missing:
        st.warning(
            f"{len(missing)} past meeting(s) have no outcome yet: the timeline counts them "
            "as overdue until you log what happened.",
            icon=":material/pending_actions:",
        )
    st.number_input(
        "Past days shown",
        min_value=7,
        max_value=365,
        value=60,
        step=7,
        key="mtg_past_days",
        persist_state="page",
    )
    if recent:
        page_count(len(recent), "past", f"past meetings of the last {show_past} days")
        day_table(recent_page, "past", clock, opened_at("past"), draw_open)
        page_buttons(len(recent), "past")
    else:
        st.caption("No past meetings in that period.")


# Keyed and tracked, so the tab shown stays put when a notice appears above it; only the
# open tab is drawn (at 10,000 customers, drawing all three took seconds in the browser).
tab_list, tab_week, tab_new = st.tabs(TABS, key="mtg_tab", on_change="rerun")

with tab_list:
    if tab_list.open:
        list_tab()

with tab_week:
    if tab_week.open:
        st.date_input(
            "Week of", value=as_of, key="mtg_week_of", format="YYYY-MM-DD", persist_state="page"
        )
        week_grid(meetings.week_view(week_meetings, monday, view_tz), clock)
        boxed("week")

with tab_new:
    if tab_new.open:
        if access.can(*access.TEAM_WRITERS):
            schedule_form(as_of, clock, ZONES)
        else:
            st.info("Your role can look at meetings but not schedule them.", icon=":material/lock:")
        boxed("new")
