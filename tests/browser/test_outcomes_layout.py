"""The Outcomes page at 1440 px and at 1024 px in Chromium, each of its tabs: every chart
fits its column (nothing cut, no sideways scrolling), every finding above a chart is shown
whole, and the screenshots are kept (test-output/screenshots/outcomes-<width>-<tab>.png)
for people to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LEADERSHIP, AppServer, shot
from tests.browser.helpers import assert_no_exception, login, wait_idle

CHART = '[data-testid="stVegaLiteChart"]'


VIEWS = {"Progress": 4, "Money": 2, "Retention and team": 3}  # the tabs and their sections


@pytest.mark.parametrize("width", [1440, 1024])
def test_outcomes_reads_at_both_widths(page: Page, app_server: AppServer, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    login(page, LEADERSHIP, path="/outcomes")
    expect(page.get_by_role("heading", name="Program outcomes")).to_be_visible()
    drawn = 0
    for view, sections in VIEWS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.get_by_role("tab", name=view).click()
        wait_idle(page)
        drawn += check_tab(page, view, sections)
        # Streamlit scrolls inside its main area: a tall window puts the whole tab in the shot.
        height = page.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
        )
        page.set_viewport_size({"width": width, "height": int(height) + 100})
        wait_idle(page)
        shot(page, f"outcomes-{width}-{view.split()[0].lower()}")
    assert drawn >= 6, f"only {drawn} charts drawn"


def check_tab(page: Page, view: str, sections: int) -> int:
    """Every chart of the tab shown fits; returns how many it draws (a section with nothing
    to show says so instead)."""
    main_area = page.get_by_test_id("stMain")
    expect(main_area.get_by_role("heading", level=3)).to_have_count(sections)
    charts = page.locator(CHART)
    count = charts.count()
    empty = main_area.get_by_test_id("stAlertContentInfo").count()
    assert count + empty >= sections, f"{view}: {count} charts and {empty} notes"
    # Vega draws after the element arrives: wait for every chart's canvas or svg.
    expect(page.locator(f"{CHART} canvas, {CHART} svg.marks")).to_have_count(count)
    wait_idle(page)
    assert_no_exception(page)

    main = page.get_by_test_id("stMain").bounding_box()
    assert main is not None
    for i in range(count):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        drawn = chart.locator("canvas, svg.marks").first.bounding_box()
        assert box is not None and drawn is not None
        where = f"{view}, chart {i}"
        # The drawing fits the chart's own box, and the box fits the page: nothing cut.
        assert drawn["width"] <= box["width"] + 1, f"{where} is wider than its column"
        assert box["x"] + box["width"] <= main["x"] + main["width"] + 1, f"{where} overflows"
        assert drawn["width"] >= 0.6 * box["width"], f"{where} does not use its column"
        assert drawn["height"] >= 120, f"{where} is squashed ({drawn['height']:.0f} px)"
    sideways = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stMain\"] *')]"
        ".some(e => e.scrollWidth > e.clientWidth + 2 && getComputedStyle(e).overflowX == 'auto'"
        " && e.closest('[data-testid=\"stDataFrame\"]') == null)"
    )
    assert not sideways, f"{view}: part of the page scrolls sideways"
    # Each chart's finding is written above it in full (HTML wraps it; nothing is cut).
    findings = page.locator('[data-testid="stMarkdown"] strong')
    assert findings.count() >= count - 2
    for i in range(findings.count()):
        text = findings.nth(i)
        assert text.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), text.inner_text()
    return count


@pytest.mark.parametrize(
    "key,colour,query",
    [("stages", "#2F9E44", "stage="), ("team", "#1D4AFF", "owner=")],
)
def test_a_click_on_a_bar_leads_to_the_customers_behind_it(
    page: Page, app_server: AppServer, key: str, colour: str, query: str
) -> None:
    """The stages and team charts carry a point selection: a click on a bar reruns the page
    with the selection, and a link to the bar's customers appears under the chart."""
    page.set_viewport_size({"width": 1440, "height": 1200})
    login(page, LEADERSHIP, path="/outcomes?view=Retention+and+team")  # the tab in the URL
    chart = page.locator(f".st-key-outcomes_chart_{key}_0 {CHART}")
    chart.scroll_into_view_if_needed()
    # Vega draws the chart as SVG (it has an accessible name): a bar is a path of its colour.
    bar = chart.locator(f'svg.marks g.mark-rect path[fill="{colour}" i]').first
    expect(bar).to_be_visible()
    wait_idle(page)
    picked = page.locator(f'[data-testid="stPageLink"] a[href*="{query}"]:visible')
    expect(picked).to_have_count(0)
    bar.click()  # one bar: the page reruns with the selection
    expect(picked).to_have_count(1)
    wait_idle(page)
    assert_no_exception(page)
