"""The meeting tracker: times and zones, scheduling, outcomes and the timeline,
concurrent edits, and the .ics invite (parsed back with icalendar)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from types import SimpleNamespace

import icalendar
import pytest
from sqlalchemy import Engine, select

from lib import meetings
from lib.errors import UserError
from lib.meetings import (
    Attendee,
    CallFact,
    GoalInput,
    MeetingConflict,
    MeetingError,
    MeetingUpdate,
    ScheduleRequest,
    ics,
)
from lib.program import step_store
from lib.store import db, models
from tests import db_support

ENTERED = dt.date(2026, 3, 2)  # a Monday; first call window: 9-22 March
NOW = dt.datetime(2026, 3, 12, 12, 0)  # UTC
CUSTOMER = [Attendee("Ann Lee", "ann@acme.example"), Attendee("Bo Chen", "bo@acme.example")]


# ------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    "local,tz,utc",
    [
        # winter: Berlin is UTC+1
        (dt.datetime(2026, 3, 10, 15, 0), "Europe/Berlin", dt.datetime(2026, 3, 10, 14, 0)),
        # summer (after 29 March): UTC+2
        (dt.datetime(2026, 4, 10, 15, 0), "Europe/Berlin", dt.datetime(2026, 4, 10, 13, 0)),
        # New York evening is the next UTC day
        (dt.datetime(2026, 3, 10, 21, 0), "America/New_York", dt.datetime(2026, 3, 11, 1, 0)),
        # fall back: 01:30 happens twice in New York; the first (EDT, UTC-4) is meant
        (dt.datetime(2026, 11, 1, 1, 30), "America/New_York", dt.datetime(2026, 11, 1, 5, 30)),
        (dt.datetime(2026, 3, 10, 9, 0), "UTC", dt.datetime(2026, 3, 10, 9, 0)),  # no offset
    ],
)
def test_to_utc(local: dt.datetime, tz: str, utc: dt.datetime) -> None:
    assert meetings.to_utc(local, tz) == utc
    assert meetings.to_local(utc, tz).replace(tzinfo=None) == local


@pytest.mark.parametrize(
    "local,tz,message",
    [
        # spring forward: 02:30 does not exist in Berlin on 29 March 2026
        (dt.datetime(2026, 3, 29, 2, 30), "Europe/Berlin", "does not exist"),
        (dt.datetime(2026, 3, 10, 9, 0), "Mars/Olympus", "unknown time zone"),  # not a zone
    ],
)
def test_to_utc_refuses(local: dt.datetime, tz: str, message: str) -> None:
    with pytest.raises(MeetingError, match=message):
        meetings.to_utc(local, tz)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Ann Lee <ann@acme.example>", [("Ann Lee", "ann@acme.example")]),  # the usual form
        ("ann@acme.example", [("ann", "ann@acme.example")]),  # email only: name from it
        ("Ann Lee, ann@acme.example", [("Ann Lee", "ann@acme.example")]),  # comma form
        ('"Lee, Ann" <ann@acme.example>', [("Lee, Ann", "ann@acme.example")]),  # quoted name
        (
            "Ann <ann@acme.example>\n\n  Bo <bo@acme.example>  ",
            [("Ann", "ann@acme.example"), ("Bo", "bo@acme.example")],
        ),  # several, blank lines and spaces ignored
        ("", []),  # nobody
    ],
)
def test_parse_attendees(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(a.name, a.email) for a in meetings.parse_attendees(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ann Lee",  # no email
        "Ann <ann@acme>",  # no domain dot
        "ann@@acme.example",  # two @
    ],
)
def test_parse_attendees_refuses(text: str) -> None:
    with pytest.raises(MeetingError, match="line 1"):
        meetings.parse_attendees(text)


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "Activation rate | 40% | 2026-06-30",
            [GoalInput("Activation rate", "40%", dt.date(2026, 6, 30))],
        ),  # all three parts
        ("Fewer churned accounts", [GoalInput("Fewer churned accounts")]),  # name only
        ("Weekly actives | 5k", [GoalInput("Weekly actives", "5k")]),  # no date
        ("Revenue |  | 2026-12-31", [GoalInput("Revenue", None, dt.date(2026, 12, 31))]),
    ],
)
def test_parse_goals(text: str, expected: list[GoalInput]) -> None:
    assert meetings.parse_goals(text) == expected
    assert meetings.parse_goals(meetings.goals_text(expected)) == expected  # round trip


@pytest.mark.parametrize(
    "text,message",
    [
        ("Revenue | 1M | next year", "not a date"),
        (" | 40%", "expected `name"),
        ("a | b | 2026-01-01 | d", "expected `name"),
    ],
)
def test_parse_goals_refuses(text: str, message: str) -> None:
    with pytest.raises(MeetingError, match=message):
        meetings.parse_goals(text)


def _view(mid: int, starts_at: dt.datetime, status: str = "scheduled") -> meetings.MeetingView:
    return meetings.MeetingView(
        id=mid,
        customer_id="acme",
        customer_name="Acme",
        kind="first",
        owner="dana",
        starts_at=starts_at,
        timezone="UTC",
        duration_min=30,
        attendees=(),
        agenda="",
        status=status,
        notes="",
        fixed_rules=(),
        second_call_offered=None,
        second_call_accepted=None,
        goals=(),
        version=1,
        updated_by=None,
        updated_at=None,
    )


def test_upcoming_past_day_groups_and_week_view() -> None:
    views = [
        _view(1, dt.datetime(2026, 3, 10, 23, 30)),  # Tue 23:30 UTC = Wed 00:30 Berlin
        _view(2, dt.datetime(2026, 3, 12, 11, 45)),  # ends 12:15: still upcoming at NOW
        _view(3, dt.datetime(2026, 3, 16, 9, 0)),  # next Monday
        _view(4, dt.datetime(2026, 3, 11, 9, 0)),
    ]
    upcoming, past = meetings.split_upcoming(views, now=NOW)
    assert [m.id for m in upcoming] == [2, 3]
    assert [m.id for m in past] == [4, 1]  # latest first
    days = meetings.group_by_day(sorted(views, key=lambda m: m.starts_at), "Europe/Berlin")
    assert [(d.isoformat(), [m.id for m in ms]) for d, ms in days] == [
        ("2026-03-11", [1, 4]),  # 1 belongs to Wednesday in Berlin
        ("2026-03-12", [2]),
        ("2026-03-16", [3]),
    ]
    monday = meetings.week_start(dt.date(2026, 3, 12))
    assert monday == dt.date(2026, 3, 9)
    week = meetings.week_view(views, monday, "Europe/Berlin")
    assert list(week) == [monday + dt.timedelta(days=i) for i in range(7)]
    assert [m.id for m in week[dt.date(2026, 3, 11)]] == [1, 4]
    assert [m.id for m in week[dt.date(2026, 3, 10)]] == []  # in UTC it would be Tuesday
    assert all(m.id != 3 for ms in week.values() for m in ms)  # next week is out
    start, end = meetings.week_range_utc(monday, "Europe/Berlin")
    assert (start, end) == (dt.datetime(2026, 3, 8, 23, 0), dt.datetime(2026, 3, 15, 23, 0))


class _Finding:
    def __init__(self, rule: str, severity: str, saving: float, state: str = "open") -> None:
        self.rule, self.severity, self.est_monthly_saving_usd, self.state = (
            rule,
            severity,
            saving,
            state,
        )
        self.title = f"Title of {rule}"
        self.fix = f"fix {rule}"


@pytest.mark.parametrize(
    "findings,kind,lines_in_order,absent",
    [
        (
            [
                _Finding("outdated_sdk", "low", 0),
                _Finding("autocapture_unused", "high", 210.4),
                _Finding("dev_traffic", "high", 500),
                _Finding("identify_overcalled", "medium", 90),
            ],
            "first",
            [
                "1. Title of dev_traffic (about $500/month): fix dev_traffic",
                "2. Title of autocapture_unused (about $210/month)",
                "3. Title of identify_overcalled",
                "4. Title of outdated_sdk: fix outdated_sdk",
            ],
            [],
        ),  # most severe first, then the biggest saving; no dollars when there are none
        (
            [
                _Finding("dev_traffic", "high", 500, state="fixed"),
                _Finding("outdated_sdk", "low", 0),
            ],
            "first",
            ["1. Title of outdated_sdk"],
            ["dev_traffic"],
        ),  # fixed findings stay off the agenda
        ([], "first", ["the audit found nothing open"], []),  # nothing open
        (
            [_Finding("low_adoption", "medium", 0)],
            "second",
            ["goals and the KPIs", "Title of low_adoption"],
            [],
        ),  # the second call is about goals first
    ],
)
def test_agenda_from_findings(
    findings: list[_Finding], kind: str, lines_in_order: list[str], absent: list[str]
) -> None:
    agenda = meetings.agenda_from_findings(findings, kind)
    positions = [agenda.find(line) for line in lines_in_order]
    assert all(p >= 0 for p in positions), agenda
    assert positions == sorted(positions)
    assert all(a not in agenda for a in absent)


def test_agenda_keeps_to_a_few_findings() -> None:
    many = [_Finding(f"rule_{i}", "low", i) for i in range(8)]
    agenda = meetings.agenda_from_findings(many)
    assert "5. " in agenda and "6. " not in agenda
    assert "3 smaller points" in agenda


@pytest.mark.parametrize(
    "mine,theirs,who,expected",
    [
        ("Mine", "Theirs", "lee", "Mine\n\n--- from lee ---\nTheirs"),  # theirs appended
        ("Mine\n\n", "Theirs", None, "Mine\n\n--- from the other person ---\nTheirs"),
        ("Mine, and Theirs", " Theirs ", "lee", "Mine, and Theirs"),  # already in mine
        ("Mine", "  ", "lee", "Mine"),  # nothing of theirs to add
        ("", "Theirs", "lee", "\n\n--- from lee ---\nTheirs"),
    ],
)
def test_merge_notes(mine: str, theirs: str, who: str | None, expected: str) -> None:
    assert meetings.merge_notes(mine, theirs, who) == expected


# ------------------------------------------------------------ the database


@pytest.fixture
def acme(engine: Engine) -> str:
    with db.write_session(engine, "test") as session:
        session.add(
            models.Customer(
                customer_id="acme", name="Acme", owner="dana", segment_entered_on=ENTERED
            )
        )
    return "acme"


def _schedule(
    engine: Engine,
    local: dt.datetime,
    tz: str = "Europe/Berlin",
    kind: str = "first",
    user: str = "dana",
) -> int:
    with db.write_session(engine, user) as session:
        return meetings.schedule(
            session,
            ScheduleRequest(
                customer_id="acme",
                kind=kind,
                local_start=local,
                timezone=tz,
                duration_min=30,
                attendees=tuple(CUSTOMER),
                agenda="Fix the findings",
            ),
        )


def _get(engine: Engine, meeting_id: int) -> meetings.MeetingView:
    with db.read_session(engine) as session:
        return meetings.get(session, meeting_id)


def _save(
    engine: Engine,
    user: str,
    meeting_id: int,
    base: meetings.MeetingView,
    update: MeetingUpdate,
    now: dt.datetime,
) -> meetings.SaveResult:
    """One save in its own unit of work, as `user`."""
    with db.write_session(engine, user) as session:
        return meetings.save(session, meeting_id, base, update, now=now)


def _step(engine: Engine, step: str = "first_meeting") -> tuple[str, dt.date] | None:
    with db.read_session(engine) as session:
        row = session.scalar(
            select(models.Step).where(models.Step.customer_id == "acme", models.Step.step == step)
        )
        return (row.status, row.date) if row else None


def _timeline_status(engine: Engine, as_of: dt.date, step: str = "first_meeting") -> str:
    (rep,) = db_support.reports(engine, as_of, "acme")
    return rep.timeline.steps[step].status


def _update(view: meetings.MeetingView, **changes: object) -> MeetingUpdate:
    values: dict[str, object] = {
        "local_start": view.local_start.replace(tzinfo=None),
        "timezone": view.timezone,
        "duration_min": view.duration_min,
        "attendees": view.attendees,
        "agenda": view.agenda,
        "status": view.status,
        "notes": view.notes,
        "fixed_rules": view.fixed_rules,
        "second_call_offered": view.second_call_offered,
        "second_call_accepted": view.second_call_accepted,
    }
    values.update(changes)
    return MeetingUpdate(**values)  # type: ignore[arg-type]


def test_schedule_sets_the_step_on_the_local_day(engine: Engine, acme: str) -> None:
    # 00:30 in Tokyo on the 17th is still the 16th in UTC: the step carries the local day.
    mid = _schedule(engine, dt.datetime(2026, 3, 17, 0, 30), tz="Asia/Tokyo")
    view = _get(engine, mid)
    assert view.starts_at == dt.datetime(2026, 3, 16, 15, 30)
    assert view.status == "scheduled" and view.owner == "dana" and view.version == 1
    assert [a.email for a in view.attendees] == ["ann@acme.example", "bo@acme.example"]
    assert _step(engine) == ("scheduled", dt.date(2026, 3, 17))
    assert _timeline_status(engine, dt.date(2026, 3, 12)) == "scheduled"
    # Timeline rule 3 (docs/interface.md): once the day has passed without an outcome, it is overdue.
    assert _timeline_status(engine, dt.date(2026, 3, 18)) == "overdue"
    with db.read_session(engine) as session:
        logged = session.scalars(
            select(models.AuditLog.entity).where(models.AuditLog.customer_id == "acme")
        ).all()
    assert "meetings" in logged and "steps" in logged  # both writes are audited


@pytest.mark.parametrize(
    "request_changes,message",
    [
        ({"attendees": ()}, "at least one attendee"),  # nobody from the customer
        ({"kind": "third"}, "kind"),
        ({"duration_min": 0}, "duration"),
        ({"customer_id": "nobody"}, "does not exist"),
        ({"timezone": "Nowhere/Land"}, "unknown time zone"),
    ],
)
def test_schedule_refuses(
    engine: Engine, acme: str, request_changes: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {
        "customer_id": "acme",
        "kind": "first",
        "local_start": dt.datetime(2026, 3, 17, 15, 0),
        "timezone": "UTC",
        "duration_min": 30,
        "attendees": tuple(CUSTOMER),
    }
    values.update(request_changes)
    with pytest.raises(MeetingError, match=message):
        with db.write_session(engine, "dana") as session:
            meetings.schedule(session, ScheduleRequest(**values))  # type: ignore[arg-type]
    with db.read_session(engine) as session:
        assert session.scalar(select(models.Meeting.id)) is None  # nothing written


# What each outcome does to the step (as of 12 March, inside the 9-22 March window).
@pytest.mark.parametrize(
    "outcome,recorded,timeline_status",
    [
        ("held", ("done", dt.date(2026, 3, 11)), "done"),  # held: done on its day
        ("no_show", None, "due"),  # nothing pending: the window decides again
        ("cancelled", None, "due"),  # same as a no-show
        ("scheduled", ("scheduled", dt.date(2026, 3, 11)), "overdue"),  # no outcome yet: rule 3
    ],
)
def test_outcome_and_the_step(
    engine: Engine,
    acme: str,
    outcome: str,
    recorded: tuple[str, dt.date] | None,
    timeline_status: str,
) -> None:
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    view = _get(engine, mid)
    result = _save(
        engine, "dana", mid, view, _update(view, status=outcome, notes="Went **well**"), now=NOW
    )
    assert result.meeting.status == outcome
    assert result.meeting.version == 2
    assert _step(engine) == recorded
    assert _timeline_status(engine, NOW.date()) == timeline_status


def test_no_show_after_the_window_is_overdue(engine: Engine, acme: str) -> None:
    mid = _schedule(engine, dt.datetime(2026, 3, 20, 15, 0))
    view = _get(engine, mid)
    later = dt.datetime(2026, 3, 25, 9, 0)
    _save(engine, "dana", mid, view, _update(view, status="no_show"), now=later)
    assert _timeline_status(engine, later.date()) == "overdue"  # window ended on the 22nd


def test_rescheduled_creates_the_follow_up(engine: Engine, acme: str) -> None:
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    view = _get(engine, mid)
    result = _save(
        engine,
        "dana",
        mid,
        view,
        _update(view, status="rescheduled", rescheduled_to=dt.datetime(2026, 3, 19, 10, 0)),
        now=NOW,
    )
    assert result.new_meeting_id is not None
    follow_up = _get(engine, result.new_meeting_id)
    assert (follow_up.status, follow_up.local_start.replace(tzinfo=None)) == (
        "scheduled",
        dt.datetime(2026, 3, 19, 10, 0),
    )
    assert follow_up.attendees == view.attendees
    assert _get(engine, mid).status == "rescheduled"  # history kept
    assert _step(engine) == ("scheduled", dt.date(2026, 3, 19))
    # Saving the rescheduled meeting again (a note) makes no second follow-up.
    again = _get(engine, mid)
    second = _save(engine, "dana", mid, again, _update(again, notes="moved"), now=NOW)
    assert second.new_meeting_id is None
    with db.read_session(engine) as session:
        assert len(session.scalars(select(models.Meeting.id)).all()) == 2


def test_held_then_corrected_reverts_the_step(engine: Engine, acme: str) -> None:
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    view = _get(engine, mid)
    held = _save(engine, "dana", mid, view, _update(view, status="held"), now=NOW).meeting
    assert _step(engine) == ("done", dt.date(2026, 3, 11))
    _save(engine, "dana", mid, held, _update(held, status="no_show"), now=NOW)
    assert _step(engine) is None


def test_a_step_done_by_hand_is_never_undone(engine: Engine, acme: str) -> None:
    with db.write_session(engine, "lee") as session:
        session.add(
            models.Step(
                customer_id="acme", step="first_meeting", status="done", date=dt.date(2026, 3, 5)
            )
        )
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    assert _step(engine) == ("done", dt.date(2026, 3, 5))
    view = _get(engine, mid)
    _save(engine, "dana", mid, view, _update(view, status="cancelled"), now=NOW)
    assert _step(engine) == ("done", dt.date(2026, 3, 5))


def test_skipped_by_hand_is_revived_by_a_booking(engine: Engine, acme: str) -> None:
    with db.write_session(engine, "lee") as session:
        session.add(
            models.Step(customer_id="acme", step="second_meeting", status="skipped", date=ENTERED)
        )
    _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))  # the first call comes first
    _schedule(engine, dt.datetime(2026, 3, 25, 15, 0), kind="second")
    assert _step(engine, "second_meeting") == ("scheduled", dt.date(2026, 3, 25))


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"status": "held", "local_start": dt.datetime(2026, 3, 20, 15, 0)}, "once it has started"),
        ({"status": "rescheduled"}, "new date"),  # no new date given
        ({"status": "done"}, "outcome"),  # not an outcome
        ({"goals": (GoalInput("Activation"),)}, "second call"),  # goals belong to call two
        ({"second_call_offered": False, "second_call_accepted": True}, "only if it was offered"),
    ],
)
def test_save_refuses(engine: Engine, acme: str, changes: dict[str, object], message: str) -> None:
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    view = _get(engine, mid)
    with pytest.raises(MeetingError, match=message):
        _save(engine, "dana", mid, view, _update(view, **changes), now=NOW)
    assert _get(engine, mid).version == 1  # nothing written


def _first_call_held(engine: Engine, local: dt.datetime = dt.datetime(2026, 3, 11, 15, 0)) -> int:
    mid = _schedule(engine, local)
    view = _get(engine, mid)
    _save(engine, "dana", mid, view, _update(view, status="held"), now=NOW)
    return mid


def test_second_call_keeps_goals_on_the_customer(engine: Engine, acme: str) -> None:
    _first_call_held(engine)
    mid = _schedule(engine, dt.datetime(2026, 3, 25, 15, 0), kind="second")
    view = _get(engine, mid)
    goals = (
        GoalInput("Activation rate", "40%", dt.date(2026, 6, 30)),
        GoalInput("Weekly active teams", "200"),
    )
    now = dt.datetime(2026, 3, 26, 9, 0)
    saved = _save(
        engine, "dana", mid, view, _update(view, status="held", goals=goals), now=now
    ).meeting
    assert saved.goals == goals
    with db.read_session(engine) as session:
        assert meetings.customer_goals(session, "acme") == list(goals)
        first_ids = session.scalars(select(models.Goal.id).order_by(models.Goal.id)).all()
    # Editing keeps unchanged goals (same rows) and replaces the rest.
    edited = (goals[0], GoalInput("Weekly active teams", "250"))
    _save(engine, "dana", mid, saved, _update(saved, goals=edited), now=now)
    with db.read_session(engine) as session:
        assert meetings.customer_goals(session, "acme") == list(edited)
        ids = session.scalars(select(models.Goal.id).order_by(models.Goal.id)).all()
    assert ids[0] == first_ids[0] and ids[1] not in first_ids
    assert _step(engine, "second_meeting") == ("done", dt.date(2026, 3, 25))


def test_concurrent_edits_second_save_is_refused_and_explained(engine: Engine, acme: str) -> None:
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    opened_by_dana = _get(engine, mid)
    opened_by_lee = _get(engine, mid)
    _save(
        engine,
        "lee",
        mid,
        opened_by_lee,
        _update(opened_by_lee, status="held", notes="Lee's notes: fixed identify"),
        now=NOW,
    )
    dana_typed = _update(opened_by_dana, notes="Dana's long notes\n- they liked funnels")
    with pytest.raises(MeetingConflict) as refused:
        _save(engine, "dana", mid, opened_by_dana, dana_typed, now=NOW)
    conflict = refused.value
    changed = {c.field: c for c in conflict.changes}
    assert set(changed) == {"status", "notes"}  # what Lee changed, nothing else
    assert changed["notes"].before == "(empty)"
    assert changed["notes"].now == "Lee's notes: fixed identify"
    assert changed["notes"].yours == "Dana's long notes\n- they liked funnels"  # not lost
    assert changed["status"].now == "Held"
    assert "lee saved this meeting" in str(conflict) and "Notes" in str(conflict)
    assert conflict.current.version == 2
    stored = _get(engine, mid)
    assert stored.notes == "Lee's notes: fixed identify" and stored.version == 2
    # Dana merges the two texts and saves on top of Lee's version: accepted.
    merged = _update(conflict.current, notes=stored.notes + "\n" + dana_typed.notes)
    result = _save(engine, "dana", mid, conflict.current, merged, now=NOW)
    assert "Lee's notes" in result.meeting.notes and "Dana's long notes" in result.meeting.notes
    assert result.meeting.version == 3


def test_session_dict_round_trip(engine: Engine, acme: str) -> None:
    view = _get(engine, _schedule(engine, dt.datetime(2026, 3, 11, 15, 0)))
    assert meetings.from_session_dict(meetings.as_session_dict(view)) == view


def test_listing_filters(engine: Engine, acme: str) -> None:
    first = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    second = _schedule(engine, dt.datetime(2026, 3, 25, 15, 0), kind="second", user="lee")
    with db.read_session(engine) as session:

        def ids(**kw: object) -> list[int]:
            flt = meetings.MeetingFilter(**kw)  # type: ignore[arg-type]
            return [m.id for m in meetings.list_meetings(session, flt)]

        assert ids() == [first, second]
        assert ids(owner="lee") == [second]
        assert ids(kinds=("first",)) == [first]
        assert ids(statuses=("held",)) == []
        assert ids(start=dt.datetime(2026, 3, 20)) == [second]
        assert meetings.owners(session) == ["dana", "lee"]


# -------------------------------------------------------------------- .ics


def test_ics_invite_parses_back(engine: Engine, acme: str) -> None:
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0), tz="Europe/Berlin")
    view = _get(engine, mid)
    data = ics.invite(view, organizer_email="dana@posthog.example", organizer_name="Dana")
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["method"]) == "REQUEST" and str(cal["version"]) == "2.0"
    (event,) = cal.walk("VEVENT")
    start = event.decoded("dtstart")
    assert start == dt.datetime(2026, 3, 11, 15, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    assert event.decoded("dtend") - start == dt.timedelta(minutes=30)
    assert str(event["uid"]) == f"meeting-{mid}@onboarding-console"
    assert int(event["sequence"]) == 0
    assert str(event["summary"]) == "First call: Acme onboarding"
    assert str(event["description"]) == "Fix the findings"
    attendees = event["attendee"]
    assert [str(a) for a in attendees] == ["mailto:ann@acme.example", "mailto:bo@acme.example"]
    assert [a.params["CN"] for a in attendees] == ["Ann Lee", "Bo Chen"]
    assert str(event["organizer"]) == "mailto:dana@posthog.example"
    # The zone the event refers to is defined in the file.
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert ics.filename(view) == "acme-first-call-2026-03-11.ics"


def test_ics_cancelled_and_updated(engine: Engine, acme: str) -> None:
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0), tz="UTC")
    view = _get(engine, mid)
    cancelled = _save(engine, "dana", mid, view, _update(view, status="cancelled"), now=NOW).meeting
    cal = icalendar.Calendar.from_ical(ics.invite(cancelled, "dana@posthog.example"))
    (event,) = cal.walk("VEVENT")
    assert str(cal["method"]) == "CANCEL" and str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) == 1  # a later version of the same UID
    assert cal.walk("VTIMEZONE") == []  # UTC needs no zone definition


def test_fixed_findings_go_through_lib_findings(engine: Engine, acme: str) -> None:
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    view = _get(engine, mid)
    fixed = ("autocapture_unused", "identify_overcalled")
    held = _save(
        engine, "dana", mid, view, _update(view, status="held", fixed_rules=fixed), now=NOW
    )
    assert held.fixed == tuple(sorted(fixed)) and held.reopened == ()

    def states() -> dict[str, tuple[str, dt.date | None, str | None]]:
        with db.read_session(engine) as session:
            return {
                s.rule: (s.state, s.fixed_on, s.updated_by)
                for s in session.scalars(select(models.FindingState))
            }

    assert states() == {
        "autocapture_unused": ("fixed", dt.date(2026, 3, 11), "dana"),  # fixed on the call's day
        "identify_overcalled": ("fixed", dt.date(2026, 3, 11), "dana"),
    }
    # Unlisting one (it was not fixed after all) reopens it; the other stays fixed.
    again = _save(
        engine,
        "dana",
        mid,
        held.meeting,
        _update(held.meeting, fixed_rules=("autocapture_unused",)),
        now=NOW,
    )
    assert again.fixed == () and again.reopened == ("identify_overcalled",)
    assert states()["identify_overcalled"][0] == "open"
    assert states()["autocapture_unused"][0] == "fixed"


def test_a_save_racing_another_commit_is_refused(engine: Engine, acme: str) -> None:
    """The version check inside the transaction, raced: someone commits between our
    read and our write. PostgreSQL (READ COMMITTED) lets that happen; the UPDATE's
    version condition then matches no row and the save is refused."""
    if engine.dialect.name == "sqlite":
        pytest.skip(
            "SQLite takes the write lock when the save begins (BEGIN IMMEDIATE), so no "
            "other writer can commit in between; the race exists on PostgreSQL only"
        )
    from sqlalchemy import event, update
    from sqlalchemy.orm import Session

    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    opened = _get(engine, mid)
    raced = {"done": False}

    def other_writer_commits(session: Session, *_: object) -> None:
        if session.info.get("user") != "dana" or raced["done"]:
            return
        raced["done"] = True
        with engine.begin() as other:  # another connection, committed at once
            other.execute(
                update(models.Meeting)
                .where(models.Meeting.id == mid)
                .values(notes="Lee got there first", version=models.Meeting.version + 1)
            )

    event.listen(Session, "before_flush", other_writer_commits)
    try:
        with db.write_session(engine, "dana") as session:
            with pytest.raises(MeetingConflict) as refused:
                meetings.save(
                    session, mid, opened, _update(opened, status="held", notes="Dana's"), now=NOW
                )
            # The caller's unit of work survives the refusal: it reads what Lee saved,
            # and ending it normally commits nothing of Dana's.
            assert meetings.get(session, mid).notes == "Lee got there first"
    finally:
        event.remove(Session, "before_flush", other_writer_commits)
    assert raced["done"]
    assert [c.field for c in refused.value.changes] == ["notes"]
    assert refused.value.changes[0].yours == "Dana's"
    stored = _get(engine, mid)
    assert (stored.notes, stored.status, stored.version) == ("Lee got there first", "scheduled", 2)
    assert _step(engine) == ("scheduled", dt.date(2026, 3, 11))  # nothing of Dana's written
    assert _meeting_updates_by(engine, "dana") == 0


def _meeting_updates_by(engine: Engine, user: str) -> int:
    with db.read_session(engine) as session:
        return len(
            session.scalars(
                select(models.AuditLog.id).where(
                    models.AuditLog.entity == "meetings",
                    models.AuditLog.action == "update",
                    models.AuditLog.user == user,
                )
            ).all()
        )


def test_a_refused_save_writes_nothing_even_when_the_caller_carries_on(
    engine: Engine, acme: str
) -> None:
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    opened = _get(engine, mid)
    _save(engine, "lee", mid, opened, _update(opened, notes="Lee's"), now=NOW)
    with db.write_session(engine, "dana") as session:
        with pytest.raises(MeetingConflict):
            meetings.save(session, mid, opened, _update(opened, status="held"), now=NOW)
    stored = _get(engine, mid)
    assert (stored.notes, stored.status, stored.version) == ("Lee's", "scheduled", 2)
    assert _meeting_updates_by(engine, "dana") == 0


def test_fixed_findings_are_saved_with_the_meeting_or_not_at_all(engine: Engine, acme: str) -> None:
    """The findings are recorded in the meeting's unit of work: one refused, all refused."""
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    view = _get(engine, mid)
    bad = _update(view, status="held", fixed_rules=("autocapture_unused", "no_such_rule"))
    with pytest.raises(UserError, match="no_such_rule"):
        _save(engine, "dana", mid, view, bad, now=NOW)
    assert _get(engine, mid).version == 1  # the meeting is not saved either
    assert _step(engine) == ("scheduled", dt.date(2026, 3, 11))
    with db.read_session(engine) as session:
        assert session.scalar(select(models.FindingState.rule)) is None


