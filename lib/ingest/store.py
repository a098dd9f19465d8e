"""Validated rows into the database in the caller's transaction, and the work that must
follow every change of customer data (`after_data_change`)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection, Iterator
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from lib import homework
from lib.audit import finding_store
from lib.contacts import store as contact_store
from lib.ingest.cells import counts, parse_dates, to_number
from lib.ingest.limits import ProblemLog
from lib.ingest.spec import KINDS, SPECS, ImportRejected, ImportResult, KindResult, Problem
from lib.ingest.usage_store import upsert_usage
from lib.ingest.validate import Loaded, problem_at
from lib.refunds import store as refund_store
from lib.store import db, journal, models, usage_summary
from lib.vocabulary import CONFIG_KEYS

ANALYZE_FROM_ROWS = 100_000
# A first load's window sums are added up in memory up to this many rows; beyond, the
# database's GROUP BY does it in about the same time, without ~100 bytes a row of arrays.
SUM_IN_MEMORY_UP_TO = 1_000_000
# The kinds whose rows the audit and homework read: a change re-checks their customers.
CHECKED_KINDS = ("usage", "config", "subscriptions")

# Two imports at once in one process (two Data-page sessions) crashed inside
# Alembic (KeyError: 'config') while both checked the schema.
_SCHEMA_LOCK = threading.Lock()


def ensure_schema(engine: Engine) -> None:
    """lib.store.db.ensure_schema, one thread at a time (Alembic's module-level context
    is not thread-safe): before an import or a sync."""
    with _SCHEMA_LOCK:
        db.ensure_schema(engine)


def write(
    session: Session,
    loaded: dict[str, Loaded],
    as_of: dt.date,
    warnings: list[str] | None = None,
    show_progress: bool = False,
) -> ImportResult:
    """Upsert validated rows in the caller's write transaction, then `after_data_change`.

    Raises ImportRejected (nothing written) when rows name customers that are neither
    in the database nor in the rows. Shared by the CSV import and the PostHog sync.
    """
    problems = check_customer_references(session, loaded)
    if problems:
        raise ImportRejected(problems)
    result = ImportResult(warnings=list(warnings or []))
    first_load = False
    for kind in KINDS:
        if kind not in loaded:
            continue
        if kind == "usage":
            kind_result, first_load = upsert_usage(session, loaded[kind], show_progress)
        elif kind == "refunds":
            kind_result = _import_refunds(session, loaded[kind], as_of)
        elif kind == "contacts":
            kind_result = _import_contacts(session, loaded[kind])
        else:
            kind_result = _upsert_small(session, kind, _rows(loaded[kind]))
        kind_result.files = loaded[kind].files
        result.kinds[kind] = kind_result
        if kind_result.added or kind_result.updated:
            journal.log_write(
                session,
                "import",
                models.Usage.__tablename__ if kind == "usage" else TABLES[kind].__tablename__,
                {
                    "files": loaded[kind].files,
                    "added": kind_result.added,
                    "updated": kind_result.updated,
                },
            )
    touched = {
        str(c)
        for kind in CHECKED_KINDS
        if kind in loaded
        for c in loaded[kind].frame["customer_id"].unique()
    }
    usage = loaded["usage"].frame if "usage" in loaded else None
    after_data_change(session, touched, as_of, usage, first_load)
    return result


def check_customer_references(session: Session, loaded: dict[str, Loaded]) -> list[Problem]:
    """Rows of customers neither in the database nor among the rows' customers."""
    known: set[str] = set(session.scalars(select(models.Customer.customer_id)))
    if "customers" in loaded:
        known |= set(loaded["customers"].frame["customer_id"])
    problems = ProblemLog()  # the first few named, the rest counted
    for kind in KINDS[1:]:
        if kind not in loaded:
            continue
        frame = loaded[kind].frame
        unknown = ~frame["customer_id"].isin(known) & frame["customer_id"].ne("")
        problems.add_each(
            frame.index[unknown.to_numpy(dtype=bool)],
            lambda index, frame=frame: problem_at(
                frame,
                index,
                "unknown customer (not in customers.csv nor in the database)",
                "customer_id",
            ),
        )
    return problems


