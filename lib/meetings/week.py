"""Meetings in time: upcoming and past, grouped by local day, and the seven days of a week."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from lib.meetings.model import MeetingView, to_local, utcnow, zone


def split_upcoming(
    meetings: Sequence[MeetingView], now: dt.datetime | None = None
) -> tuple[list[MeetingView], list[MeetingView]]:
    """(upcoming soonest first, past latest first). A meeting is past once it ended."""
    now = now or utcnow()
    upcoming = [m for m in meetings if m.ends_at > now]
    past = [m for m in meetings if m.ends_at <= now]
    return (
        sorted(upcoming, key=lambda m: (m.starts_at, m.id)),
        sorted(past, key=lambda m: (m.starts_at, m.id), reverse=True),
    )


def group_by_day(
    meetings: Sequence[MeetingView], tz_name: str
) -> list[tuple[dt.date, list[MeetingView]]]:
    """Meetings grouped by their day as `tz_name` sees it, in the given order."""
    groups: dict[dt.date, list[MeetingView]] = {}
    for m in meetings:
        groups.setdefault(to_local(m.starts_at, tz_name).date(), []).append(m)
    return list(groups.items())


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def week_range_utc(monday: dt.date, tz_name: str) -> tuple[dt.datetime, dt.datetime]:
    """The UTC bounds of the seven local days starting on `monday`."""
    tz = zone(tz_name)
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=tz)
    return (
        start.astimezone(dt.UTC).replace(tzinfo=None),
        end.astimezone(dt.UTC).replace(tzinfo=None),
    )


def week_view(
    meetings: Sequence[MeetingView], monday: dt.date, tz_name: str
) -> dict[dt.date, list[MeetingView]]:
    """Seven local days from `monday`, each with its meetings by start time."""
    days: dict[dt.date, list[MeetingView]] = {monday + dt.timedelta(days=i): [] for i in range(7)}
    for m in sorted(meetings, key=lambda m: (m.starts_at, m.id)):
        day = to_local(m.starts_at, tz_name).date()
        if day in days:
            days[day].append(m)
    return days
