"""Every source checked into one frame per kind (the pandera schemas of lib.ingest.schema):
each problem named by file, row, column and value, the first MAX_REPORTED_PROBLEMS built
and the rest counted. Pure: nothing here reads or writes the database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from lib.contacts.model import csv_problems as contact_problems
from lib.ingest.cells import to_number
from lib.ingest.limits import ProblemLog, scan
from lib.ingest.parse import check_header, read
from lib.ingest.schema import (
    CONFIG_EXPECTED,
    MAX_CELL_CHARS,
    config_value_ok,
    schema,
    unstorable,
    unstorable_message,
)
from lib.ingest.sources import FrameSource, Source, detect_kind, sources_from_paths
from lib.ingest.spec import KINDS, SPECS, ImportRejected, Problem
from lib.ingest.usage_read import UsageReader
from lib.vocabulary import CONFIG_KEYS


@dataclass(frozen=True)
class Loaded:
    """One kind's rows from every file of that kind, with where each came from."""

    kind: str
    files: list[str]
    frame: pd.DataFrame  # the spec's columns + _file + _row
    # usage.csv: its cells were checked as they were read (lib.ingest.usage_read), and
    # the frame holds categories (a few bytes a row) and the counts as int64.
    checked: bool = False


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


def check_failures(
    checks: pa.DataFrameSchema, frame: pd.DataFrame
) -> Iterator[tuple[str, str, np.ndarray]]:
    """(column, what it expects, positions of the rows that fail) for each check of the
    schema, in order: pandera's checks, run here so that counting a million failures
    does not build a million failure cases."""
    for name, column in checks.columns.items():
        if name not in frame.columns:
            continue
        series = frame[name]
        for check in column.checks:
            passed = check(series).check_output.reindex(series.index, fill_value=True)
            failed = np.flatnonzero(~passed.to_numpy(dtype=bool))
            if len(failed):
                yield str(name), str(check.error), failed


def _problems(loaded: Loaded, problems: ProblemLog) -> None:
    frame = loaded.frame
    before = problems.total
    if not loaded.checked:  # usage.csv's cells were checked a chunk at a time
        for column, expected, failed in check_failures(
            schema(loaded.kind, set(frame.columns)), frame
        ):
            problems.add_each(
                frame.index[failed], lambda i, e=expected, c=column: problem_at(frame, i, e, c)
            )
        _unstorable(loaded, problems)
    spec = SPECS[loaded.kind]
    if loaded.kind == "config" and problems.total == before:

        def config_problem(index: Any) -> Problem:
            key = _at(frame, index, "key")
            expected = CONFIG_EXPECTED[CONFIG_KEYS[key]]
            return problem_at(frame, index, f"for key {key}: {expected}", "value")

        problems.add_each(frame.index[~config_value_ok(frame)], config_problem)
    if loaded.kind == "refunds" and problems.total == before:
        _refund_problems(frame, problems)
    if loaded.kind == "contacts":
        problems += _contact_problems(frame)
    elif len(spec.key) > 1 and set(spec.key) <= set(frame.columns):

        def repeated(index: Any) -> Problem:
            key = ", ".join(f"{k}={_at(frame, index, k)}" for k in spec.key)
            return problem_at(
                frame, index, f"the same {' + '.join(spec.key)} appears earlier ({key})"
            )

        problems.add_each(frame.index[repeated_rows(frame, spec.key)], repeated)


def repeated_rows(frame: pd.DataFrame, key: tuple[str, ...]) -> np.ndarray:
    """Positions of the rows whose key appeared in an earlier row. usage.csv's frame
    (categories): by one int64 per row, sorted (a tenth of pandas' hash table)."""
    columns = [frame[k] for k in key]
    if not all(isinstance(c.dtype, pd.CategoricalDtype) for c in columns):
        return np.flatnonzero(frame.duplicated(list(key), keep="first").to_numpy())
    combined = np.zeros(len(frame), dtype=np.int64)
    for column in columns:
        combined *= len(column.cat.categories)
        combined += column.cat.codes.to_numpy()
    order = np.argsort(combined, kind="stable")  # equal keys keep the file's order
    ordered = combined[order]
    del combined
    later = order[1:][ordered[1:] == ordered[:-1]]
    return np.sort(later)


def _refund_problems(frame: pd.DataFrame, problems: ProblemLog) -> None:
    """What a refund's status needs from its other cells (the cells themselves are valid)."""

    def cells(column: str) -> pd.Series:
        if column in frame.columns:
            return frame[column]
        return pd.Series("", index=frame.index, dtype=object)

    def each(mask: pd.Series, expected: str, column: str) -> None:
        problems.add_each(frame.index[mask], lambda i: problem_at(frame, i, expected, column))

    status = frame["status"]
    each(
        status.eq("issued") & cells("issued_on").eq(""),
        "an issued refund needs the date it was issued",
        "issued_on",
    )
    each(
        status.eq("declined") & cells("decision_reason").str.strip().eq(""),
        "a declined refund needs the reason why",
        "decision_reason",
    )
    issued, amount = to_number(cells("issued_usd")), to_number(frame["amount_usd"])
    each(
        issued.gt(amount + 0.005),
        "at most amount_usd (a refund is issued up to its amount)",
        "issued_usd",
    )


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


def _unstorable(loaded: Loaded, problems: ProblemLog) -> None:
    frame = loaded.frame
    spec = SPECS[loaded.kind]
    for column in spec.columns:
        if column not in frame.columns:
            continue
        length = spec.lengths.get(column) or MAX_CELL_CHARS
        # Distinct values only: a usage file repeats a few hundred ids a million times.
        distinct = pd.Series(frame[column].unique(), dtype=object)
        bad = distinct[unstorable(length, distinct)]
        if bad.empty:
            continue

        def problem(index: Any, column: str = column, length: int = length) -> Problem:
            expected = unstorable_message(_at(frame, index, column), length)
            return problem_at(frame, index, expected, column)

        problems.add_each(frame.index[frame[column].isin(set(bad))], problem)


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
    """Decode, parse and validate every source: (rows of each kind, problems (the first
    MAX_REPORTED_PROBLEMS, and how many in `.total`), warnings). Each file's bytes are
    checked against lib.ingest.limits first; usage.csv is read a chunk at a time."""
    problems = ProblemLog()
    warnings: list[str] = []
    frames: dict[str, list[pd.DataFrame]] = defaultdict(list)
    files: dict[str, list[str]] = defaultdict(list)
    usage = UsageReader(problems, warnings)
    for source in sources:
        found = scan(source)
        if found.problem is not None:
            problems.append(found.problem)
            continue
        if found.kind == "usage":
            usage.read(source, found.header)
            continue
        source = source.in_memory()
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
    loaded = _combine(frames, files, problems)
    read_usage = usage.loaded()
    if read_usage is not None:
        usage_files, usage_frame = read_usage
        loaded["usage"] = Loaded("usage", usage_files, usage_frame, checked=True)
        _problems(loaded["usage"], problems)
    return loaded, problems, warnings


def load_frames(
    sources: list[FrameSource],
) -> tuple[dict[str, Loaded], list[Problem], list[str]]:
    """Header checks and validation of ready-made frames, as `load` does for files."""
    problems = ProblemLog()
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
    frames: dict[str, list[pd.DataFrame]], files: dict[str, list[str]], problems: ProblemLog
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
        _problems(loaded[kind], problems)
    return loaded
