"""Server-side sessions behind the sign-in cookie (lib.accounts.tokens, session_store).

streamlit-authenticator's cookie model is replaced by `SessionCookie` (its class is
swapped on the authenticator's instance, which keeps the cookie manager it made): the
cookie's JWT carries a random session id whose row every run checks, on whichever
server. Any problem with a cookie (forged, another algorithm, a missing claim, expired,
revoked, a removed login, an old password) deletes it and shows the sign-in form.

The browser's cookie is read from the request (st.context.cookies) and written by a
line of JavaScript (`BrowserCookies`, in place of extra_streamlit_components'
CookieManager, whose components cost the sign-in two iframes and two extra script runs):
so it cannot be HttpOnly; it is SameSite=Strict, and Secure when the page is served over
HTTPS.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.models import CookieModel, cookie_model

from lib.accounts import auth, login_guard, session_store, tokens
from lib.store import db
from ui import data

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SID_KEY = "login_session_id"  # this browser session's id (its cookie's `sid`)
STAMP_KEY = "login_password_stamp"  # the password stamp it signed in with
SAME_SITE = "strict"
COOKIE_WRITES = "login_cookie_writes"  # [[statement, runs left to draw it], ...]
# A write is drawn in this many runs: a rerun that replaces the page before the
# browser ran the first one (a quick click) still gets it. Running it twice is harmless.
COOKIE_WRITE_RUNS = 2


def now() -> dt.datetime:
    """Naive UTC, as the database keeps times."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def browser_cookie(name: str) -> str | None:
    """The cookie the browser sent when this session connected."""
    cookies = st.context.cookies
    value = cookies[name] if name in cookies else None
    return value if isinstance(value, str) else None


def _headers() -> dict[str, str]:
    # Only text: without a browser (AppTest) the context's fields are stand-ins.
    found = st.context.headers.to_dict()
    items = found.items() if isinstance(found, dict) else []
    return {k: v for k, v in items if isinstance(k, str) and isinstance(v, str)}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def client_address() -> str:
    """The address the sign-in limits count (behind ONBOARDING_TRUSTED_PROXY=1, the proxy's
    X-Forwarded-For / X-Real-IP)."""
    return login_guard.client_address(
        _text(st.context.ip_address), _headers(), login_guard.trusted_proxy(os.environ)
    )


def is_https() -> bool:
    """Served over HTTPS: the proxy says so (X-Forwarded-Proto), or the page's address."""
    proto = {k.lower(): v for k, v in _headers().items()}.get("x-forwarded-proto", "")
    url = _text(st.context.url) or ""
    return proto.split(",")[0].strip().lower() == "https" or url.lower().startswith("https://")


def is_active(username: str, sid: str) -> bool:
    with data.reading() as session:
        return session_store.is_active(session, tokens.session_key(sid), username, now())


def start(session: Session, username: str, stamp: str, client: str, days: float) -> None:
    """A password sign-in: its row (in the caller's unit of work) and this session's id."""
    sid = tokens.new_session_id()
    moment = now()
    session_store.start(
        session, tokens.session_key(sid), username, moment, moment + dt.timedelta(days), client
    )
    st.session_state[SID_KEY] = sid
    st.session_state[STAMP_KEY] = stamp


def valid(user: auth.User | None) -> bool:
    """Is this run's signed-in session still good: the login exists, its password is the
    one it signed in with, and its row is neither revoked nor expired?"""
    sid = st.session_state.get(SID_KEY)
    if user is None or not isinstance(sid, str) or st.session_state.get(STAMP_KEY) != user.stamp:
        return False
    return is_active(user.username, sid)


def end(authenticator: stauth.Authenticate, revoke: bool) -> None:
    """Sign out (and delete the cookie); `revoke`: the user asked, so the row ends too."""
    sid = st.session_state.pop(SID_KEY, None)
    st.session_state.pop(STAMP_KEY, None)
    username = str(st.session_state.get("username") or "sign-out")
    authenticator.logout(location="unrendered")  # also deletes the browser's cookie
    if revoke and isinstance(sid, str):
        with db.write_session(data.engine(), username) as session:
            session_store.revoke(session, tokens.session_key(sid), now())


