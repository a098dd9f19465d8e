"""CSV -> validated frames -> one transaction.

Every problem in every file is collected before anything is written (pandera,
lazy) and reported with the file, the row as a spreadsheet shows it (the
header is row 1), the column, the value and what was expected. Any problem
means nothing is written. Re-importing the same files writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import threading
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
import pyarrow.csv as pyarrow_csv
from sqlalchemy import Engine, and_, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from lib import bulk, db, models, usage_summary
from lib.timeline import CUSTOMER_STATUSES, RECORDED_STATUSES, STEPS
from lib.vocabulary import CONFIG_KEYS, ENTRY_REASONS, METRICS, PRODUCTS

KINDS: tuple[str, ...] = ("customers", "subscriptions", "config", "usage", "steps")
MAX_REPORTED_PROBLEMS = 50
WRITE_CHUNK = 50_000
PROGRESS_FROM_ROWS = 200_000
ANALYZE_FROM_ROWS = 100_000
# Up to this many customers, stored usage is compared by customer id; more, by dates only.
STORED_BY_ID_UP_TO = 500


@dataclass(frozen=True)
class FileSpec:
    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


SPECS: dict[str, FileSpec] = {
    "customers": FileSpec(
        "customers",
        required=("customer_id", "name", "segment_entered_on"),
        optional=("owner", "plan", "entry_reason", "mrr_usd", "extended_until", "status"),
        key=("customer_id",),
    ),
    "subscriptions": FileSpec(
        "subscriptions",
        required=("customer_id", "product"),
        optional=("billing_limit_usd",),
        key=("customer_id", "product"),
    ),
    "config": FileSpec(
        "config", required=("customer_id", "key", "value"), optional=(), key=("customer_id", "key")
    ),
    "usage": FileSpec(
        "usage",
        required=("customer_id", "date", "metric", "value"),
        optional=(),
        key=("customer_id", "date", "metric"),
    ),
    "steps": FileSpec(
        "steps",
        required=("customer_id", "step", "status", "date"),
        optional=(),
        key=("customer_id", "step"),
    ),
}


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Problem:
    file: str
    expected: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            return f"{where}: {shown!r}: {self.expected}"
        return f"{where}: {self.expected}"


class ImportRejected(Exception):
    """Bad input: nothing was written."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems
        self.total = total if total is not None else len(problems)
        super().__init__(self.summary())

    def summary(self) -> str:
        lines = [f"Import refused, nothing was written ({self.total} problem(s)):"]
        lines += [f"  {p}" for p in self.problems[:MAX_REPORTED_PROBLEMS]]
        if self.total > MAX_REPORTED_PROBLEMS:
            lines.append(f"  ... and {self.total - MAX_REPORTED_PROBLEMS} more")
        return "\n".join(lines)


@dataclass
class KindResult:
    files: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportResult:
    kinds: dict[str, KindResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(k.added + k.updated for k in self.kinds.values())

    def summary(self) -> str:
        lines = [
            f"{', '.join(r.files)}: {r.added} added, {r.updated} updated, {r.unchanged} unchanged"
            for kind, r in self.kinds.items()
        ]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines) if lines else "Nothing to import."


@dataclass(frozen=True)
class Source:
    """One CSV to import: its name (as the user knows it) and its bytes."""

    name: str
    data: bytes


# ------------------------------------------------------------------ sources


def kind_from_name(name: str) -> str | None:
    stem = Path(name).name.lower()
    if stem.endswith(".csv"):
        stem = stem[:-4]
    for kind in KINDS:
        if stem == kind or (stem.startswith(kind) and stem[len(kind)] in "_-. "):
            return kind
    return None