# ------------------------------------------------- the clock and the order of the calls

T = dt.datetime(2026, 3, 20, 10, 0)  # UTC: the call being booked or logged
DAY = dt.timedelta(days=1)


def _call(kind: str, status: str, starts_at: dt.datetime) -> CallFact:
    return CallFact(kind, status, starts_at, "Europe/Berlin")


@pytest.mark.parametrize(
    "kind,status,others,first_done_on,message",
    [
        ("first", "scheduled", [], None, None),  # a first call needs nothing before it
        ("second", "scheduled", [], None, "booked only after the first call"),  # no first call
        (
            "second",
            "scheduled",
            [_call("first", "scheduled", T - DAY)],
            None,
            None,
        ),  # booked before
        ("second", "scheduled", [_call("first", "held", T - DAY)], None, None),  # held before
        # the first call is booked, but for later: the message says when
        (
            "second",
            "scheduled",
            [_call("first", "scheduled", T + DAY)],
            None,
            r"the first call is on Sat 21 Mar 2026 11:00 CET",
        ),
        # cancelled and no-show first calls do not count
        ("second", "scheduled", [_call("first", "cancelled", T - DAY)], None, "only after"),
        ("second", "scheduled", [_call("first", "no_show", T - DAY)], None, "only after"),
        # held needs the first call held, not only booked
        (
            "second",
            "held",
            [_call("first", "scheduled", T - DAY)],
            None,
            "log the first call's outcome first",
        ),
        ("second", "held", [], None, "log the first call as held first"),  # no first call
        ("second", "held", [_call("first", "held", T - DAY)], None, None),  # held before: fine
        ("second", "held", [_call("first", "held", T + DAY)], None, "only after the first call"),
        # the first call's step recorded done by hand (steps.csv, the step log) counts as held
        ("second", "held", [], (T - 3 * DAY).date(), None),
        ("second", "held", [], T.date(), None),  # on the same day
        ("second", "scheduled", [], (T + DAY).date(), "only after the first call"),  # later
        # outcomes that leave the order alone are not checked
        ("second", "cancelled", [], None, None),
        ("second", "no_show", [], None, None),
        ("second", "rescheduled", [], None, None),
        # a first call never goes after a second call booked or held
        ("first", "scheduled", [_call("second", "scheduled", T - DAY)], None, "must come before"),
        ("first", "held", [_call("second", "held", T - DAY)], None, "must come before"),
        ("first", "scheduled", [_call("second", "scheduled", T)], None, "must come before"),
        ("first", "scheduled", [_call("second", "scheduled", T + DAY)], None, None),  # after: ok
        ("first", "scheduled", [_call("second", "cancelled", T - DAY)], None, None),  # not counted
    ],
)
def test_check_order(
    kind: str,
    status: str,
    others: list[CallFact],
    first_done_on: dt.date | None,
    message: str | None,
) -> None:
    if message is None:
        meetings.check_order(kind, status, T, others, first_done_on)
    else:
        with pytest.raises(MeetingError, match=message):
            meetings.check_order(kind, status, T, others, first_done_on)


