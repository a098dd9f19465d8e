"""Signed-in sessions and failed sign-ins in the database (SQLite and PostgreSQL):
lib.accounts.session_store and guard_store, as the sign-in form and the pages call them."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from lib.accounts import guard_store, login_guard, session_store, tokens
from lib.accounts.login_guard import ADDRESS, NAME, Policy
from lib.errors import UserError
from lib.store import db, models
from tests import db_support

T0 = dt.datetime(2026, 3, 16, 9, 0, 0)
DAY = dt.timedelta(days=1)
POLICY = Policy(max_name_failures=3, max_address_failures=5, window=dt.timedelta(minutes=10))


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def start(engine: Engine, sid: str, username: str = "dana", days: float = 14) -> str:
    key = tokens.session_key(sid)
    db_support.write(
        engine, username, session_store.start, key, username, T0, T0 + days * DAY, "203.0.113.9"
    )
    return key


def active(engine: Engine, key: str, username: str = "dana", now: dt.datetime = T0) -> bool:
    return db_support.read(engine, session_store.is_active, key, username, now)


def audit(engine: Engine) -> list[tuple[str, str, str | None, dict[str, object]]]:
    with db.read_session(engine) as session:
        return [
            (e.user, e.entity, e.entity_id, e.changes)
            for e in session.scalars(select(models.AuditLog).order_by(models.AuditLog.id))
        ]


def test_a_session_lives_until_revoked_or_expired(engine: Engine) -> None:
    key = start(engine, "sid-1")
    assert active(engine, key)
    assert not active(engine, key, now=T0 + 15 * DAY)  # expired
    assert not active(engine, key, username="priya")  # another login's cookie
    assert not active(engine, tokens.session_key("sid-unknown"))
    db_support.write(engine, "dana", session_store.revoke, key, T0)
    assert not active(engine, key)
    with db.read_session(engine) as session:
        row = session.get(models.LoginSession, key)
        assert row is not None and row.client == "203.0.113.9" and row.revoked_at == T0
    assert audit(engine) == []  # signing in and out is not an audited change


def test_revoking_a_user_ends_every_session_of_theirs_only(engine: Engine) -> None:
    mine = [start(engine, f"dana-{i}") for i in range(3)]
    other = start(engine, "priya-1", username="priya")
    assert db_support.write(engine, "admin", session_store.revoke_user, "dana", T0) == 3
    assert not any(active(engine, key) for key in mine)
    assert active(engine, other, username="priya")
    assert db_support.read(engine, session_store.active, T0) == {"priya": 1}


def test_old_sessions_are_pruned_when_someone_signs_in(engine: Engine) -> None:
    old = start(engine, "old", days=1)
    db_support.write(
        engine, "dana", session_store.start, "k2", "dana", T0 + 40 * DAY, T0 + 41 * DAY
    )
    with db.read_session(engine) as session:
        assert session.get(models.LoginSession, old) is None
        assert session.get(models.LoginSession, "k2") is not None


def fail(engine: Engine, name: str, address: str, minute: float) -> login_guard.Decision:
    return db_support.write(
        engine, "sign-in", guard_store.record_failure, name, address, at(minute), POLICY
    )


def check(engine: Engine, name: str, address: str, minute: float) -> login_guard.Decision:
    return db_support.read(engine, guard_store.check, name, address, at(minute), POLICY)


def test_a_name_locks_after_its_failures_from_any_address(engine: Engine) -> None:
    assert [fail(engine, "Dana", f"10.0.0.{i}", i).allowed for i in range(3)] == [
        True,
        True,
        False,
    ]
    decision = check(engine, " dana ", "10.9.9.9", 3)
    assert (decision.allowed, decision.kind, decision.retry_minutes) == (False, NAME, 7)
    assert check(engine, "priya", "10.0.0.1", 3).allowed  # others are not affected
    assert check(engine, "dana", "10.9.9.9", 10).allowed  # the first left the window
    assert audit(engine) == []  # failures are not audited changes


def test_an_address_locks_after_failures_over_many_names(engine: Engine) -> None:
    for i in range(5):  # password spraying: one try per name
        fail(engine, f"user{i}", "198.51.100.7", i)
    decision = check(engine, "someone-else", "198.51.100.7", 5)
    assert (decision.allowed, decision.kind) == (False, ADDRESS)
    assert check(engine, "someone-else", "198.51.100.8", 5).allowed


def test_success_clears_the_name_not_the_address(engine: Engine) -> None:
    for minute in (0, 1):
        fail(engine, "dana", "198.51.100.7", minute)
    for minute in (2, 3, 4):
        fail(engine, "ghost", "198.51.100.7", minute)
    db_support.write(engine, "dana", guard_store.record_success, "dana")
    assert check(engine, "dana", "198.51.100.9", 5).failures == 0
    assert not check(engine, "dana", "198.51.100.7", 5).allowed  # the address stays locked


def test_locks_are_listed_and_cleared_with_a_log_entry(engine: Engine) -> None:
    for minute in range(5):
        fail(engine, "dana", "198.51.100.7", minute)
    fail(engine, "priya", "10.0.0.1", 4)  # one failure: no lock
    locks = db_support.read(engine, guard_store.locks, at(5), POLICY)
    assert [(lock.kind, lock.key, lock.failures, lock.retry_minutes) for lock in locks] == [
        (NAME, "dana", 5, 7),  # unlocks when minute 2 leaves the window (minute 12)
        (ADDRESS, "198.51.100.7", 5, 5),
    ]
    assert db_support.write(engine, "admin", guard_store.clear, NAME, " DANA ") == 5
    assert db_support.write(engine, "admin", guard_store.clear, NAME, "dana") == 0  # no log
    assert [lock.kind for lock in db_support.read(engine, guard_store.locks, at(5), POLICY)] == [
        ADDRESS
    ]
    assert audit(engine) == [
        ("admin", "sign_in_locks", "dana", {"kind": NAME, "failures": 5, "reason": "cleared"})
    ]
    with pytest.raises(UserError, match="kind 'bogus'"):
        db_support.write(engine, "admin", guard_store.clear, "bogus", "dana")


def test_old_failures_are_pruned(engine: Engine) -> None:
    for minute in range(3):
        fail(engine, "dana", "198.51.100.7", minute)
    fail(engine, "priya", "10.0.0.1", 30)  # long after: the old rows go
    with db.read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(models.SignInFailure)) == 2


@pytest.mark.parametrize(
    "typed",
    ["a" * 5000, "nul\x00in the name", "ünïcødé-名前", "'; DROP TABLE sign_in_failures; --"],
)
def test_any_typed_name_is_counted(engine: Engine, typed: str) -> None:
    """Whatever is typed in the form fits the table on both databases."""
    for minute in range(3):
        fail(engine, typed, "198.51.100.7", minute)
    assert not check(engine, typed, "10.0.0.1", 3).allowed
