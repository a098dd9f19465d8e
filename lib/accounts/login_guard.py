"""Failed sign-ins limited per name and per client address in a sliding window (pure: the
failure times and the time now are passed in; lib.accounts.guard_store keeps them in the
database, so every server shares them). The rule is in docs/rules.md, "Sign-in"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NAME, ADDRESS = "name", "address"  # SignInFailure.kind
KINDS = (NAME, ADDRESS)
KEY_LENGTH = 200  # SignInFailure.key's column
TRUSTED_PROXY_ENV = "ONBOARDING_TRUSTED_PROXY"
LOCAL = "local"  # the address of a browser on the server itself (Streamlit gives none)


@dataclass(frozen=True)
class Policy:
    # A name: 5 failures in 15 minutes (guessing one login's password).
    max_name_failures: int = 5
    # An address: 20 failures in 15 minutes over any names (password spraying).
    max_address_failures: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)

    def limit(self, kind: str) -> int:
        return self.max_name_failures if kind == NAME else self.max_address_failures


POLICY = Policy()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    failures: int  # failures inside the window, as of the decision
    retry_after: dt.timedelta  # zero when allowed
    kind: str = NAME  # what the lock is on (name or address) when refused

    @property
    def retry_minutes(self) -> int:
        """Whole minutes to wait, rounded up (what the user is told)."""
        seconds = self.retry_after.total_seconds()
        return max(1, -(-int(seconds) // 60)) if seconds > 0 else 0


@dataclass(frozen=True)
class Lock:
    """A name or address refused now (the Users page lists them with a Clear button)."""

    kind: str
    key: str
    failures: int
    retry_after: dt.timedelta

    @property
    def retry_minutes(self) -> int:
        return Decision(False, self.failures, self.retry_after, self.kind).retry_minutes


def normalise(username: str) -> str:
    """A name as the sign-in form compares it (trimmed, lower case), sized for the table."""
    return key_of(username.strip().lower())


def key_of(text: str) -> str:
    # PostgreSQL cannot store U+0000; the column holds 200 characters.
    return text.replace("\x00", "")[:KEY_LENGTH]


def decide(
    times: Sequence[dt.datetime], now: dt.datetime, max_failures: int, window: dt.timedelta
) -> Decision:
    """May one more password be tried now, given these failure times (any order)?"""
    recent = sorted(t for t in times if now - window < t <= now)
    if len(recent) < max_failures:
        return Decision(True, len(recent), dt.timedelta(0))
    # Locked until enough of the oldest failures have left the window.
    unlock_at = recent[len(recent) - max_failures] + window
    return Decision(False, len(recent), max(unlock_at - now, dt.timedelta(0)))


def decide_both(
    name_times: Sequence[dt.datetime],
    address_times: Sequence[dt.datetime],
    now: dt.datetime,
    policy: Policy = POLICY,
) -> Decision:
    """The stricter of the name's and the address's limits."""
    by_name = decide(name_times, now, policy.max_name_failures, policy.window)
    by_address = decide(address_times, now, policy.max_address_failures, policy.window)
    if not by_name.allowed:
        return by_name
    if not by_address.allowed:
        return Decision(False, by_address.failures, by_address.retry_after, ADDRESS)
    return by_name


def client_address(ip_address: str | None, headers: Mapping[str, str], trusted_proxy: bool) -> str:
    """The address limits count: the connection's, or behind a trusted proxy (nginx, which
    appends the client to X-Forwarded-For and sets X-Real-IP) the last address it added.
    Without a trusted proxy those headers are the client's own words and are ignored."""
    if trusted_proxy:
        named = {name.lower(): value for name, value in headers.items()}
        forwarded = [part.strip() for part in named.get("x-forwarded-for", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if forwarded:
            return key_of(forwarded[-1])
        real = named.get("x-real-ip", "").strip()
        if real:
            return key_of(real)
    return key_of(ip_address) if ip_address else LOCAL


def trusted_proxy(environ: Mapping[str, str]) -> bool:
    """ONBOARDING_TRUSTED_PROXY=1: the app is reached only through a proxy that sets
    X-Forwarded-For / X-Real-IP (docs/rules.md, "Sign-in")."""
    return environ.get(TRUSTED_PROXY_ENV, "").strip() == "1"