MINUTE = dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    "status,starts_at,now,booking,message",
    [
        ("scheduled", NOW - MINUTE, NOW, True, "is in the past"),  # a minute ago
        ("scheduled", NOW - 30 * DAY, NOW, True, "Tue 10 Feb 2026 13:00 CET is in the past"),
        ("scheduled", NOW, NOW, True, None),  # now itself can be booked
        ("scheduled", NOW + DAY, NOW, True, None),  # tomorrow
        ("scheduled", NOW - DAY, None, True, None),  # no booking clock: history (demo, imports)
        ("scheduled", NOW - DAY, NOW, False, None),  # not moved: a past call awaiting its outcome
        ("held", NOW + MINUTE, NOW, False, "still to come"),  # not started yet
        ("held", NOW + MINUTE, NOW, True, "still to come"),
        ("held", NOW, NOW, False, None),  # started this minute
        ("held", NOW - 30 * DAY, NOW, True, None),  # any past day
        ("held", dt.datetime(2999, 1, 1), None, False, "still to come"),  # the wall clock
        ("cancelled", NOW + DAY, NOW, True, None),  # other outcomes have no clock
    ],
)
def test_check_time(
    status: str,
    starts_at: dt.datetime,
    now: dt.datetime | None,
    booking: bool,
    message: str | None,
) -> None:
    if message is None:
        meetings.check_time(status, starts_at, "Europe/Berlin", now, booking=booking)
    else:
        with pytest.raises(MeetingError, match=message):
            meetings.check_time(status, starts_at, "Europe/Berlin", now, booking=booking)


