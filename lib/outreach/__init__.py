"""Outreach emails, initial (week 1) and final (weeks 7-8): `drafts` renders them from the
audit (pure); `store` reads one customer's report, findings and homework for them."""

from lib.outreach.drafts import (
    HELP_LINKS,
    PRICING_URL,
    Draft,
    HomeworkLines,
    PlainHomework,
    position,
    top_findings,
)
from lib.outreach.store import final_draft, initial_draft

__all__ = [
    "HELP_LINKS",
    "PRICING_URL",
    "Draft",
    "HomeworkLines",
    "PlainHomework",
    "final_draft",
    "initial_draft",
    "position",
    "top_findings",
]
