"""Signing in and out with streamlit-authenticator, limited by lib.accounts.login_guard.

The credentials are read from the login file (lib.accounts.auth) on every run and given
to the authenticator as a dict, so it never writes the file itself; roles and
removals take effect on the next click. The cookie that keeps a browser signed
in is signed with the key from ui.settings (never a shipped default) and names a
session row in the database (ui.sessions), checked on every run.

Failed passwords are counted in the database per name and per client address
(lib.accounts.guard_store), so every server shares the limits: the authenticator's
password check is wrapped so that a locked name or address is refused before its
password is even checked, and an unknown name costs the same bcrypt check as a known one.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy.exc import InterfaceError, OperationalError
from streamlit_authenticator.utilities.exceptions import LoginError

from lib.accounts import auth, guard_store, login_guard
from lib.accounts.login_guard import Decision
from lib.store import db
from ui import data, errors, sessions, settings

LOGOUT_REQUESTED = "logout_requested"
LOCK_NOTICE = "login_lock_notice"  # the last lockout message, shown until the next attempt
SIGN_IN_WRITER = "sign-in"  # the unit of work's user for a failed sign-in (nothing audited)
SIGN_IN_FIELDS = {
    "Form name": "Sign in",
    "Username": "Username",
    "Password": "Password",
    "Login": "Login",  # the button's label: its key is FormSubmitter:Login-Login
}


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
    wait = f"Try again in {minutes} minute{'s' if minutes != 1 else ''}"
    if decision.kind == login_guard.ADDRESS:
        return (
            f"Too many failed sign-ins from your network address. {wait}, or ask an admin "
            "to clear the lock (Users page, Sign-in locks)."
        )
    return (
        f"Too many failed sign-ins for this username. {wait}, or ask an admin to reset "
        "your password or clear the lock."
    )


def _limit_password_checks(authenticator: stauth.Authenticate) -> None:
    """Wrap the authenticator's login so every password check goes through the guard."""
    model = authenticator.authentication_controller.authentication_model
    check = model.login

    def guarded(username: str | None, password: str | None, *args: Any, **kwargs: Any) -> Any:
        if not username:  # a cookie sign-in (ui.sessions checked it): no password to guess
            return check(username, password, *args, **kwargs)
        st.session_state.pop(LOCK_NOTICE, None)
        try:
            return attempt(username, password, *args, **kwargs)
        except (OperationalError, InterfaceError):
            # The authenticator turns any error into a LoginError: say what is wrong.
            st.session_state[LOCK_NOTICE] = errors.database_unreachable()
            raise LoginError(st.session_state[LOCK_NOTICE]) from None

    def attempt(username: str, password: str | None, *args: Any, **kwargs: Any) -> Any:
        now = sessions.now()
        address = sessions.client_address()
        with data.reading() as session:  # read on every attempt: other servers count too
            decision = guard_store.check(session, username, address, now)
        if not decision.allowed:
            st.session_state[LOCK_NOTICE] = locked_message(decision)
            raise LoginError(st.session_state[LOCK_NOTICE])
        if username not in model.credentials["usernames"]:
            auth.dummy_check(password or "")  # as long as a known name's wrong password
        signed_in = check(username, password, *args, **kwargs)
        user = users().get(username) if signed_in else None
        with db.write_session(data.engine(), username if user else SIGN_IN_WRITER) as session:
            if user is not None:
                guard_store.record_success(session, username)
                sessions.start(session, username, user.stamp, address, auth.COOKIE_EXPIRY_DAYS)
            else:
                after = guard_store.record_failure(session, username, address, now)
        if user is not None:
            return signed_in
        if not after.allowed:
            st.session_state[LOCK_NOTICE] = locked_message(after)
            raise LoginError(st.session_state[LOCK_NOTICE])
        return False

    model.login = guarded


def authenticator() -> stauth.Authenticate:
    """This run's authenticator (it renders the cookie reader: create it once per run)."""
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
    sessions.install(authenticator, lambda username: users().get(username))
    return authenticator


PENDING_QUERY = "login_pending_query"


def restore_deep_link() -> None:
    """After sign-in, put back the deep link's query if the address lost it.

    The query is forgotten only once a run sees it in the address: a run that put
    it back can be cut short by a click's rerun before the browser has the new
    address, and the next run must then put it back again.
    """
    pending = st.session_state.get(PENDING_QUERY)
    if not pending:
        return
    if st.query_params:
        del st.session_state[PENDING_QUERY]
    else:
        st.query_params.from_dict(pending)


def request_logout() -> None:
    """The sidebar button's callback: the next run signs out (one click)."""
    st.session_state[LOGOUT_REQUESTED] = True


def settle(authenticator: stauth.Authenticate) -> auth.User | None:
    """The signed-in user after this run's checks, or None: asked to sign out (the session
    row is revoked), or the session is no longer good (revoked or expired on any server,
    the login removed, its password changed): signed out and the cookie deleted."""
    if st.session_state.get("authentication_status"):
        if st.session_state.pop(LOGOUT_REQUESTED, False):
            sessions.end(authenticator, revoke=True)
        elif not sessions.valid(current_user()):
            sessions.end(authenticator, revoke=False)
    return current_user()


def sign_in_pages(authenticator: stauth.Authenticate, url_paths: Iterable[str]) -> list[st.Page]:
    """Before sign-in, every URL of the app shows the sign-in form, nothing else.

    Registering the app's URL paths (not its pages) keeps a deep link such as
    /customer?id=acme in the address bar, so the same page opens after sign-in;
    a path the user's role lacks then falls back to the role's default page.
    """

    def sign_in() -> None:
        # The query of a deep link, kept until the user's pages exist.
        if st.query_params:
            st.session_state[PENDING_QUERY] = st.query_params.to_dict()
        _sign_in_form(authenticator)
        if current_user() is None:
            sessions.write_cookies()  # a bad or revoked cookie deleted, or a sign-out
            return
        # Signed in (by the form, or the browser's cookie): build this user's pages now;
        # a new cookie is written by that run (app.py), nothing waits for the browser.
        st.rerun()

    pages = [st.Page(sign_in, title="Sign in", url_path="sign-in", default=True)]
    pages += [st.Page(sign_in, title="Sign in", url_path=path) for path in url_paths]
    return pages


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
