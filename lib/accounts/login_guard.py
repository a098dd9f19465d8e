"""Failed sign-ins limited per name in a sliding window (pure: time is passed in);
the rule is in docs/rules.md, "Sign-in"."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    max_failures: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)
    # The least recently failed names are forgotten beyond this many.
    max_tracked_names: int = 10_000


@dataclass(frozen=True)
class Decision:
    allowed: bool
    failures: int  # failures inside the window, as of the decision
    retry_after: dt.timedelta  # zero when allowed

    @property
    def retry_minutes(self) -> int:
        """Whole minutes to wait, rounded up (what the user is told)."""
        seconds = self.retry_after.total_seconds()
        return max(1, -(-int(seconds) // 60)) if seconds > 0 else 0


def normalise(username: str) -> str:
    return username.strip().lower()


class LoginGuard:
    """Thread-safe: Streamlit runs each session's script in its own thread."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._failures: OrderedDict[str, deque[dt.datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, name: str, now: dt.datetime) -> deque[dt.datetime]:
        times = self._failures.get(name)
        if times is None:
            return deque()
        cutoff = now - self.policy.window
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[name]
        return times

    def _decide(self, times: deque[dt.datetime], now: dt.datetime) -> Decision:
        if len(times) < self.policy.max_failures:
            return Decision(True, len(times), dt.timedelta(0))
        # Locked until enough of the oldest failures have left the window.
        unlock_at = times[len(times) - self.policy.max_failures] + self.policy.window
        return Decision(False, len(times), max(unlock_at - now, dt.timedelta(0)))

    def check(self, username: str, now: dt.datetime) -> Decision:
        """May this name try a password now?"""
        with self._lock:
            return self._decide(self._recent(normalise(username), now), now)

    def record_failure(self, username: str, now: dt.datetime) -> Decision:
        """Count a wrong password (or unknown name); returns the state after it."""
        name = normalise(username)
        with self._lock:
            times = self._recent(name, now)
            times.append(now)
            self._failures[name] = times
            self._failures.move_to_end(name)
            while len(self._failures) > self.policy.max_tracked_names:
                self._failures.popitem(last=False)
            return self._decide(times, now)

    def record_success(self, username: str) -> None:
        self.clear(username)

    def clear(self, username: str) -> None:
        """Forget a name's failures (a sign-in, or an admin reset its password)."""
        with self._lock:
            self._failures.pop(normalise(username), None)

    def tracked_names(self) -> int:
        with self._lock:
            return len(self._failures)
