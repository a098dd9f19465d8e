"""A meeting's invite as an email (pure): the subject and Markdown text the owner may edit,
and the meeting's .ics attached (text/calendar; METHOD:REQUEST, or CANCEL for a
cancelled meeting), with the sender as the calendar's organiser."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lib.labels import md
from lib.mail.compose import Attachment, formatted
from lib.meetings import ics
from lib.meetings.model import KIND_LABELS, MeetingView


@dataclass(frozen=True)
class InviteEmail:
    subject: str
    markdown: str
    attachment: Attachment
    to: tuple[str, ...]  # the meeting's customer attendees, `Name <email>`


def sendable(view: MeetingView) -> bool:
    """An invite goes out for a meeting still to happen, or to cancel one."""
    return view.status in ("scheduled", "cancelled")


def invite_email(
    view: MeetingView, sender_name: str, sender_email: str, now: dt.datetime | None = None
) -> InviteEmail:
    cancelled = view.status == "cancelled"
    local = view.local_start
    when = f"{local:%A %d %B %Y, %H:%M} {local.tzname()}"
    call = KIND_LABELS.get(view.kind, view.kind)
    people = [a for a in view.attendees if a.side == "customer"]
    greeting = ", ".join(md(a.name.split(" ")[0]) for a in people if a.name) or "there"
    if cancelled:
        subject = f"Cancelled: {call} about your PostHog onboarding, {local:%a %d %b %H:%M}"
        lines = [
            f"Hi {greeting},",
            "",
            f"I have had to cancel our {call.lower()} on **{when}**. The attached update "
            "takes it out of your calendar; I will be in touch with a new time.",
        ]
    else:
        subject = f"Invitation: {call} about your PostHog onboarding, {local:%a %d %b %H:%M}"
        lines = [
            f"Hi {greeting},",
            "",
            f"Here is our {call.lower()} about your PostHog onboarding: **{when}** "
            f"({md(view.timezone)}), {view.duration_min} minutes. The invite is attached: "
            "accept it to put the call in your calendar.",
        ]
        if view.agenda.strip():
            lines += ["", "**Agenda**", "", view.agenda.strip()]
    lines += ["", "Best,", md(sender_name)]
    content = ics.invite(view, sender_email, sender_name, now=now).decode("utf-8")
    return InviteEmail(
        subject=subject,
        markdown="\n".join(lines) + "\n",
        attachment=Attachment(
            filename=ics.filename(view),
            content=content,
            params=(("method", "CANCEL" if cancelled else "REQUEST"),),
        ),
        to=tuple(formatted(a.name, a.email) for a in people),
    )
