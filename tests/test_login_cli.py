"""`onboarding user ...`: the password rule's messages and `user unlock` (SQLite and
PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest
from sqlalchemy import Engine, select

from lib.accounts import auth, guard_store
from lib.store import db, models
from tests.test_cli import run


@pytest.mark.parametrize(
    "stdin,message",
    [
        ("é" * 40 + "\n", "at most 72 bytes"),  # was a traceback (bcrypt's ValueError)
        ("a" * 73 + "\n", "at most 72 bytes"),
        ("  padded-password  \n", "no spaces"),  # was stored, then could never sign in
        ("tab-at-the-end-x\t\n", "no spaces"),
        ("short\n", "at least 10 characters"),
    ],
)
def test_user_add_refuses_a_bad_password_clearly(tmp_path: Path, stdin: str, message: str) -> None:
    path = tmp_path / "auth.yaml"
    code, _, err = run(["--auth", str(path), "user", "add", "dana", "--role", "team"], stdin)
    assert code == 1
    assert message in err and "Traceback" not in err
    assert not path.exists()


def test_user_add_keeps_inner_spaces_and_a_windows_line_end(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    code, _, _ = run(
        ["--auth", str(path), "user", "add", "dana", "--role", "team"], "a pass phrase\r\n"
    )
    assert code == 0
    hashed = auth.read_auth(path)["credentials"]["usernames"]["dana"]["password"]
    assert bcrypt.checkpw(b"a pass phrase", hashed.encode())


def fail(engine: Engine, name: str, address: str, times: int) -> None:
    now = models.utcnow()
    with db.write_session(engine, "sign-in") as session:
        for _ in range(times):
            guard_store.record_failure(session, name, address, now)


def test_user_unlock_a_name_or_an_address(db_url: str) -> None:
    engine = db.make_engine(db_url)
    fail(engine, "dana", "198.51.100.7", 20)
    code, out, _ = run(["--db", db_url, "user", "unlock", "Dana", "--user", "ops"])
    assert code == 0 and "Cleared 20 failed sign-in(s) of name Dana." in out
    code, out, _ = run(["--db", db_url, "user", "unlock", "dana"])
    assert code == 0 and "No failed sign-ins of name dana." in out
    code, out, _ = run(["--db", db_url, "user", "unlock", "--address", "198.51.100.7"])
    assert code == 0 and "Cleared 20" in out
    with db.read_session(engine) as session:
        assert [
            (e.user, e.entity, e.entity_id)
            for e in session.scalars(select(models.AuditLog).order_by(models.AuditLog.id))
        ] == [("ops", "sign_in_locks", "dana"), ("cli", "sign_in_locks", "198.51.100.7")]
        assert guard_store.locks(session, models.utcnow()) == []
    engine.dispose()


@pytest.mark.parametrize(
    "argv",
    [["user", "unlock"], ["user", "unlock", "dana", "--address", "10.0.0.1"]],
)
def test_user_unlock_takes_a_name_or_an_address(db_url: str, argv: list[str]) -> None:
    code, _, err = run(["--db", db_url, *argv])
    assert code == 2 and "a username or --address" in err
