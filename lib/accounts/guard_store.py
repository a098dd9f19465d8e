"""Failed sign-ins in the database (SignInFailure), counted per name and per client address
by lib.accounts.login_guard: every server reads the same rows on every attempt, so a lock
holds on all of them. Rows are written with plain SQL (not the ORM): a failed sign-in is
not a change anyone made, and a password spray must not fill the audit log. Clearing a
lock is an admin's change and is logged."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from lib.accounts import login_guard
from lib.accounts.login_guard import ADDRESS, KINDS, NAME, POLICY, Decision, Lock, Policy
from lib.errors import UserError
from lib.store import journal, models

F = models.SignInFailure
ENTITY = "sign_in_locks"


def _times(session: Session, kind: str, key: str, since: dt.datetime) -> list[dt.datetime]:
    query = select(F.failed_at).where(F.kind == kind, F.key == key, F.failed_at > since)
    return list(session.scalars(query))


def check(
    session: Session, username: str, address: str, now: dt.datetime, policy: Policy = POLICY
) -> Decision:
    """May this name, from this address, try a password now? (`now`: naive UTC)"""
    since = now - policy.window
    return login_guard.decide_both(
        _times(session, NAME, login_guard.normalise(username), since),
        _times(session, ADDRESS, login_guard.key_of(address), since),
        now,
        policy,
    )


def record_failure(
    session: Session, username: str, address: str, now: dt.datetime, policy: Policy = POLICY
) -> Decision:
    """Count a wrong password (or an unknown name) against both; the state after it. Rows
    older than the window are pruned here (nothing else reads them)."""
    session.execute(delete(F).where(F.failed_at <= now - policy.window))
    session.execute(
        insert(F),
        [
            {"kind": NAME, "key": login_guard.normalise(username), "failed_at": now},
            {"kind": ADDRESS, "key": login_guard.key_of(address), "failed_at": now},
        ],
    )
    return check(session, username, address, now, policy)


def record_success(session: Session, username: str) -> None:
    """A right password clears the name's failures (not the address's: one good login
    must not reset a spray's count)."""
    session.execute(delete(F).where(F.kind == NAME, F.key == login_guard.normalise(username)))


def clear(session: Session, kind: str, key: str, reason: str = "cleared") -> int:
    """Forget a name's or an address's failures; logged when there were any. The count."""
    if kind not in KINDS:
        raise UserError(f"kind {kind!r}: expected one of {', '.join(KINDS)}")
    key = login_guard.normalise(key) if kind == NAME else login_guard.key_of(key.strip())
    result = session.execute(delete(F).where(F.kind == kind, F.key == key))
    gone = int(getattr(result, "rowcount", 0) or 0)
    if gone:
        journal.log_write(
            session, "delete", ENTITY, {"kind": kind, "failures": gone, "reason": reason}, key
        )
    return gone


def locks(session: Session, now: dt.datetime, policy: Policy = POLICY) -> list[Lock]:
    """Every name and address refused now, names first."""
    since = now - policy.window
    found: list[Lock] = []
    for kind in KINDS:
        keys = session.execute(
            select(F.key)
            .where(F.kind == kind, F.failed_at > since)
            .group_by(F.key)
            .having(func.count() >= policy.limit(kind))
            .order_by(F.key)
        ).scalars()
        for key in keys:
            decision = login_guard.decide(
                _times(session, kind, key, since), now, policy.limit(kind), policy.window
            )
            if not decision.allowed:
                found.append(Lock(kind, key, decision.failures, decision.retry_after))
    return found