def sources_from_paths(paths: Iterable[str | Path]) -> tuple[list[Source], list[Problem]]:
    """Files as given; a folder stands for every known CSV in it."""
    sources: list[Source] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.csv") if kind_from_name(p.name))
            if not found:
                problems.append(
                    Problem(
                        str(path),
                        "no known CSV here (customers, subscriptions, config, usage, steps)",
                    )
                )
            sources += [Source(str(p), p.read_bytes()) for p in found]
        elif path.is_file():
            sources.append(Source(str(path), path.read_bytes()))
        else:
            problems.append(Problem(str(path), "no such file or folder"))
    return sources, problems


# ------------------------------------------------------------------ parsing


def _decode(source: Source) -> tuple[str | None, Problem | None]:
    try:
        return source.data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        row = source.data[: error.start].count(b"\n") + 1
        byte = source.data[error.start : error.start + 1]
        return None, Problem(
            source.name,
            f"is not UTF-8 text (byte 0x{byte.hex()} at position {error.start}); "
            "save the file as CSV UTF-8",
            row=row,
        )


def _read_frame(source: Source, text: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    if not text.strip():
        return None, [Problem(source.name, "the file is empty; expected a header row")]
    try:
        with warnings.catch_warnings():
            # pandas warns (and drops data) on rows longer than the header.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=True,
                index_col=False,
            )
        # Rows shorter than the header read as empty trailing fields (as spreadsheets
        # export them); the required-value checks still catch what is missing.
        ragged = False
    except pd.errors.EmptyDataError:  # e.g. nothing but byte-order marks
        return None, [Problem(source.name, "the file is empty; expected a header row")]
    except (pd.errors.ParserError, pd.errors.ParserWarning):
        frame, ragged = None, True
    if ragged:
        return None, _ragged_rows(source, text)
    assert frame is not None
    frame.columns = _header_names(text, list(frame.columns))
    return frame, []


def _header_names(text: str, parsed: list[Any]) -> list[str]:
    """The header as the file writes it: pandas renames a repeated name (`a.1`) and a
    blank one (`Unnamed: 1`), which would hide the repeat and name a column the file
    does not have. A blank name reads as `(column N has no name)`."""
    end = text.find("\n")
    first_line = text if end < 0 else text[:end]  # not a copy of the whole file
    header: list[str] = []
    if first_line.count('"') % 2 == 0:  # else a quoted name runs on to the next line
        try:
            header = next(csv.reader([first_line]), [])
        except csv.Error:  # e.g. a lone carriage return in the header
            pass
    if len(header) != len(parsed):  # cannot line them up: keep what pandas read
        return [str(c).strip() for c in parsed]
    return [
        name.strip() or f"(column {number} has no name)"
        for number, name in enumerate(header, start=1)
    ]


# Files at least this big try Arrow's multi-threaded CSV reader first (a usage file
# of 12M rows: ~2 s instead of ~16 s); anything it would read differently from the
# general reader (quotes, carriage returns, ragged rows, bad UTF-8) falls back to it.
FAST_READ_FROM_BYTES = 1 << 20
_NOT_PLAIN = (b" ", b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")


def _read_fast(source: Source) -> tuple[pd.DataFrame, bool] | None:
    """A big, simple CSV (no quotes, no carriage returns) read by Arrow, every cell
    as text; with whether its cells are already clean (ASCII, no whitespace to
    strip). None: read it the general way."""
    data = source.data
    if len(data) < FAST_READ_FROM_BYTES or b'"' in data or b"\r" in data or b"\x00" in data:
        return None
    if data.startswith(b"\xef\xbb\xbf"):  # the BOM a spreadsheet's "CSV UTF-8" starts with
        data = data[3:]
    end = data.find(b"\n")
    if end <= 0:
        return None
    try:
        header = data[:end].decode("utf-8").split(",")
    except UnicodeDecodeError:
        return None
    # Repeated or blank names: the general reader's messages name those.
    if len(set(header)) != len(header) or not all(name.strip() for name in header):
        return None
    # jemalloc: mimalloc (pyarrow's default) returned and re-faulted pages so often that
    # the kernel's share of a 12M-row import was ~5 s more.
    try:
        pool = pyarrow.jemalloc_memory_pool()
    except NotImplementedError:
        pool = pyarrow.default_memory_pool()
    try:
        table = pyarrow_csv.read_csv(
            pyarrow.BufferReader(data),
            read_options=pyarrow_csv.ReadOptions(use_threads=True, block_size=1 << 24),
            parse_options=pyarrow_csv.ParseOptions(
                quote_char=False, newlines_in_values=False, ignore_empty_lines=True
            ),
            convert_options=pyarrow_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pyarrow.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
            memory_pool=pool,
        )
    except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError, UnicodeDecodeError):
        return None
    frame = table.to_pandas(memory_pool=pool)
    frame.columns = [str(c).strip() for c in frame.columns]
    clean = data.isascii() and not any(char in data for char in _NOT_PLAIN)
    return frame, clean


