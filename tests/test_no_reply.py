"""No reply after the setting's days: "skip to final outreach" on Today (one row per case,
the first no_reply.CAP until "Show all"), the setting in data/program.toml, the skip and
its undo in the database (SQLite and PostgreSQL), and the button on Today through app.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from lib.errors import UserError
from lib.program import settings as program_settings
from lib.program import stage_store, step_store, timeline, worklist
from lib.program.report import CustomerReport
from lib.program.stage import Facts, Override, decide
from lib.program.timeline import RecordedStep
from lib.store import db, models
from tests import db_support
from tests.apptest_support import AS_OF, page_errors
from ui import no_reply

DAYS = 14


def day(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def make(
    cid: str,
    outreach: int | None = -DAYS,
    later: dict[str, tuple[str, int]] | None = None,
    replied: int | None = None,
    status: str = "active",
    override: str | None = None,
    owner: str = "dana",
    entered: int = -20,
) -> CustomerReport:
    """A customer who entered `entered` days before AS_OF, its outreach `outreach` days
    from AS_OF (None: not sent), a reply `replied` days from AS_OF, as the report gives it."""
    recorded = {step: (s, day(n)) for step, (s, n) in (later or {}).items()}
    if outreach is not None:
        recorded["initial_outreach"] = ("done", day(outreach))
    customer = models.Customer(
        customer_id=cid, name=cid.title(), owner=owner, segment_entered_on=day(entered),
        status=status,
    )  # fmt: skip
    line = timeline.compute(
        customer.segment_entered_on,
        AS_OF,
        {step: RecordedStep(*row) for step, row in recorded.items()},
        None,
        status,
    )
    reply_on = day(replied) if replied is not None else None
    facts = Facts(
        customer_status=status,
        steps=recorded,
        first_reply_on=reply_on,
        last_reply_on=reply_on,
        as_of=AS_OF,
        final_opens_on=line.steps["final_outreach"].window_start,
    )
    chosen = Override(override, "by phone") if override else None
    return CustomerReport(
        customer=customer,
        timeline=line,
        projected_monthly_bill_usd=0.0,
        stage=decide(facts, chosen),
        last_customer_reply_on=reply_on,
    )


@pytest.mark.parametrize(
    ("report", "days"),
    [
        (make("silent"), DAYS),  # exactly the setting's days: listed
        (make("silent_long", outreach=-19), 19),
        (make("too_soon", outreach=-(DAYS - 1)), None),
        (make("not_sent", outreach=None), None),
        (make("replied", replied=-10), None),
        (make("replied_today", replied=0), None),
        (make("wrote_before", replied=-16), None),  # wrote first: engaged, not waiting
        (make("call_booked", later={"first_meeting": ("scheduled", 2)}), None),
        (make("call_skipped", later={"first_meeting": ("skipped", -1)}), None),
        (make("homework_sent", later={"homework": ("done", -1)}), None),
        (make("final_done", later={"final_outreach": ("done", -1)}), None),
        (make("churned", status="churned"), None),
        (make("paused", status="paused"), DAYS),  # paused customers still wait
        (make("by_phone", override="engaged"), None),  # the owner said they answered
        (make("override_back", override="onboarding_initiated"), DAYS),
    ],
    ids=lambda v: v.customer_id if isinstance(v, CustomerReport) else str(v),
)
def test_who_is_listed(report: CustomerReport, days: int | None) -> None:
    found = worklist.no_reply_of(report, AS_OF, DAYS)
    assert (found.days if found else None) == days
    if found:
        assert (found.outreach_on, found.program_week) == (day(-days), 3)


def test_the_list_is_the_owners_longest_waiting_first() -> None:
    reports = [
        make("b_recent", outreach=-15),
        make("a_oldest", outreach=-18, entered=-19),
        make("c_lee", outreach=-16, owner="lee"),
        make("replied", replied=-1),
    ]
    work = worklist.build(reports, AS_OF, "dana", no_reply_days=DAYS)
    assert [n.customer_id for n in work.no_reply] == ["a_oldest", "b_recent"]
    assert work.no_reply_days == DAYS
    everyone = worklist.build(reports, AS_OF, None, no_reply_days=DAYS)
    assert [n.customer_id for n in everyone.no_reply] == ["a_oldest", "c_lee", "b_recent"]
    sooner = worklist.build(reports, AS_OF, "dana", no_reply_days=16)
    assert [n.customer_id for n in sooner.no_reply] == ["a_oldest"]
    # The items the worklist had before are untouched.
    assert [i.customer_id for i in work.items] == [
        i.customer_id for i in worklist.build(reports, AS_OF, "dana", no_reply_days=999).items
    ]


def test_the_default_is_the_program_file() -> None:
    assert program_settings.load().no_reply_days == 14
    assert worklist.build([make("x")], AS_OF).no_reply_days == 14


@pytest.mark.parametrize(
    ("text", "days", "benchmark", "error"),
    [
        ("[program]\nno_reply_days = 10\nresponse_rate_benchmark = 0.6\n", 10, 0.6, None),
        ("", 14, 0.75, None),  # every key has a default
        ("[program]\nno_reply_days = 0\n", None, None, "1-365"),
        ("[program]\nno_reply_days = '14'\n", None, None, "a whole number"),
        ("[program]\nno_reply_days = true\n", None, None, "a whole number"),
        ("[program]\nresponse_rate_benchmark = 75\n", None, None, "a fraction"),
        ("[program\n", None, None, "not valid TOML"),
    ],
)
def test_the_program_file(
    text: str, days: int | None, benchmark: float | None, error: str | None
) -> None:
    if error:
        with pytest.raises(UserError, match=error):
            program_settings.parse(text)
        return
    parsed = program_settings.parse(text)
    assert (parsed.no_reply_days, parsed.response_rate_benchmark) == (days, benchmark)


# ------------------------------------------------------------------ database


def test_skip_to_final_and_undo(engine: Engine) -> None:
    with db.write_session(engine, "dana") as session:
        session.add(models.Customer(customer_id="acme", name="Acme", segment_entered_on=day(-20)))
        session.add(models.Customer(customer_id="new", name="New", segment_entered_on=day(-2)))
        session.flush()
        session.add(models.Step(customer_id="acme", step="initial_outreach", status="done",
                                date=day(-DAYS)))  # fmt: skip
    with pytest.raises(UserError, match="record the initial outreach"):
        db_support.write(engine, "dana", stage_store.skip_to_final, "new", AS_OF)
    with pytest.raises(UserError, match="no such customer"):
        db_support.write(engine, "dana", stage_store.skip_to_final, "nobody", AS_OF)
    (before,) = db_support.reports(engine, AS_OF, "acme")
    assert before.stage.stage == "onboarding_initiated"
    assert worklist.no_reply_of(before, AS_OF, DAYS) is not None

    previous = db_support.write(engine, "dana", stage_store.skip_to_final, "acme", AS_OF)
    assert previous == {"first_meeting": None, "second_meeting": None, "homework": None}
    (after,) = db_support.reports(engine, AS_OF, "acme")
    assert after.stage.stage == "awaiting_final_outreach"
    assert {s: after.timeline.steps[s].status for s in previous} == dict.fromkeys(
        previous, "skipped"
    )
    assert worklist.no_reply_of(after, AS_OF, DAYS) is None
    with pytest.raises(UserError, match="recorded already"):
        db_support.write(engine, "dana", stage_store.skip_to_final, "acme", AS_OF)

    def undo(session: Session) -> None:
        for step, was in previous.items():
            step_store.restore(session, "acme", step, was)

    db_support.write(engine, "dana", undo)
    (undone,) = db_support.reports(engine, AS_OF, "acme")
    assert undone.stage.stage == "onboarding_initiated"


# ------------------------------------------------------------------ Today


SILENT = "wernham-learning-00030"  # tomas's: outreach 20 days ago, no reply, nothing since


def test_today_offers_the_skip_and_its_undo(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    engine = db.make_engine(demo_db_url)
    try:
        work = worklist.build(db_support.reports(engine, AS_OF), AS_OF)
        assert [(n.customer_id, n.days) for n in work.no_reply] == [(SILENT, 20)]
        at = login_app("admin")  # admin's list is everyone's
        assert page_errors(at) == []
        assert "No reply: skip to final outreach (1)" in [e.label for e in at.expander]
        at.button(key=f"today_skip_{SILENT}").click()
        at.run()
        assert page_errors(at) == []
        assert f"today_skip_{SILENT}" not in {b.key for b in at.button}
        assert any("Skipped to the final outreach for Wernham" in s.value for s in at.success)
        (skipped,) = db_support.reports(engine, AS_OF, SILENT)
        assert skipped.stage.stage == "awaiting_final_outreach"
        assert skipped.timeline.steps["homework"].status == "skipped"
        with db.read_session(engine) as session:
            users = {
                r.recorded_by
                for r in session.query(models.Step).filter_by(customer_id=SILENT, status="skipped")
            }
        assert users == {"admin"}

        at.button(key="today_skip_undo").click()
        at.run()
        assert page_errors(at) == []
        (back,) = db_support.reports(engine, AS_OF, SILENT)
        assert back.stage.stage == "onboarding_initiated"
        assert f"today_skip_{SILENT}" in {b.key for b in at.button}
    finally:
        engine.dispose()


def silence(engine: Engine, count: int) -> None:
    """`count` more active customers (not SILENT) waiting for a reply: entered 30 days ago,
    the initial outreach sent 15+ days ago, nothing since."""
    with db.write_session(engine, "test") as session:
        ids = session.scalars(
            select(models.Customer.customer_id)
            .where(models.Customer.status == "active", models.Customer.customer_id != SILENT)
            .order_by(models.Customer.customer_id)
            .limit(count)
        ).all()
        assert len(ids) == count
        for table in (
            models.Step, models.Meeting, models.EmailMessage, models.StageOverride,
            models.HomeworkAssignment,
        ):  # fmt: skip
            session.execute(delete(table).where(table.customer_id.in_(ids)))
        for n, customer_id in enumerate(ids):
            customer = session.get(models.Customer, customer_id)
            assert customer is not None
            customer.segment_entered_on = day(-30)
            session.add(
                models.Step(
                    customer_id=customer_id,
                    step="initial_outreach",
                    status="done",
                    date=day(-15 - n),
                )
            )


@pytest.mark.parametrize(
    ("more", "capped"),
    [
        (0, False),  # SILENT alone
        (no_reply.CAP - 1, False),  # exactly CAP: all shown, no toggle
        (no_reply.CAP + 4, True),  # CAP shown, the longest waiting; "Show all" for the rest
    ],
)
def test_today_caps_the_list_until_show_all(
    login_app: Callable[..., AppTest], demo_db_url: str, more: int, capped: bool
) -> None:
    engine = db.make_engine(demo_db_url)
    try:
        silence(engine, more)
        work = worklist.build(db_support.reports(engine, AS_OF), AS_OF)
    finally:
        engine.dispose()
    waiting = [f"today_skip_{n.customer_id}" for n in work.no_reply]
    assert len(waiting) == more + 1
    at = login_app("admin")  # everyone's list
    assert page_errors(at) == []
    title = f"No reply: skip to final outreach ({len(waiting)})"  # the count, always
    assert title in [e.label for e in at.expander]
    rows = [b.key for b in at.button if (b.key or "").startswith("today_skip_")]
    assert rows == (waiting[: no_reply.CAP] if capped else waiting)
    toggles = [t.key for t in at.toggle]
    assert ("today_noreply_all" in toggles) == capped
    if capped:
        assert f"Showing {no_reply.CAP} of {len(waiting)}, longest waiting first." in [
            c.value for c in at.caption
        ]
        assert at.toggle(key="today_noreply_all").label == f"Show all {len(waiting)}"
        at.toggle(key="today_noreply_all").set_value(True).run()
        assert page_errors(at) == []
        assert [b.key for b in at.button if (b.key or "").startswith("today_skip_")] == waiting
        at.toggle(key="today_noreply_all").set_value(False).run()
        assert len([b for b in at.button if (b.key or "").startswith("today_skip_")]) == (
            no_reply.CAP
        )
