"""Hostile text: HTML and script tags, Markdown links to javascript:, very long
strings, control characters and spreadsheet formulas.

What must hold: the database stores such text exactly (on SQLite and
PostgreSQL) or the importer refuses it with a message naming the column;
every CSV the app offers for download is formula-safe (lib.csv_safe), and
every page that offers one goes through lib.csv_safe.to_safe_csv. The
browser half (hostile text shows as text) is tests/browser/test_hostile_text.py.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import functools
import io
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from lib import csv_safe, meetings, settings
from lib.csv_safe import safe_cell, to_safe_csv
from lib.ingest import ImportRejected, Source
from lib.program import step_store
from lib.store import db, models
from tests import db_support
from tests.csv_fixtures import import_sources

# Text a user or a CSV can carry into the app; all of it must come back unchanged.
HOSTILE_TEXT = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "[click me](javascript:alert(1))",
    "**bold** _it_ <b>b</b> &amp; &lt;",
    '=HYPERLINK("http://evil.example","Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!'A1'",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tTAB first",
    "bell\x07 escape\x1b[31m red \x1b[0m",
    "right-to-left \u202eevil.exe",
    "zero\u200bwidth",
    "emoji 🙂 and ñ",
    "{{ 7*7 }} ${7*7} %s %d",
    "'; DROP TABLE customers; --",
    "x" * 300,  # the longest name the schema holds
]
FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")


# ------------------------------------------------------------- lib.csv_safe


@pytest.mark.parametrize(
    "value,expected",
    [
        ("Acme", "Acme"),  # ordinary text untouched
        ("", ""),  # empty stays empty
        ("=1+1", "'=1+1"),  # a formula
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),  # the classic link
        ("+1+1", "'+1+1"),  # plus starts a formula too
        ("-1+1", "'-1+1"),  # so does minus
        ("@SUM(A1)", "'@SUM(A1)"),  # and at (Lotus syntax)
        ("\t=1", "'\t=1"),  # a leading tab
        ("\r=1", "'\r=1"),  # a leading carriage return
        ("  =1", "'  =1"),  # spaces before the sign do not hide it
        ("\n@x", "'\n@x"),  # nor does a newline
        ("\uff1d1+1", "'\uff1d1+1"),  # full-width equals sign
        ("-5", "-5"),  # a plain negative number stays a number
        ("+5", "+5"),  # a signed number
        ("-0.25", "-0.25"),  # decimals
        ("1e-5", "1e-5"),  # exponent
        ("-1e5x", "'-1e5x"),  # not a number after all
        ("a=1", "a=1"),  # a sign later in the text is harmless
        ("'quoted", "'quoted"),  # already quoted text unchanged
    ],
)
def test_safe_cell(value: str, expected: str) -> None:
    assert safe_cell(value) == expected


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_to_safe_csv_neutralises_every_text_cell_and_header() -> None:
    frame = pd.DataFrame(
        {
            "name": HOSTILE_TEXT,
            "=evil header": ["x"] * len(HOSTILE_TEXT),
            "mrr_usd": [-12.5] * len(HOSTILE_TEXT),
            "count": [-3] * len(HOSTILE_TEXT),
            "as_text": pd.Series(["=1+2"] * len(HOSTILE_TEXT), dtype="string"),
            "category": pd.Series(["@x"] * len(HOSTILE_TEXT), dtype="category"),
            "day": [dt.date(2026, 3, 1)] * len(HOSTILE_TEXT),
            "missing": [None] * len(HOSTILE_TEXT),
        }
    )
    rows = _cells(to_safe_csv(frame))
    header, body = rows[0], rows[1:]
    assert header == [
        "name",
        "'=evil header",
        "mrr_usd",
        "count",
        "as_text",
        "category",
        "day",
        "missing",
    ]
    assert len(body) == len(HOSTILE_TEXT)
    for row, original in zip(body, HOSTILE_TEXT, strict=True):
        for value in row:
            if value.lstrip(" \n")[:1] in FORMULA_SIGNS:
                assert value in ("-12.5", "-3"), f"formula-like cell left in the CSV: {value!r}"
        # The text itself survives (behind a quote where it needed one).
        assert row[0] in (original, "'" + original)
        assert row[2:4] == ["-12.5", "-3"]  # numbers stay numbers
        assert row[4:7] == ["'=1+2", "'@x", "2026-03-01"]
    assert frame["name"].tolist() == HOSTILE_TEXT  # the caller's frame is not changed


def test_to_safe_csv_with_index_and_empty_frame() -> None:
    frame = pd.DataFrame({"v": [1]}, index=pd.Index(["=x"], name="=idx"))
    assert _cells(to_safe_csv(frame, index=True)) == [["'=idx", "v"], ["'=x", "1"]]
    assert to_safe_csv(pd.DataFrame({"a": []})) == b"a\n"


def test_csv_safe_is_the_one_place_for_csv_bytes() -> None:
    assert csv_safe.to_safe_csv.__module__ == "lib.csv_safe"


# ---------------------------------------- every CSV download uses to_safe_csv

UI_FOLDERS = ("app_pages", "ui")
UI_FILES = ("app.py",)


def _ui_sources() -> list[Path]:
    root = settings.PROJECT_ROOT
    files = [root / name for name in UI_FILES if (root / name).exists()]
    for folder in UI_FOLDERS:
        files += sorted((root / folder).rglob("*.py"))
    return files


def _is_csv_download(call: ast.Call, source: str) -> bool:
    text = " ".join(ast.get_source_segment(source, kw) or "" for kw in call.keywords)
    text += " ".join(ast.get_source_segment(source, arg) or "" for arg in call.args)
    return "csv" in text.lower()


def _data_argument(call: ast.Call) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "data":
            return keyword.value
    return call.args[1] if len(call.args) > 1 else None


@functools.cache
def _safe_helpers() -> frozenset[str]:
    """Functions in lib/ and ui/ that return to_safe_csv(...) (e.g. outcomes.csv_bytes)."""
    names = {"to_safe_csv"}
    root = settings.PROJECT_ROOT
    for path in [*(root / "lib").rglob("*.py"), *(root / "ui").rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and "to_safe_csv" in (
                ast.get_source_segment(source, node) or ""
            ):
                names.add(node.name)
    return frozenset(names)


def _called_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return None


def _deferred_call(data: ast.expr) -> ast.expr:
    """What a download made on the click calls: `lambda: f(x)` -> f(x); `partial(f, x)` ->
    f(...) (Streamlit runs a callable `data` when the button is clicked)."""
    if isinstance(data, ast.Lambda):
        return data.body
    if _called_name(data) == "partial" and isinstance(data, ast.Call) and data.args:
        return ast.Call(func=data.args[0], args=data.args[1:], keywords=data.keywords)
    return data


def _made_by_to_safe_csv(data: ast.expr, tree: ast.Module, source: str) -> bool:
    helpers = _safe_helpers()
    data = _deferred_call(data)
    if _called_name(data) in helpers:
        return True
    if isinstance(data, ast.Name):  # `payload = to_safe_csv(frame)` ... data=payload
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                if data.id in names and _called_name(node.value) in helpers:
                    return True
    return False


def _download_problems(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    problems: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if name == "to_csv":
            problems.append(f"{where}:{node.lineno}: .to_csv() in UI code; use to_safe_csv")
        if name == "download_button" and _is_csv_download(node, source):
            data = _data_argument(node)
            if data is None or not _made_by_to_safe_csv(data, tree, source):
                problems.append(
                    f"{where}:{node.lineno}: CSV download_button whose data does not come "
                    "from lib.csv_safe.to_safe_csv"
                )
    return problems


@pytest.mark.parametrize(
    "source,safe",
    [
        ('st.download_button("x", data=to_safe_csv(f), file_name="a.csv")', True),  # direct
        ('b = csv_safe.to_safe_csv(f)\nst.download_button("x", b, "a.csv")', True),  # via a name
        ('st.download_button("x", data=outcomes.csv_bytes(f), mime="text/csv")', True),  # helper
        ('st.download_button("x", lambda: to_safe_csv(f), "a.csv")', True),  # on the click
        ('st.download_button("x", data=partial(csv_bytes, f), mime="text/csv")', True),
        ('st.download_button("x", lambda: f.to_csv(), "a.csv")', False),  # deferred raw
        ('st.download_button("x", data=partial(bytes, f), mime="text/csv")', False),
        ('st.download_button("x", data=f.to_csv(), file_name="a.csv")', False),  # raw pandas
        ('st.download_button("x", data=raw, file_name="a.csv")', False),  # unknown bytes
        ('st.download_button("x", data=ics, file_name="a.ics")', True),  # not a CSV
    ],
    ids=[
        "direct",
        "via-name",
        "lib-helper",
        "lambda",
        "partial",
        "lambda-raw",
        "partial-raw",
        "raw-to_csv",
        "unknown-bytes",
        "not-csv",
    ],
)
def test_download_guard_tells_safe_from_unsafe(source: str, safe: bool) -> None:
    assert (_download_problems(source, "example.py") == []) is safe


def test_every_csv_download_goes_through_to_safe_csv() -> None:
    problems: list[str] = []
    for path in _ui_sources():
        where = str(path.relative_to(settings.PROJECT_ROOT))
        problems += _download_problems(path.read_text(encoding="utf-8"), where)
    assert not problems, "\n".join(problems)


# ------------------------------------------------ the database keeps text exact

ENTERED = "2026-03-01"


def _customers_csv(names: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["customer_id", "name", "owner", "segment_entered_on"])
    for number, name in enumerate(names):
        writer.writerow([f"h{number:02d}", name, "dana", ENTERED])
    return buffer.getvalue().encode("utf-8")


def test_hostile_names_are_stored_and_reported_exactly(engine: Engine) -> None:
    import_sources(engine, [Source("customers.csv", _customers_csv(HOSTILE_TEXT))])
    with engine.connect() as connection:
        stored = dict(
            connection.execute(select(models.Customer.customer_id, models.Customer.name)).all()
        )
    # The importer trims surrounding whitespace (a CSV habit), nothing else.
    assert [stored[f"h{n:02d}"] for n in range(len(HOSTILE_TEXT))] == [
        t.strip() for t in HOSTILE_TEXT
    ]
    reports = db_support.reports(engine, dt.date(2026, 3, 15))
    assert [r.as_json()["name"] for r in reports] == [t.strip() for t in HOSTILE_TEXT]


@pytest.mark.parametrize(
    "name,column,expected",
    [
        ("y" * 301, "name", "at most 300"),  # longer than the schema holds (PostgreSQL refused it)
        ("nul\x00inside", "name", "NUL"),  # PostgreSQL cannot store NUL characters in text
    ],
)
def test_unstorable_names_are_refused_with_the_column(
    engine: Engine, name: str, column: str, expected: str
) -> None:
    with pytest.raises(ImportRejected) as refused:
        import_sources(engine, [Source("customers.csv", _customers_csv([name]))])
    message = str(refused.value)
    assert f"column {column}" in message or "NUL" in message
    assert expected in message
    with engine.connect() as connection:
        assert connection.scalar(select(models.Customer.customer_id).limit(1)) is None


# ------------------------------------------- notes and attendees, on both databases


def _one_customer(engine: Engine) -> str:
    text = f"customer_id,name,owner,segment_entered_on\nc1,C,dana,{ENTERED}\n"
    import_sources(engine, [Source("customers.csv", text.encode())])
    return "c1"


def test_hostile_notes_and_attendees_are_stored_exactly(engine: Engine) -> None:
    customer_id = _one_customer(engine)
    day = dt.date(2026, 3, 2)
    for text in HOSTILE_TEXT:
        db_support.write(
            engine,
            "tester",
            step_store.record,
            customer_id,
            "initial_outreach",
            "done",
            day,
            note=text,
        )
        with db.read_session(engine) as session:
            stored = session.scalar(
                select(models.Step.note).where(models.Step.customer_id == customer_id)
            )
        assert stored == text.strip()  # notes are trimmed, nothing else
    people = tuple(
        meetings.Attendee(text, f"p{n}@customer.example") for n, text in enumerate(HOSTILE_TEXT)
    )
    agenda = "\n".join(HOSTILE_TEXT)
    meeting_id = db_support.write(
        engine,
        "tester",
        meetings.schedule,
        meetings.ScheduleRequest(
            customer_id, "first", dt.datetime(2026, 3, 9, 10), "UTC", 30, people, agenda
        ),
    )
    view = db_support.read(engine, meetings.get, meeting_id)
    assert [a.name for a in view.attendees] == HOSTILE_TEXT
    assert view.agenda == agenda.strip()


@pytest.mark.parametrize("where", ["step note", "meeting agenda", "attendee name"])
def test_a_nul_character_is_refused_or_stored_never_a_crash(engine: Engine, where: str) -> None:
    # Attendees live in a JSON column, which keeps "\u0000" as an escape; text
    # columns drop it (lib.store.db), as PostgreSQL cannot store it.
    customer_id = _one_customer(engine)
    text = "before\x00after"
    try:
        if where == "step note":
            db_support.write(
                engine,
                "tester",
                step_store.record,
                customer_id,
                "homework",
                "done",
                dt.date(2026, 3, 2),
                note=text,
            )
        else:
            person = meetings.Attendee(
                text if where == "attendee name" else "Ann", "ann@customer.example"
            )
            db_support.write(
                engine,
                "tester",
                meetings.schedule,
                meetings.ScheduleRequest(
                    customer_id,
                    "first",
                    dt.datetime(2026, 3, 9, 10),
                    "UTC",
                    30,
                    (person,),
                    text if where == "meeting agenda" else "",
                ),
            )
    except (step_store.StepError, meetings.MeetingError) as refused:
        assert "NUL" in str(refused) or "\\x00" in str(refused) or "character" in str(refused)
