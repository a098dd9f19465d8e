"""The checks each kind's cells must pass, as pandera schemas (lib.ingest.validate runs
them; usage.csv's a chunk at a time, on each column's distinct values)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pandera.pandas as pa

from lib.audit.engine import RULE_IDS
from lib.audit.refunds import SCENARIOS
from lib.ingest.cells import (
    MAX_COUNT,
    is_blank,
    is_date,
    is_nonnegative_number,
    is_whole_nonnegative,
    to_number,
)
from lib.program.timeline import CUSTOMER_STATUSES, RECORDED_STATUSES, STEPS
from lib.refunds.records import DATES
from lib.vocabulary import CONFIG_KEYS, ENTRY_REASONS, METRICS, PRODUCTS, REFUND_STATUSES

REFUND_DATES = tuple(d for d in DATES if d != "billing_month")
# The most characters of a text cell whose column sets no length (a refund's note, ...):
# a line is at most 64 KB (lib.ingest.limits), but a quoted cell may span lines.
MAX_CELL_CHARS = 64 * 1024


def config_value_ok(frame: pd.DataFrame) -> pd.Series:
    kinds = frame["key"].map(CONFIG_KEYS)
    value = frame["value"]
    lowered = value.str.lower()
    numbers = to_number(value)
    ok = pd.Series(True, index=frame.index)
    ok[kinds.eq("on_off")] = lowered.isin(["on", "off"])
    ok[kinds.eq("bool")] = lowered.isin(["true", "false"])
    ok[kinds.eq("person_profiles")] = value.isin(["always", "identified_only"])
    whole = numbers.notna() & numbers.ge(0) & numbers.eq(numbers.round())
    ok[kinds.isin(["count", "seconds"])] = whole
    ok[kinds.eq("fraction")] = numbers.between(0, 1)
    ok[kinds.eq("text")] = value.ne("")
    return ok.astype(bool)


CONFIG_EXPECTED = {
    "on_off": "on or off",
    "bool": "true or false",
    "person_profiles": "always or identified_only",
    "count": "a whole number >= 0",
    "seconds": "a whole number of seconds >= 0",
    "fraction": "a number from 0 to 1",
    "text": "a value",
}


def _required(column: str) -> pa.Check:
    return pa.Check(lambda s: s.ne(""), error="a value is required")


def _unique(message: str) -> pa.Check:
    return pa.Check(lambda s: ~s.duplicated(keep="first"), error=message)


def _one_of(values: Iterable[str], allow_blank: bool = False) -> pa.Check:
    allowed = list(values)
    shown = ", ".join(allowed)
    extra = " (or empty)" if allow_blank else ""
    return pa.Check(
        lambda s: s.isin(allowed) | (is_blank(s) if allow_blank else False),
        error=f"one of: {shown}{extra}",
    )


def _date_check(allow_blank: bool = False) -> pa.Check:
    if allow_blank:
        return pa.Check(lambda s: is_date(s) | is_blank(s), error="a date YYYY-MM-DD or empty")
    return pa.Check(is_date, error="a date YYYY-MM-DD")


def _money_check() -> pa.Check:
    return pa.Check(
        lambda s: is_nonnegative_number(s) | is_blank(s), error="a number >= 0 or empty"
    )


def schema(kind: str, present: set[str]) -> pa.DataFrameSchema:
    def column(*checks: pa.Check) -> pa.Column:
        return pa.Column(checks=list(checks), required=False)

    columns: dict[str, pa.Column]
    if kind == "customers":
        columns = {
            "customer_id": column(
                _required("customer_id"), _unique("customer_id appears more than once")
            ),
            "name": column(_required("name")),
            "segment_entered_on": column(_date_check()),
            "entry_reason": column(_one_of(ENTRY_REASONS, allow_blank=True)),
            "mrr_usd": column(_money_check()),
            "extended_until": column(_date_check(allow_blank=True)),
            "status": column(_one_of(CUSTOMER_STATUSES, allow_blank=True)),
        }
    elif kind == "subscriptions":
        columns = {
            "customer_id": column(_required("customer_id")),
            "product": column(_one_of(PRODUCTS)),
            "billing_limit_usd": column(_money_check()),
        }
    elif kind == "config":
        columns = {
            "customer_id": column(_required("customer_id")),
            "key": column(_one_of(CONFIG_KEYS)),
        }
    elif kind == "usage":
        columns = {
            "customer_id": column(_required("customer_id")),
            "date": column(_date_check()),
            "metric": column(_one_of(METRICS)),
            "value": column(
                pa.Check(
                    is_whole_nonnegative,
                    error=f"a whole number >= 0 (a daily count, at most {MAX_COUNT})",
                )
            ),
        }
    elif kind == "steps":
        columns = {
            "customer_id": column(_required("customer_id")),
            "step": column(_one_of(STEPS)),
            "status": column(_one_of(RECORDED_STATUSES)),
            "date": column(_date_check()),
        }
    elif kind == "contacts":  # every other cell: lib.contacts.model.csv_problems
        columns = {"customer_id": column(_required("customer_id"))}
    else:
        columns = {
            "customer_id": column(_required("customer_id")),
            "scenario": column(_one_of(SCENARIOS)),
            "billing_month": column(
                pa.Check(
                    lambda s: is_date(s) & s.str.endswith("-01"),
                    error="the first day of the billing month, YYYY-MM-01",
                )
            ),
            "amount_usd": column(pa.Check(is_nonnegative_number, error="a number >= 0")),
            "status": column(_one_of(REFUND_STATUSES)),
            "rule": column(_one_of(RULE_IDS, allow_blank=True)),
            "invoice_change": column(
                pa.Check(
                    lambda s: s.str.lower().isin(["true", "false"]) | is_blank(s),
                    error="true or false (or empty)",
                )
            ),
            "issued_usd": column(_money_check()),
            **{name: column(_date_check(allow_blank=True)) for name in REFUND_DATES},
        }
    return pa.DataFrameSchema(
        {name: col for name, col in columns.items() if name in present}, strict=False
    )


def unstorable(length: int, values: pd.Series) -> pd.Series:
    """Which of these distinct values no database column can hold: longer than the
    column, or with a NUL character. PostgreSQL refuses both (SQLite would keep them),
    so both databases refuse them here, before anything is written."""
    text = values.astype(str)
    return text.str.contains("\x00", regex=False) | text.str.len().gt(length)


def unstorable_message(value: str, length: int) -> str:
    if "\x00" in value:
        return "contains a NUL character (0x00), which cannot be stored; remove it"
    return f"at most {length} characters (this has {len(value)})"
