"""The Homework page, started from app.py after login (AppTest).

Build a demo customer's homework (a suggestion, a library task, a task of our
own, reordered and reworded), copy the email, mark it sent; then import usage
that meets a task's condition and see it done with the evidence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from lib import homework, ingest
from lib.store import db, models
from tests.apptest_support import AS_OF, page_errors

PAGE = "app_pages/homework.py"


@pytest.fixture
def app_engine(
    app_env: object, demo_db_url_any: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """The app's database, on SQLite and then on PostgreSQL (demo_db_url_any)."""
    monkeypatch.setenv("ONBOARDING_DATABASE_URL", demo_db_url_any)
    engine = db.make_engine(demo_db_url_any)
    yield engine
    engine.dispose()


def danas_customer(engine: Engine) -> str:
    """An active customer of dana's whose homework step is not recorded yet."""
    with db.read_session(engine) as session:
        recorded = select(models.Step.customer_id).where(models.Step.step == "homework")
        found = session.scalars(
            select(models.Customer.customer_id)
            .where(
                models.Customer.owner == "dana",
                models.Customer.status == "active",
                models.Customer.customer_id.not_in(recorded),
            )
            .order_by(models.Customer.customer_id)
        ).first()
    assert found is not None
    return found


def drafts(engine: Engine, customer_id: str) -> list[homework.AssignmentView]:
    with db.read_session(engine) as session:
        return homework.assignments(session, customer_id)


def test_page_renders_without_a_customer(login_app: Callable[..., AppTest]) -> None:
    at = login_app("dana", page=PAGE)
    assert page_errors(at) == []
    assert at.selectbox(key="hw_customer:").value is None


def test_the_address_follows_the_picked_customer(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id = danas_customer(app_engine)
    at = login_app("dana", page=PAGE)
    at.selectbox(key="hw_customer:").set_value(customer_id).run()
    assert page_errors(at) == []
    # The pick is in the address (a link to share), and the picker shows it.
    assert at.query_params["customer"] == customer_id
    assert at.selectbox(key=f"hw_customer:{customer_id}").value == customer_id
    # An address naming nobody says so and leaves the pick open.
    at.query_params["customer"] = "zz-no-such-customer"
    at.run()
    assert page_errors(at) == []
    assert any("zz\\-no\\-such\\-customer" in w.value for w in at.warning)
    assert at.selectbox(key="hw_customer:").value is None


def test_build_send_and_verify(login_app: Callable[..., AppTest], app_engine: Engine) -> None:
    customer_id = danas_customer(app_engine)
    at = login_app("dana", page=PAGE, query={"customer": customer_id})
    assert page_errors(at) == []
    assert at.selectbox(key=f"hw_customer:{customer_id}").value == customer_id  # ?customer=

    # A suggestion, the KPI dashboard from the library, and a task of our own.
    add_keys = [b.key for b in at.button if (b.key or "").startswith("hw_add_")]
    assert add_keys, "no suggestions shown"
    suggested = add_keys[0].removeprefix("hw_add_")
    at.button(key=add_keys[0]).click().run()
    assert page_errors(at) == []
    if suggested != "kpi_dashboard":
        at.selectbox(key="hw_lib_pick").set_value("kpi_dashboard").run()
        at.button(key="hw_lib_add").click().run()
    at.text_input(key="hw_custom_title").input("Share the dashboard in #product")
    at.text_area(key="hw_custom_body").input("Post the link on Monday.")
    at.button(key="hw_custom_add").click().run()
    assert page_errors(at) == []
    items = drafts(app_engine, customer_id)
    assert [i.task_id for i in items][-1] == homework.CUSTOM_TASK
    assert "kpi_dashboard" in [i.task_id for i in items]

    # Move our task to the top and reword the dashboard task.
    custom = items[-1]
    for _ in range(len(items) - 1):
        at.button(key=f"hw_up_{custom.id}").click().run()
    dashboard = next(i for i in drafts(app_engine, customer_id) if i.task_id == "kpi_dashboard")
    at.text_input(key=f"hw_title_{dashboard.id}").input("Build the activation dashboard")
    at.button(key=f"hw_save_{dashboard.id}").click().run()
    assert page_errors(at) == []
    items = drafts(app_engine, customer_id)
    assert items[0].id == custom.id
    assert next(i for i in items if i.id == dashboard.id).title == "Build the activation dashboard"

    # The email: Markdown and plain text, with the tasks in order and their links.
    markdown, text = (c.value for c in at.code[:2])
    assert "### 1. Share the dashboard in \\#product" in markdown  # a title is escaped
    assert "Build the activation dashboard" in markdown
    assert "(https://posthog.com/docs/product-analytics/dashboards)" in markdown
    assert "1. Share the dashboard in #product" in text and "](" not in text
    assert len(at.get("download_button")) == 2

    at.date_input(key="hw_sent_on").set_value(AS_OF)
    at.button(key="hw_mark_sent").click().run()
    assert page_errors(at) == []
    assert "Homework sent" in at.success[0].value
    with db.read_session(app_engine) as session:
        step = session.scalars(
            select(models.Step).where(
                models.Step.customer_id == customer_id, models.Step.step == "homework"
            )
        ).one()
    assert (step.status, step.date) == ("done", AS_OF)
    assert all(i.status in ("sent", "done") for i in drafts(app_engine, customer_id))

    # Five days of dashboards viewed after sending, imported: the task is done.
    usage = "customer_id,date,metric,value\n" + "".join(
        f"{customer_id},{AS_OF + dt.timedelta(days=n)},insights_viewed,2\n" for n in range(5)
    )
    loaded, warnings = ingest.validate_sources([ingest.Source("usage.csv", usage.encode())])
    with db.write_session(app_engine, "cli") as session:
        ingest.write(session, loaded, dt.date.today(), warnings)
    at.run()
    assert page_errors(at) == []
    table = at.dataframe[0].value
    row = table[table["Task"] == "Build the activation dashboard"].iloc[0]
    assert row["Status"] == "Done" and row["Checked by"] == "data"
    assert "insights_viewed > 0 on 5 of" in row["Evidence"]
    ours = table[table["Task"] == "Share the dashboard in #product"].iloc[0]
    assert ours["Status"] == "Not yet" and ours["Checked by"] == "tick by hand"

    # Our own task is ticked by hand.
    at.button(key=f"hw_tick_{custom.id}").click().run()
    assert page_errors(at) == []
    table = at.dataframe[0].value
    assert table[table["Task"] == "Share the dashboard in #product"].iloc[0]["Status"] == "Done"