def _ragged_rows(source: Source, text: str) -> list[Problem]:
    """Name every row whose field count differs from the header's (error path only)."""
    reader = csv.reader(io.StringIO(text))
    problems = []
    try:
        header = next(reader, [])
        for row in reader:
            if row and len(row) != len(header):
                problems.append(
                    Problem(
                        source.name,
                        f"is not a well-formed CSV: {len(row)} fields where the header has "
                        f"{len(header)}",
                        row=reader.line_num,
                    )
                )
    except csv.Error as error:  # e.g. a lone carriage return inside a field
        problems.append(
            Problem(source.name, f"is not a well-formed CSV: {error}", row=reader.line_num)
        )
    return problems or [Problem(source.name, "is not a well-formed CSV")]


def _detect_kind(source: Source, frame: pd.DataFrame) -> str | None:
    kind = kind_from_name(source.name)
    if kind:
        return kind
    columns = set(frame.columns)
    for candidate in KINDS:
        if set(SPECS[candidate].required) <= columns and len(columns) <= len(
            SPECS[candidate].columns
        ):
            return candidate
    return None


def _check_header(
    source: Source, kind: str, frame: pd.DataFrame
) -> tuple[list[Problem], list[str]]:
    spec = SPECS[kind]
    problems: list[Problem] = []
    warnings: list[str] = []
    columns = list(frame.columns)
    duplicates = [c for c, n in Counter(columns).items() if n > 1]
    for column in duplicates:
        problems.append(Problem(source.name, "the column appears twice", row=1, column=column))
    for column in columns:
        if column in spec.columns:
            continue
        close = difflib.get_close_matches(column.lower(), spec.columns, n=1, cutoff=0.75)
        if close and close[0] not in columns:
            problems.append(
                Problem(
                    source.name,
                    f"unknown column; did you mean '{close[0]}'?",
                    row=1,
                    column=column,
                )
            )
        else:
            warnings.append(f"{source.name}: column '{column}' is not used and was ignored")
    for column in spec.required:
        if column not in columns:
            problems.append(
                Problem(
                    source.name,
                    f"required column '{column}' is missing (the header has: {', '.join(columns)})",
                    row=1,
                )
            )
    return problems, warnings


# --------------------------------------------------------------- validation


def _parse_dates(series: pd.Series) -> pd.Series:
    """ISO dates -> datetime.date, NaT-free; unparseable -> None. Parses each
    distinct string once (a usage file repeats the same 120 dates)."""
    parsed: dict[str, dt.date | None] = {}
    for value in series.unique():
        try:
            parsed[value] = dt.date.fromisoformat(value) if len(value) == 10 else None
        except (TypeError, ValueError):
            parsed[value] = None
    return series.map(parsed)


def _is_date(series: pd.Series) -> pd.Series:
    valid = []
    for value in series.unique():
        try:
            if len(value) == 10:
                dt.date.fromisoformat(value)
                valid.append(value)
        except (TypeError, ValueError):
            pass
    return series.isin(valid)


def _is_blank(series: pd.Series) -> pd.Series:
    return series.eq("")


# The largest daily count stored exactly (counts pass through float64 on the way in).
MAX_COUNT = 2**53


