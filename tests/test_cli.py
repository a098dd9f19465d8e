"""The `onboarding` command: exit codes, messages and output of docs/interface.md."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest

from lib import cli
from lib.accounts import auth
from tests import csv_fixtures


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """Run the command in-process, as a user would, capturing its output."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        code = cli.main(argv)
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def test_init_is_safe_to_run_again(db_url: str) -> None:
    assert run(["--db", db_url, "init"])[0] == 0
    code, out, _ = run(["--db", db_url, "init"])
    assert code == 0
    assert "Schema is up to date" in out


def test_import_then_report_json(db_url: str, tmp_path: Path) -> None:
    folder = csv_fixtures.write_all(tmp_path / "csv")
    code, out, _ = run(["--db", db_url, "import", str(folder)])
    assert code == 0
    assert "usage.csv: 80 added, 0 updated, 0 unchanged" in out

    code, out, _ = run(["--db", db_url, "report", "--as-of", "2026-03-15", "--json"])
    assert code == 0
    reports = json.loads(out)
    assert [r["customer_id"] for r in reports] == sorted(r["customer_id"] for r in reports)
    assert set(reports[0]) >= {
        "customer_id",
        "name",
        "owner",
        "as_of",
        "program_week",
        "program_status",
        "steps",
        "next_action",
        "projected_monthly_bill_usd",
        "findings",
        "est_monthly_saving_usd",
    }

    code, out, _ = run(
        ["--db", db_url, "report", "--as-of", "2026-03-15", "--customer", "newco", "--json"]
    )
    one = json.loads(out)
    assert one["customer_id"] == "newco"
    assert one["next_action"] == {
        "step": "initial_outreach",
        "status": "due",
        "due_on": "2026-03-18",
    }


def test_import_and_report_initialise_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    code, out, _ = run(["--db", url, "report", "--json"])
    assert (code, json.loads(out)) == (0, [])


@pytest.mark.parametrize(
    "argv,code,message",
    [
        ([], 2, "required"),  # no command
        (["frobnicate"], 2, "invalid choice"),  # unknown command
        (["report", "--as-of", "15/03/2026", "--json"], 2, "is not a date YYYY-MM-DD"),
        (["report"], 2, "add --json"),
        (["demo", "--customers", "0"], 2, "expected 1 or more"),
        (["report", "--customer", "nobody", "--json"], 1, "no such customer"),
        (["import", "missing.csv"], 1, "missing.csv: no such file or folder"),
    ],
)
def test_exit_codes(db_url: str, argv: list[str], code: int, message: str) -> None:
    got, _, err = run(["--db", db_url, *argv])
    assert got == code
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "url,code,message",
    [
        ("not a url", 2, "database URL: not a URL"),
        ("sqlite:////dev/null/x.db", 2, "the folder /dev/null does not exist"),
        ("postgresql+psycopg://nobody@/x?host=/nonexistent", 1, "cannot use the database"),
    ],
)
def test_bad_database_url(url: str, code: int, message: str) -> None:
    got, _, err = run(["--db", url, "init"])
    assert (got, message in err, "Traceback" in err) == (code, True, False)


def test_bad_import_exits_1_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "customers.csv"
    bad.write_text("customer_id,name,segment_entered_on\nc1,One,yesterday\n")
    code, _, err = run(["--db", db_url, "import", str(bad)])
    assert code == 1
    assert "customers.csv row 2, column segment_entered_on: 'yesterday'" in err
    _, out, _ = run(["--db", db_url, "report", "--json"])
    assert json.loads(out) == []


def test_demo_is_deterministic_and_refuses_to_mix(db_url: str, tmp_path: Path) -> None:
    args = ["demo", "--customers", "30", "--seed", "3", "--as-of", "2026-03-15"]
    assert run(["--db", db_url, *args])[0] == 0
    _, first, _ = run(["--db", db_url, "report", "--as-of", "2026-03-15", "--json"])
    code, _, err = run(["--db", db_url, *args])
    assert code == 1 and "--replace" in err
    assert run(["--db", db_url, *args, "--if-empty"])[0] == 0
    assert run(["--db", db_url, *args, "--replace"])[0] == 0
    _, second, _ = run(["--db", db_url, "report", "--as-of", "2026-03-15", "--json"])
    assert first == second
    assert len(json.loads(first)) == 30