@pytest.mark.parametrize(
    "as_of,window_start,expected",
    [
        (dt.date(2026, 3, 16), None, dt.datetime(2026, 3, 17, 10, 0)),  # Monday -> Tuesday
        (dt.date(2026, 3, 20), None, dt.datetime(2026, 3, 23, 10, 0)),  # Friday -> Monday
        (dt.date(2026, 3, 21), None, dt.datetime(2026, 3, 23, 10, 0)),  # Saturday -> Monday
        (dt.date(2026, 3, 22), None, dt.datetime(2026, 3, 23, 10, 0)),  # Sunday -> Monday
        # the step's window opens later: its first working day
        (dt.date(2026, 3, 16), dt.date(2026, 3, 25), dt.datetime(2026, 3, 25, 10, 0)),
        (dt.date(2026, 3, 16), dt.date(2026, 3, 28), dt.datetime(2026, 3, 30, 10, 0)),  # a Sat
        # the window is open or over: the next working day
        (dt.date(2026, 3, 16), dt.date(2026, 3, 10), dt.datetime(2026, 3, 17, 10, 0)),
        (dt.date(2026, 3, 16), dt.date(2026, 3, 17), dt.datetime(2026, 3, 17, 10, 0)),
    ],
)
def test_default_start(as_of: dt.date, window_start: dt.date | None, expected: dt.datetime) -> None:
    assert meetings.default_start(as_of, window_start) == expected


