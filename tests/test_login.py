"""The login gate, from app.py: wrong passwords, unknown users, lockout, roles, direct URLs."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bcrypt
import jwt
import pytest
from sqlalchemy import Engine, select, update
from streamlit.testing.v1 import AppTest

from lib.accounts import auth, session_store, tokens
from lib.store import db, models
from tests.apptest_support import PASSWORD, new_app, page_errors, sign_in
from tests.markdown_text import shown
from ui import sessions

PAGES = ("today", "customers", "customer", "meetings", "homework", "outcomes", "data", "users")


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def on_sign_in_form(at: AppTest) -> bool:
    return [t.label for t in at.text_input][:2] == ["Username", "Password"] and bool(
        at.button(key="FormSubmitter:Login-Login")
    )


def reachable(at: AppTest, page: str) -> bool:
    """Does the page exist for this session? (AppTest refuses unregistered pages.)"""
    try:
        at.switch_page(f"app_pages/{page}.py")
    except ValueError:
        return False
    return True


def test_sign_in_form_first(app_env: Path) -> None:
    at = new_app().run()
    assert on_sign_in_form(at)
    assert not page_errors(at)
    assert not at.sidebar.button  # no sign-out before sign-in
    # Every URL is the sign-in form; no page exists (AppTest refuses to switch to one).
    assert not any(reachable(at, p) for p in PAGES)


@pytest.mark.parametrize(
    "username,password",
    [
        ("priya", "wrong-password-1"),  # a known user, wrong password
        ("nobody", PASSWORD),  # an unknown user: the same message
        ("priya", ""),  # no password
    ],
)
def test_wrong_credentials(app_env: Path, username: str, password: str) -> None:
    at = sign_in(new_app().run(), username, password)
    at.run()
    assert on_sign_in_form(at)
    assert [e.value for e in at.error] == ["Wrong username or password."]
    assert not at.exception
    assert at.session_state["authentication_status"] is not True


@pytest.mark.parametrize(
    "username,role,title",
    [
        ("priya", "team", "Today"),  # team lands on Today
        ("lead", "leadership", "Program outcomes"),  # leadership lands on Outcomes
        ("admin", "admin", "Today"),
    ],
)
def test_sign_in_lands_on_the_role_default(
    login_app: Callable[..., AppTest], username: str, role: str, title: str
) -> None:
    at = login_app(username)
    assert not page_errors(at)
    assert not on_sign_in_form(at)
    assert any(title in t for t in titles(at))
    sidebar = [m.value for m in at.sidebar.markdown]
    assert any(f"{username} · {role}" in m for m in sidebar)


@pytest.mark.parametrize(
    "username,allowed",
    [
        ("priya", {"today", "customers", "customer", "meetings", "homework", "outcomes"}),
        ("lead", {"outcomes", "customers", "customer"}),
        ("admin", set(PAGES)),
    ],
)
def test_pages_exist_only_for_the_role(
    login_app: Callable[..., AppTest], username: str, allowed: set[str]
) -> None:
    at = login_app(username)
    assert {p for p in PAGES if reachable(at, p)} == allowed


def test_lockout_after_five_failures(app_env: Path) -> None:
    at = new_app().run()
    for _ in range(4):
        sign_in(at, "priya", "not-the-password")
        assert [e.value for e in at.error] == ["Wrong username or password."]
    sign_in(at, "priya", "not-the-password")  # the fifth failure locks
    assert "Too many failed sign-ins" in at.error[0].value
    sign_in(at, "priya", PASSWORD)  # even the right password is refused now
    at.run()
    assert on_sign_in_form(at)
    assert "Too many failed sign-ins" in at.error[0].value
    # Another user, and another session, are not locked out by priya's failures.
    other = sign_in(new_app().run(), "dana", PASSWORD)
    other.run()
    assert not on_sign_in_form(other)
    # The lock is in the database, not the session: a new session is still locked.
    again = sign_in(new_app().run(), "priya", PASSWORD)
    assert "Too many failed sign-ins" in again.error[0].value


def test_unknown_names_lock_too(app_env: Path) -> None:
    at = new_app().run()
    for _ in range(5):
        sign_in(at, "ghost", "whatever-password")
    assert "Too many failed sign-ins" in at.error[0].value


def test_direct_url_before_sign_in_meets_the_form_then_opens(app_env: Path) -> None:
    at = new_app()
    at.query_params["id"] = "ollivander-games-00033"
    at.switch_page("app_pages/customer.py")  # as if the browser opened /customer?id=...
    at.run()
    assert on_sign_in_form(at)
    assert not any("Ollivander" in t for t in titles(at))
    sign_in(at, "priya", PASSWORD)
    # The page at once, in the run the sign-in started: no wait for the browser's cookie.
    assert titles(at) == ["Ollivander Games"]  # the shared link works after sign-in


def test_direct_url_to_a_page_the_role_lacks(app_env: Path) -> None:
    at = new_app()
    at.switch_page("app_pages/today.py")
    at.run()
    sign_in(at, "lead", PASSWORD)
    at.run()
    # Today does not exist for leadership: Streamlit falls back to the default page.
    assert not any("Today" in t for t in titles(at))
    assert any("outcomes" in t.lower() for t in titles(at))


def test_log_out_with_one_click(login_app: Callable[..., AppTest]) -> None:
    at = login_app("priya")
    at.sidebar.button(key="sidebar_logout").click()
    at.run()
    assert on_sign_in_form(at)
    assert at.session_state["authentication_status"] is None
    assert not any(reachable(at, p) for p in PAGES)  # the pages are gone with the session


def test_removed_login_is_signed_out(login_app: Callable[..., AppTest], app_env: Path) -> None:
    at = login_app("priya")
    auth.remove_user(app_env, "priya")
    at.run()
    assert on_sign_in_form(at)


def test_role_change_applies_on_the_next_click(
    login_app: Callable[..., AppTest], app_env: Path
) -> None:
    at = login_app("priya")
    assert reachable(at, "today")
    config = auth.read_auth(app_env)  # the file edited by hand: the password stays
    config["credentials"]["usernames"]["priya"]["roles"] = ["leadership"]
    auth.write_auth(app_env, config)
    at.run()
    assert not reachable(at, "today")
    assert reachable(at, "outcomes")


def test_a_new_password_in_the_file_signs_the_session_out(
    login_app: Callable[..., AppTest], app_env: Path
) -> None:
    """`onboarding user add` writes the file only: the password's stamp ends the session."""
    at = login_app("priya")
    auth.add_user(app_env, "priya", "team", "a-new-password-1")
    at.run()
    assert on_sign_in_form(at)


