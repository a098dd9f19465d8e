"""The digest and the notices in the app (issue 17): the digest's counts are the Today
page's for the signed-in owner; the Users page sets a login's digest; the sidebar's bell
lists what changed (a reply, an assignment) and each notice is marked read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from lib import notices
from lib.accounts import digest_prefs
from lib.digest import build
from lib.digest import store as digest_store
from lib.digest.settings import DigestSettings
from lib.program import report_store
from lib.replies import store as reply_store
from lib.store import db, models
from tests.apptest_support import AS_OF, page_errors


def test_the_digest_counts_are_the_today_pages(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    at = login_app("priya")
    shown = {m.label: m.value for m in at.metric}
    engine = db.make_engine(demo_db_url)
    with db.read_session(engine) as session:
        reports, facts = report_store.build(session, AS_OF), digest_store.facts(session, AS_OF)
    engine.dispose()
    found = build.owner_digest(reports, facts, AS_OF, "priya", "Priya", DigestSettings().link)
    assert shown["Overdue"] == str(found.counts["overdue"])
    assert shown["Due this week"] == str(found.counts["due_this_week"])
    assert shown["Calls today"] == str(found.counts["calls_today"])
    refunds = next(e.label for e in at.expander if e.label.startswith("Refunds waiting"))
    assert refunds == f"Refunds waiting ({found.counts['refunds']})"


def test_users_page_sets_a_logins_digest(login_app: Callable[..., AppTest], app_env: Path) -> None:
    at = login_app("admin", page="app_pages/users.py")
    assert page_errors(at) == []
    at.selectbox(key="users_digest_user").set_value("priya").run()
    at.multiselect(key="users_digest_channels_priya").set_value(["email", "slack"])
    at.number_input(key="users_digest_hour_priya").set_value(7)
    at.selectbox(key="users_digest_zone_priya").set_value("Europe/Berlin")
    at.text_input(key="users_digest_slack_priya").input("U024BE7LH")
    at.button(key="FormSubmitter:users_digest_priya-Save digest settings").click().run()
    assert page_errors(at) == []
    assert any("Saved" in s.value for s in at.success)
    prefs = digest_prefs.recipients(app_env)["priya"].prefs
    assert prefs == digest_prefs.DigestPrefs(("email", "slack"), 7, "Europe/Berlin", "U024BE7LH")

    at.text_input(key="users_digest_slack_priya").input("@priya")
    at.button(key="FormSubmitter:users_digest_priya-Save digest settings").click().run()
    assert any("Slack member ID" in e.value for e in at.error)
    assert digest_prefs.recipients(app_env)["priya"].prefs.slack_user == "U024BE7LH"


def test_the_bell_lists_what_changed_and_marks_each_read(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    engine = db.make_engine(demo_db_url)
    with db.write_session(engine, "priya") as session:
        mine = session.scalars(
            select(models.Customer).where(models.Customer.owner == "priya")
        ).first()
        theirs = session.scalars(
            select(models.Customer).where(models.Customer.owner == "dana")
        ).first()
        assert mine is not None and theirs is not None
        reply_store.record_manual(session, mine.customer_id, AS_OF, dt.date.today(), "Thanks!")
    with db.write_session(engine, "admin") as session:
        moved = session.get(models.Customer, theirs.customer_id)
        assert moved is not None
        moved.owner = "priya"
    engine.dispose()

    at = login_app("priya")
    bell = next(e for e in at.sidebar.expander if e.label.startswith("Notices"))
    assert bell.label == "Notices (2 new)"
    links = [link.label for link in at.sidebar.get("page_link")]
    assert any("replied" in label for label in links)
    assert any("assigned to you by admin" in label and "dana" in label for label in links)
    first = next(b for b in at.sidebar.button if b.key.startswith("notice_read_reply"))
    first.click().run()
    assert page_errors(at) == []
    assert next(e for e in at.sidebar.expander if e.label.startswith("Notices")).label == (
        "Notices (1 new)"
    )
    at.sidebar.button(key="notice_read_all").click().run()
    assert next(e for e in at.sidebar.expander if e.label.startswith("Notices")).label == "Notices"
    # dana sees nothing of priya's.
    other = login_app("dana")
    assert next(e for e in other.sidebar.expander if e.label.startswith("Notices")).label == (
        "Notices"
    )


def test_the_bell_is_read_once_not_on_every_click(
    login_app: Callable[..., AppTest], demo_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.make_engine(demo_db_url)
    with db.write_session(engine, "priya") as session:
        mine = session.scalars(
            select(models.Customer.customer_id).where(models.Customer.owner == "priya")
        ).first()
        assert mine is not None
        reply_store.record_manual(session, mine, AS_OF, dt.date.today(), "Thanks!")
    engine.dispose()
    at = login_app("priya")
    reads: list[str] = []
    real = notices.for_user

    def counting(session: Any, username: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(username)
        return real(session, username, *args, **kwargs)

    monkeypatch.setattr(notices, "for_user", counting)
    for _ in range(3):
        at.run()  # three clicks
    assert reads == []  # cached since the sign-in's runs
    at.sidebar.button(key="notice_read_all").click().run()
    assert reads == ["priya"]  # Mark read: read again at once
