"""What the user did wrong: one family of errors whose message is meant for them. Pages and
the command line catch `UserError` and nothing broader, so a bug is never shown as a
form message. Raising one means nothing was written."""

from __future__ import annotations


class UserError(Exception):
    """Input or a request the program refuses; the message says what was expected."""


class NotFound(UserError):
    """The thing asked for does not exist (an unknown customer id, a removed meeting)."""


class Conflict(UserError):
    """Somebody else changed the same thing first; nothing of this change was written."""


class SendFailed(UserError):
    """An outside server (the team's mail server) refused or did not answer; the message
    says what happened, and nothing was recorded as sent."""