@pytest.mark.parametrize(
    "now_local,expected",
    [
        (dt.datetime(2026, 3, 16, 15, 7, 12), dt.datetime(2026, 3, 16, 10, 0)),  # after ten
        (dt.datetime(2026, 3, 16, 10, 0), dt.datetime(2026, 3, 16, 10, 0)),  # ten itself
        (dt.datetime(2026, 3, 16, 9, 44, 59), dt.datetime(2026, 3, 16, 9, 30)),  # the last quarter
        (dt.datetime(2026, 3, 16, 0, 5), dt.datetime(2026, 3, 16, 0, 0)),  # just after midnight
    ],
)
def test_default_held_start(now_local: dt.datetime, expected: dt.datetime) -> None:
    assert meetings.default_held_start(now_local) == expected


@pytest.mark.parametrize(
    "first_call_status,kind",
    [
        (None, "first"),  # nothing recorded
        ("due", "first"),
        ("overdue", "first"),
        ("scheduled", "first"),  # booked, not held: the first call is still the one
        ("skipped", "first"),
        ("done", "second"),  # held (or done by hand)
    ],
)
def test_next_call_kind(first_call_status: str | None, kind: str) -> None:
    assert meetings.next_call_kind(first_call_status) == kind


ANN = Attendee("Ann Lee", "ann@acme.example")
BO = Attendee("Bo Chen", "bo@acme.example")
CY = Attendee("Cy Park", "cy@acme.example")  # on the last call, not a contact
DANA = Attendee("Dana", "dana@posthog.example")  # the owner, listed on the customer's side
ORGANISER = Attendee("Priya", "priya@team.example.com")


