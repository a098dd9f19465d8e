"""AppTest helpers for page tests (imported by tests/conftest.py, "AppTest support" section).

- `clear_streamlit_caches` (autouse): Streamlit caches outlive AppTest instances.
- `auth_path`: a login file with one user per role (USERS), all with PASSWORD.
- `demo_db_url`: a SQLite database with the demo data set as of AS_OF (copied
  from one built per session); `demo_db_url_any`: the same on SQLite and on
  PostgreSQL (parametrised through the `db_url` fixture).
- `app_env`: points the app at `demo_db_url` and `auth_path` (environment).
- `login_app(username, password=PASSWORD, page=None, query=None)`: an AppTest
  started from app.py, signed in, moved to `page` with at.switch_page.
- `sign_in(at, username, password)`: fill and submit the sign-in form.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib import demo
from lib.accounts import auth
from lib.settings import PROJECT_ROOT
from lib.store import db

AS_OF = dt.date(2026, 3, 16)  # a Monday; the demo data and every page's "today"
DEMO_CUSTOMERS = 40
DEMO_SEED = 7
PASSWORD = "correct-horse-battery"
# username -> role. In the demo data as of AS_OF priya has three things to do (an
# overdue outreach, an overdue call, a final outreach due); dana has nothing due.
USERS = {"priya": "team", "dana": "team", "lead": "leadership", "admin": "admin"}
APP = str(PROJECT_ROOT / "app.py")
TIMEOUT_S = 60
LOGIN_BUTTON = "FormSubmitter:Login-Login"


@pytest.fixture(autouse=True)
def clear_streamlit_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()  # disposes cached engines (on_release)


@pytest.fixture(scope="session")
def _auth_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "auth.yaml"
    for username, role in USERS.items():
        auth.add_user(path, username, role, PASSWORD, name=username.title())
    return path


@pytest.fixture
def auth_path(_auth_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "auth" / "auth.yaml"
    path.parent.mkdir()
    shutil.copy(_auth_template, path)
    return path


def demo_data() -> demo.DemoData:
    return demo.generate(customers=DEMO_CUSTOMERS, seed=DEMO_SEED, as_of=AS_OF)


@pytest.fixture(scope="session")
def _demo_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    with db.write_session(engine, "demo") as session:
        demo.load(session, demo_data())
    engine.dispose()
    return path


@pytest.fixture
def demo_db_url(_demo_sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "demo.db"
    shutil.copy(_demo_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def demo_db_url_any(db_url: str) -> str:
    """The demo data in a fresh database: SQLite, then PostgreSQL."""
    engine = db.make_engine(db_url)
    with db.write_session(engine, "demo") as session:
        demo.load(session, demo_data())
    engine.dispose()
    return db_url


@pytest.fixture
def empty_db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, demo_db_url: str, auth_path: Path) -> Path:
    monkeypatch.setenv("ONBOARDING_DATABASE_URL", demo_db_url)
    monkeypatch.setenv("ONBOARDING_AUTH_FILE", str(auth_path))
    monkeypatch.setenv("ONBOARDING_COOKIE_KEY", secrets.token_urlsafe(48))
    return auth_path


def new_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.secrets["auth"] = {"login_sleep_time": 0}
    at.session_state["as_of"] = AS_OF
    return at


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button(key=LOGIN_BUTTON).click()
    return at.run()


def page_errors(at: AppTest) -> list[str]:
    """Every exception and error box on screen (a page test wants none)."""
    return [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]


@pytest.fixture
def login_app(app_env: Path) -> Callable[..., AppTest]:
    def make(
        username: str = "priya",
        password: str = PASSWORD,
        page: str | None = None,
        query: dict[str, str] | None = None,
    ) -> AppTest:
        at = new_app().run()
        sign_in(at, username, password)
        at.run()  # the next click's run (the cookie is written by the browser, not seen here)
        if page is not None:
            for key, value in (query or {}).items():
                at.query_params[key] = value
            at.switch_page(page)
            at.run()
        return at

    return make
