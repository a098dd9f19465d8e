"""The failed sign-in limits (pure): per name and per address in a sliding window, and the
client address the limits count."""

from __future__ import annotations

import datetime as dt

import pytest

from lib.accounts import login_guard
from lib.accounts.login_guard import ADDRESS, LOCAL, NAME, Policy, decide, decide_both

T0 = dt.datetime(2026, 3, 16, 9, 0, 0)
WINDOW = dt.timedelta(minutes=10)
POLICY = Policy(max_name_failures=3, max_address_failures=5, window=WINDOW)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.mark.parametrize(
    "failures,check_at,allowed,retry_minutes",
    [
        ([], 0, True, 0),  # no history
        ([0, 1], 2, True, 0),  # two failures: one attempt left
        ([0, 1, 2], 2, False, 8),  # third failure locks until the first leaves (minute 10)
        ([0, 1, 2], 9.5, False, 1),  # half a minute left: told 1 minute
        ([0, 1, 2], 10, True, 0),  # the first failure left the window at minute 10
        ([4, 5, 6], 12, False, 2),  # all inside: unlock when minute 4 leaves (minute 14)
        ([0, 5, 6], 12, True, 0),  # sliding: minute 0 left at 10; two inside
        ([0, 5, 9], 15, True, 0),  # only 9 left inside the window
        ([0, 20, 21], 21, True, 0),  # old failure forgotten: 2 inside
        ([6, 4, 5], 12, False, 2),  # any order (rows from the database)
        ([0, 1, 2, 3], 10.5, False, 1),  # four inside at 2: unlocks when 1 leaves (minute 11)
        ([0, 1, 20], 2, True, 0),  # a failure "in the future" (another server's clock) ignored
    ],
)
def test_window(failures: list[float], check_at: float, allowed: bool, retry_minutes: int) -> None:
    decision = decide([at(m) for m in failures], at(check_at), 3, WINDOW)
    assert (decision.allowed, decision.retry_minutes) == (allowed, retry_minutes)


@pytest.mark.parametrize(
    "names,addresses,allowed,kind",
    [
        (0, 0, True, NAME),
        (3, 0, False, NAME),  # the name is locked
        (2, 4, True, NAME),  # both below their limits
        (0, 5, False, ADDRESS),  # spraying many names from one address
        (3, 5, False, NAME),  # both: the name's lock is the one told
    ],
)
def test_the_stricter_limit_wins(names: int, addresses: int, allowed: bool, kind: str) -> None:
    decision = decide_both([at(0)] * names, [at(0)] * addresses, at(1), POLICY)
    assert (decision.allowed, decision.kind if not allowed else NAME) == (allowed, kind)


@pytest.mark.parametrize(
    "typed,key",
    [
        ("dana", "dana"),
        (" DANA ", "dana"),  # names compare trimmed and case-blind, like the form
        ("x\x00y", "xy"),  # PostgreSQL cannot store U+0000
        ("a" * 500, "a" * 200),  # the column's size
    ],
)
def test_normalise(typed: str, key: str) -> None:
    assert login_guard.normalise(typed) == key


@pytest.mark.parametrize(
    "ip,headers,trusted,address",
    [
        ("203.0.113.9", {}, False, "203.0.113.9"),
        (None, {}, False, LOCAL),  # a browser on the server itself
        # Without a trusted proxy the headers are the client's own words: ignored.
        ("203.0.113.9", {"X-Forwarded-For": "198.51.100.1"}, False, "203.0.113.9"),
        ("10.0.0.2", {"X-Real-IP": "198.51.100.1"}, False, "10.0.0.2"),
        # Behind nginx: the last address of X-Forwarded-For is the one nginx added.
        ("10.0.0.2", {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}, True, "198.51.100.7"),
        ("10.0.0.2", {"x-forwarded-for": "198.51.100.7"}, True, "198.51.100.7"),
        ("10.0.0.2", {"X-Real-IP": " 198.51.100.8 "}, True, "198.51.100.8"),
        ("10.0.0.2", {"X-Forwarded-For": " , "}, True, "10.0.0.2"),  # nothing usable
        (None, {}, True, LOCAL),
    ],
)
def test_client_address(
    ip: str | None, headers: dict[str, str], trusted: bool, address: str
) -> None:
    assert login_guard.client_address(ip, headers, trusted) == address


@pytest.mark.parametrize(
    "environ,trusted",
    [
        ({}, False),
        ({"ONBOARDING_TRUSTED_PROXY": "1"}, True),
        ({"ONBOARDING_TRUSTED_PROXY": "0"}, False),
        ({"ONBOARDING_TRUSTED_PROXY": "yes"}, False),
    ],
)
def test_trusted_proxy_is_opt_in(environ: dict[str, str], trusted: bool) -> None:
    assert login_guard.trusted_proxy(environ) is trusted


def test_the_default_policy() -> None:
    policy = login_guard.POLICY
    assert (policy.max_name_failures, policy.max_address_failures, policy.window) == (
        5,
        20,
        dt.timedelta(minutes=15),
    )


def test_the_trusted_proxy_setting_is_documented() -> None:
    from lib.settings import PROJECT_ROOT

    rules = (PROJECT_ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert login_guard.TRUSTED_PROXY_ENV in rules
