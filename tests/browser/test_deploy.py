"""The production deployment, for real: deploy/nginx.conf in front of two app servers.

One module-wide deployment: a PostgreSQL database (the session's test cluster), two
`streamlit run app.py` servers sharing it, the login file and the cookie key (as
deploy/README.md sets them up), and Debian's nginx running the shipped site file
with test ports and a throwaway certificate (tests/browser/nginx_proxy.py). Chromium
talks to nginx only. Which server answered: the route cookie says which one a
browser is pinned to, and the test's X-Upstream header (added to the site file for
the test only) which one answered.
"""

from __future__ import annotations

import http.client
import re
import secrets
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from lib import demo
from lib.accounts import auth
from lib.store import db, models
from tests.browser import nginx_proxy
from tests.browser.conftest import (
    ADMIN,
    AS_OF,
    PASSWORD,
    TEAM,
    AppServer,
    _fresh_database,
    _stop,
    add_test_users,
    running_server,
    shot,
)
from tests.browser.helpers import (
    assert_no_exception,
    login,
    login_form,
    logout,
    open_page,
    wait_idle,
)
from tests.mail_servers import dovecot_available

ROUTE_COOKIE = "onboarding_route"
ROUTES = ("a", "b")
SPOOFED = "203.0.113.9"  # a documentation address (RFC 5737)
LOCKED = "lockme"  # a login only the lockout test uses (its name ends up locked)
SIGN_IN_ATTEMPTS = 5  # failures that lock a name (lib/accounts/login_guard.py, Policy)
CSV_FILE: FilePayload = {
    "name": "customers.csv",
    "mimeType": "text/csv",
    "buffer": b"customer_id,name,segment_entered_on\nnx-1,Nginx One,2026-01-05\n",
}


@dataclass
class Deployment:
    proxy: nginx_proxy.Proxy
    servers: dict[str, AppServer]  # route -> server
    upstreams: dict[str, str] = field(default_factory=dict)  # route -> 127.0.0.1:port

    def route_of(self, upstream: str | None) -> str | None:
        return next((r for r, address in self.upstreams.items() if address == upstream), None)


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    chromium_path: Path,
) -> Iterator[Deployment]:
    reason = nginx_proxy.missing()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("deploy")
    database_url = _fresh_database(request, "postgresql", folder)
    engine = db.make_engine(database_url)
    try:
        db.migrate(engine)  # what `onboarding init` does
        with db.write_session(engine, "demo") as session:
            demo.load(session, demo.generate(customers=12, seed=7, as_of=AS_OF))
    finally:
        engine.dispose()
    auth_file = folder / "auth.yaml"  # on shared storage in production
    add_test_users(auth_file)
    auth.add_user(auth_file, LOCKED, "team", PASSWORD, name="Locked Out")
    cookie_key = secrets.token_urlsafe(48)  # one ONBOARDING_COOKIE_KEY for both servers
    # Both servers start side by side (each takes seconds); the shared session fixtures
    # they use are made here first.
    request.getfixturevalue("_smtp_session")
    if dovecot_available():
        request.getfixturevalue("_imap_session")
    with ExitStack() as stack, ThreadPoolExecutor(len(ROUTES)) as pool:

        def start(route: str) -> AppServer:
            (folder / route).mkdir()
            server = running_server(
                request,
                database="postgresql",
                database_url=database_url,
                auth_file=auth_file,
                folder=folder / route,
                log_name=f"streamlit-deploy-{route}",
                cookie_key=cookie_key,
                extra_env={"ONBOARDING_TRUSTED_PROXY": "1"},
            )
            started = server.__enter__()  # stops its own process if it fails to start
            stack.push(server.__exit__)
            return started

        servers = dict(zip(ROUTES, pool.map(start, ROUTES), strict=True))
        ports = {route: int(server.url.rsplit(":", 1)[1]) for route, server in servers.items()}
        proxy = stack.enter_context(nginx_proxy.running_nginx(folder / "nginx", ports))
        yield Deployment(
            proxy, servers, {route: f"127.0.0.1:{port}" for route, port in ports.items()}
        )


def scalars(deployment: Deployment, statement: Any) -> list[Any]:
    """What the shared database holds (either server's view)."""
    engine = db.make_engine(deployment.servers["a"].database_url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(statement))
    finally:
        engine.dispose()


