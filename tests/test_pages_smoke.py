"""Every page of every role renders from app.py without an exception or an error box."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import page_errors

ROLE_PAGES = {
    "priya": ("today", "customers", "customer", "meetings", "homework", "outcomes"),
    "lead": ("outcomes", "customers", "customer"),
    "admin": (
        "today",
        "customers",
        "customer",
        "meetings",
        "homework",
        "outcomes",
        "data",
        "users",
    ),
}


@pytest.mark.parametrize("user", list(ROLE_PAGES))
def test_every_page_renders(
    login_app: Callable[..., AppTest],
    user: str,
    demo_db_url_any: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONBOARDING_DATABASE_URL", demo_db_url_any)  # SQLite, then PostgreSQL
    at = login_app(user)
    at.query_params["id"] = "ollivander-games-00033"  # for the customer page
    for page in ROLE_PAGES[user]:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
        assert not page_errors(at), (page, page_errors(at))
        assert at.title, page  # every page says where you are
