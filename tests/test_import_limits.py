"""Bounded input (issue 15): what an import reads at most, and that hostile files are
refused fast, whole, with one clear message, while big valid files import exactly as
before, a chunk at a time. Behaviour only: the timings are bench/big_files.py's."""

from __future__ import annotations

import datetime as dt
import random
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from lib.ingest import ImportRejected, Source, limits, spec, usage_read, usage_store
from lib.store import db, models
from lib.vocabulary import METRICS
from tests import db_support
from tests.csv_fixtures import import_sources

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 3, 15)
HEADER = "customer_id,date,metric,value\n"


def _rows(engine: Engine) -> dict[tuple[str, str, str], int]:
    with engine.connect() as connection:
        found = connection.execute(
            select(
                models.Usage.customer_id, models.Usage.metric, models.Usage.date, models.Usage.value
            )
        ).all()
    return {(c, m, str(d)): v for c, m, d, v in found}


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model)) or 0


def _customers(ids: list[str]) -> Source:
    lines = "".join(f"{c},{c.upper()},2026-01-05\n" for c in ids)
    return Source("customers.csv", ("customer_id,name,segment_entered_on\n" + lines).encode())


def _usage(ids: list[str], days: int = 30, seed: int = 1) -> dict[tuple[str, str, str], int]:
    rng = random.Random(seed)
    return {
        (c, m, (AS_OF - dt.timedelta(days=d)).isoformat()): rng.randrange(0, 10**6)
        for c in ids
        for m in METRICS
        for d in range(days)
    }


