"""A meeting's invite sent by email from the Meetings page: to the meeting's people from the
customer (never the team), the .ics attached (ui/send_panel.py does the sending). One
invite per meeting and time: a moved meeting offers an updated invite, a cancelled one
the cancellation."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib import mail
from lib.meetings import MeetingView
from ui import access, send_panel


def invite_panel(view: MeetingView, as_of: dt.date, organiser: tuple[str, str]) -> None:
    """ "Send the invite by email" for a meeting still to happen (or just cancelled), the
    calendar's organiser `organiser` (email, name) as in the downloaded invite."""
    if not mail.sendable(view):
        return
    email, name = organiser
    invite = mail.invite_email(view, name, email)
    team = send_panel.team_emails()
    to = tuple(a for a in invite.to if mail.addresses_of([a])[0].lower() not in team)
    cancelled = view.status == "cancelled"
    with st.expander("Send the cancellation by email" if cancelled else "Send the invite by email"):
        send_panel.send_panel(
            send_panel.SendDraft(
                customer_id=view.customer_id,
                kind="meeting_invite",
                send_key=mail.invite_key(view.id, view.starts_at, cancelled),
                subject=invite.subject,
                body=invite.markdown,
                on=as_of,
                label="the cancellation" if cancelled else "the invite",
                to=to,
                attachments=(invite.attachment,),
                meeting_id=view.id,
            ),
            access.can(*access.TEAM_WRITERS),
        )
