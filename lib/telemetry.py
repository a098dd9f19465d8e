"""The console's own usage analytics (pure): the events it may send to PostHog and the only
properties each may carry; the client is ui/telemetry.py."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Event -> the property keys it may carry (beyond the common ones).
EVENTS: dict[str, frozenset[str]] = {
    "page_viewed": frozenset({"page"}),
    "customer_opened": frozenset({"customer_id", "source"}),
    "step_recorded": frozenset({"customer_id", "step", "status", "source"}),
    "outreach_drafted": frozenset({"customer_id", "kind"}),
    "outreach_sent": frozenset({"customer_id", "kind"}),
    "meeting_scheduled": frozenset({"customer_id", "kind"}),
    "meeting_logged": frozenset({"customer_id", "kind", "status"}),
    "homework_sent": frozenset({"customer_id", "tasks"}),
    "import_completed": frozenset({"files", "rows", "added", "updated", "source"}),
    "import_failed": frozenset({"files", "problems", "reason", "source"}),
    "outcomes_downloaded": frozenset({"chart"}),
}

# Added to every event by the app itself (never by a caller).
COMMON_PROPERTIES: frozenset[str] = frozenset({"role", "app"})
APP_NAME = "onboarding-console"
MAX_TEXT_LENGTH = 200

API_KEY_ENV = "POSTHOG_PROJECT_API_KEY"
HOST_ENV = "POSTHOG_HOST"
DEFAULT_HOST = "https://us.i.posthog.com"


class UnknownEvent(ValueError):
    """An event name or property key that is not on the allow-list (a bug in the caller)."""


@dataclass(frozen=True)
class Event:
    name: str
    distinct_id: str
    properties: dict[str, Any] = field(default_factory=dict)


def _clean(value: Any) -> str | int | float | bool | None:
    """A scalar PostHog stores as is; text is cut short, anything else becomes text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text[:MAX_TEXT_LENGTH]


def build(
    name: str, distinct_id: str, properties: Mapping[str, Any], role: str | None = None
) -> Event:
    """The event to send. Unknown names or keys raise UnknownEvent (caught by the UI)."""
    allowed = EVENTS.get(name)
    if allowed is None:
        raise UnknownEvent(f"unknown telemetry event {name!r}; add it to lib.telemetry.EVENTS")
    unknown = sorted(set(properties) - allowed)
    if unknown:
        raise UnknownEvent(
            f"event {name!r}: property {', '.join(unknown)} not allowed "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    if not distinct_id:
        raise UnknownEvent(f"event {name!r}: no distinct id (nobody is signed in)")
    cleaned = {key: _clean(value) for key, value in sorted(properties.items())}
    cleaned["app"] = APP_NAME
    if role:
        cleaned["role"] = role
    return Event(name=name, distinct_id=distinct_id, properties=cleaned)


# Recording an outreach step as done is how the team says the email went out.
OUTREACH_STEPS: dict[str, str] = {"initial_outreach": "initial", "final_outreach": "final"}


def follow_ups(name: str, properties: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Events implied by another: a done outreach step is also `outreach_sent`."""
    step = properties.get("step")
    if name == "step_recorded" and properties.get("status") == "done" and step in OUTREACH_STEPS:
        return [
            (
                "outreach_sent",
                {"customer_id": properties.get("customer_id"), "kind": OUTREACH_STEPS[step]},
            )
        ]
    return []


@dataclass(frozen=True)
class Settings:
    project_api_key: str
    host: str


def settings(
    secrets: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings | None:
    """The project key and host: secrets [posthog] first, then the environment.

    None (telemetry off) unless a non-blank project key is configured.
    """
    section = dict((secrets or {}).get("posthog") or {})
    env = os.environ if environ is None else environ
    key = str(section.get("project_api_key") or env.get(API_KEY_ENV) or "").strip()
    if not key:
        return None
    host = str(section.get("host") or env.get(HOST_ENV) or "").strip() or DEFAULT_HOST
    return Settings(project_api_key=key, host=host.rstrip("/"))
