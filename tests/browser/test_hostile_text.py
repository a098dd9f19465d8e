"""Hostile text in names, notes and attendees shows as text in the browser,
runs nothing, loads nothing, links nowhere, and leaves every CSV download formula-safe.
The text comes in through customers.csv, the forms and a PostHog sync (hostile_data.py)."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Page, Request, Route, expect
from sqlalchemy import select

from lib.store import models
from tests.browser.conftest import ADMIN, TEAM, AppServer, shot
from tests.browser.helpers import login, notice, open_page, scalar, visit, wait_idle
from tests.browser.hostile_data import (
    ATTACKER,
    CONTACT_NAME,
    EXTENSION_REASON,
    HOSTILE_ATTENDEE,
    HOSTILE_CUSTOMERS,
    HOSTILE_NOTE,
    HOSTILE_OWNER,
    MEETING_CUSTOMER,
    OWNER_CUSTOMER,
    POSTHOG_CUSTOMER,
    POSTHOG_NAME,
    TASK_TITLE,
    WEB_CUSTOMER,
    WEB_NAME,
    shown,
)

FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")
# Elements that load what their attribute names (Streamlit's own components use iframes).
EMBEDS = (("img", "src"), ("iframe", "src"), ("embed", "src"), ("object", "data"))


def assert_inert(page: Page) -> None:
    """Nothing the hostile text carried became markup or ran."""
    assert page.evaluate("window.__pwned") is None, "user text ran as script"
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert page.locator("script", has_text="__pwned").count() == 0


def watch_requests(page: Page) -> list[str]:
    """Every request the page makes to the attacker's host (answered with nothing)."""
    asked: list[str] = []

    def refuse(route: Route, request: Request) -> None:
        asked.append(request.url)
        route.abort()

    page.route(f"**/*{ATTACKER}*", refuse)
    page.on("request", lambda r: asked.append(r.url) if ATTACKER in r.url else None)
    return asked


def assert_nothing_rendered(page: Page, asked: list[str]) -> None:
    """The Markdown in the hostile text stayed text: no image (nor a request for one), no
    link, icon, emoji, colour or heading from it, no bidirectional override in the page."""
    assert_inert(page)
    assert asked == [], f"the page asked the attacker's host for {asked}"
    loads = ", ".join(f'{tag}[{attr}*="{ATTACKER}"]' for tag, attr in EMBEDS)
    assert page.locator(loads).count() == 0
    assert page.locator(f'a[href*="{ATTACKER}"], a[href^="mailto:"]').count() == 0
    headings = page.locator(", ".join(f".stMarkdown h{level}" for level in range(1, 7)))
    assert headings.filter(has_text=re.compile(r"^\s*h\s*$|not a heading")).count() == 0
    assert page.locator('[data-testid="stIconMaterial"]', has_text="bolt").count() == 0
    assert page.locator(".stMarkdownColoredText", has_text="red").count() == 0
    # What the page reads as text, and the tab's title. (A table's cells and a picker's
    # options are plain text, never Markdown: they are not checked here.)
    text = page.evaluate("document.title + document.body.innerText")
    assert "\u202e" not in text and "\U0001f604" not in text  # no override, no 😄


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


def test_hostile_text_from_every_entry_point_stays_text(page: Page, app_server: AppServer) -> None:
    """A name from customers.csv and one from a PostHog sync, an owner, an extension
    reason, a homework title and a contact, on every page that shows them, and in the
    notices after scheduling a call and adding and removing a task."""
    asked = watch_requests(page)
    login(page, TEAM)
    expect(page.get_by_text(shown(WEB_NAME), exact=True).first).to_be_visible()
    assert_nothing_rendered(page, asked)

    visit(page, f"/customer?id={WEB_CUSTOMER}&tab=Step%20log")
    expect(page.get_by_role("heading", level=1).first).to_have_text(shown(WEB_NAME))
    expect(page.get_by_text(shown(EXTENSION_REASON)).first).to_be_visible()
    assert_nothing_rendered(page, asked)
    visit(page, f"/customer?id={WEB_CUSTOMER}&tab=Contacts")
    picker = page.get_by_role("combobox", name="Contact")
    picker.click()
    picker.press_sequentially("mallory")
    picker.press("Enter")
    wait_idle(page)
    make_primary = f"Make {shown(CONTACT_NAME)} the primary contact"
    expect(page.get_by_role("button", name=make_primary)).to_be_visible()
    assert_nothing_rendered(page, asked)
    visit(page, f"/customer?id={POSTHOG_CUSTOMER}")
    expect(page.get_by_role("heading", level=1).first).to_have_text(shown(POSTHOG_NAME))
    assert_nothing_rendered(page, asked)
    visit(page, f"/customer?id={OWNER_CUSTOMER}")
    expect(page.get_by_text(shown(HOSTILE_OWNER)).first).to_be_visible()
    assert_nothing_rendered(page, asked)

    # Notices: a call scheduled with the customer; a task added and removed.
    visit(page, f"/meetings?customer={WEB_CUSTOMER}")
    page.get_by_role("tab", name="Schedule a call").click()
    page.get_by_role("button", name="Schedule").click()
    notice(page, f"{shown(WEB_NAME)} scheduled for")
    wait_idle(page)
    assert_nothing_rendered(page, asked)

    visit(page, f"/homework?customer={WEB_CUSTOMER}")
    expect(page.get_by_text(shown(TASK_TITLE)).first).to_be_visible()
    page.get_by_text("A task of your own").click()
    title = page.get_by_role("textbox", name="Title").first
    for _ in range(3):  # under load the form can still be drawing: type until it holds
        wait_idle(page)
        title.fill(TASK_TITLE)
        wait_idle(page)
        if title.input_value() == TASK_TITLE:
            break
    expect(title).to_have_value(TASK_TITLE)
    page.get_by_role("button", name="Add my task").click()
    notice(page, f"Added: {shown(TASK_TITLE)}")
    wait_idle(page)
    assert_nothing_rendered(page, asked)
    page.locator('[class*="st-key-hw_del_"] button').first.click()  # the bin icon
    notice(page, f"Removed: {shown(TASK_TITLE)}")
    wait_idle(page)
    assert_nothing_rendered(page, asked)
    shot(page, f"{app_server.database}-hostile-entry-points")


def test_hostile_owner_and_plan_on_admin_pages(page: Page, app_server: AppServer) -> None:
    """The Outcomes filters name the hostile owner; the admin sees every customer."""
    asked = watch_requests(page)
    login(page, ADMIN)
    visit(page, f"/customer?id={OWNER_CUSTOMER}")
    assert_nothing_rendered(page, asked)
    for view in ("Progress", "Money", "Retention+and+team"):  # each tab (the team's names)
        visit(page, f"/outcomes?view={view}")
        assert_nothing_rendered(page, asked)