def _usage_csv(rows: dict[tuple[str, str, str], int], shuffle: bool = True) -> Source:
    items = list(rows.items())
    if shuffle:  # a file need not be sorted: rows of one customer in every chunk
        random.Random(3).shuffle(items)
    body = "".join(f"{c},{d},{m},{v}\n" for (c, m, d), v in items)
    return Source("usage.csv", (HEADER + body).encode())


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 1,000 rows and groups of 3 customers: a few thousand rows cross them."""
    monkeypatch.setattr(usage_read, "CHUNK_CELLS", 4_000)
    monkeypatch.setattr(usage_store, "GROUP_ROWS", 700)
    monkeypatch.setattr(usage_store, "GROUP_CUSTOMERS", 3)


# ----------------------------------------------------------------- hostile files


def test_a_million_columns_are_refused_at_the_header_with_one_message(engine: Engine) -> None:
    header = "customer_id,name,segment_entered_on," + ",".join(["x"] * (1_000_000 - 3))
    source = Source("customers.csv", f"{header}\nc1,One,2026-01-05\n".encode())
    with pytest.raises(ImportRejected) as refused:
        import_sources(engine, [source])
    assert refused.value.total == 1
    message = str(refused.value.problems[0])
    assert message.startswith("customers.csv row 1: the header has 1,000,000 columns")
    assert f"at most {limits.MAX_COLUMNS}" in message
    assert _count(engine, models.Customer) == 0


@pytest.mark.parametrize("header", ["", HEADER], ids=["no-header", "after-a-header"])
def test_a_50_mb_single_line_is_refused_and_nothing_big_is_kept(
    engine: Engine, header: str
) -> None:
    source = Source("usage.csv", header.encode() + b"a" * (50 * 1024 * 1024))
    with pytest.raises(ImportRejected) as refused:
        import_sources(engine, [source])
    (problem,) = refused.value.problems
    row = 2 if header else 1
    assert str(problem).startswith(f"usage.csv row {row}: line {row} is more than ")
    assert "a line is at most 64 KB" in str(problem)
    # What the Data page keeps of a refusal is small: no copy of the line.
    assert sum(sys.getsizeof(str(p)) for p in refused.value.problems) < 10_000
    assert _count(engine, models.Usage) == 0


def test_a_long_value_is_shortened_in_its_problem() -> None:
    problem = spec.Problem("usage.csv", "a date", row=2, column="date", value="9" * 100_000)
    assert problem.value is not None and len(problem.value) < 300
    assert problem.value.endswith("... (100,000 characters)")


def test_a_file_over_its_size_limit_is_refused_before_reading(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_SMALL_FILE_MB", 1)
    ids = [f"c{n:06d}" for n in range(40_000)]  # ~1.2 MB
    with pytest.raises(ImportRejected) as refused:
        import_sources(engine, [_customers(ids)])
    assert refused.value.total == 1
    assert "customers.csv is at most 1 MB" in str(refused.value.problems[0])
    assert _count(engine, models.Customer) == 0


def test_problems_are_capped_at_50_and_the_rest_counted_not_built(
    engine: Engine, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = 0
    original = spec.Problem.__post_init__

    def counting(self: spec.Problem) -> None:
        nonlocal built
        built += 1
        original(self)

    monkeypatch.setattr(spec.Problem, "__post_init__", counting)
    body = "".join(f"c1,2026-03-01,events,bad{n}\n" for n in range(5_000))
    with pytest.raises(ImportRejected) as refused:
        import_sources(engine, [_customers(["c1"]), Source("usage.csv", (HEADER + body).encode())])
    rejected = refused.value
    assert (len(rejected.problems), rejected.total) == (spec.MAX_REPORTED_PROBLEMS, 5_000 + 4_999)
    assert rejected.summary().splitlines()[-1] == f"  ... and {rejected.total - 50:,} more"
    first = str(rejected.problems[0])
    assert first.startswith("usage.csv row 2, column value: 'bad0': a whole number >= 0")
    assert built < 3 * spec.MAX_REPORTED_PROBLEMS  # not one per bad row
    assert _count(engine, models.Customer) == 0


def test_unknown_customers_are_capped_too_and_nothing_is_written(
    engine: Engine, small_chunks: None
) -> None:
    import_sources(engine, [_customers(["c1"])])
    rows = _usage([f"nobody{n}" for n in range(20)], days=10)
    with pytest.raises(ImportRejected) as refused:
        import_sources(engine, [_usage_csv(rows)])
    assert refused.value.total == len(rows)
    assert len(refused.value.problems) == spec.MAX_REPORTED_PROBLEMS
    assert "unknown customer" in str(refused.value.problems[0])
    assert _count(engine, models.Usage) == 0


def test_ignored_columns_make_one_warning_with_a_sample(engine: Engine) -> None:
    extra = [f"extra_{n:03d}" for n in range(150)]
    header = "customer_id,name,segment_entered_on," + ",".join(extra)
    row = "c1,One,2026-01-05," + ",".join(["x"] * len(extra))
    result = import_sources(engine, [Source("customers.csv", f"{header}\n{row}\n".encode())])
    assert result.kinds["customers"].added == 1
    assert result.warnings == [
        "customers.csv: 150 columns are not used and were ignored: extra_000, extra_001, "
        "extra_002, extra_003, extra_004, ... (145 more)"
    ]


# ----------------------------------------------------------- big valid files, in chunks


def test_a_usage_file_read_in_chunks_imports_exactly(
    engine: Engine, small_chunks: None, tmp_path: Path
) -> None:
    ids = [f"c{n:02d}" for n in range(12)]
    rows = _usage(ids)  # 12 x 19 x 30 = 6,840 rows: 7 chunks, 4 groups
    import_sources(engine, [_customers(ids)], as_of=AS_OF)
    first = import_sources(engine, [_usage_csv(rows)], as_of=AS_OF)
    assert (first.kinds["usage"].added, first.kinds["usage"].updated) == (len(rows), 0)
    assert _rows(engine) == rows

    again = import_sources(engine, [_usage_csv(rows)], as_of=AS_OF)
    assert again.kinds["usage"].unchanged == len(rows) and again.changed == 0

    changed = dict(rows)
    for key in list(rows)[::700]:  # 10 rows spread over every group
        changed[key] += 1
    more = {(c, "events", (AS_OF + dt.timedelta(days=1)).isoformat()): 5 for c in ids[:4]}
    result = import_sources(engine, [_usage_csv({**changed, **more})], as_of=AS_OF)
    usage = result.kinds["usage"]
    assert (usage.added, usage.updated) == (len(more), 10)
    assert _rows(engine) == {**changed, **more}

    # The same as one chunk and no groups: the report of a database that read it whole.
    whole = db.make_engine(f"sqlite:///{tmp_path / 'whole.db'}")
    usage_read.CHUNK_CELLS, usage_store.GROUP_ROWS = 10**9, 10**9
    import_sources(whole, [_customers(ids), _usage_csv({**changed, **more})], as_of=AS_OF)
    as_json = [r.as_json() for r in db_support.reports(engine, AS_OF)]
    assert as_json == [r.as_json() for r in db_support.reports(whole, AS_OF)]
    whole.dispose()


def test_two_usage_files_share_one_frame_and_repeats_across_them_are_refused(
    engine: Engine, small_chunks: None
) -> None:
    import_sources(engine, [_customers(["c1", "c2"])])
    rows = _usage(["c1", "c2"], days=40)
    items = list(rows.items())
    half = len(items) // 2
    first = _usage_csv(dict(items[:half]))
    second = Source("usage-2.csv", _usage_csv(dict(items[half:])).data)
    result = import_sources(engine, [first, second])
    assert result.kinds["usage"].files == ["usage.csv", "usage-2.csv"]
    assert _rows(engine) == rows
    repeat = Source("usage-3.csv", _usage_csv(dict(items[:5])).data)
    with pytest.raises(ImportRejected) as refused:
        import_sources(engine, [first, repeat])
    assert refused.value.total == 5
    assert "usage-3.csv row" in str(refused.value.problems[0])
    assert "appears earlier" in str(refused.value.problems[0])


def test_a_bad_row_in_the_last_chunk_refuses_the_whole_import(
    engine: Engine, small_chunks: None
) -> None:
    import_sources(engine, [_customers(["c1", "c2"])])
    source = _usage_csv(_usage(["c1", "c2"]))
    bad = Source("usage.csv", source.data + b"c2,2026-02-30,events,1\n")
    lines = bad.data.count(b"\n")
    with pytest.raises(ImportRejected) as refused:
        import_sources(engine, [bad])
    assert str(refused.value.problems[0]) == (
        f"usage.csv row {lines}, column date: '2026-02-30': a date YYYY-MM-DD"
    )
    assert _count(engine, models.Usage) == 0


def test_a_failure_half_way_through_the_write_leaves_nothing(
    engine: Engine, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [f"c{n:02d}" for n in range(9)]
    import_sources(engine, [_customers(ids)])
    rows = _usage(ids, days=10)
    import_sources(engine, [_usage_csv(dict(list(rows.items())[:100]))])
    before = _rows(engine)
    groups = 0
    original = usage_store._stored

    def breaks_on_the_third(*args: Any) -> Any:
        nonlocal groups
        groups += 1
        if groups == 3:
            raise RuntimeError("the disk is full")
        return original(*args)

    monkeypatch.setattr(usage_store, "_stored", breaks_on_the_third)
    with pytest.raises(RuntimeError):
        import_sources(engine, [_usage_csv(rows)])
    assert groups == 3  # two groups were written before it broke, and rolled back
    assert _rows(engine) == before


# ----------------------------------------------------------------- the upload limit


def test_the_upload_limit_is_the_import_limit_and_the_page_says_it() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == limits.MAX_FILE_MB
    page = (ROOT / "app_pages" / "data.py").read_text()
    assert "limits.MAX_FILE_MB" in page
