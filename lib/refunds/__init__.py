"""Refunds, from a finding to the customer's bill: the workflow. Pure: `model` (states,
actors, views, refusals), `workflow` (the moves and their checks), `records` (the
refunds.csv format, shared by the import and the export), `queue` (what waits for whom,
on Today). Database: `store`. The policy itself (amounts, repeats, approval, the window
to ask in) is lib.audit.refunds."""

from __future__ import annotations

from lib.refunds.model import (
    OPEN,
    STATUS_LABELS,
    Actor,
    RefundConflict,
    RefundError,
    RefundNotAllowed,
    RefundView,
)
from lib.refunds.workflow import TRANSITIONS, allowed, check

__all__ = [
    "OPEN",
    "STATUS_LABELS",
    "TRANSITIONS",
    "Actor",
    "RefundConflict",
    "RefundError",
    "RefundNotAllowed",
    "RefundView",
    "allowed",
    "check",
]
