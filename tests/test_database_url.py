"""Database URLs that cannot work are refused with a message saying why (never a
traceback, never a new empty database in a mistyped folder); SQLite files are 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from lib.store import db
from tests.test_cli import run


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://u:secret@db.example/app", "runs on SQLite or PostgreSQL, not 'mysql'"),
        ("mysql+pymysql://u:secret@db.example/app", "not 'mysql'"),
        ("oracle://u:secret@db.example/app", "not 'oracle'"),
        ("postgresql+psycopg2://u:secret@db.example/app", "its driver (psycopg2) is not installed"),
        ("postgresql+nodriver://u:secret@db.example/app", "its driver (nodriver) is not installed"),
        ("not a url", "not a URL"),
    ],
)
def test_a_url_that_cannot_work_is_refused_clearly(url: str, expected: str) -> None:
    code, out, err = run(["--db", url, "init"])
    assert code == 2  # a usage error, as a bad option is
    assert expected in err
    assert "secret" not in err  # the password is never printed
    assert "Traceback" not in err + out


def test_a_mistyped_sqlite_folder_is_an_error_not_a_new_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "onboarding.db"
    code, out, err = run(["--db", f"sqlite:///{missing}", "init"])
    assert code == 2
    assert f"the folder {missing.parent} does not exist" in err
    assert "Schema is up to date" not in out
    assert not missing.parent.exists()


def test_the_default_data_folder_is_still_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "fresh" / "data"
    monkeypatch.setattr(db.settings, "DATA_DIR", data)
    db.make_engine(f"sqlite:///{data / 'onboarding.db'}").dispose()
    assert (data / "onboarding.db").exists()


@pytest.mark.parametrize("existing_mode", [None, 0o644])
def test_sqlite_files_are_readable_by_their_owner_only(
    tmp_path: Path, existing_mode: int | None
) -> None:
    path = tmp_path / "onboarding.db"
    if existing_mode is not None:
        path.touch()
        path.chmod(existing_mode)
    url = f"sqlite:///{path}"
    assert run(["--db", url, "init"])[0] == 0
    engine = db.make_engine(url)
    with engine.connect() as connection:  # WAL mode: -wal and -shm exist while open
        connection.exec_driver_sql("SELECT count(*) FROM customers").scalar()
        files = [path, *path.parent.glob("onboarding.db-*")]
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
    engine.dispose()
    assert modes["onboarding.db"] == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes
