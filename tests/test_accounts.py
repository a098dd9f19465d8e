"""Login administration from the dashboard: lib.auth + audit log + the safety rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from lib import accounts, auth, db, models

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
    assert accounts.add(engine, logins, "admin", "Kim", "team", PASSWORD, name="Kim Lee") is True
    accounts.set_role(engine, logins, "admin", "kim", "leadership")
    accounts.reset_password(engine, logins, "admin", "kim", "another-password")
    accounts.remove(engine, logins, "admin", "kim")
    assert "kim" not in roles(logins)
    assert logged(engine) == [
        ("admin", "add", "kim", {"role": "team", "name": "Kim Lee", "password": "set"}),
        ("admin", "update", "kim", {"role": ["team", "leadership"]}),
        ("admin", "update", "kim", {"password": "reset"}),
        ("admin", "delete", "kim", {"role": "leadership"}),
    ]


def test_reset_password_works_and_clears_failures(engine: Engine, logins: Path) -> None:
    accounts.reset_password(engine, logins, "admin", "dana", "brand-new-password")
    entry = auth.read_auth(logins)["credentials"]["usernames"]["dana"]
    assert auth.check_password("brand-new-password", entry["password"])
    assert not auth.check_password(PASSWORD, entry["password"])
    assert entry["failed_login_attempts"] == 0


@pytest.mark.parametrize(
    "call,message",
    [
        # the last admin cannot be demoted
        (lambda e, p: accounts.set_role(e, p, "admin", "admin", "team"), "last admin"),
        # nor removed (by someone else)
        (lambda e, p: accounts.remove(e, p, "dana", "admin"), "last admin"),
        # nor re-added with another role
        (lambda e, p: accounts.add(e, p, "admin", "admin", "team", PASSWORD), "last admin"),
        # nobody removes their own login
        (lambda e, p: accounts.remove(e, p, "dana", "dana"), "your own login"),
        # unknown users and roles
        (lambda e, p: accounts.set_role(e, p, "admin", "ghost", "team"), "no such user"),
        (lambda e, p: accounts.set_role(e, p, "admin", "dana", "boss"), "role 'boss'"),
        (lambda e, p: accounts.reset_password(e, p, "admin", "dana", "short"), "at least 10"),
        (lambda e, p: accounts.add(e, p, "admin", "Bad Name", "team", PASSWORD), "username"),
    ],
)
def test_refused_changes_write_nothing(engine: Engine, logins: Path, call, message: str) -> None:  # type: ignore[no-untyped-def]
    before = logins.read_text()
    with pytest.raises(auth.AuthError, match=message):
        call(engine, logins)
    assert logins.read_text() == before
    assert logged(engine) == []


def test_a_second_admin_may_demote_the_first(engine: Engine, logins: Path) -> None:
    accounts.set_role(engine, logins, "admin", "dana", "admin")
    accounts.set_role(engine, logins, "dana", "admin", "team")
    assert roles(logins) == {"admin": "team", "dana": "admin"}
