"""lib.telemetry: only allow-listed events and properties, and when telemetry is on."""

from __future__ import annotations

from typing import Any

import pytest

from lib import telemetry
from lib.telemetry import UnknownEvent


@pytest.mark.parametrize(
    "name,props,expected",
    [
        # page views carry the page and the role the app adds
        ("page_viewed", {"page": "outcomes"}, {"page": "outcomes"}),
        # a customer is named by its id only
        ("customer_opened", {"customer_id": "acme"}, {"customer_id": "acme"}),
        (
            "step_recorded",
            {"customer_id": "acme", "step": "first_meeting", "status": "done"},
            {"customer_id": "acme", "step": "first_meeting", "status": "done"},
        ),
        # counts stay numbers
        ("import_completed", {"files": 2, "rows": 1500}, {"files": 2, "rows": 1500}),
        # non-scalar values become text, cut to 200 characters
        ("import_failed", {"reason": "x" * 500}, {"reason": "x" * 200}),
        ("homework_sent", {"customer_id": "acme", "tasks": 3}, {"customer_id": "acme", "tasks": 3}),
    ],
)
def test_build(name: str, props: dict[str, Any], expected: dict[str, Any]) -> None:
    event = telemetry.build(name, "dana", props, role="team")
    assert event.name == name
    assert event.distinct_id == "dana"
    assert event.properties == {**expected, "app": "onboarding-console", "role": "team"}


@pytest.mark.parametrize(
    "name,props",
    [
        ("page_view", {"page": "x"}),  # a typo of an event name
        ("customer_opened", {"customer_id": "acme", "name": "Acme Ltd"}),  # personal data
        ("customer_opened", {"customer_id": "acme", "email": "cto@acme.example"}),
        ("outreach_sent", {"customer_id": "acme", "subject": "Your audit"}),  # free text
        ("page_viewed", {"role": "admin"}),  # common keys come from the app, not callers
    ],
)
def test_build_refuses_what_is_not_allowed(name: str, props: dict[str, Any]) -> None:
    with pytest.raises(UnknownEvent):
        telemetry.build(name, "dana", props)


def test_build_needs_a_distinct_id() -> None:
    with pytest.raises(UnknownEvent):
        telemetry.build("page_viewed", "", {"page": "x"})


def test_every_event_is_snake_case_and_allows_no_personal_keys() -> None:
    personal = {"name", "email", "contact", "notes", "subject", "body", "attendees"}
    for name, keys in telemetry.EVENTS.items():
        assert name == name.lower().replace(" ", "_"), name
        assert not keys & personal, name


@pytest.mark.parametrize(
    "secrets,environ,expected",
    [
        ({}, {}, None),  # nothing configured: telemetry off
        ({"posthog": {"project_api_key": "  "}}, {}, None),  # a blank key is no key
        (
            {"posthog": {"project_api_key": "phc_s", "host": "https://eu.i.posthog.com/"}},
            {},
            telemetry.Settings("phc_s", "https://eu.i.posthog.com"),
        ),
        (
            {},
            {"POSTHOG_PROJECT_API_KEY": "phc_e"},
            telemetry.Settings("phc_e", "https://us.i.posthog.com"),  # default host
        ),
        (
            {},
            {"POSTHOG_PROJECT_API_KEY": "phc_e", "POSTHOG_HOST": "http://127.0.0.1:9"},
            telemetry.Settings("phc_e", "http://127.0.0.1:9"),
        ),
        (
            {"posthog": {"project_api_key": "phc_s"}},
            {"POSTHOG_PROJECT_API_KEY": "phc_e", "POSTHOG_HOST": "http://h"},
            telemetry.Settings("phc_s", "http://h"),  # secrets win; the host still from env
        ),
    ],
)
def test_settings(
    secrets: dict[str, Any], environ: dict[str, str], expected: telemetry.Settings | None
) -> None:
    assert telemetry.settings(secrets, environ) == expected


def _track_calls() -> list[tuple[str, int, str, set[str]]]:
    """Every telemetry call in app.py and app_pages/: (file, line, event, property keys).

    `track("event", key=...)`, `telemetry.after(change, "event", key=...)` and
    `on_click=telemetry.track, args=("event",), kwargs={"key": ...}` are all found.
    """
    import ast

    from lib.settings import PROJECT_ROOT

    def is_track(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id == "track") or (
            isinstance(node, ast.Attribute) and node.attr == "track"
        )

    found = []
    files = [PROJECT_ROOT / "app.py", *sorted((PROJECT_ROOT / "app_pages").glob("*.py"))]
    files.append(PROJECT_ROOT / "ui" / "step_done.py")  # the one-click "sent" of two pages
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            if is_track(node.func):
                event = node.args[0]
                assert isinstance(event, ast.Constant), f"{path.name}:{node.lineno}"
                keys = {k.arg for k in node.keywords if k.arg}
                found.append((path.name, node.lineno, str(event.value), keys))
            if isinstance(node.func, ast.Attribute) and node.func.attr == "after":
                event = node.args[1]  # telemetry.after(change, "event", key=...)
                assert isinstance(event, ast.Constant), f"{path.name}:{node.lineno}"
                keys = {k.arg for k in node.keywords if k.arg}
                found.append((path.name, node.lineno, str(event.value), keys))
            keywords = {k.arg: k.value for k in node.keywords}
            if "on_click" in keywords and is_track(keywords["on_click"]):
                args, kwargs = keywords.get("args"), keywords.get("kwargs")
                assert isinstance(args, ast.Tuple) and isinstance(args.elts[0], ast.Constant)
                keys = set()
                if isinstance(kwargs, ast.Dict):
                    keys = {str(k.value) for k in kwargs.keys if isinstance(k, ast.Constant)}
                found.append((path.name, node.lineno, str(args.elts[0].value), keys))
    return found


def test_every_track_call_in_the_app_is_allow_listed() -> None:
    calls = _track_calls()
    assert {"outcomes_downloaded", "step_recorded"} <= {event for _, _, event, _ in calls}
    for file, line, event, keys in calls:
        assert event in telemetry.EVENTS, f"{file}:{line}: unknown event {event!r}"
        assert keys <= telemetry.EVENTS[event], f"{file}:{line}: {keys - telemetry.EVENTS[event]}"


@pytest.mark.parametrize(
    "name,props,implied",
    [
        # the initial email recorded as sent
        (
            "step_recorded",
            {"customer_id": "acme", "step": "initial_outreach", "status": "done"},
            [("outreach_sent", {"customer_id": "acme", "kind": "initial"})],
        ),
        (
            "step_recorded",
            {"customer_id": "acme", "step": "final_outreach", "status": "done", "source": "today"},
            [("outreach_sent", {"customer_id": "acme", "kind": "final"})],
        ),
        # skipped is not sent
        (
            "step_recorded",
            {"customer_id": "acme", "step": "final_outreach", "status": "skipped"},
            [],
        ),
        # a call is not an email
        ("step_recorded", {"customer_id": "acme", "step": "first_meeting", "status": "done"}, []),
        ("page_viewed", {"page": "today"}, []),
    ],
)
def test_follow_ups(name: str, props: dict[str, Any], implied: list[Any]) -> None:
    assert telemetry.follow_ups(name, props) == implied
    for event, properties in implied:
        telemetry.build(event, "dana", properties)  # allow-listed
