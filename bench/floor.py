"""What the database itself costs: the floor the import and the report are divided by.

- insert: one bulk executemany of the usage rows (the same rows, in the CSV's
  order, as plain tuples already in memory) into a bare table with the usage
  table's columns, primary key and storage (WITHOUT ROWID on SQLite): no foreign
  key, no app, no validation, no aggregates. ROWS_PER_STATEMENT rows per INSERT statement, on both databases:
  on PostgreSQL one row per statement runs at ~30k rows/s (7x slower), a floor
  any import would beat; on SQLite 100 rows per statement is ~15% faster than one.
- group by: one GROUP BY summing every customer's metrics over the 30-day
  window ending on as-of and over the 90 days before it, over the app's own
  usage table (what the report needs from usage, and nothing else).

Both go through the raw DB-API driver (sqlite3 / psycopg), not SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd

from lib.windows import Windows

FLOOR_TABLE = "usage_floor"
ROWS_PER_STATEMENT = 100
_DDL = (
    f"CREATE TABLE {FLOOR_TABLE} (customer_id VARCHAR(100) NOT NULL, metric VARCHAR(40) NOT NULL, "
    "date DATE NOT NULL, value BIGINT NOT NULL, PRIMARY KEY (customer_id, metric, date))"
)


def usage_rows(csv_path: Path) -> list[tuple[Any, ...]]:
    """The usage CSV's rows as (customer_id, metric, date, value) tuples, in file order."""
    frame = pd.read_csv(
        csv_path,
        dtype={"customer_id": object, "date": object, "metric": object, "value": "int64"},
        keep_default_na=False,
    )
    columns = [frame[c].to_numpy(dtype=object).tolist() for c in ("customer_id", "metric", "date")]
    columns.append(frame["value"].tolist())
    del frame
    return list(zip(*columns, strict=True))


def _batches(rows: list[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """ROWS_PER_STATEMENT rows flattened into one parameter tuple each, and the rest."""
    whole = len(rows) - len(rows) % ROWS_PER_STATEMENT
    many = [
        tuple(chain.from_iterable(rows[at : at + ROWS_PER_STATEMENT]))
        for at in range(0, whole, ROWS_PER_STATEMENT)
    ]
    return many, rows[whole:]


def _insert_sql(mark: str, count: int) -> str:
    values = ", ".join([f"({mark}, {mark}, {mark}, {mark})"] * count)
    return f"INSERT INTO {FLOOR_TABLE} VALUES {values}"  # noqa: S608 (marks only)


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def pg_connect(url: str, autocommit: bool = False) -> Any:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return psycopg.connect(
        dbname=parsed.database,
        user=parsed.username,
        host=str(parsed.query.get("host")),
        port=int(str(parsed.query.get("port"))),
        autocommit=autocommit,
    )


def _ddl(sqlite: bool) -> str:
    # The same storage as the app's usage table: WITHOUT ROWID on SQLite (lib.store.models).
    return _DDL + (" WITHOUT ROWID" if sqlite else "")


def insert(url: str, rows: list[tuple[Any, ...]]) -> float:
    """Seconds for one bulk executemany of `rows` into a bare table of an empty database
    (the parameter tuples are built before the clock starts)."""
    many, rest = _batches(rows)
    if url.startswith("sqlite"):
        connection = sqlite3.connect(sqlite_path(url), isolation_level=None)
        # The app's own SQLite settings (lib.store.db): WAL, synchronous=NORMAL.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(_ddl(sqlite=True))
        started = time.perf_counter()
        connection.execute("BEGIN")
        connection.executemany(_insert_sql("?", ROWS_PER_STATEMENT), many)
        connection.executemany(_insert_sql("?", 1), rest)
        connection.execute("COMMIT")
        seconds = time.perf_counter() - started
        connection.close()
        return seconds
    connection = pg_connect(url)
    connection.execute(_ddl(sqlite=False))
    connection.commit()
    started = time.perf_counter()
    with connection.transaction(), connection.cursor() as cursor:
        cursor.executemany(_insert_sql("%s", ROWS_PER_STATEMENT), many)
        cursor.executemany(_insert_sql("%s", 1), rest)
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def group_by_sql(as_of: dt.date, mark: str) -> tuple[str, list[dt.date]]:
    windows = Windows(as_of)
    sql = (
        "SELECT customer_id, metric, "  # noqa: S608 (no values in the text: all bound)
        f"SUM(CASE WHEN date >= {mark} THEN value ELSE 0 END), "
        f"SUM(CASE WHEN date < {mark} THEN value ELSE 0 END) "
        f"FROM usage WHERE date BETWEEN {mark} AND {mark} GROUP BY customer_id, metric"
    )
    return sql, [windows.start, windows.start, windows.baseline_start, as_of]


def group_by(url: str, as_of: dt.date) -> tuple[float, int]:
    """Seconds (and result rows) for the GROUP BY over the app's usage table."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(sqlite_path(url))
        sql, params = group_by_sql(as_of, "?")
        started = time.perf_counter()
        count = len(connection.execute(sql, [d.isoformat() for d in params]).fetchall())
        seconds = time.perf_counter() - started
        connection.close()
        return seconds, count
    connection = pg_connect(url)
    sql, params = group_by_sql(as_of, "%s")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count = len(cursor.fetchall())
    seconds = time.perf_counter() - started
    connection.close()
    return seconds, count
