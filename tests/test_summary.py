"""customer_usage_summary: the stored window sums equal the direct aggregate over usage.

After demo loads, imports, re-imports (a few customers and everyone), on
SQLite and PostgreSQL; the report reads the same numbers either way; a date
the summary lacks is filled once; at most KEEP_DATES dates are kept.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from lib import demo
from lib.store import customer_data, db, models, usage_summary
from lib.windows import AGGREGATES
from tests import db_support
from tests.csv_fixtures import import_paths

TODAY = dt.date.today()
DEMO_AS_OF = dt.date(2026, 3, 16)


def _direct(engine: Engine, as_of: dt.date) -> list[tuple[Any, ...]]:
    with db.read_session(engine) as session:
        rows = session.execute(customer_data.aggregate_select(as_of)).all()
    return sorted((str(r[0]), str(r[1]), *(int(v) for v in r[2:])) for r in rows)


def _stored(engine: Engine, as_of: dt.date) -> list[tuple[Any, ...]]:
    summary = models.table(models.CustomerUsageSummary)
    with db.read_session(engine) as session:
        rows = session.execute(
            select(
                summary.c.customer_id,
                summary.c.metric,
                *[summary.c[name] for name in AGGREGATES],
            ).where(summary.c.as_of == as_of)
        ).all()
    return sorted((str(r[0]), str(r[1]), *(int(v) for v in r[2:])) for r in rows)


def _kept(engine: Engine) -> list[dt.date]:
    with db.read_session(engine) as session:
        return usage_summary.kept_dates(session)


def _assert_summary_is_direct(engine: Engine) -> None:
    kept = _kept(engine)
    assert kept, "the summary holds no date"
    for as_of in kept:
        stored = _stored(engine, as_of)
        assert stored == _direct(engine, as_of), f"summary as of {as_of} differs"


def _write_csvs(data: demo.DemoData, folder: Path) -> Path:
    data.write_csvs(folder)
    return folder


def test_demo_load_fills_today_and_the_data_sets_own_date(engine: Engine) -> None:
    with db.write_session(engine, "demo") as session:
        demo.load(session, demo.generate(customers=12, seed=3, as_of=DEMO_AS_OF))
    assert set(_kept(engine)) == {TODAY, DEMO_AS_OF}
    assert _stored(engine, DEMO_AS_OF), "the demo's own date has usage in its windows"
    _assert_summary_is_direct(engine)


def test_demo_replace_leaves_no_stale_rows(engine: Engine) -> None:
    with db.write_session(engine, "demo") as session:
        demo.load(session, demo.generate(customers=12, seed=3, as_of=DEMO_AS_OF))
    with db.write_session(engine, "demo") as session:
        demo.load(session, demo.generate(customers=5, seed=4, as_of=DEMO_AS_OF), replace=True)
    _assert_summary_is_direct(engine)
    customers = {row[0] for row in _stored(engine, DEMO_AS_OF)}
    assert len(customers) == 5


def test_import_refreshes_today(engine: Engine, tmp_path: Path) -> None:
    data = demo.generate(customers=10, seed=5, as_of=TODAY)
    import_paths(engine, [_write_csvs(data, tmp_path / "csv")], user="tester")
    assert _kept(engine) == [TODAY]
    assert _stored(engine, TODAY)
    _assert_summary_is_direct(engine)


def test_a_first_load_sums_in_memory_what_the_table_would(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing stored before in the file's dates: the summary comes from the file's
    # rows in memory (usage_summary.sums_from_rows), whatever the number of customers.
    monkeypatch.setattr(usage_summary, "REFRESH_BY_ID_UP_TO", 0)
    calls: list[dt.date] = []
    real = usage_summary._fill_from_rows
    monkeypatch.setattr(
        usage_summary,
        "_fill_from_rows",
        lambda session, as_of, rows: (calls.append(as_of), real(session, as_of, rows)),
    )
    data = demo.generate(customers=12, seed=12, as_of=TODAY)
    import_paths(engine, [_write_csvs(data, tmp_path / "csv")], user="tester")
    assert calls == [TODAY]
    assert _stored(engine, TODAY)
    _assert_summary_is_direct(engine)


@pytest.mark.parametrize(
    "few",
    [
        True,  # a few customers changed: every kept date is refreshed for them by id
        False,  # many (here: over a threshold of 0): today recomputed, other dates dropped
    ],
)
def test_reimport_with_changed_values_keeps_every_kept_date_exact(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, few: bool
) -> None:
    data = demo.generate(customers=8, seed=6, as_of=TODAY)
    import_paths(engine, [_write_csvs(data, tmp_path / "all")], user="tester")
    earlier = TODAY - dt.timedelta(days=9)
    assert usage_summary.ensure(engine, earlier)  # as when a page asks for an older date
    assert set(_kept(engine)) == {TODAY, earlier}

    # Double one customer's values on the last 20 days (inside both dates' windows).
    usage = data.usage
    customer = usage["customer_id"].iloc[0]
    recent = (usage["customer_id"] == customer) & (usage["date"] >= TODAY - dt.timedelta(days=20))
    changed = usage[recent].assign(value=usage.loc[recent, "value"] * 2 + 1)
    folder = tmp_path / "changed"
    folder.mkdir()
    frame = changed.assign(date=changed["date"].map(dt.date.isoformat))
    frame[["customer_id", "date", "metric", "value"]].to_csv(folder / "usage.csv", index=False)
    if not few:
        monkeypatch.setattr(usage_summary, "REFRESH_BY_ID_UP_TO", 0)

    result = import_paths(engine, [folder / "usage.csv"], user="tester")

    assert result.kinds["usage"].updated == len(changed)
    kept = set(_kept(engine))
    assert kept == ({TODAY, earlier} if few else {TODAY})
    _assert_summary_is_direct(engine)
    assert usage_summary.ensure(engine, earlier)  # dropped dates come back exact
    _assert_summary_is_direct(engine)


def test_reimport_of_the_same_files_keeps_the_summary(engine: Engine, tmp_path: Path) -> None:
    data = demo.generate(customers=6, seed=8, as_of=TODAY)
    folder = _write_csvs(data, tmp_path / "csv")
    import_paths(engine, [folder], user="tester")
    before = _stored(engine, TODAY)
    import_paths(engine, [folder], user="tester")
    assert _stored(engine, TODAY) == before
    _assert_summary_is_direct(engine)


def test_report_reads_the_same_numbers_from_the_summary_and_directly(engine: Engine) -> None:
    with db.write_session(engine, "demo") as session:
        demo.load(session, demo.generate(customers=15, seed=9, as_of=DEMO_AS_OF))
    with db.read_session(engine) as session:
        from_summary = customer_data.usage_aggregates(session, DEMO_AS_OF)
        rows = session.execute(customer_data.aggregate_select(DEMO_AS_OF)).all()
    direct = customer_data._wide(rows)
    for name in AGGREGATES:
        pd.testing.assert_frame_equal(getattr(from_summary, name), getattr(direct, name))
    assert from_summary.last_30.to_numpy().sum() > 0


def test_a_missing_date_is_filled_once_and_old_ones_pruned(engine: Engine) -> None:
    with db.write_session(engine, "demo") as session:
        demo.load(session, demo.generate(customers=6, seed=10, as_of=DEMO_AS_OF))
    asked = [DEMO_AS_OF - dt.timedelta(days=d) for d in (3, 5, 7)]
    for as_of in asked:
        reports = db_support.reports(engine, as_of)  # fills the date for everyone
        assert len(reports) == 6
    kept = _kept(engine)
    assert len(kept) == usage_summary.KEEP_DATES
    assert set(asked) <= set(kept)  # the most recently filled stay
    _assert_summary_is_direct(engine)


def test_findings_an_import_records_are_each_in_the_audit_log(
    engine: Engine, tmp_path: Path
) -> None:
    # lib.audit.finding_store.sync_in writes new finding states in bulk: the audit log still
    # names every one of them, as the ORM's flush would.
    data = demo.generate(customers=20, seed=11, as_of=TODAY)
    import_paths(engine, [_write_csvs(data, tmp_path / "csv")], user="tester")
    with db.read_session(engine) as session:
        states = {
            f"{cid}/{rule}"
            for cid, rule in session.execute(
                select(models.FindingState.customer_id, models.FindingState.rule)
            )
        }
        logged = session.execute(
            select(models.AuditLog.entity_id, models.AuditLog.user, models.AuditLog.changes).where(
                models.AuditLog.entity == "finding_states", models.AuditLog.action == "insert"
            )
        ).all()
    assert states, "the demo's planted misconfigurations are found"
    assert {entity_id for entity_id, _, _ in logged} == states
    assert all(user == "tester" and changes["state"] == "open" for _, user, changes in logged)
