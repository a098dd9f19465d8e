"""CSV bytes to a frame of text cells: decoding, the fast Arrow reader for big plain files,
the general reader, and the header's checks."""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import warnings
from collections import Counter
from collections.abc import Iterable
from typing import Any, BinaryIO

import pandas as pd
import pyarrow
import pyarrow.csv as pyarrow_csv

from lib.ingest.limits import ProblemLog, ignored_columns_warning
from lib.ingest.sources import Source
from lib.ingest.spec import SPECS, Problem


def read(source: Source) -> tuple[pd.DataFrame | None, bool, list[Problem]]:
    """The file's cells as text: (frame, whether its cells are already clean, problems);
    no frame when it cannot be read."""
    fast = read_fast(source)
    if fast is not None:
        frame, clean = fast
        return frame, clean, []
    text, problem = decode(source)
    if problem or text is None:
        return None, False, [problem or Problem(source.name, "could not be read")]
    general, problems = read_frame(source, text)
    if problems or general is None:
        return None, False, problems
    return general, False, []


def decode(source: Source) -> tuple[str | None, Problem | None]:
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


def read_frame(source: Source, text: str) -> tuple[pd.DataFrame | None, list[Problem]]:
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
        return None, ragged_rows(source.name, io.StringIO(text))
    assert frame is not None
    frame.columns = header_names(text, list(frame.columns))
    return frame, []


def header_names(text: str, parsed: list[Any]) -> list[str]:
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


def read_fast(source: Source) -> tuple[pd.DataFrame, bool] | None:
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


def ragged_rows(name: str, lines: Iterable[str]) -> ProblemLog:
    """Name each row whose field count differs from the header's (error path only): the
    first MAX_REPORTED_PROBLEMS, the rest counted."""
    reader = csv.reader(lines)
    problems = ProblemLog()
    try:
        header = next(reader, [])
        for row in reader:
            if row and len(row) != len(header):
                problems.append(
                    Problem(
                        name,
                        f"is not a well-formed CSV: {len(row)} fields where the header has "
                        f"{len(header)}",
                        row=reader.line_num,
                    )
                )
    except csv.Error as error:  # e.g. a lone carriage return inside a field
        problems.append(Problem(name, f"is not a well-formed CSV: {error}", row=reader.line_num))
    if not problems.total:
        problems.append(Problem(name, "is not a well-formed CSV"))
    return problems


def not_utf8(name: str, handle: BinaryIO) -> Problem:
    """Where a file read a block at a time stops being UTF-8 (error path only)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, rows = 0, 0
    while block := handle.read(1 << 20):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(block)
        except UnicodeDecodeError as error:
            at = max(error.start - pending, 0)
            byte = block[at : at + 1]
            return Problem(
                name,
                f"is not UTF-8 text (byte 0x{byte.hex()} at position {offset + at}); "
                "save the file as CSV UTF-8",
                row=rows + block[:at].count(b"\n") + 1,
            )
        offset += len(block)
        rows += block.count(b"\n")
    return Problem(name, "is not UTF-8 text; save the file as CSV UTF-8")


def check_header(name: str, kind: str, frame: pd.DataFrame) -> tuple[list[Problem], list[str]]:
    """The header against the kind's columns: problems, and warnings for ignored columns."""
    spec = SPECS[kind]
    problems: list[Problem] = []
    warnings: list[str] = []
    columns = list(frame.columns)
    duplicates = [c for c, n in Counter(columns).items() if n > 1]
    for column in duplicates:
        problems.append(Problem(name, "the column appears twice", row=1, column=column))
    ignored: list[str] = []
    for column in columns:
        if column in spec.columns:
            continue
        close = difflib.get_close_matches(column.lower(), spec.columns, n=1, cutoff=0.75)
        if close and close[0] not in columns:
            problems.append(
                Problem(
                    name,
                    f"unknown column; did you mean '{close[0]}'?",
                    row=1,
                    column=column,
                )
            )
        else:
            ignored.append(column)
    if ignored:  # one warning for all of them
        warnings.append(ignored_columns_warning(name, ignored))
    for column in spec.required:
        if column not in columns:
            problems.append(
                Problem(
                    name,
                    f"required column '{column}' is missing (the header has: {', '.join(columns)})",
                    row=1,
                )
            )
    return problems, warnings
