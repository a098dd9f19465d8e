"""The refunds.csv format (pure): one row per refund, the same columns for the import and
the export, so an exported file imports again without changing anything
(docs/interface.md, `refunds.csv`). A refund is known by customer_id + billing_month +
scenario; each column is the refunds table's column of the same name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from lib import pricing
from lib.refunds.model import RefundView

REQUIRED: tuple[str, ...] = ("customer_id", "scenario", "billing_month", "amount_usd", "status")
OPTIONAL: tuple[str, ...] = (
    "rule",
    "invoice_change",
    "requested_on",
    "decided_by",
    "decided_on",
    "decision_reason",
    "override_by",
    "override_reason",
    "issued_on",
    "issued_usd",
    "reference",
    "note",
    "recorded_by",
    "recorded_on",
)
COLUMNS: tuple[str, ...] = REQUIRED + OPTIONAL
KEY: tuple[str, ...] = ("customer_id", "billing_month", "scenario")
LENGTHS: dict[str, int] = {
    "customer_id": 100,
    "scenario": 40,
    "status": 20,
    "rule": 50,
    "decided_by": 100,
    "override_by": 100,
    "reference": 100,
    "recorded_by": 100,
}
DATES: tuple[str, ...] = (
    "billing_month",
    "requested_on",
    "decided_on",
    "issued_on",
    "recorded_on",
)
MONEY: tuple[str, ...] = ("amount_usd", "issued_usd")
# Columns whose empty cell leaves the stored value as it is (a new refund takes the
# import's date and user).
KEEP_WHEN_EMPTY: frozenset[str] = frozenset({"recorded_on", "recorded_by"})


def row_of(refund: RefundView) -> dict[str, Any]:
    """One refund as an exported row (dates ISO, amounts in dollars, booleans as words)."""

    def day(value: dt.date | None) -> str:
        return value.isoformat() if value else ""

    return {
        "customer_id": refund.customer_id,
        "scenario": refund.scenario,
        "billing_month": day(refund.billing_month),
        "amount_usd": pricing.usd(refund.amount_usd),
        "status": refund.status,
        "rule": refund.rule or "",
        "invoice_change": "true" if refund.invoice_change else "false",
        "requested_on": day(refund.requested_on),
        "decided_by": refund.decided_by or "",
        "decided_on": day(refund.decided_on),
        "decision_reason": refund.decision_reason or "",
        "override_by": refund.override_by or "",
        "override_reason": refund.override_reason or "",
        "issued_on": day(refund.issued_on),
        "issued_usd": pricing.usd(refund.issued_usd) if refund.issued_usd is not None else "",
        "reference": refund.reference or "",
        "note": refund.note or "",
        "recorded_by": refund.recorded_by or "",
        "recorded_on": day(refund.recorded_on),
    }


def fields_of(cells: Mapping[str, str]) -> dict[str, Any]:
    """A validated row's cells (text) as the stored fields they set. Only the file's
    columns are there; an empty cell clears the field, except KEEP_WHEN_EMPTY's."""
    fields: dict[str, Any] = {}
    for column, text in cells.items():
        if column not in COLUMNS:
            continue
        text = text.strip()
        if not text and column in KEEP_WHEN_EMPTY:
            continue
        value: Any
        if column in DATES:
            value = dt.date.fromisoformat(text) if text else None
        elif column in MONEY:
            value = pricing.usd(float(text)) if text else None
        elif column == "invoice_change":
            value = text.lower() == "true"
        else:
            value = text or None
        fields[column] = value
    return fields
