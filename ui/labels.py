"""How the pages say things: statuses as colours and badges, dates, safe Markdown.

Names of codes and money come from lib.labels (one table for pages, emails and CSVs).
Two kinds of Markdown: user text goes through `md` (lib.labels.md, the one escape:
everything inert, docs/rules.md "User text"), Markdown the app
wrote (an email preview, a notice, a caption with amounts) through `markdown` (only `$`
escaped, so "$3,000 ... $1,081" never turns into maths and the formatting survives)."""

from __future__ import annotations

import datetime as dt

from lib.labels import ENTRY_REASON_LABELS, PROGRAM_STATUS_LABELS, label, md, money, unreordered
from lib.templates import inert_dollars

# Step statuses, in the order a legend lists them, with their colours.
STEP_STATUS_COLOURS: dict[str, str] = {
    "done": "#2F9E44",
    "scheduled": "#1D4AFF",
    "due": "#F08C00",
    "overdue": "#E03131",
    "optional": "#74C0FC",
    "upcoming": "#CED4DA",
    "skipped": "#868E96",
}
STEP_STATUS_BADGES: dict[str, str] = {
    "done": "green",
    "scheduled": "blue",
    "due": "orange",
    "overdue": "red",
    "optional": "violet",
    "upcoming": "gray",
    "skipped": "gray",
}


def markdown(text: object) -> str:
    """Markdown the app wrote, safe to render: every bare `$` escaped (Streamlit would read
    text between two as LaTeX), code and escapes kept, the formatting untouched."""
    return inert_dollars(str(text))


def money_md(amount: float | None, cents: bool = True) -> str:
    """An amount for Markdown (a metric, a caption): lib.labels.money with its `$` escaped."""
    return markdown(money(amount, cents))


__all__ = [
    "ENTRY_REASON_LABELS",
    "PROGRAM_STATUS_LABELS",
    "label",
    "md",
    "money",
    "unreordered",
]


def step(step_name: str) -> str:
    return label("step", step_name)


def day(value: dt.date | None) -> str:
    return value.strftime("%a %d %b %Y") if value else "-"


def short_day(value: dt.date, as_of: dt.date) -> str:
    """ "Mon 16 Mar" (the year only when it is not as-of's)."""
    return value.strftime("%a %d %b" if value.year == as_of.year else "%d %b %Y")


def due_text(status: str, due_on: dt.date, as_of: dt.date) -> str:
    """E.g. "overdue by 4 days", "due today", "due in 3 days"."""
    delta = (due_on - as_of).days
    if status == "overdue" or delta < 0:
        late = max(-delta, 0)
        return f"overdue by {late} day{'s' if late != 1 else ''}" if late else "overdue"
    if delta == 0:
        return "due today"
    return f"due in {delta} day{'s' if delta != 1 else ''}"


def badge(status: str, text: str | None = None) -> str:
    """A coloured Markdown badge for a step status (text escaped)."""
    colour = STEP_STATUS_BADGES.get(status, "gray")
    return f":{colour}-badge[{md(text or status)}]"
