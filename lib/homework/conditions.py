"""A task's `verify` condition: typed, parsed from the library's TOML tables (parsing is
validation), and evaluated on one customer's facts (daily usage, config, subscriptions)."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lib.errors import UserError
from lib.vocabulary import CONFIG_KEYS, METRICS, PRODUCTS

MAX_WINDOW_DAYS = 90

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
KINDS = (
    "sum",
    "max",
    "ratio",
    "days_with",
    "config",
    "billing_limit",
    "subscribed",
    "all",
    "any",
    "not",
)


class LibraryError(UserError):
    """The homework library file is malformed; the message names the task and field."""


# ------------------------------------------------------------------ the model


@dataclass(frozen=True)
class Sum:
    """The metric's total over the window."""

    metric: str
    days: int
    op: str
    value: float


@dataclass(frozen=True)
class Max:
    """The metric's largest single day in the window."""

    metric: str
    days: int
    op: str
    value: float


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator over the window, as a share or "per" one denominator."""

    numerator: str
    denominator: str
    days: int
    op: str
    value: float
    unit: Literal["share", "per"] = "share"


@dataclass(frozen=True)
class DaysWith:
    """At least `at_least` days in the window on which `metric op value` holds."""

    metric: str
    days: int
    op: str
    value: float
    at_least: int


@dataclass(frozen=True)
class Config:
    """A config value compared (numbers as numbers, text case-insensitively)."""

    key: str
    op: str
    value: str | int | float


@dataclass(frozen=True)
class BillingLimit:
    """A billing limit is set on `product` ("any": on some product)."""

    product: str


@dataclass(frozen=True)
class Subscribed:
    """The customer pays for `product` (value true) or not (false)."""

    product: str
    value: bool = True


@dataclass(frozen=True)
class All:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    inner: Condition


Condition = Sum | Max | Ratio | DaysWith | Config | BillingLimit | Subscribed | All | AnyOf | Not


# -------------------------------------------------------------------- parsing


def parse_condition(raw: Any, where: str = "verify") -> Condition:
    """The condition a TOML table describes; LibraryError (naming `where`) if malformed."""
    if not isinstance(raw, dict):
        raise LibraryError(f"{where}: expected a table, got {raw!r}")
    kinds = [k for k in KINDS if k in raw]
    if len(kinds) != 1:
        raise LibraryError(
            f"{where}: expected exactly one of {', '.join(KINDS)}, got keys {sorted(raw)}"
        )
    kind = kinds[0]
    allowed = {kind}
    condition: Condition
    if kind in ("all", "any"):
        parts = raw[kind]
        if not isinstance(parts, list) or not parts:
            raise LibraryError(f"{where}.{kind}: expected a non-empty list of conditions")
        parsed = tuple(parse_condition(p, f"{where}.{kind}[{i}]") for i, p in enumerate(parts))
        condition = All(parsed) if kind == "all" else AnyOf(parsed)
    elif kind == "not":
        condition = Not(parse_condition(raw["not"], f"{where}.not"))
    elif kind in ("sum", "max", "ratio", "days_with"):
        allowed |= {"days", "op", "value"} | _EXTRA_USAGE_KEYS.get(kind, set())
        condition = _usage(kind, raw, where)
    elif kind == "config":
        allowed |= {"op", "value"}
        if not isinstance(raw["config"], str) or raw["config"] not in CONFIG_KEYS:
            raise LibraryError(f"{where}: unknown config key {raw['config']!r}")
        op = _op(raw, where)
        value = raw.get("value")
        if not isinstance(value, str | int | float):
            raise LibraryError(f"{where}.value: expected a string or a number")
        condition = Config(raw["config"], op, value)
    elif kind == "billing_limit":
        if raw["billing_limit"] != "any" and raw["billing_limit"] not in PRODUCTS:
            raise LibraryError(f"{where}.billing_limit: expected 'any' or a product")
        condition = BillingLimit(raw["billing_limit"])
    else:  # subscribed
        allowed.add("value")
        if raw["subscribed"] not in PRODUCTS:
            raise LibraryError(f"{where}.subscribed: unknown product {raw['subscribed']!r}")
        if not isinstance(raw.get("value", True), bool):
            raise LibraryError(f"{where}.value: expected true or false")
        condition = Subscribed(raw["subscribed"], raw.get("value", True))
    extra = set(raw) - allowed
    if extra:
        raise LibraryError(f"{where}: unexpected keys {sorted(extra)} for a {kind!r} condition")
    return condition


_EXTRA_USAGE_KEYS = {"ratio": {"unit"}, "days_with": {"at_least"}}


def _usage(kind: str, raw: dict[str, Any], where: str) -> Condition:
    names = raw[kind] if kind == "ratio" else [raw[kind]]
    if kind == "ratio":
        if not (isinstance(names, list) and len(names) == 2):
            raise LibraryError(f"{where}.ratio: expected [numerator, denominator] metrics")
        if raw.get("unit", "share") not in ("share", "per"):
            raise LibraryError(f"{where}.unit: expected 'share' or 'per'")
    for name in names:
        if name not in METRICS:
            raise LibraryError(f"{where}: unknown metric {name!r}")
    days = raw.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_WINDOW_DAYS:
        raise LibraryError(f"{where}.days: expected a whole number 1-{MAX_WINDOW_DAYS}")
    at_least = raw.get("at_least", 0) if kind == "days_with" else 0
    if kind == "days_with" and (not isinstance(at_least, int) or not 1 <= at_least <= days):
        raise LibraryError(f"{where}.at_least: expected a whole number 1-{days}")
    op = _op(raw, where)
    value = raw.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise LibraryError(f"{where}.value: expected a number")
    target = float(value)
    if kind == "sum":
        return Sum(raw["sum"], days, op, target)
    if kind == "max":
        return Max(raw["max"], days, op, target)
    if kind == "days_with":
        return DaysWith(raw["days_with"], days, op, target, int(at_least))
    return Ratio(
        names[0], names[1], days, op, target, "per" if raw.get("unit") == "per" else "share"
    )


def _op(raw: dict[str, Any], where: str) -> str:
    op = raw.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise LibraryError(f"{where}.op: expected one of {' '.join(OPS)}")
    return op


# ----------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Facts:
    """What a condition looks at for one customer: `daily[metric][date]` up to `as_of`
    (the latest imported day); usage windows start no earlier than `since` (the day the
    homework was sent), so only behaviour after sending counts."""

    as_of: dt.date | None
    daily: Mapping[str, Mapping[dt.date, float]] = field(default_factory=dict)
    config: Mapping[str, str] = field(default_factory=dict)
    subscriptions: Mapping[str, float | None] = field(default_factory=dict)
    since: dt.date | None = None

    def clipped(self, since: dt.date | None) -> Facts:
        return Facts(self.as_of, self.daily, self.config, self.subscriptions, since)


@dataclass(frozen=True)
class Check:
    ok: bool
    evidence: str


def evaluate(cond: Condition, facts: Facts) -> Check:
    """Whether `cond` holds on `facts`, with the evidence in the customer's numbers."""
    match cond:
        case All(parts):
            checks = [evaluate(c, facts) for c in parts]
            return Check(all(c.ok for c in checks), "; ".join(c.evidence for c in checks))
        case AnyOf(parts):
            checks = [evaluate(c, facts) for c in parts]
            good = [c for c in checks if c.ok]
            return Check(bool(good), "; ".join(c.evidence for c in (good or checks)))
        case Not(inner):
            check = evaluate(inner, facts)
            return Check(not check.ok, f"not ({check.evidence})")
        case Config(key, op, want):
            raw = facts.config.get(key)
            if raw is None:
                return Check(False, f"{key} is not set (needs {op} {want})")
            have, target = _config_value(raw), _config_value(str(want))
            if isinstance(have, float) != isinstance(target, float):
                return Check(False, f"{key} = {raw} (needs {op} {want})")
            return Check(OPS[op](have, target), f"{key} = {raw} (needs {op} {want})")
        case BillingLimit(product):
            limited = sorted(p for p, limit in facts.subscriptions.items() if limit is not None)
            if product == "any":
                ok = bool(limited)
                text = (
                    f"billing limit set on {', '.join(limited)}" if ok else "no billing limit set"
                )
                return Check(ok, text)
            ok = product in limited
            return Check(ok, f"{product}: billing limit {'set' if ok else 'not set'}")
        case Subscribed(product, want_on):
            on = product in facts.subscriptions
            return Check(on == want_on, f"{product} {'subscribed' if on else 'not subscribed'}")
        case Sum() | Max() | DaysWith() | Ratio():
            return _usage_check(cond, facts)


