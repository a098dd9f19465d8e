"""The Meetings page's lists: meetings by day and the week grid, each with an Open button."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import streamlit as st

from lib import meetings
from lib.meetings import KIND_LABELS, STATUS_LABELS, MeetingView
from ui import labels

OPEN = "mtg_open"  # the meeting shown in the detail panel (the picker's key)
_OPEN_NEXT = "mtg_open_next"


@dataclass(frozen=True)
class Clock:
    """The times the Meetings page judges by."""

    now: dt.datetime  # the wall clock, naive UTC: a meeting is held only once started
    ref_now: dt.datetime  # the sidebar's "as of" day at this time: upcoming or past
    tz: str  # the zone times are shown in


def browser_zone() -> str:
    """The viewer's time zone as the browser reports it (UTC when unknown)."""
    name = st.context.timezone
    try:
        if name:
            zoneinfo.ZoneInfo(name)
            return name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    return "UTC"


def when(view: MeetingView, tz: str) -> str:
    local = meetings.to_local(view.starts_at, tz)
    return f"{local:%H:%M} {local.tzname()}"


def status_text(view: MeetingView, ref_now: dt.datetime) -> str:
    if view.needs_outcome(ref_now):
        return "Outcome missing"
    return STATUS_LABELS.get(view.status, view.status)


def open_next(meeting_id: int) -> None:
    """Open `meeting_id` on the next run (a widget's key cannot change once it is drawn)."""
    st.session_state[_OPEN_NEXT] = meeting_id


def take_open_next() -> None:
    """Apply open_next(); call before the picker is drawn."""
    if (wanted := st.session_state.pop(_OPEN_NEXT, None)) is not None:
        st.session_state[OPEN] = wanted


def open_button(view: MeetingView, where: str) -> None:
    if st.button(
        "Open",
        key=f"mtg_openbtn_{where}_{view.id}",
        icon=":material/open_in_new:",
        type="tertiary",
    ):
        st.session_state[OPEN] = view.id


def day_table(views: list[MeetingView], where: str, clock: Clock) -> None:
    """Meetings under their day's heading, one row each."""
    for day, group in meetings.group_by_day(views, clock.tz):
        st.markdown(f"**{labels.day(day)}**")
        for view in group:
            cells = st.columns([2, 4, 2, 2, 2, 1], vertical_alignment="center")
            cells[0].write(when(view, clock.tz))
            cells[1].markdown(
                f"{labels.md(view.customer_name)} · {KIND_LABELS.get(view.kind, view.kind)}"
            )
            cells[2].write(status_text(view, clock.ref_now))
            cells[3].markdown(labels.md(view.owner or "-"))
            cells[4].write(f"{len(view.attendees)} attendee(s)")
            with cells[5]:
                open_button(view, where)


def week_grid(grid: dict[dt.date, list[MeetingView]], clock: Clock) -> None:
    """Seven columns, one per day, a card per meeting."""
    columns = st.columns(7)
    for column, (day, views) in zip(columns, grid.items(), strict=True):
        with column:
            st.markdown(f"**{day:%a %d %b}**")
            if not views:
                st.caption("-")
            for view in views:
                with st.container(border=True):
                    st.markdown(
                        f"{when(view, clock.tz)}  \n**{labels.md(view.customer_name)}**  \n"
                        f"{KIND_LABELS.get(view.kind, view.kind)} · "
                        f"{status_text(view, clock.ref_now)}"
                    )
                    open_button(view, "week")
