"""Alembic migrations on both databases: from empty to head, down to base and back.

Each test starts from a truly empty database (not the migrated template the
`db_url` fixture clones), and checks the migrated schema against
lib.store.models' metadata with Alembic's own autogenerate comparison, so a model
change without a migration fails here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from lib.store import db, models
from tests.conftest import DATABASES, PgServer


@pytest.fixture(params=DATABASES)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables at all."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    from pytest_postgresql.janitor import DatabaseJanitor

    server: PgServer = request.getfixturevalue("pg_server")
    name = f"m_{uuid.uuid4().hex[:12]}"
    with DatabaseJanitor(user=server.user, host=server.host, port=server.port, dbname=name):
        engine = db.make_engine(server.url(name))
        try:
            yield engine
        finally:
            engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _schema_diff(engine: Engine) -> list[Any]:
    """What autogenerate would put in a new migration (empty = models and schema agree)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": False},
        )
        return list(compare_metadata(context, models.Base.metadata))


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(db.alembic_config("sqlite://"))


MODEL_TABLES = set(models.Base.metadata.tables)


def test_upgrade_from_empty_matches_models(empty_engine: Engine) -> None:
    assert _tables(empty_engine) == set()
    db.migrate(empty_engine)
    assert _current(empty_engine) == _script().get_current_head()
    assert _tables(empty_engine) == MODEL_TABLES | {"alembic_version"}
    assert _schema_diff(empty_engine) == []


def test_downgrade_to_base_and_back(empty_engine: Engine) -> None:
    db.migrate(empty_engine)
    db.downgrade(empty_engine, "base")
    assert _tables(empty_engine) - {"alembic_version"} == set()
    assert _current(empty_engine) is None
    db.migrate(empty_engine)
    assert _current(empty_engine) == _script().get_current_head()
    assert _schema_diff(empty_engine) == []


def test_every_revision_steps_up_down_and_up_again(empty_engine: Engine) -> None:
    """The "stairway": each revision's downgrade undoes exactly its upgrade."""
    revisions = list(reversed(list(_script().walk_revisions("base", "heads"))))
    assert revisions, "no migrations found"
    previous: str = "base"
    for revision in revisions:
        db.migrate(empty_engine, revision.revision)
        after_upgrade = _tables(empty_engine)
        db.downgrade(empty_engine, previous)
        db.migrate(empty_engine, revision.revision)
        assert _tables(empty_engine) == after_upgrade, revision.revision
        assert _current(empty_engine) == revision.revision
        previous = revision.revision
    assert _schema_diff(empty_engine) == []


def test_migrate_twice_changes_nothing(empty_engine: Engine) -> None:
    db.migrate(empty_engine)
    db.migrate(empty_engine)
    assert _current(empty_engine) == _script().get_current_head()


def test_downgrade_keeps_nothing_behind_with_data(empty_engine: Engine) -> None:
    """A populated database downgrades to base cleanly (foreign keys dropped in order)."""
    db.migrate(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (customer_id, name, segment_entered_on, status, "
                "created_at, updated_at) VALUES ('c1', 'One', '2026-03-01', 'active', "
                "'2026-03-01 00:00:00', '2026-03-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO usage (customer_id, metric, date, value) "
                "VALUES ('c1', 'events', '2026-03-01', 5)"
            )
        )
    db.downgrade(empty_engine, "base")
    assert _tables(empty_engine) - {"alembic_version"} == set()


def test_0006_maps_the_old_refund_statuses_up_and_back(empty_engine: Engine) -> None:
    """Refunds recorded before the workflow keep what they said: pending_approval waits for
    approval; an issued one was issued (and asked for) on the day it was recorded."""
    db.migrate(empty_engine, "0005")
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (customer_id, name, segment_entered_on, status, "
                "created_at, updated_at) VALUES ('c1', 'One', '2026-03-01', 'active', "
                "'2026-03-01 00:00:00', '2026-03-01 00:00:00')"
            )
        )
        for status in ("issued", "pending_approval", "declined"):
            connection.execute(
                text(
                    "INSERT INTO refunds (customer_id, scenario, amount_usd, per_product, "
                    "billing_month, status, needs_approval, recorded_on) VALUES ('c1', "
                    "'wrong_setup', 12.5, '{}', '2026-03-01', :status, false, '2026-03-05')"
                ),
                {"status": status},
            )
    db.migrate(empty_engine)
    query = text(
        "SELECT status, requested_on, issued_on, issued_usd, decided_on, ceiling_usd, version "
        "FROM refunds ORDER BY id"
    )
    with empty_engine.connect() as connection:
        rows = [
            tuple(str(v) if v is not None else None for v in row)
            for row in connection.execute(query)
        ]
    day = "2026-03-05"
    assert rows == [
        ("issued", day, day, "12.5", None, "12.5", "1"),
        ("needs_approval", day, None, None, None, "12.5", "1"),
        ("declined", None, None, None, day, "12.5", "1"),
    ]
    with empty_engine.begin() as connection:
        connection.execute(text("UPDATE refunds SET status = 'approved' WHERE id = 2"))
    db.downgrade(empty_engine, "0005")
    with empty_engine.connect() as connection:
        statuses = connection.execute(text("SELECT status FROM refunds ORDER BY id")).scalars()
        assert list(statuses) == ["issued", "pending_approval", "declined"]
    assert "version" not in {c["name"] for c in inspect(empty_engine).get_columns("refunds")}