def after_data_change(
    session: Session,
    customer_ids: Collection[str],
    as_of: dt.date,
    usage: pd.DataFrame | None = None,
    first_load: bool = False,
) -> None:
    """Work that must follow every change of customer data, in its transaction, as of
    `as_of`: homework verified, usage sums refreshed, findings recorded.

    `customer_ids`: whose usage, config or subscriptions changed; `usage`: the usage rows
    written (validated text cells); `first_load`: nothing was stored in their dates before.
    """
    touched = set(customer_ids)
    if touched:
        # Sent homework with a condition is checked against the new data.
        homework.verify_after_import(session, sorted(touched))
    if usage is not None and len(usage):
        if len(usage) >= ANALYZE_FROM_ROWS and session.get_bind().dialect.name == "postgresql":
            # Fresh statistics for the planner after a bulk load (autovacuum comes later).
            session.execute(text("ANALYZE usage"))
        # The window sums the report reads (customer_usage_summary) follow the new usage.
        usage_summary.refresh(
            session,
            usage["customer_id"].unique().tolist(),
            today=as_of,
            only_rows=(
                usage_summary.Rows(
                    customer_ids=usage["customer_id"],
                    metrics=usage["metric"],
                    dates=usage["date"],
                    values=counts(usage["value"]),
                )
                if first_load and len(usage) <= SUM_IN_MEMORY_UP_TO
                else None
            ),
        )
    if touched:
        # The audit's view is written down (lib.audit.finding_store): new findings recorded
        # as open, fixed ones the data still shows reopened, vanished ones closed.
        finding_store.sync(session, as_of, next(iter(touched)) if len(touched) == 1 else None)


# ------------------------------------------------- customers, subscriptions, config, steps


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


def _rows(loaded: Loaded) -> list[dict[str, Any]]:
    frame = loaded.frame
    kind = loaded.kind
    present = [c for c in SPECS[kind].columns if c in frame.columns]
    out = frame[present].copy()
    if kind == "customers":
        out["segment_entered_on"] = parse_dates(out["segment_entered_on"])
        if "extended_until" in out:
            out["extended_until"] = parse_dates(out["extended_until"])
        if "mrr_usd" in out:
            out["mrr_usd"] = to_number(out["mrr_usd"])
        if "status" in out:
            out["status"] = out["status"].replace("", "active")
    elif kind == "subscriptions" and "billing_limit_usd" in out:
        out["billing_limit_usd"] = to_number(out["billing_limit_usd"])
    elif kind == "config":
        # Normalise case so "ON" and "on" are the same value on re-import.
        lowered = out["key"].map(CONFIG_KEYS).isin(["on_off", "bool"])
        out.loc[lowered, "value"] = out.loc[lowered, "value"].str.lower()
    elif kind == "steps":
        out["date"] = parse_dates(out["date"])
    records = out.astype(object).where(out.notna(), None).to_dict("records")
    return [{str(k): _blank_to_none(v) for k, v in r.items()} for r in records]


TABLES: dict[str, Any] = {
    "customers": models.Customer,
    "subscriptions": models.Subscription,
    "config": models.ConfigValue,
    "steps": models.Step,
    "refunds": models.Refund,
    "contacts": models.Contact,
}


def _import_refunds(session: Session, loaded: Loaded, as_of: dt.date) -> KindResult:
    """refunds.csv through lib.refunds (the ORM: each change in the change log, a new
    version), matched on customer_id + billing_month + scenario."""
    present = [c for c in SPECS["refunds"].columns if c in loaded.frame.columns]
    rows = [
        {str(k): str(v) for k, v in row.items()} for row in loaded.frame[present].to_dict("records")
    ]
    added, updated, unchanged = refund_store.import_rows(session, rows, as_of)
    return KindResult(added=added, updated=updated, unchanged=unchanged)


def _import_contacts(session: Session, loaded: Loaded) -> KindResult:
    """contacts.csv through lib.contacts (the ORM: each change in the change log), matched
    on customer_id + email (case-insensitive)."""
    present = [c for c in SPECS["contacts"].columns if c in loaded.frame.columns]
    rows = [
        {str(k): str(v) for k, v in row.items()} for row in loaded.frame[present].to_dict("records")
    ]
    added, updated, unchanged = contact_store.import_rows(session, rows)
    return KindResult(added=added, updated=updated, unchanged=unchanged)


def _upsert_small(session: Session, kind: str, rows: list[dict[str, Any]]) -> KindResult:
    """Customers, subscriptions, config and steps: few rows, compared in Python."""
    model = TABLES[kind]
    key = SPECS[kind].key
    table = models.table(model)
    result = KindResult()
    columns = [c for c in rows[0] if c not in key] if rows else []
    user = journal.user_of(session)
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
        if "version" in table.c:  # a form showing the old row is refused (lib.store.versions)
            values["version"] = table.c.version + 1
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