class BrowserCookies:
    """What the authenticator's cookie model asks of a cookie manager (set and delete),
    without a component: each write is a `document.cookie` statement that
    `write_cookies()` draws once the run knows where (no iframe, no extra run)."""

    def __init__(self, key: str = "init") -> None:
        self.cookies: dict[str, str] = {}  # never read: SessionCookie reads the request

    @staticmethod
    def _queue(statement: str) -> None:
        st.session_state.setdefault(COOKIE_WRITES, []).append([statement, COOKIE_WRITE_RUNS])

    def set(
        self,
        cookie: str,
        val: str,
        expires_at: dt.datetime | None = None,
        secure: bool | None = None,
        same_site: str | None = None,
        **_: Any,
    ) -> None:
        self._queue(cookie_statement(cookie, val, expires_at, secure, same_site))

    def delete(self, cookie: str, key: str = "delete") -> None:
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        self._queue(cookie_statement(cookie, "", epoch, None, SAME_SITE))


def cookie_statement(
    name: str, value: str, expires: dt.datetime | None, secure: bool | None, same_site: str | None
) -> str:
    """One `document.cookie = ...;` statement (JSON-quoted, `<` escaped: never a tag)."""
    parts = [f"{name}={value}", "path=/"]
    if expires is not None:  # naive: this server's local time, as datetime.now() gives
        gmt = expires.astimezone(dt.UTC)
        parts.append("expires=" + gmt.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    if same_site:
        parts.append(f"SameSite={same_site.capitalize()}")
    if secure:
        parts.append("Secure")
    return "document.cookie = " + json.dumps("; ".join(parts)).replace("<", "\\u003c") + ";"


def write_cookies() -> None:
    """Draw this session's pending cookie writes (a script, nothing visible): call once
    per run where an element may go (before the page, which may stop the run)."""
    pending = st.session_state.get(COOKIE_WRITES)
    if not pending:
        return
    script = "".join(statement for statement, _ in pending)
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True, width="content")
    left = [[statement, runs - 1] for statement, runs in pending if runs > 1]
    st.session_state[COOKIE_WRITES] = left


# The authenticator's cookie model makes its manager as `stx.CookieManager()`: give
# that module (only) BrowserCookies in its place.
cookie_model.stx = SimpleNamespace(CookieManager=BrowserCookies)


class SessionCookie(CookieModel):
    """The authenticator's cookie with a session id, checked against the database."""

    lookup: Callable[[str], auth.User | None]
    _deleted: bool

    def get_cookie(self) -> Any:
        if st.session_state.get("logout"):
            return False  # signed out in this browser session: the cookie is not read
        token = browser_cookie(str(self.cookie_name))
        if token is None:
            return None
        claims = tokens.decode(token, str(self.cookie_key), time.time())
        user = self.lookup(claims.username) if claims else None
        if (
            claims is None
            or user is None
            or user.stamp != claims.stamp
            or not is_active(user.username, claims.sid)
        ):
            self.delete_cookie()
            return None
        st.session_state[SID_KEY] = claims.sid
        st.session_state[STAMP_KEY] = claims.stamp
        return {"username": claims.username, "exp_date": claims.exp_date}

    def set_cookie(self) -> None:
        sid, stamp = st.session_state.get(SID_KEY), st.session_state.get(STAMP_KEY)
        if not self.cookie_expiry_days or not isinstance(sid, str) or not isinstance(stamp, str):
            return
        expires = dt.datetime.now() + dt.timedelta(days=float(self.cookie_expiry_days))
        self.exp_date = expires.timestamp()
        claims = tokens.Claims(str(st.session_state["username"]), self.exp_date, sid, stamp)
        self.cookie_manager.set(
            self.cookie_name,
            tokens.encode(claims, str(self.cookie_key)),
            expires_at=expires,
            secure=True if is_https() else None,
            same_site=SAME_SITE,
        )

    def delete_cookie(self) -> None:
        if getattr(self, "_deleted", False):  # once per run
            return
        self._deleted = True
        self.cookie_manager.delete(self.cookie_name)


def install(authenticator: stauth.Authenticate, lookup: Callable[[str], auth.User | None]) -> None:
    """Make this run's authenticator use SessionCookie (the same instance, its class swapped)."""
    model = authenticator.cookie_controller.cookie_model
    model.__class__ = SessionCookie
    model.lookup = lookup
    model._deleted = False
