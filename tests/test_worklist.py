"""The morning worklist and the customers table, one table row per case."""

from __future__ import annotations

import datetime as dt

import pytest

from lib.program import portfolio, timeline, views, worklist
from lib.program.report import CustomerReport
from lib.program.timeline import RecordedStep
from lib.store import models

AS_OF = dt.date(2026, 3, 16)  # a Monday


def day(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def make(
    customer_id: str,
    entered: int,
    owner: str | None = "dana",
    recorded: dict[str, tuple[str, int]] | None = None,
    status: str = "active",
    extended_until: int | None = None,
    bill: float = 0.0,
    name: str | None = None,
) -> CustomerReport:
    """A report of a customer who entered `entered` days after AS_OF (negative: before)."""
    steps = {step: RecordedStep(s, day(d)) for step, (s, d) in (recorded or {}).items()}
    customer = models.Customer(
        customer_id=customer_id,
        name=name or customer_id.title(),
        owner=owner,
        segment_entered_on=day(entered),
        status=status,
        extended_until=day(extended_until) if extended_until is not None else None,
    )
    line = timeline.compute(
        customer.segment_entered_on, AS_OF, steps, customer.extended_until, status
    )
    return CustomerReport(customer=customer, timeline=line, projected_monthly_bill_usd=bill)


DONE_OUTREACH = {"initial_outreach": ("done", -9)}

# Customers of every shape, named after what they show.
CUSTOMERS = {
    "new_today": make("new_today", 0),  # outreach due on day 6: due this week, new
    "new_6_days": make("new_6_days", -6),  # entered 6 days ago: still new; outreach due today
    "new_7_days": make("new_7_days", -7),  # a week ago: not new; outreach overdue by 1
    "late_outreach": make("late_outreach", -10),  # outreach overdue by 4
    "call_due": make("call_due", -10, recorded=DONE_OUTREACH),  # first call due day 10
    "homework_due": make(
        "homework_due",
        -30,
        recorded={"initial_outreach": ("done", -29), "first_meeting": ("done", -20)},
    ),  # homework due day 11; second call optional
    "completed": make("completed", -60, recorded={"final_outreach": ("done", -2)}),  # nothing to do
    "churned": make("churned", -10, status="churned"),  # nothing to do
    "call_today": make(
        "call_today", -10, recorded={**DONE_OUTREACH, "first_meeting": ("scheduled", 0)}
    ),  # a call today, nothing else due
    "call_day_6": make(
        "call_day_6", -10, recorded={**DONE_OUTREACH, "first_meeting": ("scheduled", 6)}
    ),  # a call on the last day of the week
    "call_day_7": make(
        "call_day_7", -10, recorded={**DONE_OUTREACH, "first_meeting": ("scheduled", 7)}
    ),  # next week's call
    "also_late": make("also_late", -10),  # as late as late_outreach; sorts first by name
    "lee_late": make("lee_late", -20, owner="lee"),  # another owner's overdue outreach
    "nobody": make("nobody", -1, owner=None),  # no owner: only in everyone's list
}


@pytest.mark.parametrize(
    "names,owner,order",
    [
        # overdue first, the longest overdue first; then due by date
        (
            ["new_today", "late_outreach", "call_due", "new_7_days", "homework_due"],
            "dana",
            ["late_outreach", "new_7_days", "new_today", "call_due", "homework_due"],
        ),
        # nothing due: completed, churned, a call booked
        (["completed", "churned", "call_today"], "dana", []),
        # owner filter keeps only that owner's customers
        (["late_outreach", "lee_late", "nobody"], "lee", ["lee_late"]),
        # everyone (None) includes customers without an owner
        (["late_outreach", "lee_late", "nobody"], None, ["lee_late", "late_outreach", "nobody"]),
        # same due date: by name
        (["late_outreach", "also_late"], "dana", ["also_late", "late_outreach"]),
        # an empty book
        ([], "dana", []),
    ],
)
def test_order(names: list[str], owner: str | None, order: list[str]) -> None:
    work = worklist.build([CUSTOMERS[n] for n in names], AS_OF, owner)
    assert [i.customer_id for i in work.items] == order


# Today's bands (docs/rules.md, "Today's worklist"): who outranks whom.
BANDS = {
    # paused in week 14, $0 bill: overdue for weeks, yet on hold
    "paused_wk14": make("paused_wk14", -13 * 7, status="paused", name="Aaa Paused"),
    # extended past as-of, an earlier step (the outreach) overdue for weeks
    "extended": make("extended", -60, extended_until=10, bill=500.0, name="Aab Extended"),
    # past week 8, the extension over: active overdue work again
    "extension_over": make("extension_over", -70, extended_until=-3, bill=50.0, name="Zz Over"),
    # active, overdue by 4, paying
    "late_paying": make("late_paying", -10, bill=120.0, name="Late Paying"),
    # active, overdue by 10 (longer), $0 bill
    "late_free": make("late_free", -16, name="Late Free"),
    # active, overdue by 10 days, a bill that rounds to $0
    "late_cents": make("late_cents", -16, bill=0.004, name="Late Cents"),
    # active, due today, paying
    "due_paying": make("due_paying", -6, bill=80.0, name="Due Paying"),
    # active, due in 6 days, $0 bill
    "due_free": make("due_free", 0, name="Due Free"),
    # paused, due today
    "paused_due": make("paused_due", -6, status="paused", bill=900.0, name="Paused Due"),
}


@pytest.mark.parametrize(
    "names,order",
    [
        # the case: a paused week-14 customer with a $0 bill never tops Today
        (["paused_wk14", "late_paying"], ["late_paying", "paused_wk14"]),
        (["paused_wk14", "due_free"], ["due_free", "paused_wk14"]),
        # an extended customer's old overdue step waits below active work, even due work
        (["extended", "due_free"], ["due_free", "extended"]),
        # a $0 bill never outranks paying overdue work, however long overdue
        (["late_free", "late_paying"], ["late_paying", "late_free"]),
        # a bill that rounds to $0 is a $0 bill; ties by name
        (["late_paying", "late_cents", "late_free"], ["late_paying", "late_cents", "late_free"]),
        # $0 overdue work still outranks due work (paying or not)
        (["due_paying", "late_free"], ["late_free", "due_paying"]),
        # due work by due date, whatever the bill
        (["due_free", "due_paying"], ["due_paying", "due_free"]),
        # the extension over: back among active overdue work, the longest overdue first
        (["late_paying", "extension_over"], ["extension_over", "late_paying"]),
        # on hold: overdue before due, then by due date
        (["paused_due", "extended", "paused_wk14"], ["paused_wk14", "extended", "paused_due"]),
        # everything at once
        (
            list(BANDS),
            [
                "extension_over",
                "late_paying",
                "late_cents",
                "late_free",
                "due_paying",
                "due_free",
                "paused_wk14",
                "extended",
                "paused_due",
            ],
        ),
    ],
)
def test_bands(names: list[str], order: list[str]) -> None:
    work = worklist.build([BANDS[n] for n in names], AS_OF, "dana")
    assert [i.customer_id for i in work.items] == order


@pytest.mark.parametrize(
    "name,rank,on_hold,free",
    [
        ("paused_wk14", 3, True, True),
        ("extended", 3, True, False),
        ("extension_over", 0, False, False),
        ("late_paying", 0, False, False),
        ("late_cents", 1, False, True),
        ("late_free", 1, False, True),
        ("due_paying", 2, False, False),
        ("due_free", 2, False, True),
        ("paused_due", 3, True, False),
    ],
)
def test_band_of_each_item(name: str, rank: int, on_hold: bool, free: bool) -> None:
    (item,) = worklist.build([BANDS[name]], AS_OF, None).items
    assert (item.rank, item.on_hold, item.free) == (rank, on_hold, free)


@pytest.mark.parametrize(
    "names,overdue,due_week,new,calls_today,calls_week",
    [
        (["new_today"], 0, 1, 1, 0, 0),  # due on day 6: inside the week; entered today
        (["new_6_days"], 0, 1, 1, 0, 0),  # due today counts as this week; entered day -6
        (["new_7_days"], 1, 0, 0, 0, 0),  # overdue; entered a week ago: not new
        (["call_due"], 0, 0, 0, 0, 0),  # due on day 10: later than this week
        (["call_today"], 0, 0, 0, 1, 1),  # scheduled today: today and this week
        (["call_day_6"], 0, 0, 0, 0, 1),  # day 6: this week, not today
        (["call_day_7"], 0, 0, 0, 0, 0),  # day 7: next week
        (["completed", "churned"], 0, 0, 0, 0, 0),  # finished customers add nothing
        (list(CUSTOMERS), 3, 2, 2, 1, 2),  # all of dana's: 3 late outreaches
    ],
)
def test_metrics(
    names: list[str], overdue: int, due_week: int, new: int, calls_today: int, calls_week: int
) -> None:
    work = worklist.build([CUSTOMERS[n] for n in names], AS_OF, "dana")
    assert (
        work.overdue,
        work.due_this_week,
        len(work.new_entrants),
        work.calls_today,
        work.calls_this_week,
    ) == (overdue, due_week, new, calls_today, calls_week)


@pytest.mark.parametrize(
    "name,step,status,late,left,action",
    [
        ("late_outreach", "initial_outreach", "overdue", 4, 0, "Outreach sent"),
        ("new_today", "initial_outreach", "due", 0, 6, "Outreach sent"),
        ("call_due", "first_meeting", "due", 0, 10, None),  # a call: no one-click done
        ("homework_due", "homework", "due", 0, 11, "Homework sent"),
    ],
)
def test_item(name: str, step: str, status: str, late: int, left: int, action: str | None) -> None:
    (item,) = worklist.build([CUSTOMERS[name]], AS_OF, None).items
    late_by, left = max((AS_OF - item.due_on).days, 0), max((item.due_on - AS_OF).days, 0)
    assert (item.step, item.status, late_by, left, item.done_action) == (
        step,
        status,
        late,
        left,
        action,
    )


def test_final_outreach_item_offers_one_click() -> None:
    late = make(
        "final",
        -50,
        recorded={
            "initial_outreach": ("done", -49),
            "first_meeting": ("done", -40),
            "homework": ("done", -15),
        },
    )
    (item,) = worklist.build([late], AS_OF).items
    assert (item.step, item.status, item.done_action) == (
        "final_outreach",
        "due",
        "Final outreach sent",
    )


def test_owners_sorted_and_unique() -> None:
    assert worklist.owners(CUSTOMERS.values()) == ["dana", "lee"]


# ------------------------------------------------------------ customers table


@pytest.mark.parametrize(
    "query,owners,statuses,steps,with_findings,expected",
    [
        ("", (), (), (), False, True),  # no filter: everyone passes
        ("LATE", (), (), (), False, True),  # search ignores case, matches the id
        ("dan", (), (), (), False, True),  # matches the owner
        ("zzz", (), (), (), False, False),  # no match
        ("", ("lee",), (), (), False, False),  # another owner
        ("", ("dana",), ("in_progress",), (), False, True),
        ("", (), ("completed",), (), False, False),
        ("", (), (), ("initial_outreach",), False, True),
        ("", (), (), ("homework",), False, False),
        ("", (), (), (), True, False),  # no findings
    ],
)
def test_customer_filters(
    query: str,
    owners: tuple[str, ...],
    statuses: tuple[str, ...],
    steps: tuple[str, ...],
    with_findings: bool,
    expected: bool,
) -> None:
    row = portfolio.row_of(CUSTOMERS["late_outreach"])
    assert portfolio.matches(row, query, owners, statuses, steps, with_findings) is expected


@pytest.mark.parametrize(
    "name,settled,next_action",
    [
        ("late_outreach", 0, "Initial outreach (overdue)"),
        ("homework_due", 2, "Homework (due)"),  # outreach and first call done; 2nd optional
        ("completed", 2, ""),  # final done; second call skipped by the timeline
    ],
)
def test_customer_row(name: str, settled: int, next_action: str) -> None:
    row = portfolio.row_of(CUSTOMERS[name])
    assert (row.steps_settled, row.next_action) == (settled, next_action)


# ------------------------------------------------------------ the Customers page's URL

OWNERS = ("dana", "lee", "Smith, Jo")


@pytest.mark.parametrize(
    "params,view",
    [
        ({}, views.View()),
        ({"owner": ["dana,lee"]}, views.View(owner=("dana", "lee"))),
        ({"owner": ["dana", "lee", "dana"]}, views.View(owner=("dana", "lee"))),  # repeated
        ({"owner": ["Smith, Jo"]}, views.View(owner=("Smith, Jo",))),  # a name with a comma
        ({"owner": ["nobody,lee"]}, views.View(owner=("lee",))),  # an unknown owner dropped
        ({"stage": ["bogus"], "status": ["overdue,"]}, views.View(status=("overdue",))),
        ({"health": ["at_risk, watch"]}, views.View(health=("at_risk", "watch"))),
        ({"overdue": ["1"], "findings": ["true"]}, views.View(overdue=True, findings=True)),
        ({"overdue": ["0"]}, views.View()),
        ({"q": ["  acme  "]}, views.View(q="acme")),
        ({"q": ["x" * 300]}, views.View(q="x" * views.MAX_QUERY_CHARS)),
        (
            {"next": ["homework,initial_outreach"]},
            views.View(next=("homework", "initial_outreach")),
        ),
    ],
)
def test_a_url_names_a_view(params: dict[str, list[str]], view: views.View) -> None:
    assert views.parse(params, OWNERS) == view


@pytest.mark.parametrize(
    "view,params",
    [
        (views.View(), {}),
        (views.View(owner=("dana", "lee"), overdue=True), {"owner": "dana,lee", "overdue": "1"}),
        (views.View(owner=("Smith, Jo", "lee")), {"owner": ["Smith, Jo", "lee"]}),
        (views.View(stage=("new_account",), q=" a "), {"stage": "new_account", "q": "a"}),
    ],
)
def test_a_view_as_url_and_back(view: views.View, params: dict[str, object]) -> None:
    assert view.params() == params
    back = {k: [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in params.items()}
    assert views.parse(back, OWNERS) == views.View(**{**view.__dict__, "q": view.q.strip()})


@pytest.mark.parametrize(
    "score,band",
    [
        (None, None),
        (0.0, "at_risk"),
        (3.9, "at_risk"),
        (4.0, "watch"),
        (6.9, "watch"),
        (7.0, "healthy"),
        (10.0, "healthy"),
    ],
)
def test_health_band(score: float | None, band: str | None) -> None:
    assert portfolio.health_band(score) == band


@pytest.mark.parametrize(
    "view,expected",
    [
        (views.View(overdue=True), True),  # late_outreach is overdue
        (views.View(health=("at_risk",)), True),
        (views.View(health=("healthy",)), False),
        (views.View(stage=("new_account",)), True),
        (views.View(stage=("onboarding_initiated",)), False),
        (views.View(owner=("dana",), status=("in_progress",), q="late"), True),
    ],
)
def test_a_view_filters_rows(view: views.View, expected: bool) -> None:
    row = portfolio.row_of(CUSTOMERS["late_outreach"], health=2.5)
    assert view.matches(row) is expected


def test_no_overdue_when_nothing_is_late() -> None:
    assert not portfolio.row_of(CUSTOMERS["new_today"]).overdue
