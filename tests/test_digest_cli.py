"""`onboarding digest` end to end (issue 17): a real SMTP server (aiosmtpd) and a local
server that answers like Slack (webhook and Web API, through the real slack-sdk), on the
demo data. One email and one Slack message per owner; a second run the same day delivers
nothing; a Slack outage for one owner is retried, then reported, while the others go out."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from lib import cli
from lib.accounts import auth, digest_prefs
from tests.apptest_support import AS_OF, demo_data
from tests.mail_servers import SmtpServer
from tests.slack_server import SlackServer, slack_server

DAY = AS_OF.isoformat()
MAIL_FROM = "Onboarding <onboarding@example.com>"


@pytest.fixture(scope="module")
def _slack() -> Iterator[SlackServer]:
    with slack_server() as server:
        yield server


@pytest.fixture
def slack(_slack: SlackServer) -> Iterator[SlackServer]:
    _slack.state.reset()
    yield _slack
    _slack.state.reset()


def member(owner: str) -> str:
    return f"U{owner.upper().replace('.', '')}1"


@pytest.fixture(scope="module")
def owners() -> list[str]:
    """The demo's owners (tests.apptest_support's data set, as `demo_db_url` loads it)."""
    found = sorted({str(o) for o in demo_data().customers["owner"] if o})
    assert len(found) >= 3
    return found


@pytest.fixture(scope="module")
def _logins(tmp_path_factory: pytest.TempPathFactory, owners: list[str]) -> Path:
    """Every owner a login with an email, both channels and a Slack member ID (bcrypt is
    slow: made once, copied for each test)."""
    path = tmp_path_factory.mktemp("digest_auth") / "auth.yaml"
    for owner in owners:
        auth.add_user(path, owner, "team", "a-long-password", email=f"{owner}@example.com")
        digest_prefs.set_prefs(path, owner, ["email", "slack"], slack_user=member(owner))
    return path


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    demo_db_url: str,
    _logins: Path,
    smtp: SmtpServer,
    slack: SlackServer,
) -> Path:
    path = tmp_path / "auth.yaml"
    shutil.copy(_logins, path)
    for name, value in {
        **smtp.environment(),
        **slack.environment(),
        "ONBOARDING_MAIL_FROM": MAIL_FROM,
        "ONBOARDING_BASE_URL": "https://console.example.com",
        "ONBOARDING_SLACK_RETRIES": "2",
        "ONBOARDING_DATABASE_URL": demo_db_url,
        "ONBOARDING_AUTH_FILE": str(path),
    }.items():
        monkeypatch.setenv(name, value)
    return path


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["digest", *args])
    return code, out.getvalue(), err.getvalue()


def test_dry_run_prints_a_digest_per_owner_and_sends_nothing(
    env: Path, owners: list[str], smtp: SmtpServer, slack: SlackServer
) -> None:
    code, out, err = run("--dry-run", "--as-of", DAY)
    assert (code, err) == (0, "")
    assert [m for m in re.findall(r"^For: (\S+) \(owner", out, re.M)] == owners
    assert "https://console.example.com/today" in out
    assert smtp.received == [] and slack.state.requests == []


def test_send_delivers_once_per_owner_and_channel_and_never_twice(
    env: Path, owners: list[str], smtp: SmtpServer, slack: SlackServer
) -> None:
    code, out, err = run("--send", "--as-of", DAY)
    assert code == 0, out + err
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [f"{o}@example.com" for o in owners]
    delivered = slack.state.delivered()
    assert sorted(r.body["channel"] for r in delivered) == sorted(member(o) for o in owners)
    assert all(r.path == "/api/chat.postMessage" for r in delivered)
    assert f"{2 * len(owners)} sent" in out

    # The message as the server got it: both parts, links to the console, nothing internal.
    message = next(r.message for r in smtp.received if r.rcpt_tos == [f"{owners[0]}@example.com"])
    assert message["From"] == MAIL_FROM and "morning digest" in str(message["Subject"])
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "https://console.example.com/today" in plain and "https://console.example.com/" in html
    for text in (plain, html):
        assert "@example.com" not in text.replace(f"{owners[0]}@example.com", "")  # no contact
        assert "password" not in text.lower()
    blocks = delivered[0].body["blocks"]
    assert blocks[0]["type"] == "header"
    assert any("<https://console.example.com/" in str(b) for b in blocks)

    # The same day again: nothing new goes out.
    smtp.received.clear()
    slack.state.requests.clear()
    code, out, _ = run("--send", "--as-of", DAY)
    assert code == 0 and smtp.received == [] and slack.state.requests == []
    assert f"{2 * len(owners)} already sent" in out


def test_a_slack_outage_for_one_owner_is_retried_then_reported(
    env: Path, owners: list[str], smtp: SmtpServer, slack: SlackServer
) -> None:
    down, rate_limited = owners[0], owners[1]
    slack.state.modes = {member(down): "500", member(rate_limited): "429"}
    code, out, err = run("--send", "--as-of", DAY)
    assert code == 1, out + err
    tried = [r for r in slack.state.requests if r.body.get("channel") == member(down)]
    assert len(tried) == 3  # the first attempt and two retries (ONBOARDING_SLACK_RETRIES)
    assert re.search(rf"FAILED\s+{down}\s+slack\s+Slack refused .*HTTP 500.*3 attempts", out)
    # 429 with Retry-After: waited, then delivered; every other owner's digest went out.
    assert {r.body["channel"] for r in slack.state.delivered()} == {
        member(o) for o in owners if o != down
    }
    assert len(smtp.received) == len(owners)
    # The next run sends only what failed.
    slack.state.modes = {}
    smtp.received.clear()
    slack.state.requests.clear()
    code, out, _ = run("--send", "--as-of", DAY)
    assert code == 0 and smtp.received == []
    assert [r.body["channel"] for r in slack.state.delivered()] == [member(down)]


def test_a_refused_token_and_a_refused_mail_server_are_reported(
    env: Path, owners: list[str], smtp: SmtpServer, slack: SlackServer
) -> None:
    slack.state.default = "invalid_token"
    smtp.behave("refuse")
    code, out, _ = run("--send", "--as-of", DAY, "--owner", owners[0])
    assert code == 1
    assert "invalid_auth" in out and "ONBOARDING_SLACK_BOT_TOKEN" in out
    assert "refused the recipients" in out


def test_the_webhook_takes_a_digest_without_a_member_id(
    env: Path, owners: list[str], slack: SlackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONBOARDING_SLACK_BOT_TOKEN")
    digest_prefs.set_prefs(env, owners[0], ["slack"], slack_user="")
    code, out, err = run("--send", "--as-of", DAY, "--owner", owners[0])
    assert code == 0, out + err
    (request,) = slack.state.delivered()
    assert request.path == "/services/T000/B000/team" and request.body["blocks"]


def test_the_hourly_run_sends_to_those_whose_hour_has_come(
    env: Path, owners: list[str], smtp: SmtpServer
) -> None:
    first, second = owners[0], owners[1]
    for owner in owners:
        digest_prefs.set_prefs(env, owner, ["email"], hour=23)
    digest_prefs.set_prefs(env, first, hour=8, timezone="Europe/Berlin")
    digest_prefs.set_prefs(env, second, hour=8, timezone="America/New_York")
    moment = dt.datetime.combine(AS_OF, dt.time(7, 5)).isoformat() + "+00:00"  # 08:05 Berlin
    code, out, _ = run("--send", "--now", moment)
    assert code == 0, out
    assert [r.rcpt_tos for r in smtp.received] == [[f"{first}@example.com"]]


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        ((), 2, "add --dry-run"),
        (("--dry-run", "--send"), 2, "not allowed with"),
        (("--dry-run", "--as-of", "15/03/2026"), 2, "not a date"),
        (("--dry-run", "--owner", "nobody", "--as-of", DAY), 1, "--owner 'nobody'"),
    ],
)
def test_usage_errors(env: Path, args: tuple[str, ...], code: int, said: str) -> None:
    found, out, err = run(*args)
    assert found == code and said in err + out


def test_an_unusable_setting_is_a_usage_error(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONBOARDING_BASE_URL", "console.example.com")
    code, _, err = run("--dry-run", "--as-of", DAY)
    assert code == 2 and "ONBOARDING_BASE_URL" in err


def test_user_digest_sets_a_logins_preferences(env: Path, owners: list[str]) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(
            ["user", "digest", owners[0], "--channels", "slack", "--hour", "7", "--timezone",
             "Asia/Tokyo"]
        )  # fmt: skip
    assert code == 0 and "slack, 07:00 Asia/Tokyo" in out.getvalue()
    err = io.StringIO()
    with redirect_stderr(err):
        assert cli.main(["user", "digest", owners[0], "--hour", "25"]) == 1
    assert "expected a whole hour" in err.getvalue()
