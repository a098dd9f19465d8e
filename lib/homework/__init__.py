"""The homework builder. Pure: `conditions` (the typed `verify` conditions), `library`
(the task library), `suggestions` (the ranking), `assignment` (items, the completion
summary), `email` (the follow-up email). Database: `store` (facts, builder, verify)."""

from __future__ import annotations

from lib.homework.assignment import ASSIGNMENT_STATUSES, AssignmentView, HomeworkSummary
from lib.homework.conditions import (
    MAX_WINDOW_DAYS,
    OPS,
    Check,
    Condition,
    Facts,
    LibraryError,
    evaluate,
    parse_condition,
)
from lib.homework.email import (
    Email,
    EmailItem,
    default_recap,
    email_items,
    greeting_for,
    recap_for,
    render_email,
)
from lib.homework.library import CUSTOM_TASK, LIBRARY_PATH, Library, Task, load_library
from lib.homework.store import (
    HomeworkConflict,
    HomeworkError,
    VerifyResult,
    add,
    assignments,
    completion_summary,
    draft_versions,
    edit,
    load_facts,
    mark_sent,
    move,
    remove,
    suggest_for,
    tick,
    verify,
    verify_after_import,
    verify_customer,
)
from lib.homework.suggestions import SUGGESTION_LIMIT, Suggestion, suggest

__all__ = [
    "ASSIGNMENT_STATUSES",
    "CUSTOM_TASK",
    "LIBRARY_PATH",
    "MAX_WINDOW_DAYS",
    "OPS",
    "SUGGESTION_LIMIT",
    "AssignmentView",
    "Check",
    "Condition",
    "Email",
    "EmailItem",
    "Facts",
    "HomeworkConflict",
    "HomeworkError",
    "HomeworkSummary",
    "Library",
    "LibraryError",
    "Suggestion",
    "Task",
    "VerifyResult",
    "add",
    "assignments",
    "completion_summary",
    "default_recap",
    "draft_versions",
    "edit",
    "email_items",
    "evaluate",
    "greeting_for",
    "load_facts",
    "load_library",
    "mark_sent",
    "move",
    "parse_condition",
    "recap_for",
    "remove",
    "render_email",
    "suggest",
    "suggest_for",
    "tick",
    "verify",
    "verify_after_import",
    "verify_customer",
]
