"""A customer's homework as the pages and emails see it: one item (draft, sent or done)
and the completion summary the final outreach email carries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ASSIGNMENT_STATUSES: tuple[str, ...] = ("draft", "sent", "done")


@dataclass(frozen=True)
class AssignmentView:
    id: int
    customer_id: str
    task_id: str
    title: str
    body: str
    position: int
    status: str
    sent_on: dt.date | None
    done_on: dt.date | None
    verified_by: str | None  # "data" | "hand" once done
    evidence: str | None
    docs_url: str | None
    verifiable: bool  # the library has a condition for it
    version: int = 1  # what a form showing it names when it saves (lib.store.versions)

    @property
    def done(self) -> bool:
        return self.status == "done"

    @property
    def checked_by(self) -> str:
        """Who confirmed it ("data", "hand"), or who will."""
        if self.verified_by in ("data", "hand"):
            return self.verified_by
        return "data, after each import" if self.verifiable else "tick by hand"


@dataclass(frozen=True)
class HomeworkSummary:
    customer_id: str
    items: tuple[AssignmentView, ...]  # sent or done, in email order

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.done)

    @property
    def done_by_data(self) -> int:
        return sum(1 for i in self.items if i.done and i.verified_by == "data")

    @property
    def sent_on(self) -> dt.date | None:
        dates = [i.sent_on for i in self.items if i.sent_on]
        return min(dates) if dates else None

    def line(self) -> str:
        if not self.items:
            return "No homework was sent."
        text = f"{self.done} of {self.total} homework task{'s' if self.total != 1 else ''} done"
        if self.done_by_data:
            text += f" ({self.done_by_data} confirmed in your data)"
        return text + "."

    def markdown(self) -> str:
        """A checklist for the final outreach email."""
        if not self.items:
            return ""
        lines = [self.line(), ""]
        for item in self.items:
            mark = "x" if item.done else " "
            lines.append(f"- [{mark}] {item.title}")
        return "\n".join(lines)

    def text(self) -> str:
        if not self.items:
            return ""
        lines = [self.line(), ""]
        for item in self.items:
            lines.append(f"  {'[done]' if item.done else '[open]'} {item.title}")
        return "\n".join(lines)
