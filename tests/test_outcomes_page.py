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
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import pandas as pd
import pytest
from streamlit import dataframe_util
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from lib import labels, outcomes
from lib.labels import md
from lib.store import db, models
from tests.apptest_support import AS_OF, page_errors
from ui import charts as ui_charts
from ui import data as ui_data

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


VIEWS = ("Progress", "Money", "Retention and team")  # the page's tabs, ?view=...


def views(at: AppTest) -> Iterator[AppTest]:
    """The page in each of its tabs in turn (only the open one is drawn)."""
    for view in VIEWS:
        at.query_params["view"] = view  # the URL, as a link gives it
        at.session_state["view"] = view  # the tab picked (the URL drops the default)
        at.run()
        assert page_errors(at) == [], view
        yield at


def every_chart(at: AppTest) -> list[tuple[str, dict[str, Any], pd.DataFrame]]:
    """(section, Vega-Lite spec, dataset) of every chart of every tab (the page is left on
    the last tab)."""
    return [chart for _ in views(at) for chart in charts_here(at)]


def charts_here(at: AppTest) -> list[tuple[str, dict[str, Any], pd.DataFrame]]:
    """(section, Vega-Lite spec, the one dataset the chart is drawn from) of every chart of
    the tab shown: a section draws one or two charts, each from the section's frame."""
    found = []
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        datasets = list(element.proto.datasets)
        assert len(datasets) == 1, "each chart draws exactly one frame"
        frame = dataframe_util.convert_arrow_bytes_to_pandas_df(datasets[0].data.data)
        found.append((spec["usermeta"]["outcomes_section"], spec, frame))
    return found


def charts(at: AppTest) -> dict[str, tuple[dict[str, Any], pd.DataFrame]]:
    """section -> (Vega-Lite spec, dataset) of its first chart."""
    found: dict[str, tuple[dict[str, Any], pd.DataFrame]] = {}
    for key, spec, frame in every_chart(at):
        found.setdefault(key, (spec, frame))
    return found


def texts(at: AppTest) -> list[str]:
    """Every text the page shows outside the charts, in every tab."""
    return [text for _ in views(at) for text in texts_here(at)]


def texts_here(at: AppTest) -> list[str]:
    shown = [
        str(getattr(e, "value", ""))
        for kind in ("title", "subheader", "markdown", "caption", "info")
        for e in at.get(kind)
    ]
    shown += [m.label for m in at.metric] + [m.value for m in at.metric]
    shown += [m.proto.delta_description for m in at.metric] + [m.proto.help for m in at.metric]
    shown += [link.proto.label for link in at.get("page_link")]
    return shown


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
    assert {key for key, _, _ in charts_here(at)} == {"funnel", "cohorts", "speed", "response"}
    drawn = charts(at)
    assert set(drawn) == set(SECTIONS)
    want = expected(money, default_filters())
    findings = [m.value for _ in views(at) for m in at.markdown]
    by_key = {section.key: section for section in want.sections}
    for key, spec, frame in every_chart(at):
        assert not frame.empty, key
        assert_same(frame, by_key[key])  # each chart of a section draws the section's frame
        assert "tooltip" in json.dumps(spec), key
    for section in want.sections:
        assert f"**{md(section.title)}**" in findings  # the finding, in words, above the chart
    assert at.info.len == 0  # no "nothing to show" box
    assert [m.label for m in at.metric][:2] == ["Entrants", "Completed"]
    # The completion rate says whom it counts, right under it.
    captions = [c.value for c in at.caption]
    assert any(
        c.startswith("of the ") and "customers whose 8 weeks are over" in c for c in captions
    )


def test_each_csv_is_the_frame_its_chart_draws(
    login_app: Callable[..., AppTest], money: str, downloads: dict[str, bytes]
) -> None:
    at = login_app("lead", page=PAGE)
    checked = set()
    for _ in views(at):
        for key, _, frame in charts_here(at):
            assert download_bytes(at, key, downloads) == outcomes.csv_bytes(frame), key
            checked.add(key)
        if at.session_state["view"] == "Money":
            refunds = download_bytes(at, "refunds", downloads).decode("utf-8")
    assert checked == set(SECTIONS)
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
    messages, downloads = [], 0
    for _ in views(at):
        messages += [i.value for i in at.info]
        downloads += len(at.get("download_button"))
    assert len(messages) == len(SECTIONS)
    assert all("October 2025" in m for m in messages)
    assert downloads == 0


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


def test_each_headline_number_sits_beside_the_previous_period(
    login_app: Callable[..., AppTest], money: str
) -> None:
    at = login_app("lead", page=PAGE)
    filters = default_filters()
    want = outcomes.headline(expected(money, filters), expected(money, filters.previous()))
    assert [(m.label, m.value) for m in at.metric] == [(m.label, m.value) for m in want]
    captions = [c.value for c in at.caption]
    assert all(md(m.group) in captions for m in want if m.group)
    assert len(want) >= 5
    for shown, metric in zip(at.metric, want, strict=True):
        assert shown.proto.help == md(metric.help)
        assert "shifted back by its own length" in metric.help
        if metric.previous is None:
            assert shown.proto.delta_description == ""
        else:
            assert shown.proto.delta == metric.delta
            assert shown.proto.delta_description == f"vs {md(metric.previous)} last period"
    assert any(m.previous is not None for m in want), "the demo has a previous period"


def _codes() -> set[str]:
    """Every code a page must show by its label (those whose label differs from the code)."""
    return {
        code for table in labels.TABLES.values() for code, text in table.items() if code != text
    }


