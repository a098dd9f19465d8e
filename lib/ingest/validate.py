"""Every source checked into one frame per kind (pandera, lazy): each problem named by
file, row, column and value. Pure: nothing here reads or writes the database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from lib.audit.engine import RULE_IDS
from lib.audit.refunds import SCENARIOS
from lib.contacts.model import csv_problems as contact_problems
from lib.ingest.cells import (
    MAX_COUNT,
    is_blank,
    is_date,
    is_nonnegative_number,
    is_whole_nonnegative,
    to_number,
)
from lib.ingest.parse import check_header, read
from lib.ingest.sources import FrameSource, Source, detect_kind, sources_from_paths
from lib.ingest.spec import KINDS, SPECS, ImportRejected, Problem
from lib.program.timeline import CUSTOMER_STATUSES, RECORDED_STATUSES, STEPS
from lib.refunds.records import DATES
from lib.vocabulary import CONFIG_KEYS, ENTRY_REASONS, METRICS, PRODUCTS, REFUND_STATUSES

REFUND_DATES = tuple(d for d in DATES if d != "billing_month")


@dataclass(frozen=True)
class Loaded:
    """One kind's rows from every file of that kind, with where each came from."""

    kind: str
    files: list[str]
    frame: pd.DataFrame  # the spec's columns + _file + _row


def _config_value_ok(frame: pd.DataFrame) -> pd.Series:
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


def _schema(kind: str, present: set[str]) -> pa.DataFrameSchema:
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


def _at(frame: pd.DataFrame, index: Any, column: str) -> str:
    return str(frame.at[index, column])


def problem_at(
    frame: pd.DataFrame, index: Any, expected: str, column: str | None = None
) -> Problem:
    """A problem in one row of a loaded frame, named as the user's file shows it."""
    return Problem(
        _at(frame, index, "_file"),
        expected,
        row=int(_at(frame, index, "_row")),
        column=column,
        value=_at(frame, index, column) if column else None,
    )


def _problems(loaded: Loaded) -> list[Problem]:
    frame = loaded.frame
    problems: list[Problem] = []
    schema = _schema(loaded.kind, set(frame.columns))
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases[cases["index"].notna()]
        for index, check, column in zip(
            cases["index"].tolist(), cases["check"].tolist(), cases["column"].tolist(), strict=True
        ):
            problems.append(problem_at(frame, int(index), str(check), str(column)))
    problems += _unstorable(loaded)
    spec = SPECS[loaded.kind]
    if loaded.kind == "config" and not problems:
        ok = _config_value_ok(frame)
        for index in frame.index[~ok]:
            key = _at(frame, index, "key")
            expected = CONFIG_EXPECTED[CONFIG_KEYS[key]]
            problems.append(problem_at(frame, index, f"for key {key}: {expected}", "value"))
    if loaded.kind == "refunds" and not problems:
        problems += _refund_problems(frame)
    if loaded.kind == "contacts":
        problems += _contact_problems(frame)
    elif len(spec.key) > 1 and set(spec.key) <= set(frame.columns):
        repeated = frame.duplicated(list(spec.key), keep="first")
        for index in frame.index[repeated]:
            key = ", ".join(f"{k}={_at(frame, index, k)}" for k in spec.key)
            expected = f"the same {' + '.join(spec.key)} appears earlier ({key})"
            problems.append(problem_at(frame, index, expected))
    return problems


def _refund_problems(frame: pd.DataFrame) -> list[Problem]:
    """What a refund's status needs from its other cells (the cells themselves are valid)."""

    def cells(column: str) -> pd.Series:
        if column in frame.columns:
            return frame[column]
        return pd.Series("", index=frame.index, dtype=object)

    status = frame["status"]
    problems = [
        problem_at(frame, index, "an issued refund needs the date it was issued", "issued_on")
        for index in frame.index[status.eq("issued") & cells("issued_on").eq("")]
    ]
    problems += [
        problem_at(frame, index, "a declined refund needs the reason why", "decision_reason")
        for index in frame.index[
            status.eq("declined") & cells("decision_reason").str.strip().eq("")
        ]
    ]
    issued, amount = to_number(cells("issued_usd")), to_number(frame["amount_usd"])
    problems += [
        problem_at(
            frame, index, "at most amount_usd (a refund is issued up to its amount)", "issued_usd"
        )
        for index in frame.index[issued.gt(amount + 0.005)]
    ]
    return problems


def _contact_problems(frame: pd.DataFrame) -> list[Problem]:
    """contacts.csv's names, addresses, roles, primaries and repeated addresses, checked by
    lib.contacts (the rules the customer page keeps)."""
    columns = [c for c in SPECS["contacts"].columns if c in frame.columns]
    rows = [{str(k): str(v) for k, v in r.items()} for r in frame[columns].to_dict("records")]
    where = [f"{file} row {row}" for file, row in zip(frame["_file"], frame["_row"], strict=True)]
    return [
        problem_at(frame, frame.index[i], expected, column)
        for i, column, expected in contact_problems(rows, where)
    ]