@pytest.mark.parametrize(
    "contacts,last_call,team,chosen,others",
    [
        ([ANN, BO], [], set(), [ANN], []),  # no call yet: the primary contact
        ([ANN, BO], [BO, CY], set(), [BO], [CY]),  # the contacts on the last call, and Cy
        ([ANN, BO], [ANN, DANA], set(), [ANN], []),  # the owner's address is never suggested
        ([], [ANN, DANA], set(), [], []),  # no contacts: nobody from the last call either
        ([ANN], [ORGANISER, BO], {"priya@team.example.com"}, [ANN], [BO]),  # the team left out
        # a team login that is also a contact (a test account) is never invited
        ([ORGANISER, ANN], [], {"PRIYA@team.example.com"}, [ANN], []),
        ([ANN], [CY, CY], set(), [ANN], [CY]),  # once each
    ],
)
def test_suggested_people(
    contacts: list[Attendee],
    last_call: list[Attendee],
    team: set[str],
    chosen: list[Attendee],
    others: list[Attendee],
) -> None:
    assert meetings.suggested_people(contacts, last_call, team) == (chosen, others)


def _request(local: dt.datetime, kind: str = "first", status: str = "scheduled") -> ScheduleRequest:
    return ScheduleRequest(
        customer_id="acme",
        kind=kind,
        local_start=local,
        timezone="Europe/Berlin",
        duration_min=30,
        attendees=tuple(CUSTOMER),
        status=status,
        notes="Fixed autocapture" if status == "held" else "",
    )


