"""Login administration from the dashboard: lib.accounts.auth + audit log + the safety rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import bcrypt
import pytest
from sqlalchemy import Engine, select

from lib import accounts
from lib.accounts import auth, guard_store, session_store, tokens
from lib.store import db, models
from tests import db_support

PASSWORD = "a-good-password"


@pytest.fixture
def logins(tmp_path: Path) -> Path:
    path = tmp_path / "auth.yaml"
    auth.add_user(path, "admin", "admin", PASSWORD)
    auth.add_user(path, "dana", "team", PASSWORD)
    return path


def roles(path: Path) -> dict[str, str]:
    return {u.username: u.role for u in auth.users(path)}


def logged(engine: Engine) -> list[tuple[str, str, str | None, dict[str, object]]]:
    with db.read_session(engine) as session:
        return [
            (e.user, e.action, e.entity_id, e.changes)
            for e in session.scalars(select(models.AuditLog).order_by(models.AuditLog.id))
        ]


def test_add_change_reset_remove_are_logged_without_passwords(engine: Engine, logins: Path) -> None:
    assert (
        db_support.write(
            engine, "admin", accounts.add, logins, "Kim", "team", PASSWORD, name="Kim Lee"
        )
        is True
    )
    db_support.write(engine, "admin", accounts.set_role, logins, "kim", "leadership")
    db_support.write(engine, "admin", accounts.reset_password, logins, "kim", "another-password")
    db_support.write(engine, "admin", accounts.remove, logins, "kim")
    assert "kim" not in roles(logins)
    assert logged(engine) == [
        ("admin", "add", "kim", {"role": "team", "name": "Kim Lee", "password": "set"}),
        ("admin", "update", "kim", {"role": ["team", "leadership"]}),
        ("admin", "update", "kim", {"password": "reset"}),
        ("admin", "delete", "kim", {"role": "leadership"}),
    ]


def test_reset_password_works_and_clears_failures(engine: Engine, logins: Path) -> None:
    db_support.write(engine, "admin", accounts.reset_password, logins, "dana", "brand-new-password")
    entry = auth.read_auth(logins)["credentials"]["usernames"]["dana"]
    assert password_matches("brand-new-password", entry["password"])
    assert not password_matches(PASSWORD, entry["password"])
    assert entry["failed_login_attempts"] == 0


@pytest.mark.parametrize(
    "call,message",
    [
        # the last admin cannot be demoted
        (
            lambda e, p: db_support.write(e, "admin", accounts.set_role, p, "admin", "team"),
            "last admin",
        ),
        # nor removed (by someone else)
        (lambda e, p: db_support.write(e, "dana", accounts.remove, p, "admin"), "last admin"),
        # nor re-added with another role
        (
            lambda e, p: db_support.write(e, "admin", accounts.add, p, "admin", "team", PASSWORD),
            "last admin",
        ),
        # nobody removes their own login
        (lambda e, p: db_support.write(e, "dana", accounts.remove, p, "dana"), "your own login"),
        # unknown users and roles
        (
            lambda e, p: db_support.write(e, "admin", accounts.set_role, p, "ghost", "team"),
            "no such user",
        ),
        (
            lambda e, p: db_support.write(e, "admin", accounts.set_role, p, "dana", "boss"),
            "role 'boss'",
        ),
        (
            lambda e, p: db_support.write(e, "admin", accounts.reset_password, p, "dana", "short"),
            "at least 10",
        ),
        (
            lambda e, p: db_support.write(
                e, "admin", accounts.add, p, "Bad Name", "team", PASSWORD
            ),
            "username",
        ),
    ],
)
def test_refused_changes_write_nothing(engine: Engine, logins: Path, call, message: str) -> None:  # type: ignore[no-untyped-def]
    before = logins.read_text()
    with pytest.raises(auth.AuthError, match=message):
        call(engine, logins)
    assert logins.read_text() == before
    assert logged(engine) == []


def test_a_second_admin_may_demote_the_first(engine: Engine, logins: Path) -> None:
    db_support.write(engine, "admin", accounts.set_role, logins, "dana", "admin")
    db_support.write(engine, "dana", accounts.set_role, logins, "admin", "team")
    assert roles(logins) == {"admin": "team", "dana": "admin"}


def password_matches(password: str, hashed: str) -> bool:
    return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))


def test_refund_approvers_are_named_logged_and_never_read_only(
    engine: Engine, logins: Path
) -> None:
    db_support.write(engine, "admin", accounts.set_revops, logins, "dana", True)
    assert {u.username: u.revops for u in auth.users(logins)} == {"admin": False, "dana": True}
    db_support.write(engine, "admin", accounts.set_revops, logins, "dana", True)  # no change
    db_support.write(engine, "admin", accounts.add, logins, "sam", "team", PASSWORD, revops=True)
    with pytest.raises(auth.AuthError, match="only a team or admin login"):
        db_support.write(
            engine, "admin", accounts.add, logins, "lee", "leadership", PASSWORD, revops=True
        )
    # A login made read-only stops approving.
    db_support.write(engine, "admin", accounts.set_role, logins, "dana", "leadership")
    assert not next(u for u in auth.users(logins) if u.username == "dana").revops
    with pytest.raises(auth.AuthError):
        db_support.write(engine, "admin", accounts.set_revops, logins, "dana", True)
    assert logged(engine) == [
        ("admin", "update", "dana", {"revops": [False, True]}),
        ("admin", "add", "sam", {"role": "team", "name": "sam", "password": "set", "revops": True}),
        ("admin", "update", "dana", {"role": ["team", "leadership"], "revops": [True, False]}),
    ]


# ------------------------------------------------ sessions end with the login's change

T0 = dt.datetime(2026, 3, 16, 9, 0)


def signed_in(engine: Engine, username: str, sid: str) -> str:
    key = tokens.session_key(sid)
    db_support.write(
        engine, username, session_store.start, key, username, T0, T0 + dt.timedelta(days=14)
    )
    return key


def is_active(engine: Engine, key: str, username: str) -> bool:
    return db_support.read(engine, session_store.is_active, key, username, T0)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda p: (accounts.reset_password, p, "dana", "brand-new-password"), id="reset"
        ),
        pytest.param(lambda p: (accounts.set_role, p, "dana", "leadership"), id="role"),
        pytest.param(lambda p: (accounts.remove, p, "dana"), id="remove"),
        pytest.param(
            lambda p: (accounts.add, p, "dana", "team", "another-password"), id="add-again"
        ),
    ],
)
def test_a_login_change_ends_its_sessions(engine: Engine, logins: Path, change) -> None:  # type: ignore[no-untyped-def]
    dana = [signed_in(engine, "dana", f"dana-{i}") for i in range(2)]
    admin = signed_in(engine, "admin", "admin-1")
    function, *args = change(logins)
    db_support.write(engine, "admin", function, *args)
    assert not any(is_active(engine, key, "dana") for key in dana)
    assert is_active(engine, admin, "admin")  # nobody else's


def test_a_refused_change_ends_no_session(engine: Engine, logins: Path) -> None:
    key = signed_in(engine, "dana", "dana-1")
    with pytest.raises(auth.PasswordError):
        db_support.write(engine, "admin", accounts.reset_password, logins, "dana", "short")
    with pytest.raises(auth.AuthError, match="last admin"):
        db_support.write(engine, "admin", accounts.set_role, logins, "admin", "team")
    assert is_active(engine, key, "dana")


def test_a_password_reset_lifts_the_names_lock_with_a_log_entry(
    engine: Engine, logins: Path
) -> None:
    now = models.utcnow()
    with db.write_session(engine, "sign-in") as session:
        for _ in range(5):
            guard_store.record_failure(session, "dana", "10.0.0.1", now)
    assert not db_support.read(engine, guard_store.check, "dana", "10.0.0.2", now).allowed
    db_support.write(engine, "admin", accounts.reset_password, logins, "dana", "brand-new-password")
    assert db_support.read(engine, guard_store.check, "dana", "10.0.0.2", now).allowed
    assert logged(engine) == [
        ("admin", "delete", "dana", {"kind": "name", "failures": 5, "reason": "password reset"}),
        ("admin", "update", "dana", {"password": "reset"}),
    ]


@pytest.mark.parametrize(
    "kind,typed,key",
    [("name", " Dana ", "dana"), ("address", "198.51.100.7", "198.51.100.7")],
)
def test_an_admin_unlocks_a_name_or_an_address(
    engine: Engine, kind: str, typed: str, key: str
) -> None:
    now = models.utcnow()
    with db.write_session(engine, "sign-in") as session:
        for _ in range(20):
            guard_store.record_failure(session, "dana", "198.51.100.7", now)
    assert db_support.write(engine, "admin", accounts.unlock, kind, typed) == 20
    locks = db_support.read(engine, guard_store.locks, now)
    assert [lock.kind for lock in locks] == [k for k in ("name", "address") if k != kind]
    assert logged(engine) == [
        ("admin", "delete", key, {"kind": kind, "failures": 20, "reason": "cleared"})
    ]
