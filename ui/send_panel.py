"""The "Send" form the customer page (outreach), the homework page and the meetings page
(invites) share: To (the customer's contacts, primary first; never the team's own
logins), Subject and the text (the draft, editable: what is edited is what goes out and
is kept; the HTML part is it rendered as Markdown), and Send. Once sent: when, by whom and
to whom, and Send is not offered again for that email. Without an SMTP server configured:
how to configure one (the copy and download of the draft stay as they are).

Sending runs lib.mail.send: the claim is committed before the server is called, so a
double click or a second person is refused saying who sent it (docs/rules.md, "Sending").
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lib import contacts, mail
from lib.errors import UserError
from lib.mail import SendResult, SentView, SmtpSettings
from ui import access, actions, data, labels, login, telemetry

NOT_CONFIGURED = (
    "Sending from the console is not configured: copy or download the email and send it "
    "from your mail program. To send from here, an admin sets `ONBOARDING_SMTP_HOST` (with "
    "`ONBOARDING_SMTP_PORT`, `ONBOARDING_SMTP_SECURITY`, `ONBOARDING_SMTP_USER` and "
    "`ONBOARDING_SMTP_PASSWORD`) in the server's environment, or an `[smtp]` section in "
    '`.streamlit/secrets.toml`, and restarts it (README, "Sending email").'
)


@dataclass(frozen=True)
class SendDraft:
    """An email the page offers to send: whose, which, its draft text, what it carries."""

    customer_id: str
    kind: str  # lib.vocabulary.SENT_KINDS
    send_key: str
    subject: str
    body: str  # Markdown
    on: dt.date  # the program's date it counts on (the page's as-of)
    label: str  # "the initial outreach", for the notice
    to: tuple[str, ...] | None = None  # None: the customer's contacts
    attachments: tuple[mail.Attachment, ...] = ()
    meeting_id: int | None = None
    check_in_on: dt.date | None = None
    event: tuple[str, dict[str, Any]] | None = None  # telemetry after a send


def smtp_settings() -> SmtpSettings | None:
    """The SMTP settings: the environment, else `[smtp]` in the secrets; None when not
    configured. A setting that cannot be used raises MailSettingsError (a UserError)."""
    try:
        section = dict(st.secrets["smtp"])
    except (KeyError, FileNotFoundError):
        section = {}
    return mail.load(os.environ, section)


def team_emails() -> set[str]:
    """Every login's email, lower-case: never prefilled as the customer's people."""
    return {u.email.strip().lower() for u in login.users().values() if u.email}


def customer_recipients(customer_id: str) -> list[str]:
    """The customer's contacts as `Name <email>`, primary first, without the team."""
    team = team_emails()
    with data.reading() as session:
        people = contacts.for_customer(session, customer_id)
    return contacts.recipients([c for c in people if c.email.strip().lower() not in team])


def sent_box(view: SentView) -> None:
    """The email as sent: when, by whom, to whom (the Emails tab keeps the message)."""
    to = ", ".join(view.to_addrs) or "the customer"
    st.success(
        f"Sent on {labels.day(view.on)} ({view.at:%H:%M} UTC) by **{labels.md(view.by or '-')}** "
        f"to {labels.md(to)}: {labels.md(view.subject or '')}. The message as sent is on the "
        "customer page's Emails tab.",
        icon=":material/mark_email_read:",
    )


def _key(send_key: str) -> str:
    return "send_" + re.sub(r"[^A-Za-z0-9_-]+", "_", send_key)


def _start_from(draft: SendDraft, key: str, to: list[str]) -> None:
    """Fill the form with the draft, the first time and whenever the draft changes; else
    keep what the user typed.

    The values are assigned again on every run: a widget whose value comes from Session
    State is drawn with it only on a run that assigned it, so a browser that first draws
    the form on a later run (the run that assigned it was replaced by a rerun before it
    reached the page) would show the widgets' empty defaults."""
    source = (draft.subject, draft.body, tuple(to))
    fields = {
        f"{key}_to": "\n".join(to),
        f"{key}_subject": draft.subject,
        f"{key}_body": draft.body,
    }
    fresh = st.session_state.get(f"{key}_source") != source
    for field, value in fields.items():
        st.session_state[field] = value if fresh else st.session_state.get(field, value)
    st.session_state[f"{key}_source"] = source


