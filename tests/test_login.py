"""The login gate, from app.py: wrong passwords, unknown users, lockout, roles, direct URLs."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.accounts import auth
from tests.apptest_support import PASSWORD, new_app, page_errors, sign_in

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
    # The lock is per process, not per session: a new session is still locked.
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
    assert "Signed in" in at.success[0].value  # the cookie round trip, then the page
    at.run()
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
    auth.add_user(app_env, "priya", "leadership", PASSWORD)
    at.run()
    assert not reachable(at, "today")
    assert reachable(at, "outcomes")


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
            assert at.error[0].value == ("Not allowed: the leadership role cannot record a step.")