def _unstorable(loaded: Loaded) -> list[Problem]:
    """Text no database column can hold: longer than the column, or with a NUL
    character. PostgreSQL refuses both (SQLite would keep them), so both
    databases refuse them here, before anything is written."""
    frame = loaded.frame
    spec = SPECS[loaded.kind]
    problems: list[Problem] = []
    for column in spec.columns:
        if column not in frame.columns:
            continue
        length: float = spec.lengths.get(column) or float("inf")
        # Distinct values only: a usage file repeats a few hundred ids a million times.
        distinct = pd.Series(frame[column].unique(), dtype=object).astype(str)
        bad = distinct[distinct.str.contains("\x00", regex=False) | distinct.str.len().gt(length)]
        if bad.empty:
            continue
        for index in frame.index[frame[column].isin(set(bad))]:
            value = _at(frame, index, column)
            expected = (
                "contains a NUL character (0x00), which cannot be stored; remove it"
                if "\x00" in value
                else f"at most {length} characters (this has {len(value)})"
            )
            problems.append(problem_at(frame, index, expected, column))
    return problems


def validate_sources(sources: list[Source]) -> tuple[dict[str, Loaded], list[str]]:
    """Every file checked: (the rows of each kind, warnings). Raises ImportRejected
    naming every problem; whether the customers exist is the write's check."""
    if not sources:
        raise ImportRejected([Problem("(no files)", "give at least one CSV file or a folder")])
    loaded, problems, warnings = load(sources)
    if problems:
        raise ImportRejected(problems)
    return loaded, warnings


def validate_paths(paths: Iterable[str | Path]) -> tuple[dict[str, Loaded], list[str]]:
    """validate_sources of files and folders (a folder: every known CSV in it)."""
    sources, problems = sources_from_paths(paths)
    if problems:
        raise ImportRejected(problems)
    return validate_sources(sources)


def load(sources: list[Source]) -> tuple[dict[str, Loaded], list[Problem], list[str]]:
    """Decode, parse and validate every source: (rows of each kind, problems, warnings)."""
    problems: list[Problem] = []
    warnings: list[str] = []
    frames: dict[str, list[pd.DataFrame]] = defaultdict(list)
    files: dict[str, list[str]] = defaultdict(list)
    for source in sources:
        frame, clean, read_problems = read(source)
        if frame is None:
            problems += read_problems
            continue
        kind = detect_kind(source, frame)
        if kind is None:
            problems.append(
                Problem(
                    source.name,
                    "cannot tell which file this is: name it customers.csv, subscriptions.csv, "
                    "config.csv, usage.csv, steps.csv, refunds.csv or contacts.csv",
                )
            )
            continue
        # The header is row 1, so the first data row is row 2 as a spreadsheet shows it.
        _accept(
            FrameSource(source.name, kind, frame, first_row=2, clean=clean),
            frames,
            files,
            problems,
            warnings,
        )
    return _combine(frames, files, problems), problems, warnings


def load_frames(
    sources: list[FrameSource],
) -> tuple[dict[str, Loaded], list[Problem], list[str]]:
    """Header checks and validation of ready-made frames, as `load` does for files."""
    problems: list[Problem] = []
    warnings: list[str] = []
    frames: dict[str, list[pd.DataFrame]] = defaultdict(list)
    files: dict[str, list[str]] = defaultdict(list)
    for source in sources:
        _accept(source, frames, files, problems, warnings)
    return _combine(frames, files, problems), problems, warnings


def _accept(
    source: FrameSource,
    frames: dict[str, list[pd.DataFrame]],
    files: dict[str, list[str]],
    problems: list[Problem],
    warnings: list[str],
) -> None:
    kind, frame = source.kind, source.frame
    header_problems, header_warnings = check_header(source.name, kind, frame)
    problems += header_problems
    warnings += header_warnings
    if header_problems:
        return
    spec = SPECS[kind]
    frame = frame[[c for c in spec.columns if c in frame.columns]].copy()
    if not source.clean:
        for column in frame.columns:
            frame[column] = frame[column].str.strip()
    # One file name for millions of rows: a category (a byte a row), not a string each.
    frame["_file"] = pd.Categorical.from_codes(
        np.zeros(len(frame), dtype=np.int8), pd.Index([Path(source.name).name])
    )
    frame["_row"] = np.arange(source.first_row, len(frame) + source.first_row, dtype=np.int64)
    frames[kind].append(frame)
    files[kind].append(Path(source.name).name)


def _combine(
    frames: dict[str, list[pd.DataFrame]], files: dict[str, list[str]], problems: list[Problem]
) -> dict[str, Loaded]:
    loaded: dict[str, Loaded] = {}
    for kind in KINDS:
        if kind not in frames:
            continue
        parts = frames[kind]
        combined = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        for column in SPECS[kind].columns:
            if column in combined.columns and combined[column].hasnans:
                combined[column] = combined[column].fillna("")
        loaded[kind] = Loaded(kind, files[kind], combined)
        problems += _problems(loaded[kind])
    return loaded
