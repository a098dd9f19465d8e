"""The homework builder: the library, the condition language, suggestions, the
builder, the follow-up email, and verification after an import."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lib import demo, homework, ingest, labels
from lib.demo import homework_history_store
from lib.homework import Facts, HomeworkError, LibraryError
from lib.meetings import Attendee, GoalInput, MeetingView
from lib.store import db, models
from lib.vocabulary import PRODUCTS
from tests.db_support import write

AS_OF = dt.date(2026, 4, 14)
LIBRARY = homework.load_library()


def days_back(n: int) -> list[dt.date]:
    return [AS_OF - dt.timedelta(days=i) for i in range(n)]


def daily(values: dict[str, list[float]]) -> dict[str, dict[dt.date, float]]:
    """Metric -> values newest first (index 0 = AS_OF)."""
    return {m: dict(zip(days_back(len(v)), v, strict=True)) for m, v in values.items()}


# ------------------------------------------------------------------ library


def test_library_is_complete() -> None:
    assert len(LIBRARY.tasks) >= 25
    ids = [t.id for t in LIBRARY.tasks]
    assert len(ids) == len(set(ids))
    for task in LIBRARY.tasks:
        assert task.title and task.why and task.steps and task.shows_in, task.id
        assert task.docs_url.startswith("https://posthog.com/"), task.id
        assert set(task.products) <= set(PRODUCTS), task.id
        assert task.use_cases, task.id
    verifiable = [t for t in LIBRARY.tasks if t.verify is not None]
    assert len(verifiable) >= 20  # most tasks can be confirmed from data
    # The tasks the issue names are there.
    for wanted in (
        "reverse_proxy",
        "person_profiles_identified_only",
        "define_actions",
        "activation_funnel",
        "replay_min_duration",
        "billing_limit",
        "bootstrap_flags",
        "kpi_dashboard",
        "invite_team",
    ):
        assert LIBRARY.get(wanted) is not None, wanted


def test_every_audit_rule_has_homework() -> None:
    rules = {
        "identify_overcalled",
        "groupidentify_overcalled",
        "anonymous_person_profiles",
        "autocapture_unused",
        "replay_short_recordings",
        "dev_traffic",
        "unused_group_analytics",
        "unused_data_pipelines",
        "flag_local_eval_polling",
        "flag_requests_per_session",
        "usage_spike",
        "identity_merge_errors",
        "outdated_sdk",
        "no_billing_limit",
        "low_adoption",
        "plan_fit_annual",
    }
    covered = {rule for t in LIBRARY.tasks for rule in t.findings}
    assert rules <= covered, rules - covered


@pytest.mark.parametrize(
    "cond,message",
    [
        ({"sum": "eventz", "days": 7, "op": ">", "value": 0}, "unknown metric"),  # typo
        ({"sum": "events", "op": ">", "value": 0}, "days"),  # no window
        ({"sum": "events", "days": 0, "op": ">", "value": 0}, "days"),  # empty window
        ({"sum": "events", "days": 7, "op": "=~", "value": 0}, "op"),  # unknown operator
        ({"sum": "events", "days": 7, "op": ">", "value": "0"}, "number"),  # text, not number
        ({"sum": "events", "days": 7, "op": ">", "value": 0, "when": "x"}, "unexpected keys"),
        ({"ratio": ["events"], "days": 7, "op": "<", "value": 0.5}, "numerator, denominator"),
        (
            {"days_with": "events", "days": 7, "op": ">", "value": 0, "at_least": 8},
            "at_least",
        ),  # more days than the window has
        ({"config": "autocaptur", "op": "==", "value": "on"}, "unknown config key"),
        ({"billing_limit": "everything"}, "billing_limit"),
        ({"subscribed": "replay", "value": False}, "unknown product"),
        ({"all": []}, "non-empty list"),
        ({"sum": "events", "config": "sdk", "days": 7, "op": ">", "value": 0}, "exactly one"),
        ({"expr": "__import__('os')"}, "exactly one"),  # no code, ever
        ("events > 0", "expected a table"),
        ({"not": {"max": "active_users"}}, "days"),  # nested errors name their path
    ],
)
def test_bad_conditions_are_refused(cond: Any, message: str) -> None:
    with pytest.raises(LibraryError, match=message):
        homework.parse_condition(cond)


def test_library_errors_name_the_task(tmp_path: Path) -> None:
    bad = tmp_path / "tasks.toml"
    bad.write_text(
        '[use_cases]\nx = ["x"]\n[[task]]\nid = "t1"\ntitle = "T"\nwhy = "W"\n'
        'steps = ["s"]\ndocs_url = "https://posthog.com/docs"\nuse_cases = ["x"]\n'
        'verify = { sum = "nope", days = 7, op = ">", value = 0 }\n'
    )
    with pytest.raises(LibraryError, match=r"task 't1'.verify: unknown metric 'nope'"):
        homework.load_library(bad)


# ------------------------------------------------------- condition language

FACTS = Facts(
    as_of=AS_OF,
    daily=daily(
        {
            "events": [1000] * 7 + [5000] * 7,
            "autocapture_events": [300] * 7 + [4000] * 7,  # 30% lately, 80% the week before
            "insights_viewed": [2, 0, 1, 3, 0, 4, 1],  # 5 of the last 7 days
            "active_users": [1, 2, 4, 1, 1, 0, 0],
            "sessions": [100] * 7,
            "identify_events": [150] * 7,
            "merge_warnings": [0] * 6 + [3],  # one old warning, 7 days ago
        }
    ),
    config={"person_profiles": "identified_only", "replay_min_duration_s": "1.5", "sdk": "web"},
    subscriptions={"product_analytics": None, "session_replay": 250.0},
)


@pytest.mark.parametrize(
    "cond,ok,evidence",
    [
        # the first example: autocapture share below 50% over 7 days
        (
            {"ratio": ["autocapture_events", "events"], "days": 7, "op": "<", "value": 0.5},
            True,
            "autocapture_events 30% of 7,000 events over the 7 days to 2026-04-14 (needs < 50%)",
        ),
        # over 14 days the old week pulls it to 72%
        (
            {"ratio": ["autocapture_events", "events"], "days": 14, "op": "<", "value": 0.5},
            False,
            "72% of 42,000 events",
        ),
        # the second example: insights viewed on 5 of the last 7 days
        (
            {"days_with": "insights_viewed", "days": 7, "op": ">", "value": 0, "at_least": 5},
            True,
            "insights_viewed > 0 on 5 of the 7 days to 2026-04-14 (needs 5 of 7 days)",
        ),
        (
            {"days_with": "insights_viewed", "days": 3, "op": ">", "value": 0, "at_least": 3},
            False,
            "on 2 of",
        ),  # the middle day of three had none
        ({"sum": "insights_viewed", "days": 7, "op": ">=", "value": 11}, True, "11 over"),
        ({"max": "active_users", "days": 7, "op": ">=", "value": 3}, True, "at most 4 a day"),
        ({"max": "active_users", "days": 2, "op": ">=", "value": 3}, False, "at most 2 a day"),
        (
            {
                "ratio": ["identify_events", "sessions"],
                "days": 7,
                "op": "<=",
                "value": 2,
                "unit": "per",
            },
            True,
            "1.50 identify_events per session",
        ),
        ({"sum": "merge_warnings", "days": 6, "op": "==", "value": 0}, True, "0 over"),
        ({"sum": "merge_warnings", "days": 7, "op": "==", "value": 0}, False, "3 over"),
        ({"sum": "exceptions", "days": 7, "op": ">", "value": 0}, False, "exceptions: 0"),
        (
            {"ratio": ["short_recordings", "recordings"], "days": 7, "op": "<", "value": 0.2},
            False,
            "no recordings",
        ),  # no denominator: not shown
        (
            {"config": "person_profiles", "op": "==", "value": "identified_only"},
            True,
            "= identified_only",
        ),
        (
            {"config": "replay_min_duration_s", "op": ">=", "value": 2},
            False,
            "= 1.5 (needs >= 2)",
        ),  # numbers as numbers
        ({"config": "autocapture_actions", "op": ">=", "value": 3}, False, "is not set"),
        (
            {"config": "sdk", "op": ">=", "value": 2},
            False,
            "sdk = web",
        ),  # text vs number: false, not an error
        ({"billing_limit": "any"}, True, "billing limit set on session_replay"),
        ({"billing_limit": "product_analytics"}, False, "not set"),
        ({"subscribed": "group_analytics", "value": False}, True, "not subscribed"),
        (
            {
                "any": [
                    {"config": "autocapture", "op": "==", "value": "off"},
                    {"ratio": ["autocapture_events", "events"], "days": 7, "op": "<", "value": 0.5},
                ]
            },
            True,
            "autocapture_events 30%",
        ),  # any: the evidence is the part that holds
        (
            {
                "all": [
                    {"billing_limit": "any"},
                    {"max": "active_users", "days": 7, "op": ">=", "value": 5},
                ]
            },
            False,
            "billing limit set on session_replay; active_users",
        ),  # all: every part's evidence
        ({"not": {"billing_limit": "any"}}, False, "not (billing limit set"),
    ],
)
def test_evaluate(cond: dict[str, Any], ok: bool, evidence: str) -> None:
    check = homework.evaluate(homework.parse_condition(cond), FACTS)
    assert check.ok is ok
    assert evidence in check.evidence, check.evidence


@pytest.mark.parametrize(
    "since,ok,evidence",
    [
        (None, True, "on 5 of the 7 days"),  # no clipping before sending
        (AS_OF - dt.timedelta(days=6), True, "on 5 of the 7 days"),  # sent 7 days ago: full window
        (
            AS_OF - dt.timedelta(days=3),
            False,
            "on 3 of the 4 day(s) since 2026-04-11",
        ),  # too few days
        (AS_OF + dt.timedelta(days=1), False, "no usage since 2026-04-15 yet"),  # nothing after it
    ],
)
def test_usage_since_the_homework_was_sent(since: dt.date | None, ok: bool, evidence: str) -> None:
    cond = {"days_with": "insights_viewed", "days": 7, "op": ">", "value": 0, "at_least": 5}
    check = homework.evaluate(homework.parse_condition(cond), FACTS.clipped(since))
    assert check.ok is ok
    assert evidence in check.evidence, check.evidence


def test_no_usage_at_all() -> None:
    cond = homework.parse_condition({"sum": "events", "days": 7, "op": ">", "value": 0})
    check = homework.evaluate(cond, Facts(None))
    assert not check.ok and check.evidence == "no usage imported yet"


def test_every_library_condition_evaluates() -> None:
    for task in LIBRARY.tasks:
        if task.verify is not None:
            homework.evaluate(task.verify, FACTS)  # no KeyError, no crash
            homework.evaluate(task.verify, Facts(None))


# -------------------------------------------------------------- suggestions


class F:
    def __init__(self, rule: str, severity: str = "high", state: str = "open") -> None:
        self.rule, self.severity, self.state, self.title = rule, severity, state, rule


EMPTY = Facts(as_of=None)
ALL_PRODUCTS = list(PRODUCTS)


@pytest.mark.parametrize(
    "findings,products,goals,facts,assigned,check",
    [
        # an open high finding puts its fix first
        (
            [F("anonymous_person_profiles")],
            ["product_analytics"],
            [],
            EMPTY,
            [],
            lambda ids: ids[0] == "person_profiles_identified_only",
        ),
        # a fixed finding does not
        (
            [F("anonymous_person_profiles", state="fixed")],
            ["product_analytics"],
            [],
            EMPTY,
            [],
            lambda ids: ids[0] != "person_profiles_identified_only",
        ),
        # high beats medium
        (
            [F("outdated_sdk", "medium"), F("dev_traffic", "high")],
            ["product_analytics"],
            [],
            EMPTY,
            [],
            lambda ids: ids[:2] == ["separate_dev_project", "upgrade_sdk"],
        ),
        # a goal from the second call ranks the tasks of its use case
        (
            [],
            ["product_analytics"],
            [GoalInput("Raise activation rate", "40%")],
            EMPTY,
            [],
            lambda ids: ids[0] == "activation_funnel",
        ),
        # any KPI goal suggests a dashboard for it
        (
            [],
            ["product_analytics"],
            [GoalInput("Grow weekly paying teams")],
            EMPTY,
            [],
            lambda ids: "kpi_dashboard" in ids[:3],
        ),
        # no session replay: replay configuration tasks are left out
        (
            [F("replay_short_recordings")],
            ["product_analytics"],
            [],
            EMPTY,
            [],
            lambda ids: "replay_min_duration" not in ids and "watch_recordings" not in ids,
        ),
        # ...but an invitation to try a new product may appear
        (
            [],
            ["product_analytics"],
            [GoalInput("Collect NPS feedback")],
            EMPTY,
            [],
            lambda ids: ids[0] == "first_survey",
        ),
        # already assigned tasks are not suggested again
        (
            [F("anonymous_person_profiles")],
            ["product_analytics"],
            [],
            EMPTY,
            ["person_profiles_identified_only"],
            lambda ids: "person_profiles_identified_only" not in ids,
        ),
        # a task whose condition already holds sinks below the tasks still to do
        (
            [F("anonymous_person_profiles")],
            ["product_analytics"],
            [],
            FACTS,  # person_profiles is identified_only already
            [],
            # below tasks with nothing to show for, such as the reverse proxy (2 points)
            lambda ids: ids.index("person_profiles_identified_only") > ids.index("reverse_proxy"),
        ),
    ],
)
def test_suggest(
    findings: list[F],
    products: list[str],
    goals: list[GoalInput],
    facts: Facts,
    assigned: list[str],
    check: Callable[[list[str]], bool],
) -> None:
    ranked = homework.suggest(LIBRARY, findings, products, goals, facts, assigned, limit=None)
    ids = [s.task.id for s in ranked]
    assert check(ids), ids


def test_suggestion_reasons_and_limit() -> None:
    ranked = homework.suggest(
        LIBRARY,
        [F("autocapture_unused")],
        ALL_PRODUCTS,
        [GoalInput("Activation")],
        FACTS,
    )
    assert len(ranked) == homework.SUGGESTION_LIMIT
    top = ranked[0]
    assert top.task.id in ("define_actions", "trim_autocapture")
    assert "fixes: autocapture_unused" in top.reasons
    trim = next(
        s
        for s in homework.suggest(LIBRARY, [], ALL_PRODUCTS, [], FACTS, limit=None)
        if s.task.id == "trim_autocapture"
    )
    assert trim.already_true and "30%" in trim.already_true
    # "uses ..." names the products by their labels, never their codes.
    every = homework.suggest(LIBRARY, [], ALL_PRODUCTS, [], FACTS, limit=None)
    uses = [r for s in every for r in s.reasons if r.startswith("uses ")]
    assert uses and not [r for r in uses if "_" in r], uses
    assert any(labels.label("product", "product_analytics") in r for r in uses), uses


# ---------------------------------------------------------------- database


@pytest.fixture
def acme(engine: Engine) -> str:
    with db.write_session(engine, "test") as session:
        session.add(
            models.Customer(
                customer_id="acme",
                name="Acme",
                owner="dana",
                segment_entered_on=dt.date(2026, 3, 2),
            )
        )
        session.flush()  # no ORM relationships: the customer must exist first
        session.add(models.Subscription(customer_id="acme", product="product_analytics"))
        session.add(models.ConfigValue(customer_id="acme", key="person_profiles", value="always"))
    return "acme"


def _list(engine: Engine) -> list[homework.AssignmentView]:
    with db.read_session(engine) as session:
        return homework.assignments(session, "acme")


def test_builder_add_reorder_edit_remove(engine: Engine, acme: str) -> None:
    a = write(engine, "dana", homework.add, "acme", "person_profiles_identified_only")
    b = write(engine, "dana", homework.add, "acme", "kpi_dashboard")
    c = write(
        engine,
        "dana",
        homework.add,
        "acme",
        "custom",
        title="Share the dashboard in Slack",
        body="",
    )
    assert [v.id for v in _list(engine)] == [a, b, c]
    first = _list(engine)[0]
    assert first.body.startswith("Anonymous traffic") and "1. Set `person_profiles" in first.body
    assert first.docs_url and first.verifiable
    custom = _list(engine)[2]
    assert custom.docs_url is None and not custom.verifiable
    write(engine, "dana", homework.move, c, -2)
    assert [v.id for v in _list(engine)] == [c, a, b]
    write(engine, "dana", homework.move, c, -1)  # already first: nothing moves
    write(engine, "dana", homework.move, a, +5)  # past the end: last
    assert [(v.id, v.position) for v in _list(engine)] == [(c, 0), (b, 1), (a, 2)]
    write(engine, "dana", homework.edit, b, "Build the activation dashboard", "Our words **here**")
    assert _list(engine)[1].title == "Build the activation dashboard"
    assert _list(engine)[1].body == "Our words **here**"
    write(engine, "dana", homework.remove, c)
    assert [(v.id, v.position) for v in _list(engine)] == [(b, 0), (a, 1)]


@pytest.mark.parametrize(
    "action,message",
    [
        (lambda s: homework.add(s, "acme", "no_such_task"), "unknown homework task"),
        (lambda s: homework.add(s, "nobody", "billing_limit"), "does not exist"),
        (lambda s: homework.add(s, "acme", "custom", title="  "), "needs a title"),
        (lambda s: homework.mark_sent(s, "acme", AS_OF), "no draft homework"),
        (lambda s: homework.remove(s, 999), "does not exist"),
    ],
)
def test_builder_refuses(
    engine: Engine, acme: str, action: Callable[[Session], Any], message: str
) -> None:
    with pytest.raises(HomeworkError, match=message):
        write(engine, "dana", action)


def test_the_same_task_twice_is_refused(engine: Engine, acme: str) -> None:
    write(engine, "dana", homework.add, "acme", "billing_limit")
    with pytest.raises(HomeworkError, match="already in"):
        write(engine, "dana", homework.add, "acme", "billing_limit")


def _usage_csv(rows: list[tuple[dt.date, str, int]]) -> ingest.Source:
    lines = ["customer_id,date,metric,value"]
    lines += [f"acme,{d.isoformat()},{m},{v}" for d, m, v in rows]
    return ingest.Source("usage.csv", ("\n".join(lines) + "\n").encode())


def import_csv(engine: Engine, sources: list[ingest.Source]) -> None:
    """An import as the command line makes it: validated, then one unit of work."""
    loaded, warnings = ingest.validate_sources(sources)
    with db.write_session(engine, "cli") as session:
        ingest.write(session, loaded, dt.date.today(), warnings)


def test_send_then_verify_after_import(engine: Engine, acme: str) -> None:
    sent_on = dt.date(2026, 4, 7)
    # Before sending, the team viewed insights every day: that must not count.
    import_csv(
        engine,
        [_usage_csv([(sent_on - dt.timedelta(days=i), "insights_viewed", 3) for i in range(1, 8)])],
    )
    profiles = write(engine, "dana", homework.add, "acme", "person_profiles_identified_only")
    dashboard = write(engine, "dana", homework.add, "acme", "kpi_dashboard")
    proxy = write(engine, "dana", homework.add, "acme", "reverse_proxy")  # no condition: by hand
    assert write(engine, "dana", homework.mark_sent, "acme", sent_on, dt.date(2026, 4, 21)) == 3
    with db.read_session(engine) as session:
        step = session.scalar(select(models.Step).where(models.Step.step == "homework"))
        assert step is not None and (step.status, step.date) == ("done", sent_on)
        assert step.note == "Homework sent: 3 task(s); next check-in 2026-04-21"
    views = {v.id: v for v in _list(engine)}
    assert all(v.status == "sent" for v in views.values())
    assert views[dashboard].evidence and views[dashboard].evidence.startswith(
        "not yet: no usage since"
    )

    # Three days of data after sending: dashboards seen daily, config switched.
    after = [sent_on + dt.timedelta(days=i) for i in range(3)]
    config = ingest.Source(
        "config.csv", b"customer_id,key,value\nacme,person_profiles,identified_only\n"
    )
    import_csv(engine, [_usage_csv([(d, "insights_viewed", 2) for d in after]), config])
    views = {v.id: v for v in _list(engine)}
    assert views[profiles].status == "done" and views[profiles].verified_by == "data"
    assert (
        views[profiles].evidence == "person_profiles = identified_only (needs == identified_only)"
    )
    assert views[dashboard].status == "sent"  # 3 of 5 days so far
    assert "on 3 of the 3 day(s) since 2026-04-07" in (views[dashboard].evidence or "")
    assert views[proxy].status == "sent" and views[proxy].evidence is None

    # Two more days: five of the last seven, all after sending.
    more = [sent_on + dt.timedelta(days=i) for i in range(3, 5)]
    import_csv(engine, [_usage_csv([(d, "insights_viewed", 1) for d in more])])
    views = {v.id: v for v in _list(engine)}
    assert views[dashboard].status == "done"
    assert views[dashboard].done_on == dt.date(2026, 4, 11)  # the day the data showed it
    assert "insights_viewed > 0 on 5 of" in (views[dashboard].evidence or "")

    # Re-importing the same file writes nothing more (no new audit entries).
    with db.read_session(engine) as session:
        before = len(session.scalars(select(models.AuditLog.id)).all())
    import_csv(engine, [_usage_csv([(d, "insights_viewed", 1) for d in more])])
    with db.read_session(engine) as session:
        assert len(session.scalars(select(models.AuditLog.id)).all()) == before

    # The proxy is ticked by hand; then the summary counts all three.
    write(engine, "dana", homework.tick, proxy, True, on=dt.date(2026, 4, 12))
    with db.read_session(engine) as session:
        summary = homework.completion_summary(session, "acme")
    assert (summary.total, summary.done, summary.done_by_data) == (3, 3, 2)
    assert summary.line() == "3 of 3 homework tasks done (2 confirmed in your data)."
    assert "- [x] Send events through a reverse proxy" in summary.markdown()
    write(engine, "dana", homework.tick, proxy, False)
    assert {v.id: v.status for v in _list(engine)}[proxy] == "sent"
    with pytest.raises(HomeworkError, match="already sent"):
        write(engine, "dana", homework.remove, proxy)


def test_draft_items_are_not_verified_or_summarised(engine: Engine, acme: str) -> None:
    write(engine, "dana", homework.add, "acme", "person_profiles_identified_only")
    config = ingest.Source(
        "config.csv", b"customer_id,key,value\nacme,person_profiles,identified_only\n"
    )
    import_csv(engine, [config])
    (view,) = _list(engine)
    assert view.status == "draft" and view.evidence is None
    with db.read_session(engine) as session:
        summary = homework.completion_summary(session, "acme")
    assert summary.total == 0 and summary.line() == "No homework was sent."
    with pytest.raises(HomeworkError, match="send the homework"):
        write(engine, "dana", homework.tick, view.id, True)


# ------------------------------------------------------------------- email


def test_email_markdown_and_text() -> None:
    items = [
        homework.EmailItem(
            "Set a billing limit",
            "Why it matters.\n\n1. Open Billing.",
            "https://posthog.com/docs/billing/limits-alerts",
        ),
        homework.EmailItem("Share the dashboard", "In Slack.", None),
    ]
    recap = homework.default_recap("first", dt.date(2026, 3, 11), ["Identify called too often"], [])
    email = homework.render_email("Acme", ["Ann", "Bo"], "Dana", recap, items, dt.date(2026, 3, 25))
    assert email.subject == "Your PostHog homework, Acme"
    md, text = email.markdown, email.text
    assert md.startswith("Hi Ann, Bo,")
    assert "Thanks for the call on Wednesday 11 March." in md
    assert "- Identify called too often" in md
    assert "### 1. Set a billing limit" in md and "### 2. Share the dashboard" in md
    assert "[How to do it in the docs](https://posthog.com/docs/billing/limits-alerts)" in md
    assert md.count("How to do it in the docs") == 1  # no link for the custom item
    assert "**Wednesday 25 March**" in md
    assert md.rstrip().endswith("Dana")
    assert (
        "1. Set a billing limit" in text
        and "   Docs: https://posthog.com/docs/billing/limits-alerts" in text
    )
    assert "](" not in text and "###" not in text and "**" not in text
    assert "Wednesday 25 March" in text


def test_email_without_check_in_or_recipients() -> None:
    email = homework.render_email("Acme", [], "Dana", "", [], None)
    assert email.markdown.startswith("Hi there,")
    assert "check in with you on" not in email.text


def test_recap_with_goals() -> None:
    recap = homework.default_recap(
        "second",
        dt.date(2026, 3, 25),
        [],
        [GoalInput("Activation rate", "40%", dt.date(2026, 6, 30)), GoalInput("Fewer bugs")],
    )
    assert "second call on Wednesday 25 March" in recap
    assert "- Activation rate: 40% by 30 June 2026" in recap
    assert "- Fewer bugs" in recap


def _call(kind: str, attendees: list[Attendee], fixed: tuple[str, ...]) -> MeetingView:
    return MeetingView(
        id=1,
        customer_id="acme",
        customer_name="Acme",
        kind=kind,
        owner="dana",
        starts_at=dt.datetime(2026, 3, 11, 15, 0),
        timezone="UTC",
        duration_min=30,
        attendees=tuple(attendees),
        agenda="",
        status="held",
        notes="",
        fixed_rules=fixed,
        second_call_offered=None,
        second_call_accepted=None,
        goals=(),
        version=1,
        updated_by=None,
        updated_at=None,
    )


PEOPLE = [
    Attendee("Ann Lee", "ann@acme.test"),
    Attendee("Dana", "dana@us.test", side="team"),
    Attendee("Bo", "bo@acme.test"),
]


@pytest.mark.parametrize(
    "call,wanted,unwanted",
    [
        (None, ["Thanks for your time."], ["Together we fixed"]),
        (
            _call("first", PEOPLE, ("identify_overcalled", "gone_rule")),
            ["call on Wednesday 11 March", "- Identify called too often", "- gone_rule"],
            ["goals you shared"],  # goals only after the second call
        ),
        (_call("second", [], ()), ["second call on", "- Activation rate: 40%"], ["fixed"]),
    ],
)
def test_recap_for_the_last_call(
    call: MeetingView | None, wanted: list[str], unwanted: list[str]
) -> None:
    titles = {"identify_overcalled": "Identify called too often"}
    recap = homework.recap_for(call, titles, [GoalInput("Activation rate", "40%")])
    assert all(w in recap for w in wanted), recap
    assert not any(u in recap for u in unwanted), recap


def test_greeting_names_the_customers_people() -> None:
    assert homework.greeting_for(_call("first", PEOPLE, ())) == "Ann, Bo"
    assert homework.greeting_for(None) == ""


@pytest.mark.parametrize(
    "verified_by,verifiable,checked_by",
    [
        ("data", True, "data"),
        ("hand", True, "hand"),
        (None, True, "data, after each import"),
        (None, False, "tick by hand"),
    ],
)
def test_who_checks_an_item(verified_by: str | None, verifiable: bool, checked_by: str) -> None:
    item = homework.AssignmentView(
        1, "acme", "t", "T", "", 0, "sent", AS_OF, None, verified_by, None, None, verifiable
    )
    assert item.checked_by == checked_by


def test_browse_the_library() -> None:
    assert LIBRARY.browse() == list(LIBRARY.tasks)
    replay = LIBRARY.browse(["session_replay"], exclude={"replay_min_duration"})
    assert replay and all("session_replay" in t.products for t in replay)
    assert "replay_min_duration" not in [t.id for t in replay]
    both = LIBRARY.browse(["session_replay"], ["cost_control"])
    assert both and all("cost_control" in t.use_cases for t in both)
    assert set(both) <= set(LIBRARY.browse(["session_replay"]))


# -------------------------------------------------------------------- demo


def test_demo_assignments(engine: Engine) -> None:
    as_of = dt.date(2026, 3, 16)
    with db.write_session(engine, "demo") as session:
        demo.load(session, demo.generate(customers=40, seed=3, as_of=as_of))
    with db.write_session(engine, "demo") as session:
        count = homework_history_store.assign_homework(session, as_of)
    assert count > 0
    with db.read_session(engine) as session:
        rows = session.scalars(select(models.HomeworkAssignment)).all()
        homework_done = set(
            session.scalars(
                select(models.Step.customer_id).where(
                    models.Step.step == "homework", models.Step.status == "done"
                )
            )
        )
    assert len(rows) == count
    assert {r.customer_id for r in rows} <= homework_done
    assert all(r.status in ("sent", "done") and r.sent_on for r in rows)
    assert any(r.status == "done" and r.verified_by == "data" for r in rows) or count < 6
    with db.write_session(engine, "demo") as session:
        assert homework_history_store.assign_homework(session, as_of) == 0  # once only
