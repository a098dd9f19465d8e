"""Building the digests (pure): an owner's from the same worklist and refund queue as the
Today page, plus replies, homework check-ins and the calls' agendas; leadership's week
beside the week before, from the outcomes' data (docs/rules.md, "The morning digest")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from urllib.parse import urlencode

from lib import labels
from lib.digest.model import LEADERSHIP, OWNER, Digest, Facts, Figure, Item, Section
from lib.outcomes.data import Filters, OutcomesData
from lib.outcomes.progression import progress
from lib.outcomes.retention_team import retention
from lib.outcomes.section import pct, rate
from lib.program import timeline, worklist
from lib.program.report import CustomerReport
from lib.refunds import queue
from lib.refunds.offers import offers

CLOSED: frozenset[str] = frozenset({"churned", "completed"})  # not in an owner's list
TOMORROW = dt.timedelta(days=1)
Link = Callable[[str], str]  # a page and its query ("customer?id=acme") -> an absolute URL


def page(name: str, **query: str) -> str:
    return f"{name}?{urlencode(query)}" if query else name


def _day(day: dt.date, as_of: dt.date) -> str:
    if day == as_of:
        return "today"
    if day == as_of + TOMORROW:
        return "tomorrow"
    if day == as_of - TOMORROW:
        return "yesterday"
    return f"{day:%a %d %b}"


def _open(report: CustomerReport) -> bool:
    return report.timeline.program_status not in CLOSED and report.customer.status not in CLOSED


def refund_tasks(
    reports: Sequence[CustomerReport],
    facts: Facts,
    as_of: dt.date,
    owner: str | None,
    approver: bool,
) -> list[queue.RefundTask]:
    """The refunds waiting for `owner`, as the Today page lists them (ui.refund_queue)."""
    customers = {r.customer_id: (r.customer.name, r.customer.owner) for r in reports}
    proposable = {
        r.customer_id: found
        for r in reports
        if r.est_refund_usd > 0 and (found := offers(r.findings, r.totals.refundable))
    }
    return queue.build(
        facts.open_refunds,
        proposable,
        customers,
        set(facts.recorded_refunds),
        as_of,
        owner,
        approver,
    )


def owner_digest(
    reports: Sequence[CustomerReport],
    facts: Facts,
    as_of: dt.date,
    owner: str,
    name: str,
    link: Link,
    approver: bool = False,
    no_reply_days: int | None = None,
) -> Digest:
    """`owner`'s morning digest as of a date; `reports` may be everyone's (only the owner's
    customers are read). Churned and completed customers are left out of every list but
    the refunds (money owed is owed), so the counts are the Today page's."""
    mine = [r for r in reports if r.customer.owner == owner]
    work = worklist.build(mine, as_of, owner, no_reply_days)
    open_ids = {r.customer_id for r in mine if _open(r)}
    names = {r.customer_id: r.customer.name for r in mine}
    week_end = as_of + worklist.WEEK

    def customer(cid: str, tab: str | None = None) -> str:
        return link(page("customer", id=cid, **({"tab": tab} if tab else {})))

    overdue = tuple(
        Item(
            i.name,
            f"{i.step_label}, due {_day(i.due_on, as_of)} (week {i.program_week})",
            customer(i.customer_id),
            i.customer_id,
        )
        for i in work.items
        if i.status == "overdue"
    )
    due = tuple(
        Item(
            i.name,
            f"{i.step_label}, due {_day(i.due_on, as_of)} (week {i.program_week})",
            customer(i.customer_id),
            i.customer_id,
        )
        for i in work.items
        if i.status == "due" and i.due_on <= week_end
    )
    meetings = {(m.customer_id, m.step, m.day): m for m in facts.meetings}
    calls: list[Item] = []
    call_days: list[dt.date] = []
    for call in work.calls:
        if call.on > as_of + TOMORROW or call.customer_id not in open_ids:
            continue
        meeting = meetings.get((call.customer_id, call.step, call.on))
        when = f"{timeline.STEP_LABELS[call.step]} {_day(call.on, as_of)}"
        if meeting is not None:
            when += f" at {meeting.time}; the agenda"
        url = (
            link(page("meetings", meeting=str(meeting.id)))
            if meeting is not None
            else customer(call.customer_id)
        )
        calls.append(Item(call.name, when, url, call.customer_id))
        call_days.append(call.on)
    replied: dict[str, list[dt.date]] = {}
    for reply in facts.replies:
        if reply.customer_id in open_ids and as_of - TOMORROW <= reply.on <= as_of:
            replied.setdefault(reply.customer_id, []).append(reply.on)
    replies = tuple(
        Item(
            names[cid],
            f"{len(days)} repl{'y' if len(days) == 1 else 'ies'}, the last {_day(max(days), as_of)}",
            customer(cid, "Emails"),
            cid,
        )
        for cid, days in sorted(replied.items(), key=lambda kv: (names[kv[0]], kv[0]))
    )
    homework = tuple(
        Item(
            names[h.customer_id],
            f"check in: {h.open_tasks} task(s) open, sent {_day(h.sent_on, as_of)}, "
            f"check-in {_day(h.check_in_on, as_of)}",
            link(page("homework", customer=h.customer_id)),
            h.customer_id,
        )
        for h in sorted(facts.homework, key=lambda h: (h.check_in_on, names.get(h.customer_id, "")))
        if h.customer_id in open_ids and h.open_tasks > 0 and h.check_in_on <= as_of
    )
    refunds = tuple(
        Item(
            t.name,
            f"{t.what} ({labels.label('refund_scenario', t.scenario)}"
            + (f", by {t.due_on:%d %b}" if t.due_on else "")
            + ")",
            customer(t.customer_id, "Refunds"),
            t.customer_id,
        )
        for t in refund_tasks(mine, facts, as_of, owner, approver)
    )
    no_reply = tuple(
        Item(
            n.name,
            f"no reply {n.days} days after the initial outreach ({n.outreach_on:%d %b})",
            customer(n.customer_id, "Emails"),
            n.customer_id,
        )
        for n in work.no_reply
    )
    sections = (
        Section("overdue", overdue),
        Section("due", due),
        Section("calls", tuple(calls)),
        Section("replies", replies),
        Section("homework", homework),
        Section("refunds", refunds),
        Section("no_reply", no_reply),
    )
    counts = {
        "overdue": work.overdue,
        "due": len(due),
        "due_this_week": work.due_this_week,
        "due_today": sum(1 for i in work.items if i.status == "due" and i.due_on == as_of),
        "calls_today": call_days.count(as_of),
        "calls_tomorrow": call_days.count(as_of + TOMORROW),
        "replies": sum(len(days) for days in replied.values()),
        "homework": len(homework),
        "refunds": len(refunds),
        "no_reply": len(no_reply),
    }
    return Digest(OWNER, owner, name, as_of, link("today"), sections, counts)


