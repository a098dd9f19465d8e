"""Signed-in browsers in the database (LoginSession): a row per password sign-in, keyed by
the sha256 of the random id the cookie carries (lib.accounts.tokens). Every run of a
signed-in session reads its row, on whichever server, so a revocation (sign-out, a new
password, a role change, a removed login) holds everywhere at the next click. Plain SQL,
not the ORM: signing in and out is not an audited change (the admin's change that
revokes is)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from lib.accounts import login_guard
from lib.store import models

S = models.LoginSession
CLIENT_LENGTH = 100  # LoginSession.client's column
KEEP_ENDED = dt.timedelta(days=30)  # ended rows are kept a while (who signed in from where)


def start(
    session: Session,
    key: str,
    username: str,
    now: dt.datetime,
    expires_at: dt.datetime,
    client: str | None = None,
) -> None:
    """A new signed-in browser (`key`: tokens.session_key of its id); old rows pruned."""
    session.execute(
        delete(S).where(or_(S.expires_at <= now - KEEP_ENDED, S.revoked_at <= now - KEEP_ENDED))
    )
    session.execute(
        insert(S).values(
            id=key,
            username=username,
            created_at=now,
            expires_at=expires_at,
            client=login_guard.key_of(client)[:CLIENT_LENGTH] if client else None,
        )
    )


def is_active(session: Session, key: str, username: str, now: dt.datetime) -> bool:
    """Is this the row of a signed-in session of `username`: known, not revoked, unexpired?"""
    row = session.execute(
        select(S.username, S.expires_at, S.revoked_at).where(S.id == key)
    ).one_or_none()
    return (
        row is not None
        and row.username == username
        and row.revoked_at is None
        and row.expires_at > now
    )


def revoke(session: Session, key: str, now: dt.datetime) -> None:
    """End one session (its browser signed out)."""
    session.execute(update(S).where(S.id == key, S.revoked_at.is_(None)).values(revoked_at=now))


def revoke_user(session: Session, username: str, now: dt.datetime) -> int:
    """End every session of a login (a new password, another role, removed). The count."""
    result = session.execute(
        update(S).where(S.username == username, S.revoked_at.is_(None)).values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def active(session: Session, now: dt.datetime) -> dict[str, int]:
    """Signed-in sessions per username now."""
    counts: dict[str, int] = {}
    for name in session.scalars(
        select(S.username).where(S.revoked_at.is_(None), S.expires_at > now)
    ):
        counts[name] = counts.get(name, 0) + 1
    return counts
