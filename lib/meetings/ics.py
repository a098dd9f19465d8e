"""Calendar invites (.ics) for meetings, built with the icalendar library: the meeting's
own zone, a UID stable per meeting and SEQUENCE from its version (docs/ has the details)."""

from __future__ import annotations

import datetime as dt

import icalendar

from lib.meetings.model import KIND_LABELS, MeetingView, to_local

PRODID = "-//Onboarding console//Meetings//EN"
UID_DOMAIN = "onboarding-console"


def uid(meeting_id: int) -> str:
    return f"meeting-{meeting_id}@{UID_DOMAIN}"


def filename(view: MeetingView) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in view.customer_id).strip("-") or "meeting"
    return f"{safe}-{view.kind}-call-{view.day.isoformat()}.ics"


def _address(email: str, name: str, role: str | None = None) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["CN"] = icalendar.vText(name or email)
    if role:
        address.params["ROLE"] = icalendar.vText(role)
        address.params["PARTSTAT"] = icalendar.vText("NEEDS-ACTION")
        address.params["RSVP"] = icalendar.vText("TRUE")
    return address


def invite(
    view: MeetingView,
    organizer_email: str,
    organizer_name: str = "",
    now: dt.datetime | None = None,
) -> bytes:
    """The meeting as an iCalendar file (RFC 5545), ready to download."""
    cancelled = view.status == "cancelled"
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")

    event = icalendar.Event()
    event.add("uid", uid(view.id))
    event.add("sequence", max(view.version - 1, 0))
    event.add("dtstamp", (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC))
    start = to_local(view.starts_at, view.timezone)
    event.add("dtstart", start)
    event.add("dtend", start + dt.timedelta(minutes=view.duration_min))
    event.add(
        "summary", f"{KIND_LABELS.get(view.kind, view.kind)}: {view.customer_name} onboarding"
    )
    if view.agenda:
        event.add("description", view.agenda)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", _address(organizer_email, organizer_name))
    for attendee in view.attendees:
        if attendee.email.lower() == organizer_email.lower():
            continue
        event.add("attendee", _address(attendee.email, attendee.name, "REQ-PARTICIPANT"))
    cal.add_component(event)
    # Adds the VTIMEZONE the event's TZID refers to (none needed for UTC).
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
