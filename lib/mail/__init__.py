"""Sending the program's emails through the team's SMTP server. Pure: `settings` (where
to send, from the environment or secrets), `compose` (addresses, the message, send keys),
`invites` (a meeting's invite as an email), `transport` (smtplib, failures as SendFailed).
Database: `store` (claim, finish, release, and `send`, which runs them)."""

from __future__ import annotations

from lib.errors import SendFailed
from lib.mail.compose import (
    PROGRAM_KINDS,
    AddressError,
    Attachment,
    Outgoing,
    addresses_of,
    check_address,
    compose_message,
    formatted,
    invite_key,
    is_placeholder,
    parse_recipients,
    plain_text,
    program_key,
    render_html,
    sender,
    serialize,
    text_part,
)
from lib.mail.invites import InviteEmail, invite_email, sendable
from lib.mail.settings import ENV_NAMES, MailSettingsError, SmtpSettings, load
from lib.mail.store import (
    STALE_AFTER,
    AlreadySent,
    SendResult,
    SentView,
    claim,
    find,
    finish,
    for_keys,
    refusal,
    release,
    send,
)
from lib.mail.transport import deliver

__all__ = [
    "ENV_NAMES",
    "PROGRAM_KINDS",
    "STALE_AFTER",
    "AddressError",
    "AlreadySent",
    "Attachment",
    "InviteEmail",
    "MailSettingsError",
    "Outgoing",
    "SendFailed",
    "SendResult",
    "SentView",
    "SmtpSettings",
    "addresses_of",
    "check_address",
    "claim",
    "compose_message",
    "deliver",
    "find",
    "finish",
    "for_keys",
    "formatted",
    "invite_email",
    "invite_key",
    "is_placeholder",
    "load",
    "parse_recipients",
    "plain_text",
    "program_key",
    "refusal",
    "release",
    "render_html",
    "send",
    "sendable",
    "sender",
    "serialize",
    "text_part",
]
