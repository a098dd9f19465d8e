"""The program timeline of docs/interface.md, one table row per case (datasette style)."""

from __future__ import annotations

import datetime as dt

import pytest

from lib.program import timeline
from lib.program.timeline import RecordedStep

ENTRY = dt.date(2026, 3, 1)  # day 0, a Sunday


def day(n: int) -> dt.date:
    return ENTRY + dt.timedelta(days=n)


@pytest.mark.parametrize(
    "days_after_entry,week",
    [
        (0, 1),  # entry day is day 0 of week 1
        (6, 1),  # last day of week 1
        (7, 2),  # first day of week 2
        (13, 2),
        (14, 3),
        (48, 7),
        (49, 8),  # week 8 starts on day 49
        (55, 8),  # last day of the program's 8 weeks
        (56, 9),  # past the program, weeks keep counting
        (-1, 0),  # the day before entry: days // 7 + 1 with floor division
    ],
)
def test_program_week(days_after_entry: int, week: int) -> None:
    assert timeline.program_week(ENTRY, day(days_after_entry)) == week


@pytest.mark.parametrize(
    "step,start,end",
    [
        ("initial_outreach", 0, 6),  # weeks 1-1
        ("first_meeting", 7, 20),  # weeks 2-3
        ("second_meeting", 21, 34),  # weeks 4-5
        ("homework", 28, 41),  # weeks 5-6 (overlaps the second meeting)
        ("final_outreach", 42, 55),  # weeks 7-8
    ],
)
def test_windows(step: str, start: int, end: int) -> None:
    assert timeline.window(step, ENTRY) == (day(start), day(end))


@pytest.mark.parametrize(
    "step,extended_until,end",
    [
        ("final_outreach", day(70), day(70)),  # later than window_end: extends it
        ("final_outreach", day(55), day(55)),  # equal: unchanged
        ("final_outreach", day(50), day(55)),  # earlier: never shortens
        ("homework", day(70), day(41)),  # only final_outreach is extended
    ],
)
def test_extension(step: str, extended_until: dt.date, end: dt.date) -> None:
    assert timeline.window(step, ENTRY, extended_until)[1] == end


@pytest.mark.parametrize(
    "step,recorded,as_of,status",
    [
        # rule 1: done / skipped when recorded so, whatever the date
        ("initial_outreach", RecordedStep("done", day(2)), day(40), "done"),
        ("first_meeting", RecordedStep("skipped", day(20)), day(3), "skipped"),
        # rule 2: scheduled for a day >= as-of
        ("first_meeting", RecordedStep("scheduled", day(15)), day(10), "scheduled"),
        (
            "first_meeting",
            RecordedStep("scheduled", day(15)),
            day(15),
            "scheduled",
        ),  # the day itself
        # rule 3: scheduled for a day < as-of, outcome never logged
        ("first_meeting", RecordedStep("scheduled", day(15)), day(16), "overdue"),
        (
            "second_meeting",
            RecordedStep("scheduled", day(25)),
            day(26),
            "overdue",
        ),  # not optional-skipped
        # rule 4: before the window
        ("first_meeting", None, day(6), "upcoming"),
        ("final_outreach", None, day(41), "upcoming"),
        # rule 5: inside the window (both edges)
        ("initial_outreach", None, day(0), "due"),
        ("initial_outreach", None, day(6), "due"),
        ("first_meeting", None, day(7), "due"),
        ("first_meeting", None, day(20), "due"),
        ("homework", None, day(28), "due"),
        ("final_outreach", None, day(55), "due"),
        # rule 6: after the window
        ("initial_outreach", None, day(7), "overdue"),
        ("first_meeting", None, day(21), "overdue"),
        ("homework", None, day(42), "overdue"),
        ("final_outreach", None, day(56), "overdue"),
        # the optional second meeting: due -> optional, overdue -> skipped
        ("second_meeting", None, day(20), "upcoming"),
        ("second_meeting", None, day(21), "optional"),
        ("second_meeting", None, day(34), "optional"),
        ("second_meeting", None, day(35), "skipped"),
    ],
)
def test_step_status(step: str, recorded: RecordedStep | None, as_of: dt.date, status: str) -> None:
    start, end = timeline.window(step, ENTRY)
    assert timeline.step_status(step, recorded, start, end, as_of) == status


