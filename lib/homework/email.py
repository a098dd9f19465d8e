"""The follow-up email that sends the homework: the default recap from the last held call,
the greeting (the primary contact, else the customer's people on that call), and the
Markdown and plain-text bodies (data/templates/homework_email.*)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from lib import templates
from lib.contacts.model import ContactLike, greeting_name
from lib.homework.assignment import AssignmentView
from lib.homework.suggestions import GoalLike

if TYPE_CHECKING:
    from lib.meetings.model import MeetingView


@dataclass(frozen=True)
class EmailItem:
    title: str
    body: str
    docs_url: str | None


@dataclass(frozen=True)
class Email:
    subject: str
    markdown: str
    text: str


class DatedGoal(GoalLike, Protocol):
    """A goal for the recap: lib.meetings.GoalInput or a stored goal."""

    @property
    def by_when(self) -> dt.date | None: ...


def default_recap(
    meeting_kind: str | None,
    meeting_day: dt.date | None,
    fixed_titles: Sequence[str],
    goals: Sequence[DatedGoal],
) -> str:
    """A starting recap from the last held call; the owner rewrites it freely."""
    if meeting_day is None:
        return "Thanks for your time. Here is what we suggest as next steps."
    call = "second call" if meeting_kind == "second" else "call"
    lines = [f"Thanks for the {call} on {meeting_day:%A %d %B}."]
    if fixed_titles:
        lines.append("Together we fixed:")
        lines += [f"- {t}" for t in fixed_titles]
    if goals:
        lines.append("The goals you shared:")
        for goal in goals:
            target = f": {goal.target}" if goal.target else ""
            when = f" by {goal.by_when:%d %B %Y}" if goal.by_when else ""
            lines.append(f"- {goal.name}{target}{when}")
    return "\n".join(lines)


def recap_for(
    last_call: MeetingView | None,
    finding_titles: Mapping[str, str],
    goals: Sequence[DatedGoal],
) -> str:
    """`default_recap` for the last held call: the findings fixed on it (by title) and,
    after a second call, the customer's goals."""
    if last_call is None:
        return default_recap(None, None, [], [])
    fixed = [finding_titles.get(rule, rule) for rule in last_call.fixed_rules]
    return default_recap(
        last_call.kind, last_call.day, fixed, goals if last_call.kind == "second" else []
    )


def greeting_for(last_call: MeetingView | None, contacts: Sequence[ContactLike] = ()) -> str:
    """Whom the email greets: the primary contact's first name; without one, the first
    names of the customer's people on the last held call, comma separated ("" when there
    are none: the email says "Hi there")."""
    primary = greeting_name(contacts)
    if primary:
        return primary
    people = last_call.attendees if last_call else ()
    return ", ".join(a.name.split(" ")[0] for a in people if a.side == "customer" and a.name)


def render_email(
    customer_name: str,
    recipient_names: Sequence[str],
    sender_name: str,
    recap: str,
    items: Sequence[EmailItem],
    check_in_on: dt.date | None,
) -> Email:
    """The follow-up email from data/templates/homework_email.{md,txt}.j2."""
    context = {
        "customer_name": customer_name,
        "greeting": ", ".join(n for n in recipient_names if n) or "there",
        "names": [n for n in recipient_names if n],  # each through md in the Markdown
        "sender_name": sender_name,
        "recap": recap.strip(),
        "items": list(items),
        "check_in_on": check_in_on,
        "check_in_text": f"{check_in_on:%A %d %B}" if check_in_on else None,
    }
    subject = f"Your PostHog homework, {customer_name}"
    return Email(
        subject=subject,
        markdown=templates.render("homework_email.md.j2", context),
        text=templates.render("homework_email.txt.j2", context),
    )


def email_items(views: Sequence[AssignmentView]) -> list[EmailItem]:
    return [EmailItem(v.title, v.body, v.docs_url) for v in views]
