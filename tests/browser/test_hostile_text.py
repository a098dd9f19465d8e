"""Hostile text in names, notes and attendees shows as text in the browser,
runs nothing, and leaves every CSV download formula-safe."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import Page, expect
from sqlalchemy import select

from lib.store import models
from tests.browser.conftest import TEAM, AppServer, shot
from tests.browser.helpers import login, open_page, scalar, visit
from tests.browser.hostile_data import (
    HOSTILE_ATTENDEE,
    HOSTILE_CUSTOMERS,
    HOSTILE_NOTE,
    MEETING_CUSTOMER,
)

FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")


def assert_inert(page: Page) -> None:
    """Nothing the hostile text carried became markup or ran."""
    assert page.evaluate("window.__pwned") is None, "user text ran as script"
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert page.locator("script", has_text="__pwned").count() == 0


def test_hostile_names_show_as_text_on_today(page: Page, app_server: AppServer) -> None:
    login(page, TEAM)
    for name in HOSTILE_CUSTOMERS.values():
        expect(page.get_by_text(name, exact=True).first).to_be_attached()
    assert_inert(page)
    shot(page, f"{app_server.database}-hostile-today")


def test_hostile_names_show_as_text_on_their_customer_page(
    page: Page, app_server: AppServer
) -> None:
    login(page, TEAM)
    for customer_id, name in HOSTILE_CUSTOMERS.items():
        visit(page, f"/customer?id={customer_id}")
        expect(page.get_by_role("heading", level=1).first).to_have_text(name)
        assert_inert(page)
    shot(page, f"{app_server.database}-hostile-customer")


def test_hostile_meeting_notes_and_attendees_show_as_text(
    page: Page, app_server: AppServer
) -> None:
    meeting_id = scalar(
        app_server, select(models.Meeting.id).where(models.Meeting.customer_id == MEETING_CUSTOMER)
    )
    login(page, TEAM)
    visit(page, f"/meetings?meeting={meeting_id}")
    page.get_by_text("Saved notes (Markdown, shown as text)").click()
    expect(page.get_by_test_id("stText").filter(has_text="__pwned").first).to_have_text(
        HOSTILE_NOTE
    )
    page.get_by_text("Attendees and agenda").click()
    people = page.get_by_role("textbox", name="People from the customer")
    expect(people).to_have_value(f"{HOSTILE_ATTENDEE} <evil@customer.example>")
    assert_inert(page)
    shot(page, f"{app_server.database}-hostile-meeting")


def test_the_customers_csv_download_is_formula_safe(page: Page, app_server: AppServer) -> None:
    login(page, TEAM)
    open_page(page, "Customers")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download this table (CSV)").click()
    text = download.value.path().read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    cells = [cell for row in rows for cell in row]
    for cell in cells:
        if cell[:1] in FORMULA_SIGNS:
            float(cell)  # only a plain number may start with a sign
    formula = HOSTILE_CUSTOMERS["zz-formula"]
    assert "'" + formula in cells
    assert HOSTILE_CUSTOMERS["zz-script"] in cells  # text kept as it was, not escaped