def test_every_step_present_with_dates() -> None:
    result = timeline.compute(ENTRY, day(10), {"initial_outreach": RecordedStep("done", day(2))})
    assert list(result.steps) == list(timeline.STEPS)
    assert result.steps["initial_outreach"].date == day(2)
    assert result.steps["first_meeting"].date is None
    assert result.steps["first_meeting"].as_json() == {
        "status": "due",
        "window_start": "2026-03-08",
        "window_end": "2026-03-21",
        "date": None,
    }


DONE = RecordedStep("done", day(1))


@pytest.mark.parametrize(
    "as_of,recorded,extended_until,customer_status,program_status",
    [
        (day(10), {}, None, "active", "in_progress"),
        (day(55), {}, None, "active", "in_progress"),  # last day of week 8
        (day(56), {}, None, "active", "overdue"),  # past final_outreach's window_end
        (day(56), {}, day(70), "active", "extended"),  # extension covers as-of
        (day(70), {}, day(70), "active", "extended"),  # extended_until == as-of
        (day(71), {}, day(70), "active", "overdue"),  # extension over
        (day(30), {}, day(20), "active", "in_progress"),  # extension earlier than as-of
        (day(30), {"final_outreach": DONE}, None, "active", "completed"),
        (day(30), {"final_outreach": DONE}, None, "churned", "churned"),  # churned wins
        (day(80), {}, day(90), "churned", "churned"),
        (day(30), {}, None, "paused", "in_progress"),  # paused is not a program status
    ],
)
def test_program_status(
    as_of: dt.date,
    recorded: dict[str, RecordedStep],
    extended_until: dt.date | None,
    customer_status: str,
    program_status: str,
) -> None:
    result = timeline.compute(ENTRY, as_of, recorded, extended_until, customer_status)
    assert result.program_status == program_status


@pytest.mark.parametrize(
    "as_of,recorded,customer_status,expected",
    [
        # week 1, nothing done: the outreach is due on its window_end
        (day(3), {}, "active", ("initial_outreach", "due", day(6))),
        # outreach overdue beats the first meeting due
        (day(10), {}, "active", ("initial_outreach", "overdue", day(6))),
        (day(10), {"initial_outreach": DONE}, "active", ("first_meeting", "due", day(20))),
        # two overdue steps: the earliest window_end wins
        (day(45), {"initial_outreach": DONE}, "active", ("first_meeting", "overdue", day(20))),
        # a meeting scheduled in the past without outcome is overdue (due_on = window_end)
        (
            day(19),
            {"initial_outreach": DONE, "first_meeting": RecordedStep("scheduled", day(18))},
            "active",
            ("first_meeting", "overdue", day(20)),
        ),
        # scheduled in the future: nothing to do now
        (
            day(12),
            {"initial_outreach": DONE, "first_meeting": RecordedStep("scheduled", day(15))},
            "active",
            None,
        ),
        # the optional second meeting is never the next action
        (
            day(23),
            {"initial_outreach": DONE, "first_meeting": DONE},
            "active",
            None,
        ),
        # homework and final outreach both due? homework's window ends first
        (
            day(30),
            {"initial_outreach": DONE, "first_meeting": DONE},
            "active",
            ("homework", "due", day(41)),
        ),
        # completed and churned customers have no next action
        (day(45), {"final_outreach": DONE}, "active", None),
        (day(10), {}, "churned", None),
    ],
)
def test_next_action(
    as_of: dt.date,
    recorded: dict[str, RecordedStep],
    customer_status: str,
    expected: tuple[str, str, dt.date] | None,
) -> None:
    result = timeline.compute(ENTRY, as_of, recorded, None, customer_status)
    if expected is None:
        assert result.next_action is None
    else:
        assert result.next_action is not None
        assert (
            result.next_action.step,
            result.next_action.status,
            result.next_action.due_on,
        ) == expected


def test_extension_moves_final_due_date() -> None:
    recorded = {s: DONE for s in ("initial_outreach", "first_meeting", "homework")}
    result = timeline.compute(ENTRY, day(60), recorded, extended_until=day(70))
    assert result.steps["final_outreach"].status == "due"
    assert result.next_action is not None
    assert result.next_action.due_on == day(70)
