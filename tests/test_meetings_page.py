"""The Meetings page, started from app.py after login (AppTest).

Schedule a first call for a demo customer, log it held with notes and two
fixed findings, and see the timeline, findings and report follow; two people
saving the same meeting: the second is refused and keeps what they typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import icalendar
import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from lib import contacts, meetings
from lib.meetings import MeetingFilter, ics
from lib.store import db, models
from tests import db_support
from tests.apptest_support import AS_OF, page_errors
from tests.markdown_text import shown
from ui.meeting_list import PAGE_SIZE

PAGE = "app_pages/meetings.py"
SCHEDULE = "Schedule a call"


@pytest.fixture
def app_engine(app_env: object, demo_db_url_any: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The app's database, on SQLite and then on PostgreSQL (demo_db_url_any)."""
    monkeypatch.setenv("ONBOARDING_DATABASE_URL", demo_db_url_any)
    engine = db.make_engine(demo_db_url_any)
    yield engine
    engine.dispose()


def on_tab(at: AppTest, label: str) -> AppTest:
    """Select a tab as a click would: only the open tab is drawn."""
    at.session_state["mtg_tab"] = label
    return at.run()


def _get(engine: Engine, meeting_id: int) -> meetings.MeetingView:
    with db.read_session(engine) as session:
        return meetings.get(session, meeting_id)


def customer_for_first_call(engine: Engine, owner: str = "dana") -> tuple[str, list[str]]:
    """A customer of `owner` with no meeting yet and at least two open findings."""
    with db.read_session(engine) as session:
        booked = set(session.scalars(select(models.Meeting.customer_id)))
    for rep in db_support.reports(engine, AS_OF):
        if (
            rep.customer.owner == owner
            and rep.customer_id not in booked
            and rep.customer.status == "active"
            and len(rep.findings) >= 2
        ):
            return rep.customer_id, [f.rule for f in rep.findings]
    raise AssertionError("the demo data has no such customer")


def test_page_lists_the_owners_meetings(login_app: Callable[..., AppTest]) -> None:
    at = login_app("dana", page=PAGE)
    assert page_errors(at) == []
    assert at.selectbox(key="mtg_owner").value == "dana"
    text = " ".join(str(m.value) for m in at.markdown)
    assert "dana" in [str(m.value) for m in at.markdown]  # her meetings are listed
    at.selectbox(key="mtg_owner").set_value("(everyone)").run()
    assert page_errors(at) == []
    everyone = " ".join(str(m.value) for m in at.markdown)
    assert len(everyone) > len(text)
    at.multiselect(key="mtg_kinds").set_value(["second"]).run()
    assert page_errors(at) == []
    rows = [
        str(m.value)
        for m in at.markdown
        if str(m.value).endswith(("· First call", "· Second call"))
    ]
    assert rows and not [r for r in rows if r.endswith("· First call")]