def _usage_check(cond: Sum | Max | DaysWith | Ratio, facts: Facts) -> Check:
    window = _window(facts, cond.days)
    if not window:
        return _no_data(facts)
    op, target, span = cond.op, cond.value, _span(facts, cond.days, window)

    def series(metric: str) -> list[float]:
        values = facts.daily.get(metric, {})
        return [values.get(day, 0.0) for day in window]

    needs = f"(needs {op} {_number(target)})"
    match cond:
        case Sum(metric):
            total = sum(series(metric))
            return Check(OPS[op](total, target), f"{metric}: {_number(total)} over {span} {needs}")
        case Max(metric):
            peak = max(series(metric))
            return Check(
                OPS[op](peak, target),
                f"{metric}: at most {_number(peak)} a day over {span} {needs}",
            )
        case DaysWith(metric, days, at_least=at_least):
            hits = sum(1 for v in series(metric) if OPS[op](v, target))
            return Check(
                hits >= at_least,
                f"{metric} {op} {_number(target)} on {hits} of {span} "
                f"(needs {at_least} of {days} days)",
            )
        case Ratio(num_name, den_name, unit=unit):
            num, den = sum(series(num_name)), sum(series(den_name))
            if den <= 0:
                return Check(False, f"no {den_name} over {span}")
            ratio = num / den
            if unit == "per":
                return Check(
                    OPS[op](ratio, target),
                    f"{ratio:.2f} {num_name} per {den_name.rstrip('s')} over {span} "
                    f"(needs {op} {target:g})",
                )
            return Check(
                OPS[op](ratio, target),
                f"{num_name} {ratio:.0%} of {_number(den)} {den_name} over {span} "
                f"(needs {op} {target:.0%})",
            )