def send_panel(draft: SendDraft, can_write: bool, offer: bool = True) -> None:
    """The form (or the email as sent, or how to configure sending). `offer=False`: only
    the email as sent, if it was."""
    with data.reading() as session:
        found = mail.find(session, draft.send_key)
    key = _key(draft.send_key)
    if found is not None and found.status == "sent":
        if st.session_state.get(f"{key}_send"):  # Send clicked on a page from before
            st.warning(labels.md(mail.refusal(found)), icon=":material/block:")
        sent_box(found)
        return
    if not offer:
        return
    if found is not None and not found.stale():
        st.info(labels.md(mail.refusal(found)), icon=":material/hourglass_top:")
        return
    try:
        settings = smtp_settings()
    except UserError as error:
        st.error(f"Sending is not possible: {labels.md(error)}", icon=":material/error:")
        return
    if settings is None:
        st.info(NOT_CONFIGURED, icon=":material/forward_to_inbox:")
        return
    if found is not None:  # a claim left by a crash (docs/rules.md, "Sending")
        st.warning(
            f"An earlier send by {labels.md(found.by or 'someone')} at {found.at:%H:%M} UTC "
            "never finished: the message may have gone out. Check before sending it again.",
            icon=":material/warning:",
        )
    to = list(draft.to) if draft.to is not None else customer_recipients(draft.customer_id)
    _start_from(draft, key, to)
    with st.container(border=True):
        st.markdown("**Send from the console**")
        st.text_area(
            "To (one per line: Name <email>)",
            key=f"{key}_to",
            height=80,
            help="The customer's contacts, the primary one first (the team's own logins "
            "are never filled in here). Edit freely.",
        )
        st.text_input("Subject", key=f"{key}_subject")
        st.text_area(
            "Message (Markdown: sent as plain text and as HTML; what you send is kept)",
            key=f"{key}_body",
            height=320,
        )
        files = ", ".join(a.filename for a in draft.attachments)
        st.caption(
            f"From you, through {labels.md(settings.where)}"
            + (f"; replies go to {labels.md(settings.reply_to)}" if settings.reply_to else "")
            + (f". Attached: {labels.md(files)}" if files else "")
            + "."
        )
        clicked = st.button(
            "Send",
            type="primary",
            icon=":material/send:",
            key=f"{key}_send",
            disabled=not can_write,
            help=None if can_write else "Your role cannot send emails.",
        )
    if clicked:
        _send(draft, key, settings)


def _send(draft: SendDraft, key: str, settings: SmtpSettings) -> None:
    try:
        access.require("send an email")
        user = login.current_user()
        assert user is not None  # require() checked
        message = mail.compose_message(
            sender=mail.sender(user.name, user.email, settings.from_addr),
            to=mail.parse_recipients(st.session_state.get(f"{key}_to") or ""),
            subject=st.session_state.get(f"{key}_subject") or "",
            body=st.session_state.get(f"{key}_body") or "",
            reply_to=settings.reply_to,
            attachments=draft.attachments,
        )
        outgoing = mail.Outgoing(
            customer_id=draft.customer_id,
            kind=draft.kind,
            send_key=draft.send_key,
            message=message,
            on=draft.on,
            meeting_id=draft.meeting_id,
            check_in_on=draft.check_in_on,
        )
        with st.spinner(f"Sending through {labels.md(settings.where)}..."):
            result = mail.send(lambda: access.writing("send an email"), outgoing, settings)
    except UserError as error:
        st.error(labels.md(error), icon=":material/error:")
        return
    if draft.event:
        telemetry.track(draft.event[0], **draft.event[1])
    actions.post(notice(draft, result))
    st.rerun()


def notice(draft: SendDraft, result: SendResult) -> str:
    parts = [f"Sent {draft.label} to {labels.md(', '.join(result.sent.to_addrs))}"]
    if result.step:
        parts.append(f"{labels.step(result.step)} is done on {result.sent.on:%d %b}")
    text = "; ".join(parts) + "."
    if result.refused:
        refused = "; ".join(f"{a} ({why})" for a, why in result.refused.items())
        text += f" The server refused some recipients: {labels.md(refused)}."
    return text
