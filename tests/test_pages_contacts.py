"""The customer page's Contacts tab, from app.py after sign-in (AppTest): add, edit, make
primary and remove (with confirmation) as a team login, every change in the change log; an
invalid address or a repeated one shown in the form, writing nothing; a stale edit refused
saying who; leadership sees the list only."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from lib import contacts
from lib.store import db, models
from tests import db_support
from tests.apptest_support import AS_OF, page_errors
from tests.markdown_text import shown

CUSTOMER_PAGE = "app_pages/customer.py"
ADD = "FormSubmitter:contact_add-Add contact"


@pytest.fixture
def app_engine(demo_db_url: str) -> Iterator[Engine]:
    engine = db.make_engine(demo_db_url)
    yield engine
    engine.dispose()


def people(engine: Engine, customer_id: str) -> list[tuple[str, str, str, bool]]:
    return [
        (c.name, c.email, c.role, c.is_primary)
        for c in db_support.read(engine, contacts.for_customer, customer_id)
    ]


def a_customer(engine: Engine, with_contacts: bool) -> str:
    """A demo customer with contacts (several, one primary), or with none."""
    for rep in db_support.reports(engine, AS_OF):
        found = people(engine, rep.customer_id)
        if (len(found) >= 2) if with_contacts else not found:
            return rep.customer_id
    raise AssertionError("the demo data has no such customer")


def contacts_tab(login_app: Callable[..., AppTest], user: str, customer_id: str) -> AppTest:
    at = login_app(user, page=CUSTOMER_PAGE, query={"id": customer_id, "tab": "Contacts"})
    assert not page_errors(at)
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return at.run()


def notices(at: AppTest) -> str:
    return " | ".join([s.value for s in at.success] + [e.value for e in at.error])


def logged(engine: Engine, customer_id: str) -> list[tuple[str, str]]:
    log = models.AuditLog
    with db.read_session(engine) as session:
        return [
            (e.user, e.action)
            for e in session.scalars(
                select(log)
                .where(log.entity == "contacts", log.customer_id == customer_id)
                .order_by(log.id)
            )
        ]


def test_add_edit_make_primary_and_remove(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id = a_customer(app_engine, with_contacts=False)
    at = contacts_tab(login_app, "priya", customer_id)
    assert any("No contacts yet" in i.value for i in at.info)
    assert at.checkbox(key="contact_add_primary").value is True  # the first one: primary

    # add: the first contact, primary
    at.text_input(key="contact_add_name").input("Ada Lovelace")
    at.text_input(key="contact_add_email").input("Ada@Example.com")
    at.selectbox(key="contact_add_role").set_value("founder")
    at = click(at, ADD)
    assert not page_errors(at), notices(at)
    assert people(app_engine, customer_id) == [("Ada Lovelace", "ada@example.com", "founder", True)]
    assert "Ada Lovelace added" in at.success[0].value
    assert at.text_input(key="contact_add_name").value == ""  # the form is empty again
    assert at.dataframe[0].value["Name"].tolist() == ["Ada Lovelace"]
    assert at.checkbox(key="contact_add_primary").value is False

    # add a second, not primary
    at.text_input(key="contact_add_name").input("Bo Diddley")
    at.text_input(key="contact_add_email").input("bo@example.com")
    at = click(at, ADD)
    assert not page_errors(at), notices(at)
    ada, bo = (c.id for c in db_support.read(app_engine, contacts.for_customer, customer_id))

    # make Bo primary: Ada no longer is
    at.selectbox(key="contact_pick").set_value(bo).run()
    at = click(at, f"contact_make_primary_{bo}")
    assert not page_errors(at), notices(at)
    assert "Bo Diddley is now the primary contact" in at.success[0].value
    assert [(n, p) for n, _, _, p in people(app_engine, customer_id)] == [
        ("Bo Diddley", True),
        ("Ada Lovelace", False),
    ]

    # edit Ada: a new name and role
    at.selectbox(key="contact_pick").set_value(ada).run()
    at.text_input(key=f"contact_name_{ada}").input("Ada King")
    at.selectbox(key=f"contact_role_{ada}").set_value("billing")
    at = click(at, f"FormSubmitter:contact_edit_{ada}-Save changes")
    assert not page_errors(at), notices(at)
    assert ("Ada King", "ada@example.com", "billing", False) in people(app_engine, customer_id)

    # remove Bo: refused until confirmed
    at.selectbox(key="contact_pick").set_value(bo).run()
    at = click(at, f"FormSubmitter:contact_remove_{bo}-Remove contact")
    assert "Tick the box to confirm." in [w.value for w in at.warning]
    assert len(people(app_engine, customer_id)) == 2
    at.checkbox(key=f"contact_remove_sure_{bo}").check()
    at = click(at, f"FormSubmitter:contact_remove_{bo}-Remove contact")
    assert not page_errors(at), notices(at)
    assert "Bo Diddley removed" in at.success[0].value
    assert people(app_engine, customer_id) == [("Ada King", "ada@example.com", "billing", False)]

    # every change in the change log, under priya
    assert {u for u, _ in logged(app_engine, customer_id)} == {"priya"}
    assert [a for _, a in logged(app_engine, customer_id)].count("insert") == 2
    assert "delete" in [a for _, a in logged(app_engine, customer_id)]


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("ada@example", "Email 'ada@example' is not a valid address"),
        ("ada example.com", "must have an @-sign"),
        ("", "an email address is required"),
    ],
)
def test_an_invalid_address_is_shown_and_writes_nothing(
    login_app: Callable[..., AppTest], app_engine: Engine, email: str, message: str
) -> None:
    customer_id = a_customer(app_engine, with_contacts=True)
    before = people(app_engine, customer_id), logged(app_engine, customer_id)
    at = contacts_tab(login_app, "priya", customer_id)
    at.text_input(key="contact_add_name").input("Ada_Lovelace")
    at.text_input(key="contact_add_email").input(email)
    at = click(at, ADD)
    assert not at.exception
    (error,) = at.error
    # user text is inert in the message (md): the @, dots and underscores escaped
    assert message in shown(error.value)
    assert (people(app_engine, customer_id), logged(app_engine, customer_id)) == before
    # what was typed stays, to correct it
    assert at.text_input(key="contact_add_name").value == "Ada_Lovelace"


def test_a_repeated_address_is_refused_in_the_form(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id = a_customer(app_engine, with_contacts=True)
    existing = people(app_engine, customer_id)
    at = contacts_tab(login_app, "priya", customer_id)
    at.text_input(key="contact_add_name").input("Someone")
    at.text_input(key="contact_add_email").input(existing[1][1].upper())
    at = click(at, ADD)
    assert "already has a contact with the email" in at.error[0].value.replace("\\", "")
    assert people(app_engine, customer_id) == existing


def test_a_stale_edit_is_refused_and_says_who(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id = a_customer(app_engine, with_contacts=True)
    first = db_support.read(app_engine, contacts.for_customer, customer_id)[0]
    at = contacts_tab(login_app, "priya", customer_id)  # priya opens the primary contact
    db_support.write(
        app_engine, "dana", contacts.update, customer_id, first.id, "Renamed By Dana",
        first.email, first.role, True,
    )  # fmt: skip
    at.text_input(key=f"contact_name_{first.id}").input("Renamed By Priya")
    at = click(at, f"FormSubmitter:contact_edit_{first.id}-Save changes")
    assert not at.exception
    assert at.error[0].value.replace("\\", "").startswith("dana changed Renamed By Dana")
    assert people(app_engine, customer_id)[0][0] == "Renamed By Dana"
    at.run()  # the next run shows the contact as it is now
    assert at.text_input(key=f"contact_name_{first.id}").value == "Renamed By Dana"


def test_leadership_sees_the_contacts_read_only(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id = a_customer(app_engine, with_contacts=True)
    at = contacts_tab(login_app, "lead", customer_id)
    names = [n for n, *_ in people(app_engine, customer_id)]
    assert at.dataframe[0].value["Name"].tolist() == names
    assert at.dataframe[0].value["Primary"].tolist()[0] is True
    assert not [b for b in at.button if b.key and "contact" in b.key]
    assert not [t for t in at.text_input if t.key and t.key.startswith("contact_")]
    assert at.get("download_button")  # the contacts as contacts.csv


def test_a_contact_removed_by_someone_else_leaves_the_page_working(
    login_app: Callable[..., AppTest], app_engine: Engine
) -> None:
    customer_id = a_customer(app_engine, with_contacts=True)
    second = db_support.read(app_engine, contacts.for_customer, customer_id)[1]
    at = contacts_tab(login_app, "priya", customer_id)
    at.selectbox(key="contact_pick").set_value(second.id).run()
    db_support.write(app_engine, "dana", contacts.remove, customer_id, second.id)
    at.checkbox(key=f"contact_remove_sure_{second.id}").check()
    at = click(at, f"FormSubmitter:contact_remove_{second.id}-Remove contact")
    assert not at.exception
    # the click's rerun already read the list without it: another contact is picked
    assert at.selectbox(key="contact_pick").value != second.id
    at.run()
    assert not page_errors(at)
    assert second.id not in [
        c.id for c in db_support.read(app_engine, contacts.for_customer, customer_id)
    ]