# NOW is 12 March 13:00 in Berlin.
@pytest.mark.parametrize(
    "booked,request_,message",
    [
        ([], _request(dt.datetime(2026, 3, 12, 12, 0)), "is in the past"),  # an hour ago
        ([], _request(dt.datetime(2026, 3, 12, 14, 0), status="held"), "still to come"),
        ([], _request(dt.datetime(2026, 3, 25, 10, 0), "second"), "only after the first call"),
        # the first call is booked after the second one asked for
        (
            [_request(dt.datetime(2026, 3, 27, 10, 0))],
            _request(dt.datetime(2026, 3, 25, 10, 0), "second"),
            "the first call is on Fri 27 Mar 2026 10:00 CET",
        ),
        # logging a second call as held while the first one is only booked
        (
            [_request(dt.datetime(2026, 3, 10, 10, 0))],
            _request(dt.datetime(2026, 3, 11, 10, 0), "second", "held"),
            "log the first call's outcome first",
        ),
        ([], _request(dt.datetime(2026, 3, 12, 12, 0), status="done"), "not 'done'"),
    ],
)
def test_schedule_refuses_by_the_clock_and_the_order(
    engine: Engine,
    acme: str,
    booked: list[ScheduleRequest],
    request_: ScheduleRequest,
    message: str,
) -> None:
    for earlier in booked:
        db_support.write(engine, "dana", meetings.schedule, earlier)
    with pytest.raises(MeetingError, match=message):
        db_support.write(engine, "dana", meetings.schedule, request_, now=NOW)
    with db.read_session(engine) as session:
        count = len(session.scalars(select(models.Meeting.id)).all())
    assert count == len(booked)  # nothing written


def test_a_call_logged_as_held_at_once_marks_the_step_done(engine: Engine, acme: str) -> None:
    first = db_support.write(
        engine,
        "dana",
        meetings.schedule,
        _request(dt.datetime(2026, 3, 11, 10, 0), status="held"),
        now=NOW,
    )
    view = _get(engine, first)
    assert (view.status, view.notes) == ("held", "Fixed autocapture")
    assert _step(engine) == ("done", dt.date(2026, 3, 11))
    # The second call may now be booked (from now on) and, once begun, held.
    second = db_support.write(
        engine,
        "dana",
        meetings.schedule,
        _request(dt.datetime(2026, 3, 12, 13, 0), "second"),
        now=NOW,
    )
    assert _step(engine, "second_meeting") == ("scheduled", dt.date(2026, 3, 12))
    opened = _get(engine, second)
    _save(engine, "dana", second, opened, _update(opened, status="held"), now=NOW)
    assert _step(engine, "second_meeting") == ("done", dt.date(2026, 3, 12))


