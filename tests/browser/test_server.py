"""The harness itself: the server runs on its own database and answers a real browser."""

from __future__ import annotations

import urllib.request

from playwright.sync_api import Page

from tests.browser.conftest import AppServer
from tests.browser.helpers import APP, assert_no_exception, wait_idle


def test_server_is_healthy_and_renders(app_server: AppServer, page: Page) -> None:
    with urllib.request.urlopen(f"{app_server.url}/_stcore/health", timeout=5) as response:
        assert response.read().strip() == b"ok"
    page.goto("/")
    page.wait_for_selector(APP)
    wait_idle(page)
    assert_no_exception(page)
