"""How the console names its codes and amounts for people: one table, one money format,
for pages, emails and CSV exports (pure)."""

from __future__ import annotations

from lib.pricing import usd
from lib.program.timeline import STEP_LABELS
from lib.vocabulary import PRODUCT_LABELS

PROGRAM_STATUS_LABELS: dict[str, str] = {
    "in_progress": "In progress",
    "extended": "Extended",
    "overdue": "Past week 8",
    "completed": "Completed",
    "churned": "Churned",
}
ENTRY_REASON_LABELS: dict[str, str] = {
    "credits_rolloff": "Credits rolled off",
    "first_bill_projected": "First bill projected",
    "accelerator": "Accelerator",
    "manual": "Added by hand",
}
STEP_STATUS_LABELS: dict[str, str] = {
    "done": "Done",
    "scheduled": "Scheduled",
    "due": "Due",
    "overdue": "Overdue",
    "optional": "Optional",
    "upcoming": "Upcoming",
    "skipped": "Skipped",
}
CUSTOMER_STATUS_LABELS: dict[str, str] = {
    "active": "Active",
    "paused": "Paused",
    "churned": "Churned",
}
REFUND_SCENARIO_LABELS: dict[str, str] = {
    "learning_curve": "Learning curve (first bill)",
    "unexpected_stardom": "Unexpected stardom (usage spike)",
    "under_attack": "Under attack (bots)",
    "wrong_setup": "Wrong setup",
}
SEVERITY_LABELS: dict[str, str] = {"high": "High", "medium": "Medium", "low": "Low"}
FINDING_STATE_LABELS: dict[str, str] = {"open": "Open", "fixed": "Fixed", "dismissed": "Dismissed"}

# Every table above, and the ones kept beside their vocabulary, by kind of code.
TABLES: dict[str, dict[str, str]] = {
    "step": STEP_LABELS,
    "step_status": STEP_STATUS_LABELS,
    "program_status": PROGRAM_STATUS_LABELS,
    "entry_reason": ENTRY_REASON_LABELS,
    "customer_status": CUSTOMER_STATUS_LABELS,
    "product": PRODUCT_LABELS,
    "refund_scenario": REFUND_SCENARIO_LABELS,
    "severity": SEVERITY_LABELS,
    "finding_state": FINDING_STATE_LABELS,
}


def label(kind: str, code: str | None) -> str:
    """The human label of `code` in the `kind` table (e.g. label("step", "first_meeting"))."""
    if code is None:
        return ""
    return TABLES[kind].get(code, code.replace("_", " "))


def money(amount: float | None, cents: bool = True) -> str:
    """$1,234.56 (or $1,235 without cents); "-" for no amount."""
    if amount is None:
        return "-"
    if cents:
        return f"${usd(amount):,.2f}"
    return f"${usd(amount):,.0f}"