def test_a_first_call_done_by_hand_lets_the_second_be_held(engine: Engine, acme: str) -> None:
    db_support.write(
        engine, "lee", step_store.record, "acme", "first_meeting", "done", dt.date(2026, 3, 9)
    )
    mid = db_support.write(
        engine,
        "dana",
        meetings.schedule,
        _request(dt.datetime(2026, 3, 11, 10, 0), "second", "held"),
        now=NOW,
    )
    assert _get(engine, mid).status == "held"


# Saves of the first call booked on 11 March, 15:00 Berlin (NOW is 12 March, 13:00 there).
@pytest.mark.parametrize(
    "changes,message",
    [
        # moved to a time already gone
        ({"local_start": dt.datetime(2026, 3, 12, 9, 0)}, "is in the past"),
        # rescheduled to a time already gone
        (
            {"status": "rescheduled", "rescheduled_to": dt.datetime(2026, 3, 12, 8, 0)},
            "is in the past",
        ),
        # held, dated in the future
        ({"status": "held", "local_start": dt.datetime(2026, 3, 12, 14, 0)}, "once it has started"),
        # moved after the second call (booked for 25 March)
        ({"local_start": dt.datetime(2026, 3, 26, 9, 0)}, "must come before the second call"),
        (
            {"status": "rescheduled", "rescheduled_to": dt.datetime(2026, 3, 26, 9, 0)},
            "must come before the second call",
        ),
    ],
)
def test_save_refuses_by_the_clock_and_the_order(
    engine: Engine, acme: str, changes: dict[str, object], message: str
) -> None:
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    _schedule(engine, dt.datetime(2026, 3, 25, 15, 0), kind="second")
    view = _get(engine, mid)
    with pytest.raises(MeetingError, match=message):
        _save(engine, "dana", mid, view, _update(view, **changes), now=NOW)
    assert _get(engine, mid).version == 1  # nothing written


def test_a_past_call_keeps_its_time_while_waiting_for_its_outcome(
    engine: Engine, acme: str
) -> None:
    """Saving a past call that is still "scheduled" (notes while on the call) is no booking."""
    mid = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0))
    view = _get(engine, mid)
    saved = _save(engine, "dana", mid, view, _update(view, notes="on it"), now=NOW).meeting
    assert (saved.status, saved.notes) == ("scheduled", "on it")


def test_the_second_call_is_held_only_after_the_first(engine: Engine, acme: str) -> None:
    first = _schedule(engine, dt.datetime(2026, 3, 10, 15, 0))
    second = _schedule(engine, dt.datetime(2026, 3, 11, 15, 0), kind="second")
    opened = _get(engine, second)
    with pytest.raises(MeetingError, match="log the first call's outcome first"):
        _save(engine, "dana", second, opened, _update(opened, status="held"), now=NOW)
    first_view = _get(engine, first)
    _save(engine, "dana", first, first_view, _update(first_view, status="held"), now=NOW)
    held = _save(engine, "dana", second, opened, _update(opened, status="held"), now=NOW)
    assert held.meeting.status == "held"
    assert _step(engine, "second_meeting") == ("done", dt.date(2026, 3, 11))


def _rep(
    customer_id: str,
    owner: str = "dana",
    first: tuple[str, dt.date, dt.date | None] = ("upcoming", dt.date(2026, 3, 22), None),
    second: tuple[str, dt.date, dt.date | None] = ("upcoming", dt.date(2026, 4, 5), None),
    status: str = "active",
    program: str = "in_progress",
) -> SimpleNamespace:
    """A report as most_urgent_call reads it: (status, window_end, date) per call step."""

    def step(state: tuple[str, dt.date, dt.date | None]) -> SimpleNamespace:
        return SimpleNamespace(status=state[0], window_end=state[1], date=state[2])

    return SimpleNamespace(
        customer_id=customer_id,
        customer=SimpleNamespace(owner=owner, status=status, name=customer_id.title()),
        timeline=SimpleNamespace(
            program_status=program,
            steps={"first_meeting": step(first), "second_meeting": step(second)},
        ),
    )


MAR = {d: dt.date(2026, 3, d) for d in range(1, 32)}


@pytest.mark.parametrize(
    "reports,expected",
    [
        ([], None),  # nobody
        ([_rep("a"), _rep("b")], None),  # no call due yet
        # overdue before due, whatever the window
        (
            [_rep("a", first=("due", MAR[20], None)), _rep("b", first=("overdue", MAR[13], None))],
            "b",
        ),
        # both due: the earlier window end
        ([_rep("a", first=("due", MAR[22], None)), _rep("b", first=("due", MAR[20], None))], "b"),
        # the same window: by name
        ([_rep("b", first=("due", MAR[20], None)), _rep("a", first=("due", MAR[20], None))], "a"),
        # the user's own customers before a colleague's, even less urgent
        (
            [
                _rep("a", owner="lee", first=("overdue", MAR[6], None)),
                _rep("b", first=("due", MAR[22], None)),
            ],
            "b",
        ),
        ([_rep("a", owner="lee", first=("overdue", MAR[6], None))], "a"),  # else a colleague's
        # a second call due counts too
        ([_rep("a", first=("done", MAR[6], MAR[4]), second=("due", MAR[20], None))], "a"),
        # a call booked and past (overdue, rule 3) waits for its outcome, not a booking
        ([_rep("a", first=("overdue", MAR[13], MAR[12]))], None),
        # churned customers and completed programs are left out
        ([_rep("a", first=("overdue", MAR[13], None), status="churned")], None),
        ([_rep("a", first=("overdue", MAR[13], None), program="completed")], None),
    ],
)
def test_most_urgent_call(reports: list[SimpleNamespace], expected: str | None) -> None:
    assert meetings.most_urgent_call(reports, "dana") == expected  # type: ignore[arg-type]
