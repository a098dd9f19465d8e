"""A shared whole (every customer's reports, their health scores) kept up to date by
patching: built once and cached, then, on a read, the customers written since it was
read (the audit log, lib.program.report_store.written_since) are done again and the
rest is kept; a write naming no customer (an import, settings) or too many builds
the whole again.

The check is one small query. It runs on the first read after a write in this process
(ui.data.changed()) and otherwise at most every CHECK_S seconds, so a write from the
command line or another server shows within that: the whole itself needs no expiry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lib.program import report_store
from lib.store import db

T = TypeVar("T")

CHECK_S = 5.0  # another process's writes show within this
# More customers written than this since the whole was read: build it again (each one
# costs a single-customer build, ~0.3 s, whatever the whole's size).
PATCH_MAX_CUSTOMERS = 3
MAX_KEYS = 64


@dataclass(frozen=True)
class Marked(Generic[T]):
    """A whole and the newest audit-log entry read before it (report_store.audit_mark)."""

    value: T
    mark: int


@dataclass(frozen=True)
class _Entry(Generic[T]):
    base: Marked[T]  # the cached whole it started from (a new one: start again)
    current: Marked[T]  # brought up to date
    writes: int  # the process's write count it was checked at
    checked: float  # time.monotonic() of that check


# A patch: the whole with these customers done again, or None (build it all again).
Patch = Callable[[Session, T, list[str]], "T | None"]


class Patched(Generic[T]):
    """One kind of whole, per key (database URL, date, ...)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writes = 0
        self._entries: dict[Hashable, _Entry[T]] = {}

    def written(self) -> None:
        """This process wrote: the next read checks at once."""
        with self._lock:
            self._writes += 1

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(
        self,
        key: Hashable,
        engine: Engine,
        full: Callable[[], Marked[T]],
        clear: Callable[[], None],
        patch: Patch[T],
    ) -> T:
        """The whole for `key`, up to date: `full()` is the cached build, `clear()` drops
        it, `patch` does some customers again."""
        base = full()
        now = time.monotonic()
        with self._lock:
            writes = self._writes
            entry = self._entries.get(key)
            if entry is None or entry.base is not base:
                entry = _Entry(base, base, -1, now)
            if entry.writes == writes and now - entry.checked < CHECK_S:
                return entry.current.value
        current = entry.current
        with db.read_session(engine) as session:
            newest, customers = report_store.written_since(
                session, current.mark, PATCH_MAX_CUSTOMERS
            )
            if customers == []:
                fresh: T | None = current.value
            else:
                fresh = None if customers is None else patch(session, current.value, customers)
        if fresh is None:  # an import, settings, many customers: build it again
            clear()
            base = current = full()
        else:
            current = Marked(fresh, newest)
        with self._lock:
            if len(self._entries) > MAX_KEYS:
                self._entries.clear()
            self._entries[key] = _Entry(base, current, writes, now)
        return current.value