def test_cookie_key_is_generated_beside_the_login_file(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONBOARDING_COOKIE_KEY")
    new_app().run()
    key_file = app_env.with_name(".cookie_key")
    assert len(key_file.read_text().strip().encode()) >= auth.MIN_COOKIE_KEY_BYTES
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_short_cookie_key_is_refused_without_a_traceback(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONBOARDING_COOKIE_KEY", "too-short")
    at = new_app().run()
    assert not at.exception
    assert "Something went wrong" in at.error[0].value


def test_no_logins_yet_says_what_to_do(app_env: Path) -> None:
    app_env.unlink()
    at = new_app().run()
    assert "onboarding user ensure-admin" in at.info[0].value


def test_writes_check_the_role_on_the_server(app_env: Path) -> None:
    """ui.access.writing refuses a role even when a page forgot to hide the button."""

    def script() -> None:
        import streamlit as st

        from lib.store import journal
        from ui import access, errors

        st.session_state["authentication_status"] = True
        st.session_state["username"] = st.session_state["as_user"]
        with errors.friendly(), access.writing("record a step") as session:
            st.write(f"wrote as {journal.user_of(session)}")

    for username, allowed in (("lead", False), ("priya", True), ("admin", True)):
        at = AppTest.from_function(script)
        at.session_state["as_user"] = username
        at.run()
        wrote = [m.value for m in at.markdown if m.value.startswith("wrote as")]
        if allowed:
            assert wrote == [f"wrote as {username}"]
        else:
            assert not wrote
            assert (
                shown(at.error[0].value) == "Not allowed: the leadership role cannot record a step."
            )


# ------------------------------------------------------------ server-side sessions


def database() -> Engine:
    return db.make_engine(os.environ["ONBOARDING_DATABASE_URL"])


def session_rows() -> list[tuple[str, bool]]:
    engine = database()
    with db.read_session(engine) as session:
        rows = [
            (row.username, row.revoked_at is not None)
            for row in session.scalars(
                select(models.LoginSession).order_by(models.LoginSession.created_at)
            )
        ]
    engine.dispose()
    return rows


def end_sessions_elsewhere(username: str, expire: bool = False) -> None:
    """What another server (or an admin there) does to the shared database."""
    engine = database()
    with db.write_session(engine, "admin") as session:
        if expire:
            session.execute(update(models.LoginSession).values(expires_at=models.utcnow()))
        else:
            session_store.revoke_user(session, username, models.utcnow())
    engine.dispose()


def test_a_password_sign_in_makes_a_session_row_and_logout_revokes_it(
    login_app: Callable[..., AppTest],
) -> None:
    at = login_app("priya")
    assert session_rows() == [("priya", False)]
    assert isinstance(at.session_state[sessions.SID_KEY], str)
    at.sidebar.button(key="sidebar_logout").click()
    at.run()
    assert on_sign_in_form(at)
    assert session_rows() == [("priya", True)]


@pytest.mark.parametrize("expire", [False, True], ids=["revoked", "expired"])
def test_a_session_ended_on_another_server_is_signed_out_at_the_next_click(
    login_app: Callable[..., AppTest], expire: bool
) -> None:
    at = login_app("priya")
    end_sessions_elsewhere("priya", expire=expire)
    at.run()
    assert on_sign_in_form(at)
    assert not at.exception
    assert at.session_state["authentication_status"] is None


def test_a_session_without_a_row_is_signed_out(login_app: Callable[..., AppTest]) -> None:
    at = login_app("priya")
    at.session_state[sessions.SID_KEY] = "made-up"
    at.run()
    assert on_sign_in_form(at)


class CookieSpy:
    """Records what the cookie manager was asked to set and delete."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.deleted: list[str] = []
        self.set: list[dict[str, Any]] = []
        spy = self

        def delete(manager: Any, cookie: str, key: str = "delete") -> None:
            spy.deleted.append(cookie)

        def set_(manager: Any, cookie: str, val: str, **kwargs: Any) -> None:
            spy.set.append({"cookie": cookie, "value": val, **kwargs})

        monkeypatch.setattr(sessions.BrowserCookies, "delete", delete)
        monkeypatch.setattr(sessions.BrowserCookies, "set", set_)


def cookie_for(
    username: str,
    sid: str | None = None,
    *,
    stamp: str | None = None,
    key: str | None = None,
    drop: str | None = None,
    algorithm: str = "HS256",
) -> str:
    """A cookie as the app makes it (with a session row), or broken in one way."""
    if sid is None:
        sid = tokens.new_session_id()
        engine = database()
        now = models.utcnow()
        with db.write_session(engine, username) as session:
            session_store.start(
                session, tokens.session_key(sid), username, now, now + dt.timedelta(days=1)
            )
        engine.dispose()
    user = {u.username: u for u in auth.users(auth_file())}.get(username)
    payload: dict[str, Any] = {
        "username": username,
        "exp_date": time.time() + 3600,
        "sid": sid,
        "pwd": stamp or (user.stamp if user else "0" * 16),
    }
    payload.pop(drop or "", None)
    secret = key or os.environ["ONBOARDING_COOKIE_KEY"]
    if algorithm == "none":
        head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
        return f"{head}.{body}."
    return jwt.encode(payload, secret + ("x" * 64 if algorithm == "HS512" else ""), algorithm)


def auth_file() -> Path:
    return Path(os.environ["ONBOARDING_AUTH_FILE"])


def revoked_cookie() -> str:
    token = cookie_for("priya")
    end_sessions_elsewhere("priya")
    return token


def removed_users_cookie() -> str:
    token = cookie_for("dana")
    auth.remove_user(auth_file(), "dana")
    return token


def old_password_cookie() -> str:
    token = cookie_for("priya")
    auth.add_user(auth_file(), "priya", "team", "a-new-password-1")
    return token


BAD_COOKIES: dict[str, Callable[[], str]] = {
    "alg none": lambda: cookie_for("priya", algorithm="none"),
    "HS512": lambda: cookie_for("priya", algorithm="HS512"),
    "no exp_date": lambda: cookie_for("priya", drop="exp_date"),
    "no username": lambda: cookie_for("priya", drop="username"),
    "no sid": lambda: cookie_for("priya", drop="sid"),
    "a bad signature": lambda: cookie_for("priya", key="another-key-" + "y" * 40),
    "malformed": lambda: "not.a.jwt",
    "an unknown user": lambda: cookie_for("ghost"),
    "a removed user": removed_users_cookie,
    "an unknown session id": lambda: cookie_for("priya", sid="made-up-session-id"),
    "another user's session": lambda: cookie_for("priya", sid=tokens.new_session_id()),
    "a revoked session": revoked_cookie,
    "an old password": old_password_cookie,
}


@pytest.mark.parametrize("make", BAD_COOKIES.values(), ids=BAD_COOKIES.keys())
def test_a_bad_cookie_is_deleted_and_shows_the_sign_in_form(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, make: Callable[[], str]
) -> None:
    token = make()
    spy = CookieSpy(monkeypatch)
    monkeypatch.setattr(sessions, "browser_cookie", lambda name: token)
    at = new_app().run()
    assert on_sign_in_form(at)
    assert not at.exception and not at.error  # never "Something went wrong"
    assert spy.deleted == [auth.COOKIE_NAME]
    assert at.session_state["authentication_status"] is not True


def test_a_good_cookie_signs_in(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = cookie_for("priya")
    spy = CookieSpy(monkeypatch)
    monkeypatch.setattr(sessions, "browser_cookie", lambda name: token)
    at = new_app().run()
    assert not on_sign_in_form(at)
    assert any("Today" in t for t in titles(at))
    assert spy.deleted == []


@pytest.mark.parametrize("https", [False, True])
def test_the_cookie_carries_the_session_and_is_secure_over_https(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, https: bool
) -> None:
    spy = CookieSpy(monkeypatch)
    monkeypatch.setattr(sessions, "is_https", lambda: https)
    at = sign_in(new_app().run(), "priya", PASSWORD)
    [cookie] = spy.set
    assert cookie["cookie"] == auth.COOKIE_NAME
    assert cookie["same_site"] == "strict"
    assert cookie["secure"] is (True if https else None)
    claims = tokens.decode(cookie["value"], os.environ["ONBOARDING_COOKIE_KEY"], time.time())
    assert claims is not None and claims.username == "priya"
    assert claims.sid == at.session_state[sessions.SID_KEY]


@pytest.mark.parametrize(
    "username,password,checks",
    [
        ("priya", "wrong-password-1", 1),  # a known name: its hash
        ("nobody", "wrong-password-1", 1),  # an unknown name: the dummy hash, same cost
        ("priya", PASSWORD, 1),
    ],
)
def test_every_password_attempt_costs_one_bcrypt_check(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, username: str, password: str, checks: int
) -> None:
    at = new_app().run()
    calls: list[bytes] = []
    real = bcrypt.checkpw

    def counting(secret: bytes, hashed: bytes) -> bool:
        calls.append(hashed)
        return real(secret, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting)
    sign_in(at, username, password)
    assert len(calls) == checks


def test_a_locked_name_costs_no_bcrypt_check(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = new_app().run()
    for _ in range(5):
        sign_in(at, "priya", "not-the-password")
    calls: list[bytes] = []
    monkeypatch.setattr(bcrypt, "checkpw", lambda secret, hashed: calls.append(hashed))
    sign_in(at, "priya", PASSWORD)
    assert "Too many failed sign-ins" in at.error[0].value
    assert calls == []


def test_an_admin_clears_a_lock_on_the_users_page(login_app: Callable[..., AppTest]) -> None:
    locked = new_app().run()
    for _ in range(5):
        sign_in(locked, "priya", "not-the-password")
    at = login_app("admin", page="app_pages/users.py")
    assert any("**priya**" in m.value for m in at.markdown)
    at.button(key="users_unlock_name_priya").click()
    at.run()
    assert at.success and "lock" in at.success[0].value  # "Done: clear a sign-in lock (name)."
    assert not any("**priya**" in m.value for m in at.markdown)
    again = sign_in(new_app().run(), "priya", PASSWORD)
    again.run()
    assert any("Today" in t for t in titles(again))


def test_a_too_long_password_is_refused_clearly_on_the_users_page(
    login_app: Callable[..., AppTest],
) -> None:
    at = login_app("admin", page="app_pages/users.py")
    at.selectbox(key="users_password_user").set_value("dana")
    at.text_input(key="users_password_new").input("é" * 40)
    at.button(key="FormSubmitter:users_password-Reset password").click()
    at.run()
    assert "at most 72 bytes" in at.error[0].value
    assert not at.exception


# ------------------------------------------- the cookie written without a component


def cookie_scripts(at: AppTest) -> list[str]:
    return [str(e.proto.body) for e in at.get("html") if "document.cookie" in e.proto.body]


@pytest.mark.parametrize(
    "expires,secure,same_site,wanted,unwanted",
    [
        (
            dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            True,
            "strict",
            ["c=v", "path=/", "expires=Sat, 02 Jan 2027 03:04:05 GMT", "SameSite=Strict", "Secure"],
            [],
        ),
        (None, None, "strict", ["c=v", "SameSite=Strict"], ["expires=", "Secure"]),
        (None, False, None, ["c=v", "path=/"], ["SameSite", "Secure"]),
    ],
)
def test_a_cookie_statement_says_exactly_what_was_asked(
    expires: dt.datetime | None,
    secure: bool | None,
    same_site: str | None,
    wanted: list[str],
    unwanted: list[str],
) -> None:
    statement = sessions.cookie_statement("c", "v", expires, secure, same_site)
    assert statement.startswith("document.cookie = ")
    text = json.loads(statement.removeprefix("document.cookie = ").removesuffix(";"))
    assert [w for w in wanted if w not in text.split("; ")] == []
    assert [u for u in unwanted if u in text] == []


def test_a_cookie_statement_never_closes_the_script() -> None:
    statement = sessions.cookie_statement("c", "</script><b>x", None, None, None)
    assert "<" not in statement


def test_signing_in_writes_the_cookie_in_the_first_page_runs(app_env: Path) -> None:
    at = sign_in(new_app().run(), "priya", PASSWORD)
    assert any("Today" in t for t in titles(at))  # the pages at once
    [script] = cookie_scripts(at)
    token = script.split(f"{auth.COOKIE_NAME}=")[1].split(";")[0]
    claims = tokens.decode(token, os.environ["ONBOARDING_COOKIE_KEY"], time.time())
    assert claims is not None and claims.sid == at.session_state[sessions.SID_KEY]
    at.run()
    assert len(cookie_scripts(at)) == sessions.COOKIE_WRITE_RUNS - 1  # drawn once more
    at.run()
    assert cookie_scripts(at) == []  # then never again


def test_signing_out_deletes_the_cookie(login_app: Callable[..., AppTest]) -> None:
    at = login_app("priya")
    at.sidebar.button(key="sidebar_logout").click()
    at.run()
    assert on_sign_in_form(at)
    assert any(f"{auth.COOKIE_NAME}=;" in s and "1970" in s for s in cookie_scripts(at))
