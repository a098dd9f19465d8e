"""Two people editing the same thing, as the second one meets it on the customer page
(docs/rules.md, "Concurrent edits"): the save is refused with who changed it and what it is
now, nothing is overwritten, the typed text stays in the form, and "Reload" shows what is
stored, after which saving again goes through."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from lib.audit import finding_store
from lib.program import step_store
from tests import db_support
from tests.apptest_support import AS_OF, page_errors
from tests.test_pages_customer import CUSTOMER, app_engine, open_customer

__all__ = ["app_engine"]  # the fixture, used by name


def plain(markdown: str) -> str:
    """Markdown the page escaped (labels.md), back to its words."""
    return markdown.replace("\\", "").replace("\u200b", "")


def warnings(at: AppTest) -> list[str]:
    return [plain(w.value) for w in at.warning]


def step_note(engine: Engine) -> str | None:
    return db_support.read(engine, step_store.recorded, CUSTOMER)["first_meeting"].note


def test_a_step_note_saved_meanwhile_is_not_overwritten(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    db_support.write(
        app_engine,
        "dana",
        step_store.record,
        CUSTOMER,
        "first_meeting",
        "scheduled",
        AS_OF + dt.timedelta(days=2),
        "agenda: flags",
    )
    at = open_customer(login_app, tab="Step log")  # priya opens the step log
    at.selectbox(key="customer_fix_step").set_value("first_meeting")
    at.text_area(key="customer_fix_note").input("priya: customer asked for a demo")
    # dana changes the same note while priya types hers
    db_support.write(
        app_engine, "dana", step_store.set_note, CUSTOMER, "first_meeting", "dana: moved to Fri"
    )
    save = "FormSubmitter:customer_fix-Save note"
    at.button(key=save).click()
    at.run()
    assert not page_errors(at)
    (shown,) = warnings(at)
    assert "dana changed the First call step" in shown
    assert "dana: moved to Fri" in shown  # what it is now
    assert step_note(app_engine) == "dana: moved to Fri"
    assert at.text_area(key="customer_fix_note").value == "priya: customer asked for a demo"
    # Saving again without looking is refused again: the form is still based on the old one.
    at.button(key=save).click()
    at.run()
    assert len(warnings(at)) == 1 and not at.success
    assert step_note(app_engine) == "dana: moved to Fri"
    # Reload: the warning goes, her text stays, and her save now goes through.
    at.button(key=f"reload_steps_{CUSTOMER}").click()
    at.run()
    assert not warnings(at)
    assert at.text_area(key="customer_fix_note").value == "priya: customer asked for a demo"
    at.button(key=save).click()
    at.run()
    assert not page_errors(at)
    assert "Note of first call saved" in at.success[0].value
    assert step_note(app_engine) == "priya: customer asked for a demo"


def test_a_finding_decided_meanwhile_is_not_overwritten(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    at = open_customer(login_app)  # priya opens the audit
    rule = db_support.read(app_engine, finding_store.for_customer, CUSTOMER, AS_OF)[0].rule
    key = f"finding_{CUSTOMER}_{rule}"
    at.text_input(key=f"{key}_reason").input("priya: they need dev data")
    # dana marks the same finding fixed while priya writes her reason
    db_support.write(app_engine, "dana", finding_store.set_state, CUSTOMER, rule, "fixed", on=AS_OF)
    at.button(key=f"{key}_dismiss").click()
    at.run()
    assert not page_errors(at)
    (shown,) = warnings(at)
    # (dana's is the first decision on it, or a change of the one priya saw)
    assert "dana recorded the decision on" in shown or "dana changed the decision on" in shown
    assert f"it is now: fixed on {AS_OF.isoformat()}" in shown
    state = db_support.read(app_engine, finding_store.states, CUSTOMER)[rule]
    assert (state.state, state.reason, state.updated_by) == ("fixed", None, "dana")
    # The finding shows as fixed now (no dismissal field): her reason is shown to copy.
    assert [c.value for c in at.code] == ["priya: they need dev data"]
    # Reload: the finding shows as fixed (with Reopen), her dismissal was never written.
    at.button(key=f"reload_{key}").click()
    at.run()
    assert not warnings(at)
    assert at.button(key=f"{key}_reopen") is not None
    assert db_support.read(app_engine, finding_store.states, CUSTOMER)[rule].state == "fixed"


def test_a_rating_changed_meanwhile_is_not_overwritten(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    from lib.audit import health_store

    at = open_customer(login_app)
    at.button_group(key=f"customer_rating_{CUSTOMER}").set_value(2)
    at.run()
    db_support.write(app_engine, "dana", health_store.set_relationship, CUSTOMER, 5)
    at.button(key="customer_rating_save").click()
    at.run()
    assert not page_errors(at)
    (shown,) = warnings(at)
    assert "dana changed this customer's relationship rating" in shown
    assert "rated 5 of 5" in shown
    edits = db_support.read(app_engine, step_store.customer_edits, CUSTOMER)
    assert edits.relationship_rating == 5
