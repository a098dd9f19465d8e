"""Usage rows upserted in the primary key's order: compared with what is stored a group
of customers at a time, then bulk inserts and updates (a progress bar on stderr for big
files). Memory stays bounded: the rows are codes, turned into text a chunk at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.orm import Session

from lib.ingest.cells import counts
from lib.ingest.spec import KindResult
from lib.ingest.validate import Loaded
from lib.store import bulk, models

PROGRESS_FROM_ROWS = 200_000
# Once the database holds usage in the file's dates, the file's rows are compared a group
# of customers at a time (their stored rows read, then dropped): bounded memory.
GROUP_ROWS = 250_000
GROUP_CUSTOMERS = 500


def upsert_usage(session: Session, loaded: Loaded, show_progress: bool) -> tuple[KindResult, bool]:
    """Usage rows upserted: (added/updated/unchanged, whether nothing was stored in their
    dates before, so they are all the usage of those dates); a progress bar on stderr
    for big files when asked."""
    rows = len(loaded.frame)
    if not show_progress or rows < PROGRESS_FROM_ROWS:
        return _upsert(session, loaded, None)
    from tqdm import tqdm

    with tqdm(total=rows, unit="row", desc=", ".join(loaded.files), disable=None) as bar:

        def advance(rows_done: int) -> None:
            bar.update(rows_done)

        return _upsert(session, loaded, advance)


def _upsert(
    session: Session, loaded: Loaded, progress: Callable[[int], None] | None
) -> tuple[KindResult, bool]:
    """Usage: up to millions of rows, in the primary key's order. A first load (nothing
    stored in the file's dates) inserts them all; else each group of customers is
    compared with its stored rows, then the new rows inserted and the changed updated."""
    frame = loaded.frame
    if frame.empty:  # a header and no rows: nothing to compare (and no date range)
        return KindResult(), False
    # Codes into the sorted distinct values (categories already: usage.csv's frame).
    codes: dict[str, np.ndarray] = {}
    names: dict[str, np.ndarray] = {}
    for column in ("customer_id", "metric", "date"):
        cells = frame[column]
        if (
            isinstance(cells.dtype, pd.CategoricalDtype)
            and cells.cat.categories.is_monotonic_increasing
        ):
            codes[column] = cells.cat.codes.to_numpy()  # a view, no copy
            names[column] = np.asarray(cells.cat.categories, dtype=object)
        else:
            found, distinct = pd.factorize(cells, sort=True)
            codes[column], names[column] = found, np.asarray(distinct, dtype=object)
    values = counts(frame["value"])
    width_m, width_d = len(names["metric"]), len(names["date"])
    key = codes["customer_id"].astype(np.int64)
    key *= width_m
    key += codes["metric"]
    key *= width_d
    key += codes["date"]
    order = np.argsort(key, kind="stable")
    connection = session.connection()
    anything_stored = (
        connection.execute(
            text("SELECT 1 FROM usage WHERE date BETWEEN :first AND :last LIMIT 1"),
            {"first": str(names["date"][0]), "last": str(names["date"][-1])},
        ).first()
        is not None
    )
    result = KindResult()
    table = models.table(models.Usage)
    for rows in _groups(codes["customer_id"], order, anything_stored):
        if anything_stored:
            old, found = _stored(connection, names, codes, rows, key)
            is_new = ~found
            is_changed = found & (old != values[rows])
        else:
            is_new = np.ones(len(rows), dtype=bool)
            is_changed = np.zeros(len(rows), dtype=bool)
        result.added += int(is_new.sum())
        result.updated += int(is_changed.sum())
        result.unchanged += int(len(rows) - is_new.sum() - is_changed.sum())
        new = rows[is_new]
        bulk.insert_columns(
            connection,
            table,
            ["customer_id", "metric", "date", "value"],
            (
                [*_texts(names, codes, part), values[part].astype(object)]
                for part in (new[at : at + bulk.CHUNK] for at in range(0, len(new), bulk.CHUNK))
            ),
            progress,
        )
        changed = rows[is_changed]
        if len(changed):
            customer, metric, day = _texts(names, codes, changed)
            bulk.update_rows(
                connection,
                table,
                ["value"],
                ["customer_id", "metric", "date"],
                list(zip(values[changed].tolist(), customer, metric, day, strict=True)),
                progress,
            )
    if progress:
        progress(result.unchanged)
    return result, not anything_stored


def _texts(
    names: dict[str, np.ndarray], codes: dict[str, np.ndarray], rows: np.ndarray
) -> list[np.ndarray]:
    """The rows' customer ids, metrics and dates (ISO text) as Python strings, one
    object per distinct value shared by every row."""
    return [names[c][codes[c][rows]] for c in ("customer_id", "metric", "date")]


def _groups(customers: np.ndarray, order: np.ndarray, grouped: bool) -> Iterator[np.ndarray]:
    """`order` in slices: everything at once when nothing is to be compared, else
    whole customers, about GROUP_ROWS rows and at most GROUP_CUSTOMERS of them a slice."""
    if not grouped:
        yield order
        return
    sorted_customers = customers[order]
    starts = np.flatnonzero(np.r_[True, sorted_customers[1:] != sorted_customers[:-1]])
    begin = 0
    while begin < len(order):
        first = int(np.searchsorted(starts, begin))
        by_rows = int(np.searchsorted(starts, begin + GROUP_ROWS, side="right"))
        last = min(max(by_rows, first + 1), first + GROUP_CUSTOMERS)
        end = int(starts[last]) if last < len(starts) else len(order)
        yield order[begin:end]
        begin = end


def _stored(
    connection: Connection,
    names: dict[str, np.ndarray],
    codes: dict[str, np.ndarray],
    rows: np.ndarray,
    key: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The stored value of each of these rows, and whether one is stored."""
    customers = names["customer_id"][np.unique(codes["customer_id"][rows])].tolist()
    days = names["date"][codes["date"][rows]]
    statement = text(
        "SELECT customer_id, metric, date, value FROM usage "
        "WHERE date BETWEEN :first AND :last AND customer_id IN :customers"
    ).bindparams(bindparam("customers", expanding=True))
    position = {
        column: {str(name): code for code, name in enumerate(names[column])}
        for column in ("metric", "date")
    }
    customer_code = {
        str(names["customer_id"][c]): int(c) for c in np.unique(codes["customer_id"][rows])
    }
    stored_keys: list[int] = []
    stored_values: list[int] = []
    width_m, width_d = len(names["metric"]), len(names["date"])
    for customer, metric, day, value in connection.execute(
        statement, {"first": str(days.min()), "last": str(days.max()), "customers": customers}
    ):
        # SQLite hands back ISO text, PostgreSQL date objects: compared as text.
        m, d = position["metric"].get(metric), position["date"].get(str(day))
        if m is None or d is None:
            continue
        stored_keys.append((customer_code[customer] * width_m + m) * width_d + d)
        stored_values.append(value)
    wanted = key[rows]
    if not stored_keys:
        return np.zeros(len(rows), dtype=np.int64), np.zeros(len(rows), dtype=bool)
    keys = np.array(stored_keys, dtype=np.int64)
    sort = np.argsort(keys)
    keys, stored = keys[sort], np.array(stored_values, dtype=np.int64)[sort]
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return stored[at], keys[at] == wanted
