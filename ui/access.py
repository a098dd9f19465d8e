"""Who may do what: role checks made on the server for every write.

Pages hide write buttons from roles that may not use them, but hiding is not
the check: every write path goes through `writing()` (or `require()`), which
reads the signed-in user's role from the login file on each call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from lib.refunds import Actor
from lib.store import db
from ui import data, login

TEAM_WRITERS: tuple[str, ...] = ("team", "admin")  # customer work: steps, findings, notes
ADMINS: tuple[str, ...] = ("admin",)  # imports and logins
EVERYONE_VIEWERS: tuple[str, ...] = ("admin", "leadership")  # may see every owner's work


class Forbidden(PermissionError):
    """The signed-in user's role may not do this; the message says so."""

    def __init__(self, action: str, role: str | None) -> None:
        who = f"the {role} role" if role else "you are not signed in and"
        super().__init__(f"Not allowed: {who} cannot {action}.")


def actor() -> Actor:
    """The signed-in user as the refund workflow sees them: the role and whether the login
    is one of revenue operations' approvers, read from the login file on this call.
    lib.refunds checks every refund move against it (approve and decline included)."""
    user = login.current_user()
    if user is None:
        raise Forbidden("change a refund", None)
    return Actor(user.username, user.role, user.revops)


def is_approver() -> bool:
    """May approve refunds (pages show the approval buttons only then; lib.refunds checks)."""
    user = login.current_user()
    return user is not None and Actor(user.username, user.role, user.revops).approver


def role() -> str | None:
    user = login.current_user()
    return user.role if user else None


def can(*roles: str) -> bool:
    return role() in roles


def require(action: str, roles: tuple[str, ...] = TEAM_WRITERS) -> str:
    """The username to write as, or Forbidden when the role may not `action`."""
    user = login.current_user()
    if user is None or user.role not in roles:
        raise Forbidden(action, user.role if user else None)
    return user.username


@contextmanager
def writing(action: str, roles: tuple[str, ...] = TEAM_WRITERS) -> Iterator[Session]:
    """Check the role, open the unit of work as the signed-in user, clear the caches.

    with access.writing("record a step") as session:
        step_store.record(session, ...)

    Committed when the block ends, rolled back (nothing written) if it raises.
    """
    username = require(action, roles)
    try:
        with db.write_session(data.engine(), username) as session:
            yield session
    finally:
        # Also after a failed write: a stale cache is never worth the risk.
        data.changed()
