"""What a refund is to the workflow (pure): its states and their labels, who acts (an
`Actor`), a stored refund as pages see it (`RefundView`), a `Move` to store, and the
refusals (`RefundError`, a `UserError`; `RefundConflict`, a `Conflict`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lib.audit import refunds as policy
from lib.errors import Conflict, UserError
from lib.labels import REFUND_STATUS_LABELS
from lib.vocabulary import REFUND_REPEAT_STATUSES, REFUND_STATUSES

if TYPE_CHECKING:
    from lib.audit.refunds import Policy

PROPOSED, REQUESTED, NEEDS_APPROVAL, APPROVED, ISSUED, DECLINED = REFUND_STATUSES
OPEN: tuple[str, ...] = (PROPOSED, REQUESTED, NEEDS_APPROVAL, APPROVED)
REPEATS: tuple[str, ...] = REFUND_REPEAT_STATUSES
POLICY = "policy"  # `decided_by` of a refund the policy itself declined
# Statuses of refunds recorded before the workflow existed.
LEGACY_STATUSES: dict[str, str] = {"pending_approval": NEEDS_APPROVAL}
WRITERS: tuple[str, ...] = ("team", "admin")  # the roles that do customer work

STATUS_LABELS = REFUND_STATUS_LABELS  # the one label table (lib.labels)

# ------------------------------------------------------------------ refusals


class RefundError(UserError):
    """A refund change the workflow refuses; nothing was written."""


class RefundNotAllowed(RefundError):
    """The signed-in login may not make this change."""


class RefundStateError(RefundError):
    """The refund is not in a state that allows this change."""


class RefundWindowClosed(RefundError):
    """Asked for, or proposed, after the window to ask closed."""


class RefundAmountError(RefundError):
    """An amount that is not positive, or above what the policy or the approval allows."""


class RefundConflict(Conflict):
    """Someone changed the refund after you opened it; nothing of yours was written."""

    def __init__(self, yours_version: int, current: RefundView) -> None:
        self.current = current
        who = current.updated_by or "someone"
        when = f" at {current.updated_at:%Y-%m-%d %H:%M} UTC" if current.updated_at else ""
        super().__init__(
            f"{who} changed refund #{current.id}{when} after you opened it (version "
            f"{yours_version} -> {current.version}); it is now "
            f"{STATUS_LABELS.get(current.status, current.status).lower()}. "
            "Nothing of yours was written: look at it again and decide."
        )


# ------------------------------------------------------------------ who and what


@dataclass(frozen=True)
class Actor:
    """Who acts, as the login file says now: the role, and whether the login is one of
    revenue operations' named approvers."""

    username: str
    role: str | None
    revops: bool = False

    @property
    def writer(self) -> bool:
        return self.role in WRITERS

    @property
    def approver(self) -> bool:
        return self.revops and self.writer

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    def may(self, who: str) -> bool:
        return {"writer": self.writer, "approver": self.approver, "admin": self.admin}[who]


@dataclass(frozen=True)
class RefundView:
    """A stored refund as a page or a check sees it (no database object)."""

    id: int
    customer_id: str
    scenario: str
    status: str
    amount_usd: float
    billing_month: dt.date | None
    recorded_on: dt.date
    version: int = 1
    rule: str | None = None
    per_product: Mapping[str, float] = field(default_factory=dict)
    ceiling_usd: float | None = None
    occurrence: int | None = None
    invoice_change: bool = False
    needs_approval: bool = False
    requested_on: dt.date | None = None
    decided_by: str | None = None
    decided_on: dt.date | None = None
    decision_reason: str | None = None
    override_by: str | None = None
    override_reason: str | None = None
    issued_on: dt.date | None = None
    issued_usd: float | None = None
    reference: str | None = None
    note: str | None = None
    recorded_by: str | None = None
    updated_by: str | None = None
    updated_at: dt.datetime | None = None
    owner: str | None = None  # the customer's owner
    customer_name: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def declined_by_policy(self) -> bool:
        return self.status == DECLINED and self.decided_by == POLICY

    @property
    def key(self) -> tuple[str, dt.date | None, str]:
        """One refund per customer, billing month and scenario (imports match on it)."""
        return (self.customer_id, self.billing_month, self.scenario)

    @property
    def billing_date(self) -> dt.date | None:
        return policy.billing_date(self.billing_month) if self.billing_month else None

    def ask_deadline(self, rules: Policy | None = None) -> dt.date | None:
        return policy.ask_deadline(self.billing_month, rules) if self.billing_month else None

    def approval_reasons(self, rules: Policy | None = None) -> tuple[str, ...]:
        return policy.approval_reasons(
            self.amount_usd, self.occurrence or 1, rules, invoice_change=self.invoice_change
        )


@dataclass(frozen=True)
class Move:
    """What an allowed action changes: the new status, the fields to store, a notice."""

    status: str
    fields: dict[str, Any]
    message: str
