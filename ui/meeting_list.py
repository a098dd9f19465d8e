"""The meeting lists: meetings by day and the week grid, each with an Open button; the
meeting opened is drawn right under its row (or under the grid), not below the page."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from lib import meetings
from lib.meetings import KIND_LABELS, STATUS_LABELS, MeetingView
from ui import labels

OPEN = "mtg_open"  # the meeting opened on the Meetings page
OPEN_WHERE = "mtg_open_where"  # the list it was opened from: drawn there
_OPEN_NEXT = "mtg_open_next"
PAGE_SIZE = 20  # meetings drawn per list: a screenful; each row is ~8 browser elements

DrawOpen = Callable[[MeetingView], None]


@dataclass(frozen=True)
class Clock:
    """The times the meeting pages (Meetings, Today, the customer page) judge by."""

    now: dt.datetime  # the wall clock, naive UTC: a meeting is held only once started
    ref_now: dt.datetime  # the sidebar's "as of" day at this time: upcoming or past
    tz: str  # the zone times are shown in

    @property
    def write_now(self) -> dt.datetime:
        """The clock a booking and a held call are judged by (lib.meetings.check_time): the
        page's "as of" day at this time, never later than the wall clock."""
        return min(self.now, self.ref_now)

    @property
    def local_now(self) -> dt.datetime:
        """write_now on the wall clock of `tz`, naive."""
        return meetings.to_local(self.write_now, self.tz).replace(tzinfo=None)


def clock_for(as_of: dt.date, tz: str) -> Clock:
    """The clock of a page showing `as_of`, with times in `tz`."""
    real_now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return Clock(now=real_now, ref_now=dt.datetime.combine(as_of, real_now.time()), tz=tz)


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


def open_next(meeting_id: int, where: str | None = None) -> None:
    """Open `meeting_id` on the next run, in the list `where` (None: where it is listed)."""
    st.session_state[_OPEN_NEXT] = (meeting_id, where)


def take_open_next() -> tuple[int, str | None] | None:
    """Apply open_next() (call before the lists are drawn): the meeting and where, if any."""
    if (wanted := st.session_state.pop(_OPEN_NEXT, None)) is not None:
        st.session_state[OPEN], st.session_state[OPEN_WHERE] = wanted
    return wanted


def _open(meeting_id: int, where: str) -> None:
    st.session_state[OPEN] = meeting_id
    st.session_state[OPEN_WHERE] = where


def open_button(view: MeetingView, where: str, opened: bool = False) -> None:
    if opened:
        st.button(
            "Close",
            key=f"mtg_openbtn_{where}_{view.id}",
            icon=":material/close:",
            type="tertiary",
            on_click=close,
        )
        return
    st.button(
        "Open",
        key=f"mtg_openbtn_{where}_{view.id}",
        icon=":material/open_in_new:",
        type="tertiary",
        on_click=_open,
        args=(view.id, where),
    )


def close() -> None:
    """Close the meeting opened (None, not absent: a `?meeting=` link does not reopen it)."""
    st.session_state[OPEN] = None
    st.session_state.pop(OPEN_WHERE, None)


def day_table(
    views: list[MeetingView],
    where: str,
    clock: Clock,
    opened: int | None = None,
    draw_open: DrawOpen | None = None,
) -> None:
    """Meetings under their day's heading, one row each; the meeting `opened` is drawn by
    `draw_open` right under its row."""
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
            is_open = view.id == opened and draw_open is not None
            with cells[5]:
                open_button(view, where, is_open)
            if is_open and draw_open is not None:
                with st.container(border=True):
                    draw_open(view)


def _page_key(where: str) -> str:
    return f"mtg_page_{where}"


def page_of(views: list[MeetingView], where: str, reset_on: object = None) -> list[MeetingView]:
    """The meetings on the current page of the list `where` (PAGE_SIZE at most); back to
    the first page whenever `reset_on` (the list's filters) changes."""
    key = _page_key(where)
    if st.session_state.get(f"{key}_for") != reset_on:
        st.session_state[key], st.session_state[f"{key}_for"] = 0, reset_on
    last = max(0, (len(views) - 1) // PAGE_SIZE)
    page = min(max(0, int(st.session_state.get(key, 0))), last)
    st.session_state[key] = page
    return views[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]


def _turn(where: str, step: int) -> None:
    st.session_state[_page_key(where)] = int(st.session_state.get(_page_key(where), 0)) + step


def page_count(total: int, where: str, noun: str) -> None:
    """The count above a list: "Showing 21-40 of 412 upcoming" (after page_of())."""
    first = int(st.session_state.get(_page_key(where), 0)) * PAGE_SIZE
    if total <= PAGE_SIZE:
        st.caption(f"Showing all {total:d} {labels.md(noun)}")
    else:
        last = min(total, first + PAGE_SIZE)
        st.caption(f"Showing {first + 1:d}-{last:d} of {total:d} {labels.md(noun)}")


def page_buttons(total: int, where: str) -> None:
    """Previous and Next page, when the list is longer than a page."""
    if total <= PAGE_SIZE:
        return
    first = int(st.session_state.get(_page_key(where), 0)) * PAGE_SIZE
    after = max(0, total - first - PAGE_SIZE)
    bar = st.container(horizontal=True, gap="small")
    bar.button(
        f"Previous {PAGE_SIZE:d}",
        key=f"mtg_prev_{where}",
        icon=":material/chevron_left:",
        disabled=first == 0,
        on_click=_turn,
        args=(where, -1),
    )
    bar.button(
        f"Next {min(PAGE_SIZE, after)}" if after else "Next",
        key=f"mtg_next_{where}",
        icon=":material/chevron_right:",
        disabled=not after,
        on_click=_turn,
        args=(where, 1),
    )


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