@dataclass
class Browsing:
    """A browser profile talking to nginx, and what the pages showed on the way."""

    context: BrowserContext
    deployment: Deployment
    upstreams: list[tuple[str, str | None]] = field(default_factory=list)  # (url, X-Upstream)
    refused_by_policy: list[str] = field(default_factory=list)  # CSP violations

    def route(self, name: str) -> None:
        """Pin the browser to one server, as nginx's own route cookie does."""
        self.context.add_cookies(
            [
                {
                    "name": ROUTE_COOKIE,
                    "value": name,
                    "url": self.deployment.proxy.url,
                    "secure": True,
                    "httpOnly": True,
                    "sameSite": "Lax",
                }
            ]
        )

    def route_cookie(self) -> str | None:
        return next((c["value"] for c in self.context.cookies() if c["name"] == ROUTE_COOKIE), None)

    def page(self) -> Page:
        page = self.context.new_page()

        def on_response(response: Any) -> None:
            if response.request.resource_type == "document":
                self.upstreams.append((response.url, response.headers.get("x-upstream")))

        def on_console(message: Any) -> None:
            if "Content Security Policy" in message.text:
                self.refused_by_policy.append(message.text)

        page.on("response", on_response)
        page.on("console", on_console)
        return page

    def last_route(self) -> str | None:
        assert self.upstreams, "no page was loaded"
        return self.deployment.route_of(self.upstreams[-1][1])


class Browsers:
    """Fresh browser profiles (no cookies) talking to nginx, closed after the test."""

    def __init__(self, browser: Browser, deployment: Deployment) -> None:
        self.browser, self.deployment = browser, deployment
        self.contexts: list[BrowserContext] = []

    def new(self, headers: dict[str, str] | None = None) -> Browsing:
        context = self.browser.new_context(
            base_url=self.deployment.proxy.url,
            extra_http_headers=headers,
            ignore_https_errors=True,
            viewport={"width": 1400, "height": 1000},
            timezone_id="UTC",
        )
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        return Browsing(context, self.deployment)


@pytest.fixture
def browsers(browser: Browser, deployment: Deployment) -> Iterator[Browsers]:
    """Afterwards, a traceback either server logged during the test fails it."""
    logs = {route: len(s.log_text()) for route, s in deployment.servers.items()}
    made = Browsers(browser, deployment)
    yield made
    for context in made.contexts:
        context.close()
    for route, server in deployment.servers.items():
        logged = server.log_text()[logs[route] :]
        assert "Traceback" not in logged, f"server {route} logged a traceback:\n{logged[-4000:]}"


# ------------------------------------------------------------------ a: the front door


def test_http_is_redirected_to_https(deployment: Deployment, browsers: Browsers) -> None:
    browsing = browsers.new()
    proxy = deployment.proxy
    connection = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=10)
    connection.request("GET", "/customers?id=acme")
    response = connection.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == f"{proxy.url}/customers?id=acme"
    connection.close()
    # And a browser that typed http:// ends up on the HTTPS page.
    page = browsing.page()
    page.goto(f"{proxy.http_url}/")
    expect(page).to_have_url(re.compile(rf"^{re.escape(proxy.url)}/"))
    login_form(page)


def test_every_response_carries_the_security_headers(deployment: Deployment) -> None:
    proxy = deployment.proxy
    status, headers = proxy.request("GET", "/")
    assert status == 200
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "object-src 'none'" in headers["content-security-policy"]
    assert "server" not in headers or "/" not in headers["server"]  # no version
    # A new browser is given a route, a Secure HttpOnly cookie.
    assert re.search(
        r"^onboarding_route=[ab]; Path=/; Secure; HttpOnly; SameSite=Lax$",
        headers["set-cookie"],
        re.M,
    )
    # Refusals carry them too; Streamlit's component frames may be framed by the page.
    status, headers = proxy.request("GET", "/_stcore/metrics")
    assert headers["x-content-type-options"] == "nosniff"
    status, headers = proxy.request("GET", "/component/none/index.html")
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in headers["content-security-policy"]


def test_new_browsers_are_spread_over_both_servers(deployment: Deployment) -> None:
    routes = set()
    for _ in range(24):
        _, headers = deployment.proxy.request("GET", "/_stcore/health")
        routes |= set(re.findall(r"^onboarding_route=(\w+);", headers["set-cookie"], re.M))
    assert routes == set(ROUTES)
    # A browser holding a route keeps it (no new cookie) and reaches that server.
    for route in ROUTES:
        status, headers = deployment.proxy.request(
            "GET", "/_stcore/health", headers={"Cookie": f"{ROUTE_COOKIE}={route}"}
        )
        assert status == 200
        assert ROUTE_COOKIE not in headers.get("set-cookie", "")
        assert deployment.route_of(headers["x-upstream"]) == route


