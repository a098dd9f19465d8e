"""Random malformed CSVs into the importer (hypothesis), on SQLite and PostgreSQL.

The only outcomes allowed: a clean import (and importing the same files again
changes nothing), or ImportRejected / CLI exit 1 with a message, and then not
one row changed in any table. Never a traceback, never a partial write.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from lib import cli
from lib.audit.refunds import SCENARIOS
from lib.ingest import SPECS, ImportRejected, Source, parse, validate
from lib.program.timeline import STEPS
from lib.store import models
from lib.vocabulary import CONFIG_KEYS, METRICS, PRODUCTS
from tests.csv_fixtures import import_sources

FUZZ = settings(
    max_examples=60,
    deadline=None,
    # One database per test, reused by every example: each example compares
    # the row counts just before and after itself, so earlier examples do not matter.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

KNOWN = ("known1", "known2")  # customers in the database before any example runs


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(select(func.count()).select_from(table)) or 0
            for table in models.Base.metadata.sorted_tables
        }


@pytest.fixture
def seeded(engine: Engine) -> Iterator[Engine]:
    text = "customer_id,name,segment_entered_on\n" + "".join(
        f"{c},{c.title()},2026-01-05\n" for c in KNOWN
    )
    import_sources(engine, [Source("customers.csv", text.encode())], user="seed")
    yield engine


def outcome(engine: Engine, sources: list[Source]) -> None:
    """Import; assert the result is one of the two allowed outcomes."""
    before = row_counts(engine)
    try:
        import_sources(engine, sources, user="fuzz")
    except ImportRejected as rejected:
        assert rejected.problems, "a rejection names at least one problem"
        assert str(rejected).startswith("Import refused, nothing was written")
        for problem in rejected.problems:
            assert problem.file and problem.expected
        assert row_counts(engine) == before, "a refused import wrote something"
        return
    # A clean import stored what the files said (no wrapped-around counts)...
    with engine.connect() as connection:
        lowest = connection.scalar(select(func.min(models.Usage.value)))
        assert lowest is None or lowest >= 0, f"a usage count was stored as {lowest}"
    # ...and doing it again is a no-op, in the report and in the tables.
    after = row_counts(engine)
    again = import_sources(engine, sources, user="fuzz")
    assert again.changed == 0, again.summary()
    assert row_counts(engine) == after


# ---------------------------------------------------------------- strategies

HOSTILE = [
    "",
    " ",
    '"',
    '""',
    ",",
    "\n",
    "\r\n",
    "\x00",
    "nul\x00inside",
    "\x1b[31mred",
    "\u202eevil",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(A1)",
    "-1",
    "1e400",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "99999999999999999999",
    "9223372036854775808",
    "1.5",
    "0x10",
    "2026-02-30",
    "2026-13-01",
    "0000-01-01",
    "9999-12-31",
    "2026-1-1",
    "x" * 301,
    "y" * 5000,
    "🙂",
    "ñ",
]


def valid_values(column: str) -> st.SearchStrategy[str]:
    return {
        "customer_id": st.sampled_from([*KNOWN, "new1", "new2"]),
        "product": st.sampled_from(PRODUCTS),
        "key": st.sampled_from(list(CONFIG_KEYS)),
        "metric": st.sampled_from(METRICS),
        "step": st.sampled_from(STEPS),
        "status": st.sampled_from(
            ["done", "scheduled", "skipped", "active", "churned", "issued", "proposed"]
        ),
        "entry_reason": st.sampled_from(["manual", "accelerator", ""]),
        "scenario": st.sampled_from(SCENARIOS),
        "billing_month": st.sampled_from(["2026-01-01", "2026-02-01"]),
        "email": st.sampled_from(["ada@known1.example", "Ada@Known1.example", "bo@x.example"]),
        "role": st.sampled_from(["founder", "billing", ""]),
        "primary": st.sampled_from(["true", "false", ""]),
    }.get(column, st.sampled_from(["2026-03-01", "0", "12", "0.5", "on", "true", "Acme"]))


def cell(column: str) -> st.SearchStrategy[str]:
    return st.one_of(
        valid_values(column),
        valid_values(column),
        st.sampled_from(HOSTILE),
        st.text(max_size=20),
    )


@st.composite
def csv_file(draw: st.DrawFn) -> Source:
    kind = draw(st.sampled_from(list(SPECS)))
    spec = SPECS[kind]
    columns = list(spec.columns)
    # A header: the spec's columns, some dropped, some doubled, some misspelt, some extra.
    header = draw(st.lists(st.sampled_from(columns), min_size=1, max_size=len(columns) + 1))
    if draw(st.booleans()):
        header = list(dict.fromkeys([*spec.required, *header]))
    if draw(st.integers(0, 5)) == 0:
        header.append(draw(st.sampled_from(["custmer_id", "notes", "", "Name", "\x00", "a,b"])))
    rows = draw(
        st.lists(
            st.lists(st.one_of(*(cell(c) for c in header)), min_size=0, max_size=len(header) + 1),
            max_size=6,
        )
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    if draw(st.integers(0, 4)) == 0:
        # Break the quoting, truncate, or splice in raw junk.
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(['"', '"\n', "\x00", ",,,\n", "\ufeff", ""]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    name = draw(st.sampled_from([f"{kind}.csv", f"{kind}-2026.csv", "export.csv", "x.txt"]))
    return Source(name, data)


FREE_COLUMNS = {
    "customers": ["customer_id", "name", "owner", "plan", "mrr_usd"],
    "subscriptions": ["billing_limit_usd"],
    "config": ["value", "customer_id"],
    "usage": ["value"],
    "steps": ["customer_id"],
    "refunds": ["reference", "decision_reason", "note", "decided_by", "amount_usd", "issued_usd"],
    "contacts": ["name", "email", "role", "primary"],
}
NUMBER_COLUMNS = {"mrr_usd", "billing_limit_usd", "value", "amount_usd", "issued_usd"}
NUMBER_ATTACKS = ["1e400", "inf", "-inf", "nan", "99999999999999999999", "9223372036854775808"]
NUMBER_ATTACKS += ["-0", "1e18", "0.1", "1_000", " 5 ", "5\x00", "+5", "0x1F"]
TEXT_ATTACKS = ["x" * 101, "x" * 201, "y" * 301, "z" * 5000, "a\x00b", "\x00"]
TEXT_ATTACKS += ["<b>x</b>", "=1+1", "\x1b[2J", "\u202e", "ok"]


def _valid_rows(kind: str, n: int) -> list[dict[str, str]]:
    """n rows of `kind` that import cleanly, with distinct keys."""
    if kind == "customers":
        return [
            {
                "customer_id": f"new{i}",
                "name": "Acme",
                "segment_entered_on": "2026-01-05",
                "owner": "dana",
                "plan": "teams",
                "entry_reason": "manual",
                "mrr_usd": "120",
                "extended_until": "",
                "status": "active",
            }
            for i in range(n)
        ]
    if kind == "subscriptions":
        return [
            {"customer_id": "known1", "product": PRODUCTS[i], "billing_limit_usd": "50"}
            for i in range(n)
        ]
    if kind == "config":
        keys = ["sdk", "autocapture", "replay_sample_rate"]
        values = ["posthog-js", "on", "0.5"]
        return [{"customer_id": "known1", "key": keys[i], "value": values[i]} for i in range(n)]
    if kind == "usage":
        return [
            {"customer_id": "known1", "date": f"2026-01-1{i}", "metric": "events", "value": "7"}
            for i in range(n)
        ]
    if kind == "refunds":
        empty = dict.fromkeys(SPECS["refunds"].columns, "")
        return [
            {
                **empty,
                "customer_id": "known1",
                "scenario": SCENARIOS[i],
                "billing_month": "2026-01-01",
                "amount_usd": "40",
                "status": "issued",
                "invoice_change": "false",
                "issued_on": "2026-02-03",
                "issued_usd": "40",
                "reference": "CN-1",
            }
            for i in range(n)
        ]
    if kind == "contacts":
        return [
            {
                "customer_id": "known1",
                "name": f"Ada {i}",
                "email": f"ada{i}@known1.example",
                "role": "founder",
                "primary": "true" if i == 0 else "false",
            }
            for i in range(n)
        ]
    return [
        {"customer_id": "known1", "step": STEPS[i], "status": "done", "date": "2026-01-06"}
        for i in range(n)
    ]


@st.composite
def nearly_valid_file(draw: st.DrawFn) -> Source:
    """A file that would import, with one or two cells swapped for hostile values:
    what slips past validation reaches the database, where the two engines differ."""
    kind = draw(st.sampled_from(list(SPECS)))
    columns = list(SPECS[kind].columns)
    rows = _valid_rows(kind, draw(st.integers(1, 3)))
    for _ in range(draw(st.integers(1, 2))):
        row = draw(st.sampled_from(rows))
        if draw(st.booleans()):
            # Where validation lets free text or any number through.
            column = draw(st.sampled_from(FREE_COLUMNS[kind]))
            if kind == "config":
                row["key"] = "sdk" if column == "value" else row["key"]
            values = NUMBER_ATTACKS if column in NUMBER_COLUMNS else TEXT_ATTACKS
        else:
            column, values = draw(st.sampled_from(columns)), HOSTILE
        row[column] = draw(st.one_of(st.sampled_from(values), st.text(max_size=30)))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Source(f"{kind}.csv", buffer.getvalue().encode("utf-8", errors="replace"))


# --------------------------------------------------------------------- tests

CUSTOMERS_HEADER = "customer_id,name,segment_entered_on,plan,owner\n"


@pytest.mark.parametrize(
    "name,text,expected",
    [
        # Bugs these tests found; each used to end in a traceback or a wrong value.
        (
            "usage.csv",
            "customer_id,date,metric,value\nknown1,2026-01-02,events,inf\n",
            "column value: 'inf': a whole number >= 0",
        ),  # was IntCastingNaNError
        (
            "usage.csv",
            "customer_id,date,metric,value\nknown1,2026-01-02,events,1e400\n",
            "column value: '1e400': a whole number >= 0",
        ),  # overflow to infinity
        (
            "usage.csv",
            "customer_id,date,metric,value\nknown1,2026-01-02,events,1e30\n",
            "column value: '1e30': a whole number >= 0",
        ),  # was stored as -9223372036854775808
        (
            "usage.csv",
            "customer_id,date,metric,value\nknown1,2026-01-02,events,9223372036854775808\n",
            "a daily count, at most 9007199254740992",
        ),  # 2**63: wrapped around to negative
        (
            "customers.csv",
            "customer_id,name,segment_entered_on,mrr_usd\nc1,C,2026-01-01,inf\n",
            "column mrr_usd: 'inf': a number >= 0 or empty",
        ),  # infinity stored as money
        (
            "customers.csv",
            CUSTOMERS_HEADER + "c1," + "n" * 301 + ",2026-01-01,,\n",
            "column name: 'nnnn",
        ),  # PostgreSQL: value too long for varchar(300)
        (
            "customers.csv",
            CUSTOMERS_HEADER + "c" * 101 + ",N,2026-01-01,,\n",
            "at most 100 characters (this has 101)",
        ),  # varchar(100) customer_id
        (
            "customers.csv",
            CUSTOMERS_HEADER + "c1,N,2026-01-01," + "p" * 51 + ",\n",
            "column plan",
        ),  # varchar(50) plan
        (
            "config.csv",
            "customer_id,key,value\nknown1,sdk," + "s" * 201 + "\n",
            "at most 200 characters",
        ),  # varchar(200) config value
        (
            "customers.csv",
            CUSTOMERS_HEADER + "c1,a\x00b,2026-01-01,,\n",
            "column name: 'a\\x00b': contains a NUL character",
        ),  # PostgreSQL refuses NUL
        (
            "customers.csv",
            "customer_id\nknown1,\r0\n",
            "is not a well-formed CSV",
        ),  # a lone CR: csv.Error escaped the ragged-row report
    ],
    ids=[
        "usage-inf",
        "usage-1e400",
        "usage-1e30",
        "usage-2**63",
        "mrr-inf",
        "name-301",
        "id-101",
        "plan-51",
        "config-201",
        "name-nul",
        "lone-cr",
    ],
)
def test_found_by_fuzzing_refused_with_the_column(
    seeded: Engine, name: str, text: str, expected: str
) -> None:
    before = row_counts(seeded)
    with pytest.raises(ImportRejected) as refused:
        import_sources(seeded, [Source(name, text.encode())], user="fuzz")
    assert expected in str(refused.value)
    assert row_counts(seeded) == before


def test_a_usage_file_with_only_a_header_imports_nothing(seeded: Engine) -> None:
    # Found by fuzzing: PostgreSQL failed on the empty date range ("date >= double precision").
    before = row_counts(seeded)
    result = import_sources(
        seeded, [Source("usage.csv", b"customer_id,date,metric,value\n")], user="fuzz"
    )
    assert result.changed == 0
    assert row_counts(seeded) == before


@FUZZ
@given(source=nearly_valid_file())
def test_nearly_valid_files_import_cleanly_or_are_refused(seeded: Engine, source: Source) -> None:
    outcome(seeded, [source])


@FUZZ
@given(sources=st.lists(csv_file(), min_size=1, max_size=3))
# Found in CI: a lone carriage return in a header the general reader accepts.
@example(sources=[Source("config.csv", b"customer_id,key,value,custmer_id\r\x00")])
def test_random_csvs_import_cleanly_or_are_refused(seeded: Engine, sources: list[Source]) -> None:
    outcome(seeded, sources)


@FUZZ
@given(data=st.binary(max_size=400), kind=st.sampled_from(list(SPECS)))
@example(data=b"\xff\xfe\x00", kind="customers")
@example(data=b"customer_id,name,segment_entered_on\n\x00,\x00,\x00\n", kind="customers")
@example(data=b'customer_id,name,segment_entered_on\n"a,b,2026-01-01\n', kind="customers")
def test_random_bytes_are_refused_or_imported(seeded: Engine, data: bytes, kind: str) -> None:
    outcome(seeded, [Source(f"{kind}.csv", data)])


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(source=csv_file())
def test_cli_import_exits_0_or_1_with_a_message(
    seeded: Engine,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    source: Source,
) -> None:
    folder = tmp_path_factory.mktemp("fuzz-cli")
    path = folder / Path(source.name).name
    path.write_bytes(source.data)
    before = row_counts(seeded)
    url = seeded.url.render_as_string(hide_password=False)
    status = cli.main(["--db", url, "import", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if status == cli.EXIT_BAD_INPUT:
        assert "Import refused, nothing was written" in err
        assert row_counts(seeded) == before
    else:
        assert status == cli.EXIT_OK, err


# ------------------------------------------------ the fast (Arrow) reader reads the same


def _loaded_with(sources: list[Source], fast_from: int) -> tuple[Any, ...]:
    saved = parse.FAST_READ_FROM_BYTES
    parse.FAST_READ_FROM_BYTES = fast_from
    try:
        loaded, problems, warnings = validate.load(sources)
    finally:
        parse.FAST_READ_FROM_BYTES = saved
    frames = {
        kind: part.frame.astype(str).reset_index(drop=True).to_dict("list")
        for kind, part in loaded.items()
    }
    return frames, [str(p) for p in problems], warnings


@settings(max_examples=150, deadline=None)
@given(sources=st.lists(st.one_of(csv_file(), nearly_valid_file()), min_size=1, max_size=2))
def test_the_fast_reader_reads_exactly_like_the_general_one(sources: list[Source]) -> None:
    """Files >= 1 MiB go through Arrow when they look plain; forcing that path on
    small random files must change nothing: same rows, same problems, same warnings."""
    assert _loaded_with(sources, fast_from=0) == _loaded_with(sources, fast_from=1 << 62)
