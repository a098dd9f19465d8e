"""The sidebar's notices: what changed for a user since they last looked (a customer's
reply, a refund decided or waiting for their approval, a customer assigned to them), each
marked read once. Pure: `model`; database: `store`."""

from __future__ import annotations

from lib.notices.model import KINDS, WINDOW, Notice, unread
from lib.notices.store import for_user, mark_read

__all__ = ["KINDS", "WINDOW", "Notice", "for_user", "mark_read", "unread"]
