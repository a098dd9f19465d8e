"""usage.csv a chunk at a time, in bounded memory: each chunk's cells checked (the text
columns on their distinct values), its rows kept as codes into the distinct customer ids,
dates and metrics, and the counts as int64: ~26 bytes a row whatever the file's size,
never the file's text as Python strings."""

from __future__ import annotations

import io
import warnings as python_warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lib.ingest.cells import MAX_COUNT, counts, is_whole_nonnegative, plain_counts
from lib.ingest.limits import ProblemLog
from lib.ingest.parse import check_header, not_utf8, ragged_rows
from lib.ingest.schema import schema, unstorable, unstorable_message
from lib.ingest.sources import Source
from lib.ingest.spec import SPECS, Problem

# Cells parsed at a time: 100,000 rows of usage.csv's four columns (~25 MB of strings).
CHUNK_CELLS = 400_000
TEXT_COLUMNS = ("customer_id", "date", "metric")
SPEC = SPECS["usage"]


class UsageReader:
    """Every usage.csv of one import, read into one frame of categories and counts."""

    def __init__(self, problems: ProblemLog, warnings: list[str]) -> None:
        self.problems = problems
        self.warnings = warnings
        self.codes: dict[str, dict[str, int]] = {column: {} for column in TEXT_COLUMNS}
        self.parts: dict[str, list[np.ndarray]] = defaultdict(list)
        self.files: list[str] = []
        self.checks = schema("usage", set(SPEC.columns))

    def read(self, source: Source, header: list[str] | None) -> None:
        """One file's rows, checked and kept (problems into the log)."""
        columns = len(header) if header else len(SPEC.columns)
        kept = {key: len(parts) for key, parts in self.parts.items()}
        files = len(self.files)
        try:
            with python_warnings.catch_warnings(), source.open() as handle:
                # pandas warns (and drops data) on rows longer than the header.
                python_warnings.simplefilter("error", pd.errors.ParserWarning)
                chunks = pd.read_csv(
                    handle,
                    dtype=object,  # Python strings: parsed twice as fast as Arrow's here
                    keep_default_na=False,
                    skip_blank_lines=True,
                    index_col=False,
                    encoding="utf-8-sig",
                    chunksize=max(CHUNK_CELLS // max(columns, 1), 1),
                )
                first_row = 2  # the header is row 1, as a spreadsheet shows it
                for number, chunk in enumerate(chunks):
                    if number == 0 and not self._header(source.name, header, chunk):
                        return
                    self._chunk(source.name, chunk, first_row)
                    first_row += len(chunk)
        except pd.errors.EmptyDataError:  # e.g. nothing but byte-order marks
            self.problems.append(Problem(source.name, "the file is empty; expected a header row"))
        except (pd.errors.ParserError, pd.errors.ParserWarning):
            self._forget(kept, files)
            with source.open() as handle:
                text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
                self.problems += ragged_rows(source.name, text)
        except UnicodeDecodeError:
            self._forget(kept, files)
            with source.open() as handle:
                self.problems.append(not_utf8(source.name, handle))

    def _header(self, name: str, header: list[str] | None, chunk: pd.DataFrame) -> bool:
        if not header or len(header) != len(chunk.columns):  # cannot line them up
            header = [str(c).strip() for c in chunk.columns]
        problems, warnings = check_header(name, "usage", pd.DataFrame(columns=header))
        self.problems += problems
        self.warnings += warnings
        if problems:
            return False
        chunk.columns = header
        self.files.append(Path(name).name)
        return True

    def _forget(self, kept: dict[str, int], files: int) -> None:
        """A file found broken half-way: its rows so far are not kept."""
        for key, parts in self.parts.items():
            del parts[kept.get(key, 0) :]
        del self.files[files:]

    def _chunk(self, name: str, chunk: pd.DataFrame, first_row: int) -> None:
        chunk.columns = [str(c).strip() for c in chunk.columns]
        rows = len(chunk)
        if not rows:
            return
        file_name = Path(name).name

        def problem(position: int, column: str, expected: str, value: str) -> Problem:
            return Problem(
                file_name, expected, row=first_row + position, column=column, value=value
            )

        for column in TEXT_COLUMNS:
            codes, distinct = pd.factorize(chunk[column])
            values = pd.Series(distinct, dtype=object).str.strip()
            self._check(column, codes, values, problem)
            known = self.codes[column]
            mapping = np.fromiter(
                (known.setdefault(v, len(known)) for v in values), dtype=np.int32, count=len(values)
            )
            self.parts[column].append(mapping[codes])
        self.parts["value"].append(self._counts(chunk["value"], problem))
        self.parts["_row"].append(np.arange(first_row, first_row + rows, dtype=np.int32))
        file_code = list(dict.fromkeys(self.files)).index(file_name)
        self.parts["_file"].append(np.full(rows, file_code, dtype=np.int16))

    def _check(self, column: str, codes: np.ndarray, values: pd.Series, problem: Any) -> None:
        """The schema's checks and the storable length, on the distinct values; each
        failing value's rows named (the first few built)."""
        length = SPEC.lengths.get(column)
        failures: list[tuple[np.ndarray, str | None]] = []
        for check in self.checks.columns[column].checks if column in self.checks.columns else []:
            passed = check(values).check_output.reindex(values.index, fill_value=True)
            failures.append((np.flatnonzero(~passed.to_numpy(dtype=bool)), str(check.error)))
        if length:
            failures.append((np.flatnonzero(unstorable(length, values).to_numpy()), None))
        for bad, expected in failures:
            if not len(bad):
                continue
            rows = np.flatnonzero(np.isin(codes, bad))

            def make(
                position: int, expected: str | None = expected, length: int | None = length
            ) -> Problem:
                value = str(values.iat[codes[position]])
                shown = expected or unstorable_message(value, length or 0)
                return problem(position, column, shown, value)

            self.problems.add_each(rows, make)

    def _counts(self, cells: pd.Series, problem: Any) -> np.ndarray:
        """The counts as int64 (0 where a cell is not a count: that row is named)."""
        plain = plain_counts(cells)
        if plain is not None and bool((plain <= MAX_COUNT).all()):
            return plain
        cells = cells.str.strip()
        ok = is_whole_nonnegative(cells)
        bad = np.flatnonzero(~ok.to_numpy(dtype=bool))
        expected = str(self.checks.columns["value"].checks[0].error)
        self.problems.add_each(
            bad, lambda position: problem(position, "value", expected, str(cells.iat[position]))
        )
        return counts(cells.where(ok, "0"))

    def loaded(self) -> tuple[list[str], pd.DataFrame] | None:
        """(the files, their rows) with the text columns as categories, sorted (the date's
        ordered), so a key's order is its text's order; None when no usage file was read."""
        if not self.files:
            return None
        frame: dict[str, Any] = {}
        for column in TEXT_COLUMNS:
            names = np.array(list(self.codes[column]), dtype=object)
            order = np.argsort(names, kind="stable")
            rank = np.empty(len(order), dtype=np.int32)
            rank[order] = np.arange(len(order), dtype=np.int32)
            codes = _joined(self.parts.pop(column, []), np.int32)
            frame[column] = pd.Categorical.from_codes(
                rank[codes], categories=pd.Index(names[order]), ordered=column == "date"
            )
        frame["value"] = _joined(self.parts.pop("value", []), np.int64)
        frame["_file"] = pd.Categorical.from_codes(
            _joined(self.parts.pop("_file", []), np.int16),
            categories=pd.Index(list(dict.fromkeys(self.files))),
        )
        frame["_row"] = _joined(self.parts.pop("_row", []), np.int32)
        return self.files, pd.DataFrame(frame)


def _joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts) if parts else np.array([], dtype=dtype)