def test_user_add_reads_the_password_from_stdin(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    code, out, _ = run(
        ["--auth", str(path), "user", "add", "dana", "--role", "team", "--name", "Dana S"],
        stdin="correct horse battery\n",
    )
    assert code == 0 and "Created dana (team)" in out
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert "correct horse" not in text
    entry = auth.read_auth(path)["credentials"]["usernames"]["dana"]
    assert entry["roles"] == ["team"]
    assert password_matches("correct horse battery", entry["password"])

    code, out, _ = run(
        ["--auth", str(path), "user", "add", "dana", "--role", "leadership"],
        stdin="another long password\n",
    )
    assert code == 0 and "Updated dana (leadership)" in out
    assert [u.role for u in auth.users(path)] == ["leadership"]
    assert auth.users(path)[0].name == "Dana S"


@pytest.mark.parametrize(
    "argv,stdin,message",
    [
        (["user", "add", "dana", "--role", "team"], "", "password on standard input"),
        (["user", "add", "dana", "--role", "team"], "short\n", "at least 10 characters"),
        (["user", "add", "Dana Smith", "--role", "team"], "long enough pw\n", "username"),
    ],
)
def test_user_add_rejects(tmp_path: Path, argv: list[str], stdin: str, message: str) -> None:
    code, _, err = run(["--auth", str(tmp_path / "auth.yaml"), *argv], stdin=stdin)
    assert code == 1
    assert message in err
    assert not (tmp_path / "auth.yaml").exists()


def test_user_add_unknown_role_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run(
        ["--auth", str(tmp_path / "a.yaml"), "user", "add", "x1", "--role", "boss"], "pw pw pw pw\n"
    )
    assert code == 2 and "invalid choice" in err


def test_ensure_admin_prints_a_random_password_once(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    code, out, _ = run(["--auth", str(path), "user", "ensure-admin"])
    assert code == 0
    password = out.split("password")[1].split()[0]
    assert len(password) >= 12
    entry = auth.read_auth(path)["credentials"]["usernames"]["admin"]
    assert password_matches(password, entry["password"])
    code, out, _ = run(["--auth", str(path), "user", "ensure-admin"])
    assert "none created" in out
    # A second machine's first run gets a different password.
    other = tmp_path / "other.yaml"
    _, out2, _ = run(["--auth", str(other), "user", "ensure-admin"])
    assert out2.split("password")[1].split()[0] != password


def test_cookie_key_is_generated_private_and_stable(tmp_path: Path) -> None:
    key_file = tmp_path / ".cookie_key"
    key = auth.cookie_key(key_file=key_file)
    assert len(key.encode()) >= 32
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert auth.cookie_key(key_file=key_file) == key
    with pytest.raises(auth.AuthError):
        auth.cookie_key(explicit="too-short")


def test_module_entry_point_runs(tmp_path: Path) -> None:
    """`python -m lib` is the same command."""
    result = subprocess.run(
        [sys.executable, "-m", "lib", "--db", f"sqlite:///{tmp_path / 'x.db'}", "init"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def password_matches(password: str, hashed: str) -> bool:
    return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))


def test_user_add_names_a_refund_approver(tmp_path: Path) -> None:
    """--revops makes a login one of revenue operations' approvers; without the option
    an update leaves it as it is; --no-revops takes it away; leadership never approves."""
    path = str(tmp_path / "auth.yaml")
    password = "correct horse battery\n"
    code, out, _ = run(
        ["--auth", path, "user", "add", "rita", "--role", "team", "--revops"], password
    )
    assert code == 0 and "Created rita (team, approves refunds)" in out
    run(["--auth", path, "user", "add", "rita", "--role", "admin"], password)
    assert [(u.role, u.revops) for u in auth.users(Path(path))] == [("admin", True)]
    code, out, _ = run(["--auth", path, "user", "list"])
    assert out.strip().endswith("\trevops")
    run(["--auth", path, "user", "add", "rita", "--role", "team", "--no-revops"], password)
    assert [u.revops for u in auth.users(Path(path))] == [False]
    code, _, err = run(
        ["--auth", path, "user", "add", "lee", "--role", "leadership", "--revops"], password
    )
    assert code == 1 and "only a team or admin login can approve refunds" in err
