"""The admin pages, from app.py after sign-in: Data (CSV import) and Users (logins)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from lib.accounts import auth
from lib.store import db, models
from tests.apptest_support import AS_OF, PASSWORD, new_app, page_errors, sign_in
from tests.markdown_text import shown

DATA = "app_pages/data.py"
USERS = "app_pages/users.py"

BAD_CUSTOMERS = (
    b"customer_id,name,segment_entered_on,entry_reason\n"
    b"zeta-1,Zeta,2026-13-01,manual\n"  # row 2: no month 13
    b"zeta-2,Zeta Two,2026-03-10,by_accident\n"  # row 3: unknown entry reason
)
GOOD_CUSTOMERS = (
    "customer_id,name,owner,segment_entered_on,entry_reason\n"
    f"zeta-1,Zeta Labs,priya,{AS_OF.isoformat()},manual\n"
).encode()


def customers(db_url: str) -> int:
    engine = db.make_engine(db_url)
    try:
        with db.read_session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(models.Customer)) or 0)
    finally:
        engine.dispose()


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key="data_uploads").set_value([(name, content, "text/csv")])
    at.run()
    at.button(key="data_import").click()
    return at.run()


def test_import_shows_every_problem_and_writes_nothing(
    login_app: Callable[..., AppTest], demo_db_url_any: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_db_url = demo_db_url_any  # SQLite, then PostgreSQL
    monkeypatch.setenv("ONBOARDING_DATABASE_URL", demo_db_url)
    before = customers(demo_db_url)
    at = upload(login_app("admin", page=DATA), "customers.csv", BAD_CUSTOMERS)
    assert not at.exception
    assert "Import refused, nothing was written: 2 problem(s)" in at.error[0].value
    problems = at.dataframe[0].value
    assert list(problems[["Row", "Column", "Value"]].itertuples(index=False, name=None)) == [
        (2, "segment_entered_on", "2026-13-01"),
        (3, "entry_reason", "by_accident"),
    ]
    assert customers(demo_db_url) == before


def test_import_adds_and_every_page_sees_it(
    login_app: Callable[..., AppTest], demo_db_url_any: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_db_url = demo_db_url_any  # SQLite, then PostgreSQL
    monkeypatch.setenv("ONBOARDING_DATABASE_URL", demo_db_url)
    at = login_app("admin", page=DATA)
    at.switch_page("app_pages/customers.py")
    at.run()  # the customers table is now cached
    at.switch_page(DATA)
    at.run()
    upload(at, "customers.csv", GOOD_CUSTOMERS)
    assert not page_errors(at)
    assert "Imported: 1 rows added or updated." in at.success[0].value
    assert customers(demo_db_url) == 41
    at.switch_page("app_pages/customers.py")
    at.run()
    assert "Zeta Labs" in set(at.dataframe[0].value["Customer"])  # the cache was cleared


# ---------------------------------------------------------------------- users


def usernames(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["Username"])


def test_users_list(login_app: Callable[..., AppTest]) -> None:
    at = login_app("admin", page=USERS)
    assert not page_errors(at)
    assert usernames(at) == ["admin", "dana", "lead", "priya"]
    assert "admin" not in at.selectbox(key="users_remove_user").options  # not yourself


def test_add_a_user_who_can_sign_in(login_app: Callable[..., AppTest], app_env: Path) -> None:
    at = login_app("admin", page=USERS)
    at.text_input(key="users_add_username").input("Kim")
    at.selectbox(key="users_add_role").set_value("leadership")
    at.text_input(key="users_add_name").input("Kim Lee")
    at.text_input(key="users_add_password").input("a-long-password-9")
    at.button(key="FormSubmitter:users_add-Add login").click()
    at.run()
    assert not page_errors(at)
    assert "Done: add kim as leadership." in at.success[0].value
    assert "kim" in usernames(at)
    assert {u.username: u.role for u in auth.users(app_env)}["kim"] == "leadership"
    fresh = sign_in(new_app().run(), "kim", "a-long-password-9")
    fresh.run()
    assert any("outcomes" in t.value.lower() for t in fresh.title)


@pytest.mark.parametrize(
    "password,error",
    [
        ("short", "at least 10 characters"),  # lib.accounts.auth's rule, shown inline
    ],
)
def test_add_refuses_bad_input(
    login_app: Callable[..., AppTest], password: str, error: str
) -> None:
    at = login_app("admin", page=USERS)
    at.text_input(key="users_add_username").input("kim")
    at.text_input(key="users_add_password").input(password)
    at.button(key="FormSubmitter:users_add-Add login").click()
    at.run()
    assert error in at.error[0].value
    assert "kim" not in usernames(at)


def test_change_role_reset_password_remove(
    login_app: Callable[..., AppTest], app_env: Path
) -> None:
    at = login_app("admin", page=USERS)
    at.selectbox(key="users_role_user").set_value("dana")
    at.selectbox(key="users_role_role").set_value("admin")
    at.button(key="FormSubmitter:users_role-Change role").click()
    at.run()
    assert {u.username: u.role for u in auth.users(app_env)}["dana"] == "admin"

    at.selectbox(key="users_password_user").set_value("priya")
    at.text_input(key="users_password_new").input("brand-new-password")
    at.button(key="FormSubmitter:users_password-Reset password").click()
    at.run()
    assert "Done: reset priya's password." in shown(at.success[0].value)
    old = sign_in(new_app().run(), "priya", PASSWORD)
    assert [e.value for e in old.error] == ["Wrong username or password."]
    new = sign_in(new_app().run(), "priya", "brand-new-password")
    new.run()
    assert any("Today" in t.value for t in new.title)

    at.selectbox(key="users_remove_user").set_value("lead")
    at.checkbox(key="users_remove_sure").check()
    at.button(key="FormSubmitter:users_remove-Remove login").click()
    at.run()
    assert "lead" not in usernames(at)
    assert "lead" not in {u.username for u in auth.users(app_env)}


def test_the_last_admin_stays_admin(login_app: Callable[..., AppTest], app_env: Path) -> None:
    at = login_app("admin", page=USERS)
    at.selectbox(key="users_role_user").set_value("admin")
    at.selectbox(key="users_role_role").set_value("team")
    at.button(key="FormSubmitter:users_role-Change role").click()
    at.run()
    assert "last admin" in at.error[0].value
    assert {u.username: u.role for u in auth.users(app_env)}["admin"] == "admin"


def test_login_changes_are_in_the_audit_log(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    at = login_app("admin", page=USERS)
    at.selectbox(key="users_password_user").set_value("dana")
    at.text_input(key="users_password_new").input("another-password-1")
    at.button(key="FormSubmitter:users_password-Reset password").click()
    at.run()
    engine = db.make_engine(demo_db_url)
    with db.read_session(engine) as session:
        entry = session.scalars(
            select(models.AuditLog).where(models.AuditLog.entity == "logins")
        ).one()
    engine.dispose()
    assert (entry.user, entry.entity_id, entry.changes) == ("admin", "dana", {"password": "reset"})
    assert "another-password-1" not in str(entry.changes)


def test_a_password_reset_lifts_a_lockout(login_app: Callable[..., AppTest]) -> None:
    locked = new_app().run()
    for _ in range(5):
        sign_in(locked, "priya", "not-the-password")
    assert "Too many failed sign-ins" in locked.error[0].value
    at = login_app("admin", page=USERS)
    at.selectbox(key="users_password_user").set_value("priya")
    at.text_input(key="users_password_new").input("brand-new-password")
    at.button(key="FormSubmitter:users_password-Reset password").click()
    at.run()
    again = sign_in(new_app().run(), "priya", "brand-new-password")
    again.run()
    assert any("Today" in t.value for t in again.title)