def _number(series: pd.Series) -> pd.Series:
    """Numbers from text; not a number, infinite ("inf", "1e400") -> NaN."""
    numbers = pd.to_numeric(series, errors="coerce")
    return numbers.where(numbers.abs().lt(float("inf")))


def _is_nonnegative_number(series: pd.Series) -> pd.Series:
    numbers = _number(series)
    return numbers.notna() & numbers.ge(0)


def _plain_counts(series: pd.Series) -> np.ndarray | None:
    """int64 values when every cell is plain ASCII digits (a usage file's millions of
    counts, parsed by Arrow in C: ~20x faster than pd.to_numeric); else None, and the
    general number parsing decides (and names the bad cells)."""
    if series.empty:
        return None
    try:
        cells = pyarrow.array(series.array, type=pyarrow.string())
        if (
            cells.null_count
            or not pc.all(pc.match_substring_regex(cells, r"^[0-9]{1,18}$")).as_py()
        ):
            return None
        return pc.cast(cells, pyarrow.int64()).to_numpy(zero_copy_only=False)
    except (
        pyarrow.ArrowInvalid,
        pyarrow.ArrowTypeError,
        pyarrow.ArrowNotImplementedError,
        TypeError,
    ):
        return None


def _counts(series: pd.Series) -> np.ndarray:
    """Validated daily counts as int64."""
    plain = _plain_counts(series)
    return plain if plain is not None else _number(series).astype("int64").to_numpy()


def _is_whole_nonnegative(series: pd.Series) -> pd.Series:
    plain = _plain_counts(series)
    if plain is not None:
        return pd.Series(plain <= MAX_COUNT, index=series.index)
    numbers = _number(series)
    return numbers.notna() & numbers.between(0, MAX_COUNT) & numbers.eq(numbers.round())


def _config_value_ok(frame: pd.DataFrame) -> pd.Series:
    kinds = frame["key"].map(CONFIG_KEYS)
    value = frame["value"]
    lowered = value.str.lower()
    numbers = _number(value)
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
        lambda s: s.isin(allowed) | (_is_blank(s) if allow_blank else False),
        error=f"one of: {shown}{extra}",
    )


def _date_check(allow_blank: bool = False) -> pa.Check:
    if allow_blank:
        return pa.Check(lambda s: _is_date(s) | _is_blank(s), error="a date YYYY-MM-DD or empty")
    return pa.Check(_is_date, error="a date YYYY-MM-DD")


def _money_check() -> pa.Check:
    return pa.Check(
        lambda s: _is_nonnegative_number(s) | _is_blank(s), error="a number >= 0 or empty"
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
                    _is_whole_nonnegative,
                    error=f"a whole number >= 0 (a daily count, at most {MAX_COUNT})",
                )
            ),
        }
    else:
        columns = {
            "customer_id": column(_required("customer_id")),
            "step": column(_one_of(STEPS)),
            "status": column(_one_of(RECORDED_STATUSES)),
            "date": column(_date_check()),
        }
    return pa.DataFrameSchema(
        {name: col for name, col in columns.items() if name in present}, strict=False
    )


@dataclass
class _Loaded:
    """One kind's rows from every file of that kind, with where each came from."""

    kind: str
    files: list[str]
    frame: pd.DataFrame  # the spec's columns + _file + _row
    # Usage only, set by the write: nothing at all was stored in the file's date range
    # before it (a first load), so its rows are all the usage of those dates.
    first_usage: bool = False


def _at(frame: pd.DataFrame, index: Any, column: str) -> str:
    return str(frame.at[index, column])


