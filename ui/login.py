"""Signing in and out with streamlit-authenticator, limited by lib.login_guard.

The credentials are read from the login file (lib.auth) on every run and given
to the authenticator as a dict, so it never writes the file itself; roles and
removals take effect on the next click. The cookie that keeps a browser signed
in is signed with the key from ui.settings (never a shipped default).

Failed passwords are counted by a process-wide LoginGuard (see lib/login_guard.py
for why process-wide): the authenticator's password check is wrapped so that a
locked name is refused before its password is even checked.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from lib import auth
from lib.login_guard import Decision, LoginGuard
from ui import settings

LOGOUT_REQUESTED = "logout_requested"
LOCK_NOTICE = "login_lock_notice"  # the last lockout message, shown until the next attempt
SIGN_IN_FIELDS = {
    "Form name": "Sign in",
    "Username": "Username",
    "Password": "Password",
    "Login": "Login",  # the button's label: its key is FormSubmitter:Login-Login
}


@st.cache_resource(show_spinner=False)
def guard() -> LoginGuard:
    """One guard per server process: it outlives reruns and sessions."""
    return LoginGuard()


@st.cache_resource(show_spinner=False)
def _cookie_key(auth_path: str, configured: str | None) -> str:
    # Computed once per process so that two first sessions never race to create
    # two different key files.
    return auth.cookie_key(configured, key_file=Path(auth_path).with_name(".cookie_key"))


def cookie_key() -> str:
    configured = settings.secret("auth", "cookie_key")
    return _cookie_key(str(settings.auth_file()), str(configured) if configured else None)


@st.cache_data(show_spinner=False, max_entries=8)
def _users(path: str, mtime_ns: int) -> dict[str, auth.User]:
    # mtime_ns is only part of the cache key: a changed file is read again at once.
    return {u.username: u for u in auth.users(Path(path))}


def users() -> dict[str, auth.User]:
    """Every login in the file (cached until the file changes)."""
    path = settings.auth_file()
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    return _users(str(path), mtime)


def current_user() -> auth.User | None:
    """The signed-in user as the login file describes them now, or None."""
    if not st.session_state.get("authentication_status"):
        return None
    return users().get(str(st.session_state.get("username")))


def locked_message(decision: Decision) -> str:
    minutes = decision.retry_minutes
    return (
        f"Too many failed sign-ins for this username. Try again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}, or ask an admin to reset your password."
    )


def _limit_password_checks(authenticator: stauth.Authenticate) -> None:
    """Wrap the authenticator's login so every password check goes through the guard."""
    model = authenticator.authentication_controller.authentication_model
    check = model.login

    def guarded(username: str | None, password: str | None, *args: Any, **kwargs: Any) -> Any:
        if not username:  # a cookie sign-in: no password to guess
            return check(username, password, *args, **kwargs)
        st.session_state.pop(LOCK_NOTICE, None)
        now = dt.datetime.now(dt.UTC)
        decision = guard().check(username, now)
        if not decision.allowed:
            st.session_state[LOCK_NOTICE] = locked_message(decision)
            raise LoginError(st.session_state[LOCK_NOTICE])
        signed_in = check(username, password, *args, **kwargs)
        if signed_in:
            guard().record_success(username)
        else:
            after = guard().record_failure(username, now)
            if not after.allowed:
                st.session_state[LOCK_NOTICE] = locked_message(after)
                raise LoginError(st.session_state[LOCK_NOTICE])
        return signed_in

    model.login = guarded


def _authenticator() -> stauth.Authenticate:
    config = auth.read_auth(settings.auth_file())
    authenticator = stauth.Authenticate(
        {"usernames": config["credentials"]["usernames"]},
        cookie_name=auth.COOKIE_NAME,
        cookie_key=cookie_key(),
        cookie_expiry_days=auth.COOKIE_EXPIRY_DAYS,
        auto_hash=False,
        login_sleep_time=settings.login_sleep_time(),
    )
    _limit_password_checks(authenticator)
    return authenticator


def request_logout() -> None:
    """The sidebar button's callback: the next run signs out (one click)."""
    st.session_state[LOGOUT_REQUESTED] = True


def gate() -> auth.User | None:
    """The signed-in user, or None after drawing the sign-in form.

    Called at the top of every run, before any page exists.
    """
    authenticator = _authenticator()  # also reads the browser's sign-in cookie
    signed_in = bool(st.session_state.get("authentication_status"))
    if signed_in and st.session_state.pop(LOGOUT_REQUESTED, False):
        authenticator.logout(location="unrendered")
    elif signed_in and current_user() is None:
        # Signed in, but the login was removed from the file since.
        authenticator.logout(location="unrendered")
    user = current_user()
    if user is not None:
        return user
    _sign_in_form(authenticator)
    return current_user()


def _sign_in_form(authenticator: stauth.Authenticate) -> None:
    _, middle, _ = st.columns([1, 1.2, 1])
    with middle:
        st.title(":material/rocket_launch: Onboarding console", anchor=False)
        st.caption("The 8-week onboarding program: worklist, audits, meetings and outcomes.")
        try:
            authenticator.login(location="main", fields=SIGN_IN_FIELDS, key="Login")
        except LoginError:
            pass  # the guard's lockout: its message is in LOCK_NOTICE
        status = st.session_state.get("authentication_status")
        if st.session_state.get(LOCK_NOTICE):
            st.error(st.session_state[LOCK_NOTICE], icon=":material/lock_clock:")
        elif status is False:
            st.error("Wrong username or password.", icon=":material/error:")
        elif status is None and not users():
            st.info(
                "No logins exist yet. On the server run `onboarding user ensure-admin` "
                "(prints a first admin password) or `onboarding user add NAME --role admin`.",
                icon=":material/person_add:",
            )
