"""CSV import: every kind of bad input is refused with a clear message and
nothing written; good files land in one transaction; re-import changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from lib.ingest import SPECS, ImportRejected, Source, spec
from lib.ingest import store as ingest_store
from lib.store import db, models, usage_summary
from tests import csv_fixtures, db_support
from tests.csv_fixtures import AS_OF, import_paths, import_sources

TABLES = (
    models.Customer,
    models.Subscription,
    models.ConfigValue,
    models.Usage,
    models.Step,
    models.AuditLog,
)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            model.__tablename__: connection.scalar(select(func.count()).select_from(model)) or 0
            for model in TABLES
        }


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> Engine:
    import_paths(engine, [csv_fixtures.write_all(tmp_path / "csv")], user="tester")
    return engine


def test_import_folder_adds_everything(engine: Engine, tmp_path: Path) -> None:
    result = import_paths(engine, [csv_fixtures.write_all(tmp_path / "csv")], user="tester")
    assert {kind: r.added for kind, r in result.kinds.items()} == {
        "customers": 6,
        "subscriptions": 3,
        "config": 5,
        "usage": 80,
        "steps": 8,
    }
    assert counts(engine)["usage"] == 80
    assert "customers.csv: 6 added, 0 updated, 0 unchanged" in result.summary()


def test_reimport_changes_nothing(loaded: Engine, tmp_path: Path) -> None:
    before = counts(loaded)
    result = import_paths(loaded, [tmp_path / "csv"], user="tester")
    assert result.changed == 0
    assert all(r.added == r.updated == 0 for r in result.kinds.values())
    assert counts(loaded) == before  # not even an audit log entry


def test_reimport_updates_changed_rows_only(loaded: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "changed"
    folder.mkdir()
    (folder / "customers.csv").write_text(
        "customer_id,name,segment_entered_on\nacme,Acme Inc,2026-03-01\nfresh,Fresh,2026-03-10\n"
    )
    (folder / "usage.csv").write_text(
        "customer_id,date,metric,value\nacme,2026-03-15,events,7\nacme,2026-03-15,sessions,3\n"
    )
    result = import_paths(loaded, [folder], user="tester")
    assert (result.kinds["customers"].added, result.kinds["customers"].updated) == (1, 1)
    assert (result.kinds["usage"].added, result.kinds["usage"].updated) == (1, 1)
    with loaded.connect() as connection:
        acme = connection.execute(
            select(models.Customer.name, models.Customer.owner).where(
                models.Customer.customer_id == "acme"
            )
        ).one()
    # Columns absent from the file keep their values; present ones are updated.
    assert tuple(acme) == ("Acme Inc", "dana")


def test_report_gives_the_contract_timeline(loaded: Engine) -> None:
    reports = {r.customer_id: r.as_json() for r in db_support.reports(loaded, AS_OF)}
    assert list(reports) == sorted(reports)
    acme = reports["acme"]
    assert acme["program_week"] == 3
    assert acme["program_status"] == "in_progress"
    assert acme["steps"]["initial_outreach"] == {
        "status": "done",
        "window_start": "2026-03-01",
        "window_end": "2026-03-07",
        "date": "2026-03-02",
    }
    assert acme["steps"]["first_meeting"]["status"] == "scheduled"
    assert acme["next_action"] is None
    # 3M anonymous events: 1M free + 1M x 0.00005 + 1M x 0.0000343 = 84.30;
    # 12k recordings: 5k free + 7k x 0.005 = 35.00.
    assert acme["projected_monthly_bill_usd"] == 119.30

    expected = {
        # customer: (week, program_status, next_action)
        "newco": (
            1,
            "in_progress",
            {"step": "initial_outreach", "status": "due", "due_on": "2026-03-18"},
        ),
        "lateco": (
            11,
            "overdue",
            {"step": "first_meeting", "status": "overdue", "due_on": "2026-01-21"},
        ),
        "longco": (
            10,
            "extended",
            {"step": "initial_outreach", "status": "overdue", "due_on": "2026-01-11"},
        ),
        "doneco": (10, "completed", None),
        "goneco": (7, "churned", None),
    }
    for customer_id, (week, status, next_action) in expected.items():
        got = reports[customer_id]
        assert (got["program_week"], got["program_status"], got["next_action"]) == (
            week,
            status,
            next_action,
        ), customer_id
    assert reports["lateco"]["steps"]["second_meeting"]["status"] == "skipped"
    assert reports["longco"]["steps"]["final_outreach"]["window_end"] == "2026-03-31"
    assert all(len(r["steps"]) == 5 for r in reports.values())


# ------------------------------------------------------------- rejections

GOOD_CUSTOMERS = "customer_id,name,segment_entered_on\nacme,Acme,2026-03-01\n"


@pytest.mark.parametrize(
    "files,expected",
    [
        # wrong encoding: Latin-1 bytes, not UTF-8
        (
            {
                "customers.csv": "customer_id,name,segment_entered_on\nc1,Caf\xe9,2026-03-01\n".encode(
                    "latin-1"
                )
            },
            "customers.csv row 2: is not UTF-8 text",
        ),
        # a required column is missing
        (
            {"customers.csv": "customer_id,name\nc1,One\n"},
            "customers.csv row 1: required column 'segment_entered_on' is missing",
        ),
        # a misspelt column (a typo of a known one) is an error, not ignored
        (
            {"customers.csv": "customer_id,name,segment_entered_on,ownr\nc1,One,2026-03-01,dana\n"},
            "customers.csv row 1, column ownr: unknown column; did you mean 'owner'?",
        ),
        # a bad date
        (
            {"customers.csv": "customer_id,name,segment_entered_on\nc1,One,2026-02-30\n"},
            "customers.csv row 2, column segment_entered_on: '2026-02-30': a date YYYY-MM-DD",
        ),
        # a date in another format
        (
            {"customers.csv": "customer_id,name,segment_entered_on\nc1,One,03/01/2026\n"},
            "customers.csv row 2, column segment_entered_on: '03/01/2026': a date YYYY-MM-DD",
        ),
        # a negative usage value
        (
            {
                "customers.csv": GOOD_CUSTOMERS,
                "usage.csv": "customer_id,date,metric,value\nacme,2026-03-01,events,-3\n",
            },
            "usage.csv row 2, column value: '-3': a whole number >= 0",
        ),
        # a non-numeric usage value
        (
            {
                "customers.csv": GOOD_CUSTOMERS,
                "usage.csv": "customer_id,date,metric,value\nacme,2026-03-01,events,lots\n",
            },
            "usage.csv row 2, column value: 'lots': a whole number >= 0",
        ),
        # a non-numeric money value
        (
            {
                "customers.csv": "customer_id,name,segment_entered_on,mrr_usd\nc1,One,2026-03-01,$12\n"
            },
            "customers.csv row 2, column mrr_usd: '$12': a number >= 0 or empty",
        ),
        # duplicate customer ids
        (
            {"customers.csv": GOOD_CUSTOMERS + "acme,Acme again,2026-03-02\n"},
            "customers.csv row 3, column customer_id: 'acme': customer_id appears more than once",
        ),
        # duplicate usage rows (same customer-day-metric twice)
        (
            {
                "customers.csv": GOOD_CUSTOMERS,
                "usage.csv": "customer_id,date,metric,value\nacme,2026-03-01,events,1\nacme,2026-03-01,events,2\n",
            },
            "usage.csv row 3: the same customer_id + date + metric appears earlier",
        ),
        # an unknown customer
        (
            {
                "customers.csv": GOOD_CUSTOMERS,
                "usage.csv": "customer_id,date,metric,value\nnobody,2026-03-01,events,1\n",
            },
            "usage.csv row 2, column customer_id: 'nobody': unknown customer",
        ),
        # an unknown step name
        (
            {
                "customers.csv": GOOD_CUSTOMERS,
                "steps.csv": "customer_id,step,status,date\nacme,kickoff,done,2026-03-02\n",
            },
            "steps.csv row 2, column step: 'kickoff': one of: initial_outreach",
        ),
        # an unknown step status
        (
            {
                "customers.csv": GOOD_CUSTOMERS,
                "steps.csv": "customer_id,step,status,date\nacme,homework,finished,2026-03-02\n",
            },
            "steps.csv row 2, column status: 'finished': one of: done, scheduled, skipped",
        ),
        # an unknown metric
        (
            {
                "customers.csv": GOOD_CUSTOMERS,
                "usage.csv": "customer_id,date,metric,value\nacme,2026-03-01,pageviews,1\n",
            },
            "usage.csv row 2, column metric: 'pageviews': one of: events",
        ),
        # an unknown product
        (
            {
                "customers.csv": GOOD_CUSTOMERS,
                "subscriptions.csv": "customer_id,product\nacme,crm\n",
            },
            "subscriptions.csv row 2, column product: 'crm': one of: product_analytics",
        ),
        # a config value that does not fit its key
        (
            {
                "customers.csv": GOOD_CUSTOMERS,
                "config.csv": "customer_id,key,value\nacme,replay_sample_rate,2\n",
            },
            "config.csv row 2, column value: '2': for key replay_sample_rate: a number from 0 to 1",
        ),
        # a ragged row
        (
            {
                "customers.csv": "customer_id,name,segment_entered_on\nc1,One,2026-03-01,extra,more\n"
            },
            "customers.csv row 2: is not a well-formed CSV: 5 fields where the header has 3",
        ),
        # a short row reads as empty trailing fields: the missing date is named
        (
            {"customers.csv": "customer_id,name,segment_entered_on\nc1,One,2026-03-01\nc2,Two\n"},
            "customers.csv row 3, column segment_entered_on: '': a date YYYY-MM-DD",
        ),
        # an empty file
        ({"customers.csv": ""}, "customers.csv: the file is empty"),
        # a file that is none of the known kinds
        ({"people.csv": "email\na@b.c\n"}, "people.csv: cannot tell which file this is"),
        # a column named twice: refused as written, not read as 'name' and 'name.1'
        (
            {"customers.csv": "customer_id,name,segment_entered_on,name\nc1,One,2026-03-01,Two\n"},
            "customers.csv row 1, column name: the column appears twice",
        ),
        # a blank header cell is named by its position, not by pandas' 'Unnamed: 1'
        (
            {"customers.csv": "customer_id,\nc1,One\n"},
            "required column 'name' is missing (the header has: customer_id, "
            "(column 2 has no name))",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_written(
    engine: Engine, files: dict[str, str | bytes], expected: str
) -> None:
    before = counts(engine)
    sources = [
        Source(name, data if isinstance(data, bytes) else data.encode("utf-8"))
        for name, data in files.items()
    ]
    with pytest.raises(ImportRejected) as rejected:
        import_sources(engine, sources, user="tester")
    message = rejected.value.summary()
    assert expected in message
    assert message.startswith("Import refused, nothing was written")
    assert counts(engine) == before


def test_all_problems_come_at_once_capped_with_a_count(engine: Engine) -> None:
    rows = "\n".join(f"c{i},,2026-13-{i % 28 + 1:02d}" for i in range(60))
    source = Source("customers.csv", f"customer_id,name,segment_entered_on\n{rows}\n".encode())
    with pytest.raises(ImportRejected) as rejected:
        import_sources(engine, [source])
    assert rejected.value.total == 120  # a missing name and a bad date on each row
    summary = rejected.value.summary().splitlines()
    assert len(summary) == 1 + spec.MAX_REPORTED_PROBLEMS + 1
    assert summary[-1] == "  ... and 70 more"


def test_one_bad_file_blocks_the_good_ones(engine: Engine) -> None:
    sources = [
        Source("customers.csv", GOOD_CUSTOMERS.encode()),
        Source("usage.csv", b"customer_id,date,metric,value\nacme,2026-03-01,events,x\n"),
    ]
    with pytest.raises(ImportRejected):
        import_sources(engine, sources)
    assert counts(engine)["customers"] == 0


def test_unrelated_unknown_column_is_ignored_with_a_warning(engine: Engine) -> None:
    source = Source(
        "customers.csv",
        b"customer_id,name,segment_entered_on,favourite_colour\nc1,One,2026-03-01,blue\n",
    )
    result = import_sources(engine, [source])
    assert result.kinds["customers"].added == 1
    assert result.warnings == [
        "customers.csv: column 'favourite_colour' is not used and was ignored"
    ]


def test_missing_path_is_reported(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as rejected:
        import_paths(engine, [tmp_path / "nope.csv"])
    assert "nope.csv: no such file or folder" in rejected.value.summary()


def test_import_is_logged_with_the_user(loaded: Engine) -> None:
    with loaded.connect() as connection:
        entries = connection.execute(
            select(models.AuditLog.user, models.AuditLog.action, models.AuditLog.entity)
        ).all()
    assert ("tester", "import", "usage") in [tuple(e) for e in entries]


def _usage(dev_events: int, today: dt.date | None = None) -> bytes:
    today = today or dt.date.today()
    lines = ["customer_id,date,metric,value"]
    for offset in range(30):
        day = (today - dt.timedelta(days=offset)).isoformat()
        lines += [f"acme,{day},events,100000", f"acme,{day},dev_events,{dev_events}"]
    return ("\n".join(lines) + "\n").encode()


def test_import_writes_the_audit_down(engine: Engine) -> None:
    """Each import records new findings as open; one the data stops showing is closed."""
    customers = Source(
        "customers.csv",
        f"customer_id,name,segment_entered_on\nacme,Acme,{dt.date.today().isoformat()}\n".encode(),
    )
    subscriptions = Source("subscriptions.csv", b"customer_id,product\nacme,product_analytics\n")
    import_sources(engine, [customers, subscriptions, Source("usage.csv", _usage(5000))])
    with engine.connect() as connection:
        state = connection.execute(
            select(models.FindingState.state, models.FindingState.first_seen_on).where(
                models.FindingState.rule == "dev_traffic"
            )
        ).one()
    assert tuple(state) == ("open", dt.date.today())

    import_sources(engine, [Source("usage.csv", _usage(0))])
    with engine.connect() as connection:
        state = connection.execute(
            select(models.FindingState.state, models.FindingState.fixed_on).where(
                models.FindingState.rule == "dev_traffic"
            )
        ).one()
    assert tuple(state) == ("fixed", dt.date.today())


def test_the_declared_text_lengths_are_the_database_columns() -> None:
    """The pure checks refuse text longer than its column from SPECS' lengths: those must
    be the models' own lengths, or a long value would pass and fail on PostgreSQL."""
    for kind, file_spec in SPECS.items():
        table = models.table(ingest_store.TABLES.get(kind, models.Usage))
        lengths = {
            column: table.c[column].type.length
            for column in file_spec.columns
            # contacts.csv's `primary` is the table's boolean is_primary: no length
            if column in table.c and getattr(table.c[column].type, "length", None)
        }
        assert file_spec.lengths == lengths, kind


def test_the_import_works_as_of_its_date_not_the_clock(engine: Engine) -> None:
    """after_data_change records findings and refreshes the usage sums as of the
    import's as_of (the CLI passes today), never the wall clock."""
    customers = Source(
        "customers.csv", f"customer_id,name,segment_entered_on\nacme,Acme,{AS_OF}\n".encode()
    )
    subscriptions = Source("subscriptions.csv", b"customer_id,product\nacme,product_analytics\n")
    usage = Source("usage.csv", _usage(5000, today=AS_OF))
    import_sources(engine, [customers, subscriptions, usage], as_of=AS_OF)
    with db.read_session(engine) as session:
        seen = session.scalar(
            select(models.FindingState.first_seen_on).where(
                models.FindingState.rule == "dev_traffic"
            )
        )
        kept = usage_summary.kept_dates(session)
    assert (seen, kept) == (AS_OF, [AS_OF])
