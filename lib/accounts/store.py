"""Managing logins with the audit log and two safety rules (the last admin stays, nobody
removes their own login); the file is written inside the caller's transaction. A new
password, another role or a removal ends every session of the login (session_store), in
the same transaction; a new password also clears the name's failed sign-ins."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lib.accounts import auth, guard_store, login_guard, session_store
from lib.store import journal, models
from lib.vocabulary import ROLES

ENTITY = "logins"


def _admins(path: Path) -> list[str]:
    return [u.username for u in auth.users(path) if u.role == "admin"]


def _now() -> dt.datetime:
    return models.utcnow()


def _end_sessions(session: Session, username: str) -> None:
    session_store.revoke_user(session, username, _now())


def _existing(path: Path, username: str) -> dict[str, Any]:
    entries = auth.read_auth(path)["credentials"]["usernames"]
    if username not in entries:
        raise auth.AuthError(f"username {username!r}: no such user")
    return dict(entries[username])


def add(
    session: Session,
    path: Path,
    username: str,
    role: str,
    password: str,
    name: str | None = None,
    email: str | None = None,
    revops: bool = False,
) -> bool:
    """Create a login (or replace one's role, name, email and password). True when new.
    `revops`: one of revenue operations' refund approvers."""
    username = username.strip().lower()
    if role != "admin" and _admins(path) == [username]:
        raise auth.AuthError(f"{username} is the last admin; make someone else admin first")
    is_new = auth.add_user(path, username, role, password, name=name, email=email, revops=revops)
    if not is_new:  # a new password (and maybe role): the old sessions end
        _end_sessions(session, username)
        guard_store.record_success(session, username)
    journal.log_write(
        session,
        "add" if is_new else "update",
        ENTITY,
        {"role": role, "name": name or username, "password": "set"}
        | ({"revops": True} if revops else {}),
        entity_id=username,
    )
    return is_new


def set_revops(session: Session, path: Path, username: str, revops: bool) -> None:
    """Make a login one of revenue operations' refund approvers, or not (team and admin
    logins only: leadership is read-only)."""
    entry = _existing(path, username)
    old = entry.get("revops") is True
    if old == revops:
        return
    auth.check_revops((entry.get("roles") or ["team"])[0], revops)
    config = auth.read_auth(path)
    target = config["credentials"]["usernames"][username]
    if revops:
        target["revops"] = True
    else:
        target.pop("revops", None)
    auth.write_auth(path, config)
    journal.log_write(session, "update", ENTITY, {"revops": [old, revops]}, entity_id=username)


def set_role(session: Session, path: Path, username: str, role: str) -> None:
    if role not in ROLES:
        raise auth.AuthError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    entry = _existing(path, username)
    old = (entry.get("roles") or ["team"])[0]
    if old == role:
        return
    if old == "admin" and _admins(path) == [username]:
        raise auth.AuthError(f"{username} is the last admin; make someone else admin first")
    config = auth.read_auth(path)
    target = config["credentials"]["usernames"][username]
    target["roles"] = [role]
    changes: dict[str, Any] = {"role": [old, role]}
    if target.get("revops") is True and role not in auth.APPROVER_ROLES:
        # A read-only login approves nothing: it stops being an approver.
        target.pop("revops")
        changes["revops"] = [True, False]
    auth.write_auth(path, config)
    _end_sessions(session, username)
    journal.log_write(session, "update", ENTITY, changes, entity_id=username)


def reset_password(session: Session, path: Path, username: str, password: str) -> None:
    """A new password: every session of the login ends, and its name's lock is lifted."""
    auth.check_password(password)
    _existing(path, username)
    config = auth.read_auth(path)
    entry = config["credentials"]["usernames"][username]
    entry["password"] = auth.hash_password(password)
    entry["failed_login_attempts"] = 0
    auth.write_auth(path, config)
    _end_sessions(session, username)
    guard_store.clear(session, login_guard.NAME, username, reason="password reset")
    journal.log_write(session, "update", ENTITY, {"password": "reset"}, entity_id=username)


def remove(session: Session, path: Path, username: str) -> None:
    if username == journal.user_of(session):
        raise auth.AuthError("you cannot remove your own login; ask another admin")
    entry = _existing(path, username)
    if _admins(path) == [username]:
        raise auth.AuthError(f"{username} is the last admin; make someone else admin first")
    auth.remove_user(path, username)
    _end_sessions(session, username)
    journal.log_write(
        session,
        "delete",
        ENTITY,
        {"role": (entry.get("roles") or ["team"])[0]},
        entity_id=username,
    )


def unlock(session: Session, kind: str, key: str) -> int:
    """An admin lifts a sign-in lock on a name or an address (logged); the failures gone."""
    return guard_store.clear(session, kind, key)