def _problem_at(
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


def _validate(loaded: _Loaded) -> list[Problem]:
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
            problems.append(_problem_at(frame, int(index), str(check), str(column)))
    problems += _unstorable(loaded)
    spec = SPECS[loaded.kind]
    if loaded.kind == "config" and not problems:
        ok = _config_value_ok(frame)
        for index in frame.index[~ok]:
            key = _at(frame, index, "key")
            expected = CONFIG_EXPECTED[CONFIG_KEYS[key]]
            problems.append(_problem_at(frame, index, f"for key {key}: {expected}", "value"))
    if len(spec.key) > 1 and set(spec.key) <= set(frame.columns):
        repeated = frame.duplicated(list(spec.key), keep="first")
        for index in frame.index[repeated]:
            key = ", ".join(f"{k}={_at(frame, index, k)}" for k in spec.key)
            expected = f"the same {' + '.join(spec.key)} appears earlier ({key})"
            problems.append(_problem_at(frame, index, expected))
    return problems


def _unstorable(loaded: _Loaded) -> list[Problem]:
    """Text no database column can hold: longer than the column, or with a NUL
    character. PostgreSQL refuses both (SQLite would keep them), so both
    databases refuse them here, before anything is written."""
    frame = loaded.frame
    table = models.table(_TABLES.get(loaded.kind, models.Usage))
    problems: list[Problem] = []
    for column in SPECS[loaded.kind].columns:
        if column not in frame.columns:
            continue
        length = getattr(table.c[column].type, "length", None) or float("inf")
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
            problems.append(_problem_at(frame, index, expected, column))
    return problems


def _check_customer_references(session: Session, loaded: dict[str, _Loaded]) -> list[Problem]:
    known: set[str] = set(session.scalars(select(models.Customer.customer_id)))
    if "customers" in loaded:
        known |= set(loaded["customers"].frame["customer_id"])
    problems: list[Problem] = []
    for kind in KINDS[1:]:
        if kind not in loaded:
            continue
        frame = loaded[kind].frame
        unknown = ~frame["customer_id"].isin(known) & frame["customer_id"].ne("")
        problems += [
            _problem_at(
                frame,
                index,
                "unknown customer (not in customers.csv nor in the database)",
                "customer_id",
            )
            for index in frame.index[unknown]
        ]
    return problems


def load(sources: list[Source]) -> tuple[dict[str, _Loaded], list[Problem], list[str]]:
    """Decode, parse and validate every source; nothing touches the database."""
    problems: list[Problem] = []
    warnings: list[str] = []
    frames: dict[str, list[pd.DataFrame]] = defaultdict(list)
    files: dict[str, list[str]] = defaultdict(list)
    for source in sources:
        fast = _read_fast(source)
        clean = False
        if fast is not None:
            frame, clean = fast
        else:
            text, problem = _decode(source)
            if problem or text is None:
                problems.append(problem or Problem(source.name, "could not be read"))
                continue
            read, read_problems = _read_frame(source, text)
            if read_problems or read is None:
                problems += read_problems
                continue
            frame = read
        kind = _detect_kind(source, frame)
        if kind is None:
            problems.append(
                Problem(
                    source.name,
                    "cannot tell which file this is: name it customers.csv, subscriptions.csv, "
                    "config.csv, usage.csv or steps.csv",
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


@dataclass(frozen=True)
class FrameSource:
    """Rows that did not come from a CSV file (a PostHog query's results), as
    text cells: validated exactly like a CSV of that kind."""

    name: str
    kind: str
    frame: pd.DataFrame
    first_row: int = 1  # what the source calls its first data row in messages
    clean: bool = False  # no cell has whitespace to strip (checked on the raw bytes)


def load_frames(
    sources: list[FrameSource],
) -> tuple[dict[str, _Loaded], list[Problem], list[str]]:
    """Header checks and validation of ready-made frames; nothing touches the database."""
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
    header_problems, header_warnings = _check_header(Source(source.name, b""), kind, frame)
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
) -> dict[str, _Loaded]:
    loaded: dict[str, _Loaded] = {}
    for kind in KINDS:
        if kind not in frames:
            continue
        parts = frames[kind]
        combined = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        for column in SPECS[kind].columns:
            if column in combined.columns and combined[column].hasnans:
                combined[column] = combined[column].fillna("")
        loaded[kind] = _Loaded(kind, files[kind], combined)
        problems += _validate(loaded[kind])
    return loaded


# ------------------------------------------------------------------- writing


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


def _rows(loaded: _Loaded) -> list[dict[str, Any]]:
    frame = loaded.frame
    kind = loaded.kind
    present = [c for c in SPECS[kind].columns if c in frame.columns]
    out = frame[present].copy()
    if kind == "customers":
        out["segment_entered_on"] = _parse_dates(out["segment_entered_on"])
        if "extended_until" in out:
            out["extended_until"] = _parse_dates(out["extended_until"])
        if "mrr_usd" in out:
            out["mrr_usd"] = _number(out["mrr_usd"])
        if "status" in out:
            out["status"] = out["status"].replace("", "active")
    elif kind == "subscriptions" and "billing_limit_usd" in out:
        out["billing_limit_usd"] = _number(out["billing_limit_usd"])
    elif kind == "config":
        # Normalise case so "ON" and "on" are the same value on re-import.
        lowered = out["key"].map(CONFIG_KEYS).isin(["on_off", "bool"])
        out.loc[lowered, "value"] = out.loc[lowered, "value"].str.lower()
    elif kind == "steps":
        out["date"] = _parse_dates(out["date"])
    records = out.astype(object).where(out.notna(), None).to_dict("records")
    return [{str(k): _blank_to_none(v) for k, v in r.items()} for r in records]


_TABLES: dict[str, Any] = {
    "customers": models.Customer,
    "subscriptions": models.Subscription,
    "config": models.ConfigValue,
    "steps": models.Step,
}


def _upsert_small(session: Session, kind: str, rows: list[dict[str, Any]], user: str) -> KindResult:
    """Customers, subscriptions, config and steps: few rows, compared in Python."""
    model = _TABLES[kind]
    key = SPECS[kind].key
    table = models.table(model)
    result = KindResult()
    columns = [c for c in rows[0] if c not in key] if rows else []
    existing: dict[tuple[Any, ...], dict[str, Any]] = {}
    customer_ids = {r["customer_id"] for r in rows}
    for chunk in _chunks(sorted(customer_ids), 500):
        stmt = select(*[table.c[c] for c in (*key, *columns)]).where(table.c.customer_id.in_(chunk))
        for record in session.execute(stmt).mappings():
            existing[tuple(record[k] for k in key)] = dict(record)

    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row in rows:
        old = existing.get(tuple(row[k] for k in key))
        if kind == "steps":
            row = {**row, "recorded_by": user}
        if old is None:
            new.append(row)
        elif any(_differs(old.get(c), row[c]) for c in columns):
            changed.append(row)
        else:
            result.unchanged += 1
    if new:
        session.execute(insert(table), new)
    if changed:
        where = and_(*[table.c[k] == bindparam(f"k_{k}") for k in key])
        values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in changed[0] if c not in key}
        session.execute(
            update(table).where(where).values(values),
            [
                {
                    **{f"k_{k}": r[k] for k in key},
                    **{f"v_{c}": r[c] for c in r if c not in key},
                }
                for r in changed
            ],
            execution_options={"synchronize_session": False},
        )
    result.added, result.updated = len(new), len(changed)
    return result


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, float) or isinstance(new, float):
        if old is None or new is None:
            return old is not new
        return abs(float(old) - float(new)) > 1e-9
    return bool(old != new)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _shared_strings(column: pd.Series) -> pd.Series:
    codes, distinct = pd.factorize(column)
    return pd.Series(np.asarray(distinct, dtype=object)[codes], dtype=object)