def test_metrics_and_the_agent_api_are_closed(deployment: Deployment) -> None:
    # Streamlit itself serves its metrics to anyone who asks...
    server = deployment.servers["a"]
    with urllib.request.urlopen(f"{server.url}/_stcore/metrics", timeout=10) as response:
        assert response.status == 200
    # ... the proxy never lets the request through.
    for path in ("/_stcore/metrics", "/_stcore/metrics?x=1", "/_stcore/agent/openapi.json"):
        status, headers = deployment.proxy.request("GET", path)
        assert status == 404, path
        assert "x-upstream" not in headers, path


# ------------------------------------------------------------------ b: two servers, one sign-in


def test_signed_in_on_one_server_then_served_by_the_other(
    deployment: Deployment, browsers: Browsers
) -> None:
    # The browser claims another address; nginx replaces it with the one it sees.
    browsing = browsers.new(headers={"X-Forwarded-For": SPOOFED})
    browsing.route("a")
    page = browsing.page()
    login(page, ADMIN)
    assert browsing.last_route() == "a"
    assert browsing.route_cookie() == "a"
    clients = select(models.LoginSession.client).where(models.LoginSession.username == ADMIN)
    assert set(scalars(deployment, clients)) == {"127.0.0.1"}
    # The same browser moves to server B (the proxy would do so if A went down): the
    # sign-in cookie, signed with the shared key, still signs it in there.
    browsing.route("b")
    page.reload()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    wait_idle(page)
    assert_no_exception(page)
    assert browsing.last_route() == "b"
    assert browsing.route_cookie() == "b"
    # Pages work through the proxy: the WebSocket (every click), the charts under the
    # content security policy, and an upload, which reaches the server holding the
    # page's session (its URL names the session; a wrong server would refuse it).
    open_page(page, "Outcomes")
    open_page(page, "Data")
    uploader = page.get_by_test_id("stFileUploaderDropzoneInput").first
    with page.expect_response(re.compile(r"/_stcore/upload_file/")) as uploaded:
        uploader.set_input_files(files=[CSV_FILE])
    assert uploaded.value.status in (200, 204), uploaded.value.status
    assert browsing.deployment.route_of(uploaded.value.headers.get("x-upstream")) == "b"
    expect(page.get_by_test_id("stFileChip").filter(has_text="customers.csv")).to_be_visible()
    wait_idle(page)
    assert_no_exception(page)
    shot(page, "deploy-signed-in-on-b")
    assert browsing.refused_by_policy == [], "\n".join(browsing.refused_by_policy)


# ------------------------------------------------------------------ c: revoked is revoked everywhere


def _signed_in(page: Page, wait_ms: int = 8_000) -> bool:
    """Open the app with the browser's cookies: does it sign in within `wait_ms`?"""
    page.goto("/")
    page.locator('[data-testid="stApp"]').wait_for()
    try:
        page.get_by_role("button", name="Log out").wait_for(timeout=wait_ms)
    except PlaywrightTimeout:
        return False
    wait_idle(page)
    return True


def test_a_signed_out_cookie_is_refused_on_both_servers(browsers: Browsers) -> None:
    browsing = browsers.new()
    browsing.route("a")
    page = browsing.page()
    login(page, TEAM)
    cookie = [c for c in browsing.context.cookies() if c["name"] == auth.COOKIE_NAME]
    assert cookie, "no sign-in cookie"
    # Over HTTPS the page's script writes it Secure, SameSite=Strict.
    assert (cookie[0]["secure"], cookie[0]["sameSite"]) == (True, "Strict")
    # Replayed in another browser it signs in (on B too): the replay below is real.
    other = browsers.new()
    other.context.add_cookies(cookie)  # type: ignore[arg-type]
    other.route("b")
    assert _signed_in(other.page())
    # Signing out on A ends that sign-in on every server, not only in this browser.
    logout(page)
    for route in ROUTES:
        replay = browsers.new()
        replay.context.add_cookies(cookie)  # type: ignore[arg-type]
        replay.route(route)
        replayed = replay.page()
        assert not _signed_in(replayed, wait_ms=5_000), (
            f"server {route} accepted a signed-out cookie"
        )
        assert replay.last_route() == route
        login_form(replayed)


# ------------------------------------------------------------------ d: uploads at the door