def test_outcomes_shows_no_raw_code(login_app: Callable[..., AppTest], money: str) -> None:
    at = login_app("lead", page=PAGE)
    assert page_errors(at) == []
    codes = _codes()
    assert {"under_attack", "wrong_setup", "onboarded_engaged", "first_meeting"} <= codes
    code_like = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")
    for text in texts(at):
        assert not set(code_like.findall(text)) & codes, text
    drawn = every_chart(at)
    assert drawn
    for key, spec, frame in drawn:
        for field in _shown_fields(spec):
            if field in frame.columns:
                raw = {str(v) for v in frame[field]} & codes
                assert not raw, f"{key}: {field} shows {raw}"


def _shown_fields(spec: Any) -> set[str]:
    """The data fields a Vega-Lite spec puts on screen (axes, legends, text, tooltips)."""
    found: set[str] = set()
    if isinstance(spec, dict):
        for channel, value in spec.items():
            if channel == "encoding" and isinstance(value, dict):
                for encoded in value.values():
                    for item in encoded if isinstance(encoded, list) else [encoded]:
                        if isinstance(item, dict) and isinstance(item.get("field"), str):
                            found.add(item["field"])
            else:
                found |= _shown_fields(value)
    elif isinstance(spec, list):
        for item in spec:
            found |= _shown_fields(item)
    return found


def test_a_chart_leads_to_the_customers_behind_it(
    login_app: Callable[..., AppTest], money: str
) -> None:
    """Links to the Customers page with its URL filters: the stages chart's end stages, the
    funnel's program statuses, and every owner's row of the team table."""
    at = login_app("lead", page=PAGE)
    shown = [link.proto for _ in views(at) for link in at.get("page_link")]  # ends on the team
    assert shown and all("customers" in link.page for link in shown)
    links = {link.label: unquote(link.query_string) for link in shown}
    assert links["Completed"] == "status=completed"
    want = expected(money, default_filters())
    shown_stages = set(want.stages.frame.loc[want.stages.frame["customers"] > 0, "stage"])
    for stage in shown_stages - {"in_program"}:
        label = outcomes.END_GROUPS[stage]
        assert links[label] == f"stage={stage}"
    if "in_program" in shown_stages:
        still = links[outcomes.END_GROUPS["in_program"]]
        assert still.startswith("stage=new_account,") and "onboarded_engaged" not in still
    table = next(d.value for d in at.dataframe if "Owner" in d.value.columns)
    assert list(table["Owner"]) == list(want.team.frame["owner"])
    rows = zip(table["Owner"], table["Customers"], table["Overdue customers"], strict=True)
    for owner, url, overdue in rows:
        assert url == outcomes.customers_url({"owner": owner})
        assert overdue == outcomes.customers_url({"owner": owner, "overdue": "1"})
        assert url.startswith("customers?owner=")


def test_a_rerun_draws_the_charts_built_before_and_a_write_builds_them_again(
    login_app: Callable[..., AppTest], money: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building the Altair charts and validating their specs is most of a rerun's time:
    a rerun draws the specs built before, until a write drops them (ui.data.changed)."""
    built: list[str] = []
    for key in ("team", "funnel"):  # the clickable one and a plain one
        heading, build = ui_charts.CHARTS[key]

        def counting(section: outcomes.Section, build: Any = build) -> Any:
            built.append(section.key)
            return build(section)

        monkeypatch.setitem(ui_charts.CHARTS, key, (heading, counting))
    at = login_app("lead", page=PAGE)
    assert page_errors(at) == []
    assert built == ["funnel"]  # the open tab's only, once though the page ran twice
    first = every_chart(at)  # each tab: the team chart is built when its tab opens
    assert sorted(built) == ["funnel", "team"]
    ids = [chart.proto.id for chart in at.get("vega_lite_chart")]  # the last tab's
    at.run()
    assert page_errors(at) == []
    again = every_chart(at)
    assert sorted(built) == ["funnel", "team"], "a rerun built the charts again"
    assert [(key, spec) for key, spec, _ in again] == [(key, spec) for key, spec, _ in first]
    for (_, _, before), (_, _, after) in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(before, after)
    drawn = [chart.proto for chart in at.get("vega_lite_chart")]
    assert [proto.id for proto in drawn] == ids  # the same selection widgets
    # The clickable charts (their first; both on the last tab) select by PICK; every chart
    # has its accessible name.
    assert sum(bool(proto.selection_mode) for proto in drawn) == len(ui_charts.CLICKABLE)
    assert all(list(p.selection_mode) in ([], [ui_charts.PICK]) for p in drawn)
    assert all(proto.alt for proto in drawn)
    ui_data.changed()  # what every write in the app calls
    at.run()
    assert page_errors(at) == []
    assert sorted(built) == ["funnel", "team", "team"]  # the tab shown, at once
    assert [(key, spec) for key, spec, _ in every_chart(at)] == [
        (key, spec) for key, spec, _ in first
    ]
    assert sorted(built) == ["funnel", "funnel", "team", "team"]


@pytest.mark.parametrize(
    "view,sections",
    [
        ("Progress", {"funnel", "cohorts", "speed", "response"}),
        ("Money", {"savings", "refunds"}),
        ("Retention and team", {"retention", "stages", "team"}),
    ],
)
def test_a_link_opens_its_tab_and_draws_only_its_charts(
    login_app: Callable[..., AppTest], money: str, view: str, sections: set[str]
) -> None:
    at = login_app("lead", page=PAGE, query={"view": view})  # /outcomes?view=...
    assert page_errors(at) == []
    assert {key for key, _, _ in charts_here(at)} == sections
