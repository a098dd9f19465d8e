"""Usage rows upserted: one frame merge against what is stored, then bulk inserts and
updates (a progress bar on stderr for big files)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from lib.ingest.cells import counts
from lib.ingest.spec import KindResult
from lib.ingest.validate import Loaded
from lib.store import bulk, models

PROGRESS_FROM_ROWS = 200_000
# Up to this many customers, stored usage is compared by customer id; more, by dates only.
STORED_BY_ID_UP_TO = 500


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


def _shared_strings(column: pd.Series) -> pd.Series:
    codes, distinct = pd.factorize(column)
    return pd.Series(np.asarray(distinct, dtype=object)[codes], dtype=object)


def _upsert(
    session: Session, loaded: Loaded, progress: Callable[[int], None] | None
) -> tuple[KindResult, bool]:
    """Usage: up to millions of rows. Compare with what is stored in one
    frame merge, then bulk-insert the new rows and bulk-update the changed ones."""
    frame = loaded.frame
    if frame.empty:  # a header and no rows: nothing to compare (and no date range)
        return KindResult(), False
    values = counts(frame["value"])
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
        first_load = len(customers) > STORED_BY_ID_UP_TO  # asked for everyone's rows
        merged = incoming
        is_new = np.ones(len(merged), dtype=bool)
        is_changed = np.zeros(len(merged), dtype=bool)
    else:
        # SQLite hands back ISO text, PostgreSQL date objects: compare as text.
        stored = stored.astype({"customer_id": object, "metric": object})
        stored["date"] = stored["date"].map(str).astype(object)
        merged = incoming.merge(stored, on=["customer_id", "metric", "date"], how="left")
        first_load = False
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
    return result, first_load