def test_uploads_without_the_sign_in_cookie_are_refused(deployment: Deployment) -> None:
    proxy = deployment.proxy
    for method in ("PUT", "POST", "DELETE"):
        status, headers = proxy.request(method, "/_stcore/upload_file/session/file", body=b"x")
        assert status == 403, method
        assert "x-upstream" not in headers  # refused by nginx, never reached a server
    limit = nginx_proxy.proxy_upload_limit_mb(nginx_proxy.SITE.read_text(encoding="utf-8"))
    status, _ = proxy.request(
        "PUT", "/_stcore/upload_file/session/file", announce_length=(limit + 1) * 1024 * 1024
    )
    assert status in (403, 413)


def test_the_proxys_upload_limit_is_the_apps() -> None:
    site = nginx_proxy.SITE.read_text(encoding="utf-8")
    assert nginx_proxy.proxy_upload_limit_mb(site) == (
        nginx_proxy.app_upload_limit_mb() + nginx_proxy.MULTIPART_MARGIN_MB
    ), (
        "deploy/nginx.conf's client_max_body_size for /_stcore/upload_file/ must be "
        "server.maxUploadSize (.streamlit/config.toml) + 1 MB"
    )


def test_an_upload_over_the_limit_is_refused(deployment: Deployment) -> None:
    limit = nginx_proxy.proxy_upload_limit_mb(nginx_proxy.SITE.read_text(encoding="utf-8"))
    signed_in = {"Cookie": f"{auth.COOKIE_NAME}=anything; {ROUTE_COOKIE}=a"}
    status, headers = deployment.proxy.request(
        "PUT",
        "/_stcore/upload_file/session/file",
        headers=signed_in,
        announce_length=limit * 1024 * 1024 + 1,
    )
    assert status == 413
    assert "x-upstream" not in headers


def test_uploads_are_rate_limited(deployment: Deployment) -> None:
    # With a cookie the proxy lets uploads through (the server refuses these bogus
    # ones itself) until the client has sent too many.
    signed_in = {"Cookie": f"{auth.COOKIE_NAME}=anything; {ROUTE_COOKIE}=a"}
    answers = [
        deployment.proxy.request(
            "PUT", "/_stcore/upload_file/session/file", headers=signed_in, body=b"x"
        )
        for _ in range(30)
    ]
    passed = [status for status, headers in answers if "x-upstream" in headers]
    limited = [status for status, headers in answers if "x-upstream" not in headers]
    assert passed and all(status != 429 for status in passed)
    assert limited and set(limited) == {429}


# ------------------------------------------------------------------ e: one lockout for all servers


def _try_password(page: Page, username: str, password: str) -> None:
    login_form(page)
    wait_idle(page)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Login").click()
    wait_idle(page)


def test_a_name_locked_on_one_server_is_locked_on_the_other(browsers: Browsers) -> None:
    browsing = browsers.new()
    browsing.route("a")
    page = browsing.page()
    page.goto("/")
    for _ in range(SIGN_IN_ATTEMPTS):
        _try_password(page, LOCKED, "not-the-password")
        expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    assert browsing.last_route() == "a"
    # Locked on A: even the right password is refused there now.
    _try_password(page, LOCKED, PASSWORD)
    expect(page.get_by_text(re.compile("Too many failed sign-ins"))).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    # Server B has seen no failure of its own, yet refuses even the right password.
    on_b = browsers.new()
    on_b.route("b")
    page_b = on_b.page()
    page_b.goto("/")
    _try_password(page_b, LOCKED, PASSWORD)
    assert on_b.last_route() == "b"
    expect(page_b.get_by_text(re.compile("Too many failed sign-ins"))).to_be_visible()
    expect(page_b.get_by_role("button", name="Log out")).to_have_count(0)


def test_when_a_server_stops_its_browsers_move_on_signed_in(
    deployment: Deployment, browsers: Browsers
) -> None:
    """Last (it stops server B): the route's backup takes over, the sign-in holds."""
    for server in deployment.servers.values():
        assert server.process.poll() is None, "a server stopped during the tests"
    browsing = browsers.new()
    browsing.route("b")
    page = browsing.page()
    login(page, ADMIN)
    assert browsing.last_route() == "b"
    _stop(deployment.servers["b"].process)
    page.reload()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    wait_idle(page)
    assert_no_exception(page)
    assert browsing.upstreams[-1][1] is not None
    assert browsing.upstreams[-1][1].split(", ")[-1] == deployment.upstreams["a"]
    assert browsing.route_cookie() == "b"  # kept: back to B once it is up again
    assert deployment.proxy.process.poll() is None
    assert "[emerg]" not in deployment.proxy.error_log()
