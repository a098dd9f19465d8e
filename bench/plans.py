"""The query plans of the reads that matter at scale, on the benchmark's own database
(EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL): which use an index."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from lib.store import customer_data, db, models


def _statements(engine: Engine, as_of: dt.date) -> dict[str, object]:
    with db.read_session(engine) as session:
        customer, owner = session.execute(
            select(models.Customer.customer_id, models.Customer.owner)
            .where(models.Customer.owner.is_not(None))
            .order_by(models.Customer.customer_id)
            .limit(1)
        ).one()
        owned = list(
            session.scalars(
                select(models.Customer.customer_id).where(models.Customer.owner == owner)
            )
        )
    usage = models.table(models.Usage)
    return {
        "every customer's sums, from the summary (pages, report)": customer_data._summary_select(
            as_of, None
        ),
        "one owner's customers' sums, from the summary (Today)": customer_data._summary_select(
            as_of, owned
        ),
        "one customer's sums, from usage (customer page)": customer_data.aggregate_select(
            as_of, [customer]
        ),
        "one customer's daily usage (customer page chart)": select(
            usage.c.date, usage.c.metric, usage.c.value
        ).where(
            usage.c.customer_id == customer,
            usage.c.date.between(as_of - dt.timedelta(days=119), as_of),
        ),
        "everyone's sums from usage (the summary's refresh after an import)": (
            customer_data.aggregate_select(as_of)
        ),
    }


def explain(engine: Engine, as_of: dt.date) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite(engine) else "EXPLAIN "
    for name, statement in _statements(engine, as_of).items():
        sql = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(prefix + sql).all()
        if db.is_sqlite(engine):
            out[name] = [str(row[-1]) for row in rows]
        else:
            out[name] = [str(row[0]) for row in rows]
    return out