def _upsert_usage(
    session: Session, loaded: _Loaded, progress: Callable[[int], None] | None
) -> KindResult:
    """Usage: up to millions of rows. Compare with what is stored in one
    frame merge, then bulk-insert the new rows and bulk-update the changed ones."""
    frame = loaded.frame
    if frame.empty:  # a header and no rows: nothing to compare (and no date range)
        return KindResult()
    values = _counts(frame["value"])
    # Text columns as Python strings, one object per distinct value (a few thousand
    # ids, 19 metrics, 120 days) shared by every row: not one new string per cell.
    incoming = pd.DataFrame(
        {
            "customer_id": _shared_strings(frame["customer_id"]),
            "metric": _shared_strings(frame["metric"]),
            "date": _shared_strings(frame["date"]),  # validated ISO text
            "value": values,
        }
    )
    connection = session.connection()
    table = models.table(models.Usage)
    query = "SELECT customer_id, metric, date, value FROM usage WHERE date BETWEEN :first AND :last"
    params: dict[str, Any] = {"first": frame["date"].min(), "last": frame["date"].max()}
    customers = sorted(frame["customer_id"].unique().tolist())
    statement = text(query)
    if len(customers) <= STORED_BY_ID_UP_TO:
        statement = text(query + " AND customer_id IN :customers").bindparams(
            bindparam("customers", expanding=True)
        )
        params["customers"] = customers
    stored = pd.DataFrame(
        [tuple(row) for row in connection.execute(statement, params)],
        columns=["customer_id", "metric", "date", "old_value"],
    )
    if stored.empty:  # nothing stored in that range (a first import): every row is new
        loaded.first_usage = len(customers) > STORED_BY_ID_UP_TO  # asked for everyone's rows
        merged = incoming
        is_new = np.ones(len(merged), dtype=bool)
        is_changed = np.zeros(len(merged), dtype=bool)
    else:
        # SQLite hands back ISO text, PostgreSQL date objects: compare as text.
        stored = stored.astype({"customer_id": object, "metric": object})
        stored["date"] = stored["date"].map(str).astype(object)
        merged = incoming.merge(stored, on=["customer_id", "metric", "date"], how="left")
        is_new = merged["old_value"].isna().to_numpy()
        is_changed = ~is_new & merged["old_value"].ne(merged["value"]).to_numpy()
    result = KindResult(
        added=int(is_new.sum()),
        updated=int(is_changed.sum()),
        unchanged=int(len(merged) - is_new.sum() - is_changed.sum()),
    )

    def write(mask: Any, order: list[str], send: Callable[[list[tuple[Any, ...]]], Any]) -> None:
        # Python tuples a slice at a time: millions of them at once cost gigabytes.
        part = merged.loc[mask, order] if not mask.all() else merged[order]
        for start in range(0, len(part), bulk.CHUNK):
            piece = part.iloc[start : start + bulk.CHUNK]
            columns = [piece[c].to_numpy(dtype=object).tolist() for c in order]
            send(list(zip(*columns, strict=True)))

    order = ["customer_id", "metric", "date", "value"]
    new_rows = merged.loc[is_new, order] if not is_new.all() else merged[order]
    bulk.insert_columns(
        connection,
        table,
        order,
        (
            [piece[c].to_numpy(dtype=object) for c in order]
            for piece in (
                new_rows.iloc[start : start + bulk.CHUNK]
                for start in range(0, len(new_rows), bulk.CHUNK)
            )
        ),
        progress,
    )
    write(
        is_changed,
        ["value", "customer_id", "metric", "date"],
        lambda rows: bulk.update_rows(
            connection, table, ["value"], ["customer_id", "metric", "date"], rows, progress
        ),
    )
    if progress:
        progress(result.unchanged)
    return result


