"""The customers' answers: `matching` (which customer a message answers; pure), `mailbox`
(the team's IMAP mailbox: settings and reading it), `sync` (one check: read, match, say
what is new); database: `store` (what matching compares with, recording replies, from
the mailbox or by hand, and a customer's conversation)."""

from __future__ import annotations

from lib.replies.mailbox import ImapSettings, MailboxError, MailboxSettingsError, load
from lib.replies.matching import Decision, Incoming, Known, decide
from lib.replies.store import (
    MessageView,
    ReplyError,
    conversation,
    known,
    record,
    record_manual,
    remove_manual,
)
from lib.replies.sync import SyncResult, collect, default_since, team_addresses

__all__ = [
    "Decision",
    "ImapSettings",
    "Incoming",
    "Known",
    "MailboxError",
    "MailboxSettingsError",
    "MessageView",
    "ReplyError",
    "SyncResult",
    "collect",
    "conversation",
    "decide",
    "default_since",
    "known",
    "load",
    "record",
    "record_manual",
    "remove_manual",
    "team_addresses",
]
