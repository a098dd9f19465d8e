"""The failed sign-in limiter: per user name, per sliding window (pure)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from lib.accounts.login_guard import LoginGuard, Policy

T0 = dt.datetime(2026, 3, 16, 9, 0, 0)
POLICY = Policy(max_failures=3, window=dt.timedelta(minutes=10), max_tracked_names=100)


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
    ],
)
def test_window(failures: list[float], check_at: float, allowed: bool, retry_minutes: int) -> None:
    guard = LoginGuard(POLICY)
    for minute in failures:
        guard.record_failure("dana", at(minute))
    decision = guard.check("dana", at(check_at))
    assert (decision.allowed, decision.retry_minutes) == (allowed, retry_minutes)


@pytest.mark.parametrize(
    "failed_as,checked_as,allowed",
    [
        ("dana", "dana", False),  # the same name is locked
        ("dana", " DANA ", False),  # names compare trimmed and case-blind, like the form
        ("dana", "lee", True),  # other users are not affected
        ("ghost", "ghost", False),  # unknown names lock too: no hint which names exist
    ],
)
def test_per_user(failed_as: str, checked_as: str, allowed: bool) -> None:
    guard = LoginGuard(POLICY)
    for minute in (0, 1, 2):
        guard.record_failure(failed_as, at(minute))
    assert guard.check(checked_as, at(3)).allowed is allowed


def test_success_clears_failures() -> None:
    guard = LoginGuard(POLICY)
    guard.record_failure("dana", at(0))
    guard.record_failure("dana", at(1))
    guard.record_success("dana")
    guard.record_failure("dana", at(2))
    assert guard.check("dana", at(2)).failures == 1


def test_record_failure_reports_the_lock() -> None:
    guard = LoginGuard(POLICY)
    decisions = [guard.record_failure("dana", at(m)).allowed for m in (0, 1, 2)]
    assert decisions == [True, True, False]


def test_tracked_names_are_bounded() -> None:
    guard = LoginGuard(Policy(max_failures=3, max_tracked_names=10))
    for i in range(50):
        guard.record_failure(f"random-{i}", at(0))
    assert guard.tracked_names() == 10
    # the most recent names are the ones kept
    assert guard.check("random-49", at(0)).failures == 1
    assert guard.check("random-0", at(0)).failures == 0


def test_expired_names_are_forgotten() -> None:
    guard = LoginGuard(POLICY)
    guard.record_failure("dana", at(0))
    guard.check("dana", at(11))
    assert guard.tracked_names() == 0


def test_threads_count_every_failure() -> None:
    guard = LoginGuard(Policy(max_failures=10_000))

    def fail() -> None:
        for _ in range(200):
            guard.record_failure("dana", at(0))

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert guard.check("dana", at(0)).failures == 1600


def test_clear_lifts_a_lock() -> None:
    guard = LoginGuard(POLICY)
    for minute in (0, 1, 2):
        guard.record_failure("dana", at(minute))
    guard.clear("DANA")
    assert guard.check("dana", at(3)).allowed