# ------------------------------------------------------------------ leadership


def _week_figures(data: OutcomesData, start: dt.date, end: dt.date) -> dict[str, float]:
    """Entrants, completions, steps done on time, savings and refunds in [start, end]."""
    entered = data.customers["segment_entered_on"].map(
        lambda d: d is not None and start <= d <= end
    )
    prog = progress(data.customers, data.steps, end)
    done = prog[prog["done_on"].map(lambda d: d is not None and start <= d <= end)]
    final = done[done["step"] == "final_outreach"]
    found = data.findings
    identified = found[
        found["identified_on"].map(lambda d: d is not None and start <= d <= end)
        & (found["state"] != "dismissed")
    ]
    fixed = found[
        found["fixed_on"].map(lambda d: d is not None and start <= d <= end)
        & (found["state"] == "fixed")
    ]
    issued = data.refunds[
        (data.refunds["status"] == "issued")
        & data.refunds["issued_on"].map(lambda d: d is not None and start <= d <= end)
    ]
    return {
        "entrants": int(entered.sum()),
        "completions": int(len(final)),
        "steps_done": int(len(done)),
        "on_time": rate(int(done["on_time"].sum()), len(done)),
        "identified": float(identified["est_monthly_saving_usd"].sum()),
        "realised": float(fixed["est_monthly_saving_usd"].sum()),
        "refunds": int(len(issued)),
        "refunded": float(issued["amount_usd"].sum()),
    }


def _retention(data: OutcomesData, as_of: dt.date) -> tuple[float, int]:
    first = data.first_entry or as_of
    everyone = Filters(min(first, as_of), as_of)
    chosen = everyone.select(data.customers)
    prog = progress(chosen, data.steps, as_of)
    frame = retention(chosen, prog, as_of, everyone).frame
    row = frame[frame["group"] == "all"]
    if row.empty or not int(row["customers"].iloc[0]):
        return 0.0, 0
    return float(row["retention_pct"].iloc[0]), int(row["customers"].iloc[0])


def leadership_digest(
    now: OutcomesData, before: OutcomesData, username: str, name: str, link: Link
) -> Digest:
    """The week ending on `now.as_of` beside the week before (`before` is the outcomes'
    data as of seven days earlier, for the retention then)."""
    as_of = now.as_of
    start = as_of - worklist.WEEK
    this = _week_figures(now, start, as_of)
    last = _week_figures(now, start - dt.timedelta(days=7), start - TOMORROW)
    kept_now, n_now = _retention(now, as_of)
    kept_then, n_then = _retention(before, before.as_of)

    def money(amount: float) -> str:
        return labels.money(amount, cents=False)

    def both(key: str, show: Callable[[float], str] = lambda v: f"{v:,.0f}") -> tuple[str, str]:
        return show(this[key]), show(last[key])

    figures = (
        Figure("Entrants", *both("entrants")),
        Figure("Completions (final outreach done)", *both("completions")),
        Figure(
            "Steps done on time",
            f"{pct(this['on_time'])} of {this['steps_done']:.0f}",
            f"{pct(last['on_time'])} of {last['steps_done']:.0f}",
        ),
        Figure("Savings identified (a month)", *both("identified", money)),
        Figure("Savings realised (a month)", *both("realised", money)),
        Figure(
            "Refunds issued",
            f"{this['refunds']:.0f} ({money(this['refunded'])})",
            f"{last['refunds']:.0f} ({money(last['refunded'])})",
        ),
        Figure(
            "3-month retention",
            f"{pct(kept_now)} of {n_now}" if n_now else "-",
            f"{pct(kept_then)} of {n_then}" if n_then else "-",
        ),
    )
    return Digest(
        LEADERSHIP, username, name, as_of, link("outcomes"), figures=figures, week=(start, as_of)
    )