# Two imports at once in one process (two Data-page sessions) crashed inside
# Alembic (KeyError: 'config') while both checked the schema.
_SCHEMA_LOCK = threading.Lock()


def import_sources(
    engine: Engine,
    sources: list[Source],
    user: str = "cli",
    show_progress: bool = False,
) -> ImportResult:
    """Validate every source, then write all of them in one transaction.

    Raises ImportRejected (and writes nothing) on any problem.
    """
    if not sources:
        raise ImportRejected([Problem("(no files)", "give at least one CSV file or a folder")])
    loaded, problems, warnings = load(sources)
    with _SCHEMA_LOCK:  # Alembic's module-level context is not thread-safe
        db.ensure_schema(engine)
    if not problems:
        with db.read_session(engine) as session:
            problems = _check_customer_references(session, loaded)
    if problems:
        raise ImportRejected(problems)

    with db.write_session(engine, user) as session:
        result = write_loaded(session, loaded, user, warnings, show_progress)
    return result


def write_loaded(
    session: Session,
    loaded: dict[str, _Loaded],
    user: str,
    warnings: list[str] | None = None,
    show_progress: bool = False,
) -> ImportResult:
    """Upsert validated rows inside the caller's write transaction.

    Shared by the CSV import and the PostHog sync (lib.posthog_sync), so work
    that must follow every import belongs at the end of this function.
    """
    result = ImportResult(warnings=list(warnings or []))
    for kind in KINDS:
        if kind not in loaded:
            continue
        if kind == "usage":
            kind_result = _write_usage_with_progress(session, loaded[kind], show_progress)
        else:
            kind_result = _upsert_small(session, kind, _rows(loaded[kind]), user)
        kind_result.files = loaded[kind].files
        result.kinds[kind] = kind_result
        if kind_result.added or kind_result.updated:
            db.log_write(
                session,
                "import",
                models.Usage.__tablename__ if kind == "usage" else _TABLES[kind].__tablename__,
                {
                    "files": loaded[kind].files,
                    "added": kind_result.added,
                    "updated": kind_result.updated,
                },
            )
    _after_import(session, loaded)
    return result


