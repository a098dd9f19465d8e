"""What the browser tests do on a page: wait for Streamlit, log in and out, check for errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Page, expect

from lib.store import db
from tests.browser.conftest import PASSWORD, AppServer, shot

# A loaded 2-core CI machine runs a page in seconds, not milliseconds.
expect.set_options(timeout=20_000)

APP = '[data-testid="stApp"]'
IDLE = f'{APP}[data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'
# What ui.errors.friendly shows instead of a traceback (the details go to the server log).
FRIENDLY_ERRORS = ("Something went wrong on this page", "The database cannot be reached")


def wait_idle(page: Page, timeout_ms: int = 30_000) -> None:
    """Wait until the script run the last action started has finished.

    A click reaches the server over the websocket a moment later, so give the
    run a moment to start before waiting for it to stop; then require the idle
    state to hold briefly (Streamlit often reruns once more right away).
    """
    page.wait_for_timeout(150)
    deadline = time.monotonic() + timeout_ms / 1000
    steady_since: float | None = None
    while time.monotonic() < deadline:
        idle = page.locator(IDLE).count() > 0
        if idle:
            steady_since = steady_since or time.monotonic()
            if time.monotonic() - steady_since >= 0.4:
                return
        else:
            steady_since = None
        page.wait_for_timeout(50)
    raise AssertionError(f"the app kept running for {timeout_ms} ms")


def assert_no_exception(page: Page) -> None:
    errors = page.locator(EXCEPTION)
    if errors.count():
        raise AssertionError(f"the page shows an exception:\n{errors.first.inner_text()}")
    for message in FRIENDLY_ERRORS:
        shown = page.get_by_text(message)
        if shown.count():
            raise AssertionError(f"the page shows an error: {shown.first.inner_text()}")


def login_form(page: Page) -> None:
    """Assert the login form, once, is what the page shows.

    While a run replaces the page, Streamlit keeps the last run's elements on
    screen until the new ones arrive, so a form can briefly be there twice (a
    strict locator fails at once on that): wait until exactly one is left.
    """
    password = page.get_by_role("textbox", name="Password")
    expect(password).to_have_count(1)
    expect(password).to_be_visible()
    expect(page.get_by_role("button", name="Login")).to_have_count(1)


@contextmanager
def shot_on_failure(page: Page, name: str) -> Iterator[None]:
    """A failed expectation inside leaves a screenshot, FAILED-<name>-<time>.png."""
    try:
        yield
    except AssertionError:
        shot(page, f"FAILED-{name}-{time.strftime('%H%M%S')}")
        raise


def login(page: Page, username: str, password: str = PASSWORD, path: str = "/") -> None:
    page.goto(path)
    login_form(page)
    # Type only once the first run is over: a click that lands while a run replaces the
    # form can be lost with it.
    wait_idle(page)
    login_form(page)
    # The form, not the show-password button (get_by_label would match both).
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Login").click()
    with shot_on_failure(page, f"login-{username}"):
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
    wait_idle(page)
    assert_no_exception(page)


def visit(page: Page, path: str) -> None:
    """Open a URL of the app as a signed-in user (the browser's cookie signs in)."""
    page.goto(path)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    wait_idle(page)
    assert_no_exception(page)


def logout(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    login_form(page)
    wait_idle(page)


def open_page(page: Page, title: str) -> None:
    """Move to a page through the sidebar (the same session: no new sign-in)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    wait_idle(page)
    assert_no_exception(page)


def scalar(app_server: AppServer, statement: Any) -> Any:
    """One value from the server's database (what the app wrote)."""
    engine = db.make_engine(app_server.database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(statement)
    finally:
        engine.dispose()


def notice(page: Page, text: str) -> None:
    """A success/info box containing `text` (Streamlit's alert element)."""
    expect(page.get_by_test_id("stAlert").filter(has_text=text).first).to_be_visible()
