"""No traceback ever reaches the screen: a friendly message saying what to do instead."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import new_app


def test_a_failing_page_shows_a_reference_not_a_traceback() -> None:
    def script() -> None:
        from ui import errors

        with errors.friendly():
            raise RuntimeError("secret internals: /srv/app/db.py line 12")

    at = AppTest.from_function(script).run()
    assert not at.exception
    (message,) = [e.value for e in at.error]
    assert message.startswith("Something went wrong on this page.")
    assert "secret internals" not in message


def test_control_flow_passes_through() -> None:
    def script() -> None:
        import streamlit as st

        from ui import errors

        with errors.friendly():
            st.write("before")
            st.stop()
        st.write("never")

    at = AppTest.from_function(script).run()
    assert [m.value for m in at.markdown] == ["before"]
    assert not at.error


def test_unreachable_database_says_what_to_check(
    login_app: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A PostgreSQL URL whose socket directory does not exist.
    monkeypatch.setenv(
        "ONBOARDING_DATABASE_URL",
        "postgresql+psycopg://nobody@/nowhere?host=/nonexistent-socket-dir&connect_timeout=1",
    )
    at = login_app("priya")
    assert not at.exception
    # Sign-in sessions live in the database: the form says what to check, no traceback.
    assert "The database cannot be reached right now" in at.error[0].value
    assert at.text_input  # still the sign-in form


def test_sign_in_form_survives_a_broken_login_file(
    app_env,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    app_env.write_text("credentials: [this is: not, a mapping\n")
    at = new_app().run()
    assert not at.exception
    assert "Something went wrong" in at.error[0].value


def test_database_url_from_secrets(
    app_env,
    demo_db_url: str,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """After --db and the environment, the app reads `database_url` from secrets."""
    from tests.apptest_support import PASSWORD, sign_in

    monkeypatch.delenv("ONBOARDING_DATABASE_URL")
    at = new_app()
    at.secrets["database_url"] = demo_db_url
    sign_in(at.run(), "priya", PASSWORD)
    at.run()
    assert not at.error
    assert [m.value for m in at.metric][0] == "2"  # priya's overdue count in the demo data
