"""What an import reads at most, checked on a file's bytes before any parsing: the size
of a file, the columns of its header, the length of a line; and the problems a refusal
reports (the first MAX_REPORTED_PROBLEMS, the rest only counted)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lib.ingest.sources import Source, kind_from_header, kind_from_name
from lib.ingest.spec import MAX_REPORTED_PROBLEMS, SPECS, Problem

# The widest file the console reads, refunds.csv, has 19 columns: 200 is a typo's or an
# attack's width, never a real export's (a million columns took minutes and gigabytes).
MAX_COLUMNS = 200
# The longest real line is under 1 KB (a refund with its notes); a line is at most 64 KB.
MAX_LINE_BYTES = 64 * 1024
# The largest real file: usage.csv of 10,000 customers over the 120 days the audit reads
# (the 90-day baseline and the 30-day window), about 1,250 rows of ~51 bytes a customer:
# ~640 MB (the demo at 10,000 customers writes 636 MB). With headroom: 800 MB, the Data
# page's upload limit (server.maxUploadSize in .streamlit/config.toml).
MAX_FILE_MB = 800
# Every other kind is a few MB at 10,000 customers (config.csv ~3.3 MB, the largest):
# read whole, so held to 32 MB. usage.csv is read a chunk at a time (lib.ingest.usage_read).
MAX_SMALL_FILE_MB = 32
# An ignored-columns warning names this many of them.
WARNING_SAMPLE = 5

_BLOCK = 1 << 24  # bytes read at a time by the pre-check


class ProblemLog(list[Problem]):
    """Problems as a list that keeps the first `limit` and counts the rest (`total`),
    so a file with a million bad rows builds fifty messages, not a million."""

    def __init__(self, limit: int = MAX_REPORTED_PROBLEMS) -> None:
        super().__init__()
        self.limit = limit
        self.total = 0

    @property
    def room(self) -> int:
        return max(self.limit - len(self), 0)

    def append(self, problem: Problem) -> None:
        self.total += 1
        if len(self) < self.limit:
            super().append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)
        if isinstance(problems, ProblemLog):  # and the ones it only counted
            self.total += problems.total - len(problems)

    def __iadd__(self, problems: Iterable[Problem]) -> ProblemLog:  # type: ignore[override,misc]
        self.extend(problems)
        return self

    def add_each(self, positions: Any, make: Callable[..., Problem]) -> None:
        """A problem at each position (a row's index, ...), built only for those kept."""
        for position in list(positions[: self.room]):
            super().append(make(position))
        self.total += len(positions)


@dataclass(frozen=True)
class Scan:
    """What the pre-check learnt: the header's names (None: no header line), the kind
    (by the file's name, else its header), and the reason to refuse the file."""

    header: list[str] | None
    kind: str | None
    problem: Problem | None = None


def header_cells(line: bytes) -> list[str]:
    """The header line's names as written (stripped; a blank one named by its position)."""
    text = line.decode("utf-8", errors="replace").removeprefix("\ufeff").rstrip("\r")
    try:
        names = next(csv.reader([text]), [])
    except csv.Error:
        names = text.split(",")
    return [n.strip() or f"(column {i} has no name)" for i, n in enumerate(names, start=1)]


def scan(source: Source) -> Scan:
    """Size, header width and line lengths, a block at a time (never the whole file in
    a new buffer): refused at the first line over the limit."""
    name = source.name
    if source.size > MAX_FILE_MB * 1024 * 1024:
        return Scan(None, None, _too_big(name, source.size, MAX_FILE_MB, "a file"))
    header: bytes | None = None
    commas = 0
    line, start, longest = 1, 0, 0  # the line being read, where it starts, its length
    offset = 0
    with source.open() as handle:
        while block := handle.read(_BLOCK):
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10) + offset
            if header is None:
                first = int(ends[0]) - offset if len(ends) else len(block)
                commas += block.count(b",", 0, first)
                if commas + 1 > MAX_COLUMNS:
                    return Scan(None, None, _too_wide(name, handle, block, first, commas))
                if len(ends):
                    header = _first_line(source, int(ends[0]))
            starts = np.concatenate(([start], ends[:-1] + 1))
            lengths = ends - starts  # each line's bytes, without its newline
            too_long = np.flatnonzero(lengths > MAX_LINE_BYTES)
            if len(too_long):
                at = int(too_long[0])
                return Scan(None, None, _too_long(name, line + at, int(lengths[at])))
            if len(ends):
                line, start = line + len(ends), int(ends[-1]) + 1
            offset += len(block)
            longest = offset - start
            if longest > MAX_LINE_BYTES:
                return Scan(None, None, _too_long(name, line, longest, at_least=True))
    if header is None and offset:  # one line, no newline at its end
        header = _first_line(source, offset)
    blank = header is None or not header.replace(b"\xef\xbb\xbf", b"").strip()
    names = None if blank or header is None else header_cells(header)
    kind = kind_from_name(name) or (kind_from_header(names) if names else None)
    if kind != "usage" and source.size > MAX_SMALL_FILE_MB * 1024 * 1024:
        shown = f"{kind}.csv" if kind else "a file other than usage.csv"
        return Scan(names, kind, _too_big(name, source.size, MAX_SMALL_FILE_MB, shown))
    return Scan(names, kind)


def _first_line(source: Source, end: int) -> bytes:
    with source.open() as handle:
        return handle.read(end)


def _too_big(name: str, size: int, limit_mb: int, what: str) -> Problem:
    return Problem(
        name,
        f"the file is {size / 1024 / 1024:,.0f} MB; {what} is at most {limit_mb:,} MB "
        "(the largest real export, with room to spare); split it",
    )


def _too_wide(name: str, handle: Any, block: bytes, first: int, commas: int) -> Problem:
    """Count the rest of the header's commas (C speed, a block at a time) for the message."""
    while first == len(block) and (block := handle.read(_BLOCK)):
        first = block.find(b"\n")
        first = len(block) if first < 0 else first
        commas += block.count(b",", 0, first)
    widest = max(len(spec.columns) for spec in SPECS.values())
    return Problem(
        name,
        f"the header has {commas + 1:,} columns; a file has at most {MAX_COLUMNS} "
        f"(the widest the console reads has {widest}). Nothing was read",
        row=1,
    )


def _too_long(name: str, line: int, length: int, at_least: bool = False) -> Problem:
    more = "more than " if at_least else ""
    return Problem(
        name,
        f"line {line:,} is {more}{length:,} bytes long; a line is at most "
        f"{MAX_LINE_BYTES // 1024} KB. Nothing was read",
        row=line,
    )


def ignored_columns_warning(name: str, columns: list[str]) -> str:
    """One warning for every column the file has and the console does not read."""
    if len(columns) == 1:
        return f"{name}: column '{columns[0]}' is not used and was ignored"
    sample = ", ".join(columns[:WARNING_SAMPLE])
    more = (
        f", ... ({len(columns) - WARNING_SAMPLE:,} more)" if len(columns) > WARNING_SAMPLE else ""
    )
    return f"{name}: {len(columns):,} columns are not used and were ignored: {sample}{more}"