def _number(value: float) -> str:
    if value == int(value):
        whole = int(value)
        if abs(whole) >= 1_000_000:
            return f"{whole / 1_000_000:.1f}M"
        return f"{whole:,}"
    return f"{value:.2f}"


def _window(facts: Facts, days: int) -> list[dt.date]:
    if facts.as_of is None:
        return []
    start = facts.as_of - dt.timedelta(days=days - 1)
    if facts.since is not None and facts.since > start:
        start = facts.since
    return [start + dt.timedelta(days=i) for i in range((facts.as_of - start).days + 1)]


def _span(facts: Facts, days: int, window: list[dt.date]) -> str:
    if facts.since is not None and len(window) < days:
        return f"the {len(window)} day(s) since {facts.since.isoformat()} (window {days} days)"
    return f"the {days} days to {facts.as_of.isoformat() if facts.as_of else '?'}"


def _no_data(facts: Facts) -> Check:
    if facts.as_of is None:
        return Check(False, "no usage imported yet")
    return Check(
        False,
        f"no usage since {facts.since.isoformat() if facts.since else '?'} yet "
        f"(latest imported day {facts.as_of.isoformat()})",
    )


def _config_value(raw: str) -> Any:
    try:
        return float(raw)
    except ValueError:
        return raw.strip().lower()
