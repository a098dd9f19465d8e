"""The console's own usage analytics in PostHog: one client per server process.

Pages call `track("event_name", key=value, ...)`. It never raises and never
blocks: the PostHog SDK queues the event and a background thread sends it
(sync_mode off). Nothing is sent, and no client is made, unless a project key
is configured in secrets ([posthog] project_api_key / host) or the
environment (POSTHOG_PROJECT_API_KEY / POSTHOG_HOST). Event names and
property keys are allow-listed in lib.telemetry; the distinct id is the
signed-in login name.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from posthog import Posthog

from lib import telemetry

log = logging.getLogger(__name__)
T = TypeVar("T")
S = TypeVar("S")

_LAST_PAGE_KEY = "_telemetry_last_page"
_LAST_CUSTOMER_KEY = "_telemetry_last_customer"
FLUSH_TIMEOUT_S = 5.0


def _secrets() -> dict[str, Any]:
    try:
        section = st.secrets.get("posthog")
    except Exception:  # no secrets file at all: same as no key
        return {}
    return {"posthog": dict(section)} if section else {}


def settings() -> telemetry.Settings | None:
    return telemetry.settings(_secrets())


def _on_upload_error(error: Exception, _batch: Any) -> None:
    log.warning("PostHog upload failed (%s); the console carries on", error)


def _release(client: Posthog) -> None:
    # A dropped client flushes and stops its thread in the background, never
    # holding up the rerun that cleared the cache.
    threading.Thread(target=client.shutdown, name="posthog-release", daemon=True).start()


@st.cache_resource(show_spinner=False, on_release=_release)
def client(project_api_key: str, host: str) -> Posthog:
    """The process's one PostHog client for this key and host."""
    return Posthog(
        project_api_key,
        host=host,
        sync_mode=False,  # queue and send from a background thread: pages never wait
        max_queue_size=10_000,  # a full queue drops events rather than blocking
        flush_at=50,
        flush_interval=5.0,
        timeout=5,
        max_retries=2,
        gzip=True,
        disable_geoip=True,
        enable_exception_autocapture=False,
        on_error=_on_upload_error,
    )


def _who() -> tuple[str | None, str | None]:
    """The signed-in login name and role."""
    from ui import login  # imported here: the login gate may track events itself

    user = login.current_user()
    return (user.username, user.role) if user is not None else (None, None)


def track(event: str, **properties: Any) -> None:
    """Record that the signed-in user did `event`; never raises, never blocks."""
    try:
        config = settings()
        username, role = _who()
        if not username:
            return
        # Built even when telemetry is off, so a bad name shows in the log early.
        events = [
            telemetry.build(name, username, props, role=role)
            for name, props in [(event, properties), *telemetry.follow_ups(event, properties)]
        ]
        if config is None:
            return
        posthog = client(config.project_api_key, config.host)
        for built in events:
            posthog.capture(built.name, distinct_id=built.distinct_id, properties=built.properties)
    except Exception:
        log.exception("telemetry event %r not recorded", event)


def page_viewed(page: str) -> None:
    """`page_viewed` once per visit to a page, not on every rerun inside it."""
    if st.session_state.get(_LAST_PAGE_KEY) == page:
        return
    st.session_state[_LAST_PAGE_KEY] = page
    track("page_viewed", page=page)


def customer_opened(customer_id: str) -> None:
    """`customer_opened` once per visit to a customer, not on every rerun of its page."""
    if st.session_state.get(_LAST_CUSTOMER_KEY) == customer_id:
        return
    st.session_state[_LAST_CUSTOMER_KEY] = customer_id
    track("customer_opened", customer_id=customer_id)


def after(change: Callable[[S], T], event: str, **properties: Any) -> Callable[[S], T]:
    """`change(session)`, then `track(event, ...)` once it returned: only writes that went
    through are counted (for the pages' `lambda session: lib.x(session, ...)` callbacks)."""

    def run(session: S) -> T:
        result = change(session)
        track(event, **properties)
        return result

    return run


def flush(timeout_seconds: float = FLUSH_TIMEOUT_S) -> None:
    """Send what is queued now (tests; a server shutting down)."""
    config = settings()
    if config is not None:
        client(config.project_api_key, config.host).flush(timeout_seconds)
