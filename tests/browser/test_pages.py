"""Every page of every role renders in a real browser without an error.

One sign-in per role, then the sidebar (one Streamlit session, as a user
clicks). A full-page screenshot of each page is kept under
test-output/screenshots/ for people to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN, LEADERSHIP, TEAM, AppServer, shot
from tests.browser.helpers import assert_no_exception, login, open_page, visit, wait_idle

# role user -> the sidebar pages they have (app.py's ROLE_PAGES, as titles).
SIDEBAR = {
    ADMIN: ["Today", "Customers", "Meetings", "Homework", "Outcomes", "Data", "Users"],
    TEAM: ["Today", "Customers", "Meetings", "Homework", "Outcomes"],
    LEADERSHIP: ["Outcomes", "Customers"],
}


@pytest.mark.parametrize("username", list(SIDEBAR))
def test_every_page_renders(page: Page, app_server: AppServer, username: str) -> None:
    login(page, username)
    nav = page.get_by_test_id("stSidebarNav")
    for title in SIDEBAR[username]:
        open_page(page, title)
        expect(page.get_by_role("heading", level=1).first).to_contain_text(
            re.compile(title, re.IGNORECASE)
        )
        shot(page, f"{app_server.database}-{username}-{title.lower()}")
    # Each link reads "<icon name>\n\n<title>": the title is the last line.
    links = [t.strip().splitlines()[-1] for t in nav.get_by_role("link").all_inner_texts()]
    assert sorted(links) == sorted(SIDEBAR[username])  # nothing more: no admin pages for others


def test_the_customer_page_renders_with_every_tab(page: Page, app_server: AppServer) -> None:
    login(page, TEAM)
    visit(page, "/customer?id=zz-link")
    for tab in ("Audit", "Timeline", "Usage", "Outreach", "Refunds", "Step log", "History"):
        page.get_by_role("tab", name=tab).click()
        wait_idle(page)
        assert_no_exception(page)
    shot(page, f"{app_server.database}-customer-history")
    # An unknown id offers the picker instead of failing.
    page.goto("/customer?id=no-such-customer")
    expect(page.get_by_text("No customer with id")).to_be_visible()
    wait_idle(page)
    assert_no_exception(page)