def test_schedule_then_log_held_with_fixed_findings(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id, open_rules = customer_for_first_call(app_engine)
    at = on_tab(login_app("dana", page=PAGE), SCHEDULE)
    at.selectbox(key="mtg_new_customer").set_value(customer_id).run()
    agenda = at.text_area(key="mtg_new_agenda").value
    (rep,) = db_support.reports(app_engine, AS_OF, customer_id)
    assert rep.findings[0].title in agenda  # prefilled from the open findings
    assert at.radio(key="mtg_new_kind").value == "first"  # no first call held yet
    # The next working day at 10:00 (AS_OF is a Monday), or the call's window if later.
    window = rep.timeline.steps["first_meeting"].window_start
    booking_day = meetings.working_day_from(max(AS_OF + dt.timedelta(days=1), window))
    assert at.date_input(key="mtg_new_date").value == booking_day
    assert at.time_input(key="mtg_new_time").value == dt.time(10, 0)
    at.selectbox(key="mtg_new_tz").set_value("Europe/Berlin")
    at.text_area(key="mtg_new_people").input(
        "Ann Lee <ann@cust.example>\nBo Chen <bo@cust.example>"
    )
    at.button(key="mtg_new_submit").click().run()
    assert page_errors(at) == []
    assert f"scheduled for {booking_day:%a %d %b} 10:00 Europe/Berlin" in shown(at.success[0].value)

    with db.read_session(app_engine) as session:
        meeting = session.scalars(
            select(models.Meeting).where(models.Meeting.customer_id == customer_id)
        ).one()
        step = session.scalars(
            select(models.Step).where(
                models.Step.customer_id == customer_id, models.Step.step == "first_meeting"
            )
        ).one()
    # 10:00 Berlin is 09:00 UTC
    assert meeting.starts_at == dt.datetime.combine(booking_day, dt.time(9, 0))
    assert [a["email"] for a in meeting.attendees][:2] == ["ann@cust.example", "bo@cust.example"]
    assert (step.status, step.date) == ("scheduled", booking_day)
    assert at.session_state["mtg_open"] == meeting.id  # the new meeting is open, invite ready
    assert at.get("download_button")
    invite = icalendar.Calendar.from_ical(
        ics.invite(_get(app_engine, meeting.id), "dana@example.com")
    )
    assert str(invite.walk("VEVENT")[0]["dtstart"].params["TZID"]) == "Europe/Berlin"

    fixed = open_rules[:2]
    mid = meeting.id
    at.selectbox(key=f"mtg_f_status_{mid}").set_value("held")
    # Not before it has taken place: the form says so and keeps what was typed.
    at.button(key=f"mtg_save_{mid}").click().run()
    assert "is still to come" in at.error[0].value
    assert _get(app_engine, mid).status == "scheduled"
    held_on = AS_OF - dt.timedelta(days=1)  # it took place earlier than booked
    at.date_input(key=f"mtg_f_date_{mid}").set_value(held_on)
    at.time_input(key=f"mtg_f_time_{mid}").set_value(dt.time(15, 0))
    at.text_area(key=f"mtg_f_notes_{mid}").input("Fixed **identify** together.\n<b>not html</b>")
    at.multiselect(key=f"mtg_f_fixed_{mid}").set_value(fixed)
    at.checkbox(key=f"mtg_f_offered_{mid}").check()
    at.button(key=f"mtg_save_{mid}").click().run()
    assert page_errors(at) == []
    assert "held" in at.success[0].value and "2 finding(s) marked fixed" in at.success[0].value

    saved = _get(app_engine, mid)
    assert saved.status == "held" and saved.notes.startswith("Fixed **identify**")
    assert saved.fixed_rules == tuple(fixed) and saved.second_call_offered is True
    (after,) = db_support.reports(app_engine, AS_OF, customer_id)
    assert after.timeline.steps["first_meeting"].status == "done"
    assert after.timeline.steps["first_meeting"].date == held_on
    assert not {f.rule for f in after.findings} & set(fixed)  # no longer open
    with db.read_session(app_engine) as session:
        states = {
            s.rule: s.state
            for s in session.scalars(
                select(models.FindingState).where(models.FindingState.customer_id == customer_id)
            )
        }
    assert all(states.get(rule) == "fixed" for rule in fixed)
    # The notes are shown as text, never as HTML or Markdown.
    assert any("<b>not html</b>" in t.value for t in at.text)


def open_meeting(at: AppTest, mid: int) -> AppTest:
    at.session_state["mtg_open"] = mid
    return at.run()


def test_concurrent_edit_is_refused_and_nothing_typed_is_lost(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    with db.read_session(app_engine) as session:
        mid = session.scalars(
            select(models.Meeting.id)
            .where(models.Meeting.owner == "dana", models.Meeting.status == "held")
            .order_by(models.Meeting.id)
        ).first()
    assert mid is not None
    dana = open_meeting(login_app("dana", page=PAGE), mid)
    lee = open_meeting(login_app("admin", page=PAGE), mid)  # a second editor
    notes = f"mtg_f_notes_{mid}"
    dana.text_area(key=notes).input("Dana: they want funnels\n- follow up on flags")
    lee.text_area(key=notes).input("Lee: call went well")
    lee.button(key=f"mtg_save_{mid}").click().run()
    assert page_errors(lee) == []

    dana.button(key=f"mtg_save_{mid}").click().run()
    assert [e.value for e in dana.exception] == []
    (refusal,) = [e.value for e in dana.error]
    assert "admin saved this meeting" in refusal and "Notes" in refusal
    assert "your text is still in the form" in refusal
    # Dana's text is still in her form; Lee's is what was stored.
    assert dana.text_area(key=notes).value == "Dana: they want funnels\n- follow up on flags"
    assert _get(app_engine, mid).notes == "Lee: call went well"
    table = dana.dataframe[0].value
    assert list(table["Field"]) == ["Notes"]
    assert table.iloc[0]["Yours (still in the form)"].startswith("Dana: they want funnels")

    # Merge: Lee's notes join Dana's in her form; her next save is accepted.
    dana.button(key=f"mtg_merge_{mid}").click().run()
    merged = dana.text_area(key=notes).value
    assert merged.startswith("Dana: they want funnels") and "Lee: call went well" in merged
    dana.button(key=f"mtg_save_{mid}").click().run()
    assert page_errors(dana) == []
    stored = _get(app_engine, mid)
    assert "Dana: they want funnels" in stored.notes and "Lee: call went well" in stored.notes


def test_untouched_form_follows_someone_elses_save(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    with db.read_session(app_engine) as session:
        mid = session.scalars(
            select(models.Meeting.id)
            .where(models.Meeting.owner == "dana")
            .order_by(models.Meeting.id)
        ).first()
    assert mid is not None
    dana = open_meeting(login_app("dana", page=PAGE), mid)
    lee = open_meeting(login_app("admin", page=PAGE), mid)  # a second editor
    lee.text_area(key=f"mtg_f_notes_{mid}").input("Lee's update")
    lee.button(key=f"mtg_save_{mid}").click().run()
    dana.run()  # Dana typed nothing: her form shows Lee's version, no conflict
    assert dana.text_area(key=f"mtg_f_notes_{mid}").value == "Lee's update"
    assert any("showing their version" in i.value for i in dana.info)
    assert page_errors(dana) == []


def test_rescheduling_opens_the_new_meeting(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    with db.read_session(app_engine) as session:
        mid = session.scalars(
            select(models.Meeting.id)
            .where(models.Meeting.status == "scheduled")
            .order_by(models.Meeting.id)
        ).first()
    assert mid is not None
    at = login_app("dana", page=PAGE, query={"meeting": str(mid)})  # a colleague's meeting
    at.selectbox(key=f"mtg_f_status_{mid}").set_value("rescheduled").run()
    at.date_input(key=f"mtg_f_resched_date_{mid}").set_value(AS_OF + dt.timedelta(days=9))
    at.time_input(key=f"mtg_f_resched_time_{mid}").set_value(dt.time(11, 0))
    at.button(key=f"mtg_save_{mid}").click().run()
    assert page_errors(at) == []
    assert "the new date is booked" in at.success[0].value
    with db.read_session(app_engine) as session:
        follow_up = session.scalars(
            select(models.Meeting).where(models.Meeting.id > mid).order_by(models.Meeting.id.desc())
        ).first()
    assert follow_up is not None and follow_up.status == "scheduled"
    assert _get(app_engine, mid).status == "rescheduled"  # history kept
    assert at.session_state["mtg_open"] == follow_up.id  # the new meeting is open
    assert at.button(key=f"mtg_save_{follow_up.id}")


# ------------------------------------------------ the schedule form's defaults, the placement


def test_schedule_starts_with_the_most_urgent_call_and_follows_the_customer(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    engine = db.make_engine(demo_db_url)
    reports = db_support.reports(engine, AS_OF)
    engine.dispose()
    urgent = meetings.most_urgent_call(
        [r for r in reports if r.customer.status != "churned"], "priya"
    )
    assert urgent is not None
    at = on_tab(login_app("priya", page=PAGE), SCHEDULE)
    assert at.selectbox(key="mtg_new_customer").value == urgent  # not the first by name
    assert at.radio(key="mtg_new_kind").value == "first"
    held = next(
        r
        for r in reports
        if r.timeline.steps["first_meeting"].status == "done" and r.customer.status == "active"
    )
    at.selectbox(key="mtg_new_customer").set_value(held.customer_id).run()
    assert at.radio(key="mtg_new_kind").value == "second"  # their first call is held
    window = held.timeline.steps["second_meeting"].window_start
    expected = meetings.working_day_from(max(AS_OF + dt.timedelta(days=1), window))
    assert at.date_input(key="mtg_new_date").value == expected
    at.selectbox(key="mtg_new_customer").set_value(urgent).run()
    assert at.radio(key="mtg_new_kind").value == "first"
    assert page_errors(at) == []


def test_the_team_is_never_invited_as_the_customer(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    """The demo's meetings list their owner (<owner>@posthog.example) among the people: a
    new call with that customer invites the customer's contacts, never the team."""
    engine = db.make_engine(demo_db_url)
    with db.read_session(engine) as session:
        customer_id = session.scalars(
            select(models.Meeting.customer_id)
            .join(models.Customer, models.Customer.customer_id == models.Meeting.customer_id)
            .where(models.Customer.status != "churned")
            .order_by(models.Meeting.id)
        ).first()
        assert customer_id is not None
        people = contacts.recipients(contacts.for_customer(session, customer_id))
        last = meetings.for_customer(session, customer_id).last_people()
    engine.dispose()
    assert any(a.email.endswith("@posthog.example") for a in last)  # the demo's owner
    at = login_app("priya", page=PAGE, query={"customer": customer_id})
    assert at.selectbox(key="mtg_new_customer").value == customer_id  # where she came from
    invited = at.multiselect(key="mtg_new_contacts").value
    typed = at.text_area(key="mtg_new_people").value
    assert "posthog.example" not in " ".join(invited) + typed
    assert invited and set(invited) <= set(people)  # their contacts


def test_a_meeting_opens_under_its_row(login_app: Callable[..., AppTest]) -> None:
    at = login_app("dana", page=PAGE)
    rows = [b.key or "" for b in at.button if (b.key or "").startswith("mtg_openbtn_past_")]
    assert len(rows) >= 2
    at.button(key=rows[0]).click().run()
    assert page_errors(at) == []
    mid = int(rows[0].rsplit("_", 1)[1])
    keys = [b.key or "" for b in at.button]
    # The outcome form comes right after its row, before the next meeting's row.
    assert keys.index(rows[0]) < keys.index(f"mtg_save_{mid}") < keys.index(rows[1])
    at.button(key=rows[0]).click().run()  # Close
    assert f"mtg_save_{mid}" not in [b.key for b in at.button]


# ------------------------------------------------ lazy tabs, a page of each list

# The open tab's widgets: only these are drawn.
TAB_WIDGETS = {
    "By day": ("number_input", "mtg_past_days"),
    "Week": ("date_input", "mtg_week_of"),
    SCHEDULE: ("selectbox", "mtg_new_customer"),
}


def widget_keys(at: AppTest, kind: str) -> set[str]:
    return {w.key or "" for w in at.get(kind)}


@pytest.mark.parametrize("tab", list(TAB_WIDGETS))
def test_only_the_open_tab_is_drawn(login_app: Callable[..., AppTest], tab: str) -> None:
    at = on_tab(login_app("dana", page=PAGE), tab)
    assert page_errors(at) == []
    for label, (kind, key) in TAB_WIDGETS.items():
        assert (key in widget_keys(at, kind)) == (label == tab), label
    rows = [b.key for b in at.button if (b.key or "").startswith("mtg_openbtn_past_")]
    assert bool(rows) == (tab == "By day")  # the lists are not drawn behind another tab


def test_a_setting_survives_another_tab(login_app: Callable[..., AppTest]) -> None:
    at = login_app("dana", page=PAGE)
    at.number_input(key="mtg_past_days").set_value(91).run()
    on_tab(on_tab(at, "Week"), "By day")
    assert at.number_input(key="mtg_past_days").value == 91


MORE = 45  # meetings added on each side of AS_OF: more than two pages


def add_meetings(engine: Engine, owner: str, count: int) -> None:
    """`count` upcoming and `count` past second calls of one of `owner`'s customers, a day
    apart, none with an outcome."""
    with db.write_session(engine, "test") as session:
        customer_id = session.scalars(
            select(models.Customer.customer_id)
            .where(models.Customer.owner == owner)
            .order_by(models.Customer.customer_id)
        ).first()
        assert customer_id is not None
        for n in range(1, count + 1):
            for day in (AS_OF + dt.timedelta(days=n), AS_OF - dt.timedelta(days=n)):
                session.add(
                    models.Meeting(
                        customer_id=customer_id,
                        kind="second",
                        owner=owner,
                        starts_at=dt.datetime.combine(day, dt.time(10, 0)),
                        status="scheduled",
                    )
                )


def listed(engine: Engine, owner: str) -> dict[str, list[meetings.MeetingView]]:
    """The page's lists, in its order: upcoming, and past within the 60 days shown."""
    ref_now = dt.datetime.combine(AS_OF, dt.datetime.now(dt.UTC).time())
    with db.read_session(engine) as session:
        every = meetings.list_meetings(session, MeetingFilter(owner=owner))
    upcoming, past = meetings.split_upcoming(every, now=ref_now)
    recent = [v for v in past if v.starts_at >= ref_now - dt.timedelta(days=60)]
    return {"up": upcoming, "past": recent, "all_past": past}


def row_ids(at: AppTest, where: str) -> list[int]:
    prefix = f"mtg_openbtn_{where}_"
    return [int(b.key[len(prefix) :]) for b in at.button if b.key and b.key.startswith(prefix)]


@pytest.fixture
def many_meetings(demo_db_url: str) -> dict[str, list[meetings.MeetingView]]:
    engine = db.make_engine(demo_db_url)
    add_meetings(engine, "dana", MORE)
    lists = listed(engine, "dana")
    engine.dispose()
    return lists


@pytest.mark.parametrize(
    ("where", "noun", "turns"),
    [
        ("up", "upcoming", 0),
        ("up", "upcoming", 1),
        ("up", "upcoming", 2),  # the last page: what is left
        ("up", "upcoming", 3),  # Next is disabled there; the page stays in range
        ("past", "past meetings of the last 60 days", 0),
        ("past", "past meetings of the last 60 days", 2),
        ("past", "past meetings of the last 60 days", -1),  # next, then previous
    ],
)
def test_a_list_shows_a_page_at_a_time(
    login_app: Callable[..., AppTest],
    many_meetings: dict[str, list[meetings.MeetingView]],
    where: str,
    noun: str,
    turns: int,
) -> None:
    views = many_meetings[where]
    assert len(views) > 2 * PAGE_SIZE
    at = login_app("dana", page=PAGE)
    for _ in range(abs(turns)):
        button = at.button(key=f"mtg_next_{where}")
        if not button.disabled:
            button.click().run()
    if turns < 0:
        at.button(key=f"mtg_prev_{where}").click().run()
    assert page_errors(at) == []
    last_page = (len(views) - 1) // PAGE_SIZE
    page = min(max(turns, 0), last_page)
    first = page * PAGE_SIZE
    shown_ids = [v.id for v in views[first : first + PAGE_SIZE]]
    assert row_ids(at, where) == shown_ids  # a page, in the list's order
    caption = f"Showing {first + 1}-{first + len(shown_ids)} of {len(views)} {noun}"
    assert caption in [c.value for c in at.caption]
    other = "past" if where == "up" else "up"
    assert len(row_ids(at, other)) == PAGE_SIZE  # the other list stays on its first page
    assert at.button(key=f"mtg_prev_{where}").disabled == (page == 0)
    assert at.button(key=f"mtg_next_{where}").disabled == (page == last_page)
    # The warning counts every past meeting without an outcome, not the page's.
    ref_now = dt.datetime.combine(AS_OF, dt.datetime.now(dt.UTC).time())
    missing = sum(v.needs_outcome(ref_now) for v in many_meetings["all_past"])
    assert missing > PAGE_SIZE
    assert any(w.value.startswith(f"{missing} past meeting(s) have no outcome") for w in at.warning)


def test_a_new_filter_starts_on_the_first_page(
    login_app: Callable[..., AppTest], many_meetings: dict[str, list[meetings.MeetingView]]
) -> None:
    at = login_app("dana", page=PAGE)
    at.button(key="mtg_next_up").click().run()
    assert row_ids(at, "up")[0] == many_meetings["up"][PAGE_SIZE].id
    at.multiselect(key="mtg_kinds").set_value(["second"]).run()
    assert row_ids(at, "up")[0] == many_meetings["up"][0].id


@pytest.mark.parametrize(
    ("index", "turns", "place"),
    [
        (0, 0, "row"),  # on the page shown: under its row
        (PAGE_SIZE + 3, 0, "top"),  # on another page: in a box atop the list
        (PAGE_SIZE + 3, 1, "row"),  # its page shown: under its row again
    ],
)
def test_the_meeting_opened_is_drawn_wherever_its_page(
    login_app: Callable[..., AppTest],
    many_meetings: dict[str, list[meetings.MeetingView]],
    index: int,
    turns: int,
    place: str,
) -> None:
    mid = many_meetings["up"][index].id
    at = login_app("dana", page=PAGE, query={"meeting": str(mid)})  # a link to it
    for _ in range(turns):
        at.button(key="mtg_next_up").click().run()
    assert page_errors(at) == []
    assert at.button(key=f"mtg_save_{mid}")  # its form, wherever it is
    keys = [b.key for b in at.button]
    assert ("mtg_close_top" in keys) == (place == "top")
    assert (mid in row_ids(at, "up")) == (place == "row")


# ------------------------------------------------ the customer page's Calls tab


def test_calls_tab_books_the_calls_in_order(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id, _ = customer_for_first_call(app_engine)
    at = login_app("dana", page="app_pages/customer.py", query={"id": customer_id, "tab": "Calls"})
    assert page_errors(at) == []
    assert at.radio(key="cust_call_new_kind").value == "first"
    at.text_area(key="cust_call_new_people").input("Ann Lee <ann@cust.example>")
    # A second call before any first call is refused, saying why.
    at.radio(key="cust_call_new_kind").set_value("second").run()
    at.button(key="cust_call_new_submit").click().run()
    assert "can be booked only after the first call" in at.error[0].value
    at.radio(key="cust_call_new_kind").set_value("first").run()
    at.text_area(key="cust_call_new_people").input("Ann Lee <ann@cust.example>")
    at.button(key="cust_call_new_submit").click().run()
    assert page_errors(at) == []
    with db.read_session(app_engine) as session:
        mid = session.scalars(
            select(models.Meeting.id).where(models.Meeting.customer_id == customer_id)
        ).one()
    # The booked call is open under its row, with its invite and outcome form.
    assert at.button(key=f"cust_call_save_{mid}")
    assert at.get("download_button")
    at.selectbox(key=f"cust_call_f_status_{mid}").set_value("held")
    at.date_input(key=f"cust_call_f_date_{mid}").set_value(AS_OF - dt.timedelta(days=3))
    at.button(key=f"cust_call_save_{mid}").click().run()
    assert page_errors(at) == []
    (rep,) = db_support.reports(app_engine, AS_OF, customer_id)
    assert rep.timeline.steps["first_meeting"].status == "done"
    # The next booking is the second call.
    assert at.radio(key="cust_call_new_kind").value == "second"
