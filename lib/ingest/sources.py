"""What an import reads: CSV files (Source) or ready-made frames (FrameSource), and
which of the seven kinds each one is."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from lib.ingest.spec import KINDS, SPECS, Problem


@dataclass(frozen=True)
class Source:
    """One CSV to import: its name (as the user knows it) and its bytes, or the file
    that holds them (read when needed: a big usage.csv streams from disk)."""

    name: str
    data: bytes = b""
    path: Path | None = None

    @property
    def size(self) -> int:
        return self.path.stat().st_size if self.path is not None else len(self.data)

    def open(self) -> BinaryIO:
        return self.path.open("rb") if self.path is not None else io.BytesIO(self.data)

    def in_memory(self) -> Source:
        """The same file with its bytes read (for the kinds read whole)."""
        if self.path is None:
            return self
        return Source(self.name, self.path.read_bytes())


@dataclass(frozen=True)
class FrameSource:
    """Rows that did not come from a CSV file (a PostHog query's results), as
    text cells: validated exactly like a CSV of that kind."""

    name: str
    kind: str
    frame: pd.DataFrame
    first_row: int = 1  # what the source calls its first data row in messages
    clean: bool = False  # no cell has whitespace to strip (checked on the raw bytes)


def kind_from_name(name: str) -> str | None:
    stem = Path(name).name.lower()
    if stem.endswith(".csv"):
        stem = stem[:-4]
    for kind in KINDS:
        if stem == kind or (stem.startswith(kind) and stem[len(kind)] in "_-. "):
            return kind
    return None


def detect_kind(source: Source, frame: pd.DataFrame) -> str | None:
    """By the file's name, else by its header (the first kind whose columns fit)."""
    return kind_from_name(source.name) or kind_from_header(list(frame.columns))


def kind_from_header(names: list[str]) -> str | None:
    columns = set(names)
    for candidate in KINDS:
        if set(SPECS[candidate].required) <= columns and len(columns) <= len(
            SPECS[candidate].columns
        ):
            return candidate
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
                        "no known CSV here (customers, subscriptions, config, usage, steps, "
                        "refunds, contacts)",
                    )
                )
            sources += [Source(str(p), path=p) for p in found]
        elif path.is_file():
            sources.append(Source(str(path), path=path))
        else:
            problems.append(Problem(str(path), "no such file or folder"))
    return sources, problems
