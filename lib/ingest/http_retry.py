"""Retry an HTTP request on rate limits (429), server errors (5xx) and connection failures,
with jittered backoff and Retry-After, within a bounded number of tries and total wait."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_total_s: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)


@dataclass
class Outcome:
    """The last answer (or the last connection error) and how it was reached."""

    response: requests.Response | None
    error: requests.RequestException | None
    attempts: int
    waited_s: float
    gave_up_because: str | None = None  # why retrying stopped while still failing


def retry_after_s(header: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date)."""
    if not header:
        return None
    text = header.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def send(
    request: Callable[[], requests.Response],
    policy: RetryPolicy,
    on_wait: Callable[[str], None] | None = None,
) -> Outcome:
    """Call `request` until it answers something not worth retrying, or the
    policy's bounds are reached; never raises for HTTP statuses."""
    started = policy.clock()
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        response: requests.Response | None = None
        error: requests.RequestException | None = None
        try:
            response = request()
        except (requests.ConnectionError, requests.Timeout) as exc:
            error = exc
        if response is not None and response.status_code not in RETRY_STATUSES:
            return Outcome(response, None, attempt, waited)
        what = f"HTTP {response.status_code}" if response is not None else "no connection"
        if attempt >= policy.attempts:
            return Outcome(response, error, attempt, waited, f"{attempt} attempts")
        asked = retry_after_s(response.headers.get("Retry-After")) if response is not None else None
        backoff = random.uniform(
            0, min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1))
        )
        delay = asked if asked is not None else backoff
        elapsed = policy.clock() - started
        if elapsed + delay > policy.max_total_s:
            reason = (
                f"the server asked to wait {delay:.0f} s more"
                if asked is not None
                else f"{elapsed:.0f} s of retrying"
            )
            return Outcome(response, error, attempt, waited, reason)
        if on_wait:
            on_wait(
                f"{what}; retrying in {delay:.1f} s (attempt {attempt + 1} of {policy.attempts})"
            )
        policy.sleep(delay)
        waited += delay