def _after_import(session: Session, loaded: dict[str, _Loaded]) -> None:
    """Work that must follow every import, inside its transaction."""
    from lib import findings, homework

    touched = {
        str(c)
        for kind in ("usage", "config", "subscriptions")
        if kind in loaded
        for c in loaded[kind].frame["customer_id"].unique()
    }
    if touched:
        # Sent homework with a condition is checked against the new data.
        homework.verify_after_import(session, sorted(touched))
    if "usage" in loaded and len(loaded["usage"].frame):
        if (
            len(loaded["usage"].frame) >= ANALYZE_FROM_ROWS
            and session.get_bind().dialect.name == "postgresql"
        ):
            # Fresh statistics for the planner after a bulk load (autovacuum comes later).
            session.execute(text("ANALYZE usage"))
        # The window sums the report reads (customer_usage_summary) follow the new usage.
        usage = loaded["usage"]
        frame = usage.frame
        usage_summary.refresh(
            session,
            frame["customer_id"].unique().tolist(),
            only_rows=(
                usage_summary.Rows(
                    customer_ids=frame["customer_id"],
                    metrics=frame["metric"],
                    dates=frame["date"],
                    values=_counts(frame["value"]),
                )
                if usage.first_usage
                else None
            ),
        )
    if touched:
        # The audit's view is written down (lib.findings): new findings recorded as
        # open, fixed ones the data still shows reopened, vanished ones closed.
        findings.sync_in(
            session, dt.date.today(), next(iter(touched)) if len(touched) == 1 else None
        )


def _write_usage_with_progress(session: Session, loaded: _Loaded, show: bool) -> KindResult:
    rows = len(loaded.frame)
    if not show or rows < PROGRESS_FROM_ROWS:
        return _upsert_usage(session, loaded, None)
    from tqdm import tqdm

    with tqdm(total=rows, unit="row", desc=", ".join(loaded.files), disable=None) as bar:

        def advance(rows_done: int) -> None:
            bar.update(rows_done)

        return _upsert_usage(session, loaded, advance)


def import_paths(
    engine: Engine, paths: Iterable[str | Path], user: str = "cli", show_progress: bool = False
) -> ImportResult:
    sources, problems = sources_from_paths(paths)
    if problems:
        raise ImportRejected(problems)
    return import_sources(engine, sources, user=user, show_progress=show_progress)
