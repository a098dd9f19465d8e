"""The Outcomes page through app.py: leadership lands on it, filters move every chart,
and each CSV download is exactly the frame its chart was drawn from.

Charts are read back from what Streamlit sends the browser: the Vega-Lite spec
(its `usermeta` names the section) and the Arrow dataset the chart draws. The
download bytes are read from AppTest's in-memory media storage as the page
stores them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from streamlit import dataframe_util
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from lib import outcomes
from lib.store import db, models
from tests.apptest_support import AS_OF, page_errors

SECTIONS = (
    "funnel", "cohorts", "speed", "savings", "refunds", "retention", "response", "stages", "team",
)  # fmt: skip
PAGE = "app_pages/outcomes.py"


@pytest.fixture
def money(demo_db_url: str) -> str:
    """Findings and refunds for a few demo customers (the demo set has none), one with a
    scenario text a spreadsheet would run as a formula."""
    engine = db.make_engine(demo_db_url)
    try:
        with db.write_session(engine, "test") as session:
            customers = session.query(models.Customer).order_by(models.Customer.customer_id)
            chosen = list(customers)[:8]
            for i, customer in enumerate(chosen):
                seen = customer.segment_entered_on + dt.timedelta(days=2)
                session.add(
                    models.FindingState(
                        customer_id=customer.customer_id,
                        rule="autocapture_unused",
                        state="fixed" if i % 2 == 0 else "open",
                        first_seen_on=seen,
                        fixed_on=seen + dt.timedelta(days=10) if i % 2 == 0 else None,
                        est_monthly_saving_usd=12.5 * (i + 1),
                    )
                )
            for i, scenario in enumerate(("wrong_setup", "learning_curve", "=cmd|'/C calc'!A0")):
                customer = chosen[i]
                session.add(
                    models.Refund(
                        customer_id=customer.customer_id,
                        scenario=scenario,
                        amount_usd=40.0 + i,
                        recorded_on=customer.segment_entered_on + dt.timedelta(days=9),
                        status="issued",
                    )
                )
    finally:
        engine.dispose()
    return demo_db_url


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """file id -> bytes of every file the page hands to Streamlit's media storage."""
    stored: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self: Any, path_or_data: Any, mimetype: str, kind: Any, filename: Any = None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes):
            stored[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    yield stored


def charts(at: AppTest) -> dict[str, tuple[dict[str, Any], pd.DataFrame]]:
    """section -> (Vega-Lite spec, the one dataset the chart is drawn from)."""
    found = {}
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        datasets = list(element.proto.datasets)
        assert len(datasets) == 1, "each chart draws exactly one frame"
        frame = dataframe_util.convert_arrow_bytes_to_pandas_df(datasets[0].data.data)
        found[spec["usermeta"]["outcomes_section"]] = (spec, frame)
    return found


def title_of(spec: dict[str, Any]) -> str:
    return " ".join(spec["title"]["text"])


def download_bytes(at: AppTest, section: str, stored: dict[str, bytes]) -> bytes:
    button = at.get("download_button")
    url = next(b.proto.url for b in button if b.key == f"outcomes_csv_{section}")
    return stored[url.rsplit("/", 1)[1].split(".")[0]]


def expected(db_url: str, filters: outcomes.Filters) -> outcomes.Outcomes:
    engine = db.make_engine(db_url)
    try:
        with db.read_session(engine) as session:
            return outcomes.compute(outcomes.load(session, AS_OF), filters)
    finally:
        engine.dispose()


def default_filters() -> outcomes.Filters:
    return outcomes.period_presets(AS_OF)["Last 6 months"]


def assert_same(chart_frame: pd.DataFrame, section: outcomes.Section) -> None:
    pd.testing.assert_frame_equal(
        chart_frame.reset_index(drop=True),
        section.frame.reset_index(drop=True),
        check_dtype=False,
    )


def test_leadership_lands_on_outcomes_and_every_chart_has_data(
    login_app: Callable[..., AppTest], money: str, downloads: dict[str, bytes]
) -> None:
    at = login_app("lead")
    assert page_errors(at) == []
    assert "Program outcomes" in [t.value for t in at.title]
    drawn = charts(at)
    assert set(drawn) == set(SECTIONS)
    want = expected(money, default_filters())
    for section in want.sections:
        spec, frame = drawn[section.key]
        assert not frame.empty, section.key
        assert title_of(spec) == section.title  # the finding, in words
        assert_same(frame, section)
        assert "tooltip" in json.dumps(spec), section.key
    assert at.info.len == 0  # no "nothing to show" box
    assert [m.label for m in at.metric][:2] == ["Entrants", "Completed"]


def test_each_csv_is_the_frame_its_chart_draws(
    login_app: Callable[..., AppTest], money: str, downloads: dict[str, bytes]
) -> None:
    at = login_app("lead", page=PAGE)
    for key, (_, frame) in charts(at).items():
        assert download_bytes(at, key, downloads) == outcomes.csv_bytes(frame), key
    refunds = download_bytes(at, "refunds", downloads).decode("utf-8")
    assert ",'=cmd|'/C calc'!A0," in refunds  # neutralised: a spreadsheet shows text
    assert ",=cmd" not in refunds


@pytest.mark.parametrize(
    "widget,value,filters",
    [
        # one owner: every chart narrows to dana's customers
        ("outcomes_owners", ["dana"], {"owners": ("dana",)}),
        ("outcomes_reasons", ["credits_rolloff"], {"entry_reasons": ("credits_rolloff",)}),
        ("outcomes_plans", ["pay-as-you-go"], {"plans": ("pay-as-you-go",)}),
    ],
)
def test_a_filter_changes_every_chart_the_same_way(
    login_app: Callable[..., AppTest],
    money: str,
    widget: str,
    value: list[str],
    filters: dict[str, Any],
) -> None:
    at = login_app("lead", page=PAGE)
    before = charts(at)
    at.multiselect(key=widget).set_value(value).run()
    assert page_errors(at) == []
    after = charts(at)
    base = default_filters()
    want = expected(money, outcomes.Filters(base.entered_from, base.entered_to, **filters))
    assert want.entrants < expected(money, base).entrants
    for section in want.sections:
        if section.is_empty:
            assert section.key not in after
            continue
        assert_same(after[section.key][1], section)
    assert any(not after[key][1].equals(before[key][1]) for key in after), (
        "the filter changed nothing"
    )


def test_a_period_with_nobody_says_so_plainly(
    login_app: Callable[..., AppTest], money: str
) -> None:
    at = login_app("lead", page=PAGE)
    at.selectbox(key="outcomes_period").set_value("October 2025").run()  # before the demo
    assert page_errors(at) == []
    assert charts(at) == {}
    messages = [i.value for i in at.info]
    assert len(messages) == len(SECTIONS)
    assert all("October 2025" in m for m in messages)
    assert len(at.get("download_button")) == 0


def test_custom_range(login_app: Callable[..., AppTest], money: str) -> None:
    at = login_app("lead", page=PAGE)
    at.selectbox(key="outcomes_period").set_value("Custom range").run()
    start, end = AS_OF - dt.timedelta(days=30), AS_OF
    at.date_input(key="outcomes_range").set_value((start, end)).run()
    assert page_errors(at) == []
    funnel = charts(at)["funnel"][1]
    assert_same(funnel, expected(money, outcomes.Filters(start, end)).funnel)


def test_team_member_reaches_outcomes_too(login_app: Callable[..., AppTest], money: str) -> None:
    at = login_app("dana", page=PAGE)
    assert page_errors(at) == []
    assert set(charts(at)) == set(SECTIONS)
