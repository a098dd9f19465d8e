"""The numbers above the charts, each beside the previous period's (pure).

The previous period is the selected window shifted back by its own length, with the same
owner, reason and plan filters (Filters.previous). Every rate names its group size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lib import labels
from lib.outcomes.overview import Outcomes
from lib.outcomes.section import SMALL_GROUP, pct, rate


@dataclass(frozen=True)
class Metric:
    """One headline number: `label` and `value` as shown, the change since the previous
    period (`delta`, signed text; None when either period has no number), what it was then
    (`previous`), and how it is counted (`help`)."""

    key: str
    label: str
    value: str
    delta: str | None
    previous: str | None
    help: str
    group: str = ""  # whom a rate counts: "of the 11 customers whose 8 weeks are over"


@dataclass(frozen=True)
class _Figure:
    number: float | None  # None: nothing to measure in this period
    n: int  # the group the rate is over (customers, outreach sent); 0 for counts


Reader = Callable[[Outcomes], _Figure]


def _entrants(result: Outcomes) -> _Figure:
    return _Figure(float(result.entrants), 0)


def _completed(result: Outcomes) -> _Figure:
    done = result.completion
    return _Figure(done.completed_pct if done.finished else None, done.finished)


def _on_time(result: Outcomes) -> _Figure:
    done = result.completion
    return _Figure(done.on_time_pct if done.finished else None, done.finished)


def _retention(result: Outcomes) -> _Figure:
    frame = result.retention.frame
    row = frame[frame["group"] == "all"]
    if not len(row):
        return _Figure(None, 0)
    return _Figure(float(row["retention_pct"].iloc[0]), int(row["customers"].iloc[0]))


def _response(result: Outcomes) -> _Figure:
    frame = result.response.frame
    sent = int(frame["outreach_sent"].sum()) if len(frame) else 0
    if not sent:
        return _Figure(None, 0)
    return _Figure(rate(int(frame["replied"].sum()), sent), sent)


def _savings(result: Outcomes) -> _Figure:
    if result.savings.is_empty:
        return _Figure(None, 0)
    return _Figure(float(result.savings.frame["realised_usd"].sum()), 0)


def _money(amount: float) -> str:
    return f"{labels.money(amount, cents=False)}/mo"


# key, label, whose group (for "of the N ..."), reader, kind of number, how it is counted.
_METRICS: tuple[tuple[str, str, str, Reader, str, str], ...] = (
    ("entrants", "Entrants", "", _entrants, "count", "Customers who entered in the period."),
    (
        "completed",
        "Completed",
        "customers whose 8 weeks are over",
        _completed,
        "rate",
        "Final outreach done, among the entrants whose 8 weeks (and any extension) are over; "
        "customers still inside their 8 weeks are not counted.",
    ),
    (
        "completed_on_time",
        "Completed on time",
        "customers whose 8 weeks are over",
        _on_time,
        "rate",
        "Final outreach done inside its window, among the same customers.",
    ),
    (
        "retention",
        "3-month retention",
        "customers 90+ days in",
        _retention,
        "rate",
        "Not churned and sending events, among the entrants 90+ days in.",
    ),
    (
        "response",
        "Response rate",
        "customers sent the initial outreach",
        _response,
        "rate",
        "Replied to the initial outreach, among the entrants it was sent to.",
    ),
    (
        "savings",
        "Savings realised",
        "",
        _savings,
        "money",
        "Monthly savings of the findings marked fixed.",
    ),
)


def _text(kind: str, number: float) -> str:
    if kind == "rate":
        return pct(number)
    if kind == "money":
        return _money(number)
    return f"{number:,.0f}"


def _delta(kind: str, now: float, then: float) -> str:
    if kind == "rate":
        points = round((now - then) * 100)
        return f"{points:+d} pts"
    if kind == "money":
        change = now - then
        sign = "-" if change < 0 else "+"
        return f"{sign}{_money(abs(change))}"
    return f"{now - then:+,.0f}"


def headline(current: Outcomes, previous: Outcomes) -> list[Metric]:
    """The headline numbers of `current`, each with `previous` (the period before) beside
    it. A metric with nothing to measure in `current` is left out."""
    window = previous.filters
    period = (
        f"Previous period: customers who entered {window.entered_from.isoformat()} to "
        f"{window.entered_to.isoformat()}, the selected window shifted back by its own length "
        f"({window.days} days), with the same filters."
    )
    metrics: list[Metric] = []
    for key, name, whose, read, kind, counted in _METRICS:
        now, then = read(current), read(previous)
        if now.number is None:
            continue
        group = ""
        if whose:
            group = f"of the {now.n:,} {whose}"
            if now.n < SMALL_GROUP:
                group += " (small group)"
        if then.number is None:
            delta, before = None, None
            note = f"{period} It has no number for this."
        else:
            delta, before = _delta(kind, now.number, then.number), _text(kind, then.number)
            size = f" (n={then.n:,})" if whose else ""
            note = f"{period} Then: {before}{size}."
        value = _text(kind, now.number)
        if whose and before is None:
            group += "; no number last period"
        metrics.append(Metric(key, name, value, delta, before, f"{counted} {note}", group))
    return metrics
