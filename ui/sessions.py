"""Server-side sessions behind the sign-in cookie (lib.accounts.tokens, session_store).

streamlit-authenticator's cookie model is replaced by `SessionCookie` (its class is
swapped on the authenticator's instance, which keeps the cookie manager it made): the
cookie's JWT carries a random session id whose row every run checks, on whichever
server. Any problem with a cookie (forged, another algorithm, a missing claim, expired,
revoked, a removed login, an old password) deletes it and shows the sign-in form.

The cookie is set by JavaScript (extra_streamlit_components' CookieManager), so it
cannot be HttpOnly; it is SameSite=Strict, and Secure when the page is served over HTTPS.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.models import CookieModel

from lib.accounts import auth, login_guard, session_store, tokens
from lib.store import db
from ui import data

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SID_KEY = "login_session_id"  # this browser session's id (its cookie's `sid`)
STAMP_KEY = "login_password_stamp"  # the password stamp it signed in with
SAME_SITE = "strict"


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
        # Once per run: the cookie manager's delete is a component with a fixed key.
        if getattr(self, "_deleted", False):
            return
        self._deleted = True
        try:
            self.cookie_manager.delete(self.cookie_name)
        except KeyError:
            pass  # the component had not reported the cookie yet; it is deleted anyway


def install(authenticator: stauth.Authenticate, lookup: Callable[[str], auth.User | None]) -> None:
    """Make this run's authenticator use SessionCookie (the same instance, its class swapped:
    a second CookieManager would be a second component)."""
    model = authenticator.cookie_controller.cookie_model
    model.__class__ = SessionCookie
    model.lookup = lookup
    model._deleted = False
