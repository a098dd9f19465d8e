"""Contacts (lib/contacts): the checks and what the emails make of them (table-driven), the
store on SQLite and PostgreSQL (add, edit, make primary, remove; one primary; a duplicate
address refused; a stale edit refused; every change in the change log), contacts.csv in
(all-or-nothing, an upsert by customer and email, idempotent) and out (a round trip), the
demo's contacts, and the drafts greeting the primary contact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from lib import cli, contacts, csv_safe, homework, outreach
from lib.contacts import model
from lib.demo.contacts import contact_rows, domain
from lib.demo.dataset import company_names
from lib.errors import Conflict, NotFound, UserError
from lib.ingest import ImportRejected, Source
from lib.store import db, models
from tests import db_support
from tests.audit_fixtures import AS_OF, add_customer
from tests.csv_fixtures import import_sources
from tests.test_cli import run
from tests.test_outreach import fake_report

# ------------------------------------------------------------------ the checks (pure)


@pytest.mark.parametrize(
    ("name", "email", "role", "expected"),
    [
        ("Ada Lovelace", "ada@acme.com", None, ("Ada Lovelace", "ada@acme.com", "other")),
        ("  Ada \n Lovelace ", " Ada@ACME.com ", "Founder", ("Ada Lovelace", "ada@acme.com", "founder")),
        ("Bo", "bo@acme-labs-00001.example", "billing", ("Bo", "bo@acme-labs-00001.example", "billing")),
        ("Zoë", "Zoë@Acme.example", "", ("Zoë", "zoë@acme.example", "other")),
        ("O'Brien, Pat", "pat+ops@acme.io", "engineer", ("O'Brien, Pat", "pat+ops@acme.io", "engineer")),
    ],
)  # fmt: skip
def test_a_contact_is_checked_and_normalised(
    name: str, email: str, role: str | None, expected: tuple[str, str, str]
) -> None:
    fields = model.check(name, email, role)
    assert (fields.name, fields.email, fields.role) == expected


@pytest.mark.parametrize(
    ("name", "email", "role", "message"),
    [
        ("", "ada@acme.com", None, "A contact needs a name."),
        ("   ", "ada@acme.com", None, "A contact needs a name."),
        ("x" * 201, "ada@acme.com", None, "at most 200 characters (this has 201)"),
        ("Ada", "", None, "Email '' is not a valid address: an email address is required"),
        ("Ada", "ada", None, "Email 'ada' is not a valid address: An email address must have an @-sign."),
        ("Ada", "ada@acme", None, "Email 'ada@acme' is not a valid address: The part after the @-sign is not valid. It should have a period."),
        ("Ada", "ada@@acme.com", None, "invalid characters: '@'"),
        ("Ada", "Ada <ada@acme.com>", None, "display name and angle brackets"),
        ("Ada", "ada lovelace@acme.com", None, "invalid characters before the @-sign"),
        ("Ada", "ada@acme.test", None, "special-use or reserved name"),
        ("Ada", "a" * 321, None, "at most 320 characters"),
        ("Ada", "ada@acme.com", "ceo", "Role 'ceo': expected one of founder, engineer, product, billing, other."),
    ],
)  # fmt: skip
def test_a_bad_contact_is_refused_with_what_is_wrong(
    name: str, email: str, role: str | None, message: str
) -> None:
    with pytest.raises(model.ContactError) as refused:
        model.check(name, email, role)
    assert message in str(refused.value)
    assert isinstance(refused.value, UserError)


def person(name: str, email: str, primary: bool = False) -> Any:
    return SimpleNamespace(name=name, email=email, is_primary=primary)


ADA = person("Ada Lovelace", "ada@acme.example", primary=True)
BO = person("Bo", "bo@acme.example")
PAT = person("O'Brien, Pat", "pat@acme.example")


@pytest.mark.parametrize(
    ("people", "greeting", "to"),
    [
        ([], None, []),
        ([BO], None, ["Bo <bo@acme.example>"]),  # no primary: the draft greets the team
        ([BO, ADA], "Ada", ["Ada Lovelace <ada@acme.example>", "Bo <bo@acme.example>"]),
        ([PAT, ADA, BO], "Ada", [
            "Ada Lovelace <ada@acme.example>", '"O\'Brien, Pat" <pat@acme.example>',
            "Bo <bo@acme.example>",
        ]),  # a comma in a name is quoted: the header reads back as one address
        ([person("  ", "x@acme.example", True)], None, ["x@acme.example"]),
    ],
)  # fmt: skip
def test_the_greeting_and_the_recipients(
    people: list[Any], greeting: str | None, to: list[str]
) -> None:
    assert model.greeting_name(people) == greeting
    assert contacts.recipients(people) == to


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("Ada", "Ada <a@x.example>"),
        ('Ada "the countess" L.', '"Ada \\"the countess\\" L." <a@x.example>'),
        ("Back\\slash", '"Back\\\\slash" <a@x.example>'),
        ("", "a@x.example"),
    ],
)
def test_an_address_reads_back_as_one(name: str, quoted: str) -> None:
    from email.utils import getaddresses

    assert model.address(name, "a@x.example") == quoted
    assert getaddresses([quoted]) == [(" ".join(name.split()), "a@x.example")]


def test_one_primary_per_customer() -> None:
    model.check_one_primary([ADA, BO])
    with pytest.raises(model.ContactError, match="one primary contact"):
        model.check_one_primary([ADA, person("Cy", "cy@acme.example", True)])


# ------------------------------------------------------------------ the store (both databases)


def customer(engine: Engine, customer_id: str = "acme") -> None:
    add_customer(engine, customer_id, {"events": 1_000}, name=customer_id.title())


def listed(engine: Engine, customer_id: str = "acme") -> list[tuple[str, str, str, bool]]:
    return [
        (c.name, c.email, c.role, c.is_primary)
        for c in db_support.read(engine, contacts.for_customer, customer_id)
    ]


def logged(engine: Engine) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    """(user, action, customer, changes) of every change-log entry on contacts, oldest first."""
    log = models.AuditLog
    with db.read_session(engine) as session:
        return [
            (e.user, e.action, e.customer_id, dict(e.changes or {}))
            for e in session.scalars(select(log).where(log.entity == "contacts").order_by(log.id))
        ]


def add(engine: Engine, user: str = "dana", **kwargs: Any) -> int:
    contact = db_support.write(engine, user, contacts.add, "acme", **kwargs)
    return int(contact.id)


def test_add_edit_make_primary_remove(engine: Engine) -> None:
    customer(engine)
    ada = add(engine, name="Ada Lovelace", email="Ada@Acme.example", role="founder", primary=True)
    bo = add(engine, name="Bo", email="bo@acme.example")
    assert listed(engine) == [
        ("Ada Lovelace", "ada@acme.example", "founder", True),
        ("Bo", "bo@acme.example", "other", False),
    ]
    primary = db_support.read(engine, contacts.primary, "acme")
    assert primary is not None and primary.id == ada
    assert primary.created_by == "dana" and primary.updated_by == "dana"

    # Bo becomes primary: Ada no longer is (one primary per customer).
    db_support.write(engine, "priya", contacts.make_primary, "acme", bo)
    assert [(n, p) for n, _, _, p in listed(engine)] == [("Bo", True), ("Ada Lovelace", False)]

    # An edit sets every field; primary=True again moves the primary back.
    db_support.write(
        engine, "priya", contacts.update, "acme", ada, "Ada King", "ada@king.example",
        "engineer", True,
    )  # fmt: skip
    assert listed(engine) == [
        ("Ada King", "ada@king.example", "engineer", True),
        ("Bo", "bo@acme.example", "other", False),
    ]
    assert db_support.write(engine, "dana", contacts.remove, "acme", bo) == "Bo"
    assert [n for n, *_ in listed(engine)] == ["Ada King"]

    # Every change is in the change log, under its user and the customer.
    entries = logged(engine)
    assert sorted((u, a) for u, a, _, _ in entries) == sorted(
        [("dana", "insert")] * 2  # Ada, Bo
        + [("priya", "update")] * 4  # Bo primary, Ada not; Ada edited (and primary), Bo not
        + [("dana", "delete")]  # Bo
    )
    assert {c for _, _, c, _ in entries} == {"acme"}
    assert entries[0][3]["email"] == "ada@acme.example"
    changed = [c for _, a, _, c in entries if a == "update"]
    assert sum(c.get("is_primary") == [False, True] for c in changed) == 2
    assert sum(c.get("is_primary") == [True, False] for c in changed) == 2
    assert any(c.get("email") == ["ada@acme.example", "ada@king.example"] for c in changed)


@pytest.mark.parametrize(
    ("email", "other_customer"),
    [("ada@acme.example", False), ("ADA@acme.EXAMPLE", False), ("ada@acme.example", True)],
)
def test_one_address_per_customer(engine: Engine, email: str, other_customer: bool) -> None:
    customer(engine)
    customer(engine, "beta")
    add(engine, name="Ada", email="ada@acme.example")
    if other_customer:  # another customer may have the same person
        db_support.write(engine, "dana", contacts.add, "beta", "Ada", email)
        assert len(listed(engine, "beta")) == 1
        return
    before = logged(engine)
    with pytest.raises(model.ContactError) as refused:
        add(engine, name="Ada again", email=email)
    assert str(refused.value) == (
        "acme already has a contact with the email ada@acme.example (Ada)."
    )
    assert logged(engine) == before and len(listed(engine)) == 1


def test_an_edit_to_another_contacts_address_is_refused(engine: Engine) -> None:
    customer(engine)
    add(engine, name="Ada", email="ada@acme.example", primary=True)
    bo = add(engine, name="Bo", email="bo@acme.example")
    with pytest.raises(model.ContactError, match="already has a contact with the email"):
        db_support.write(
            engine, "dana", contacts.update, "acme", bo, "Bo", "Ada@acme.example", None, True
        )
    # nothing written: Bo is as he was, and Ada is still the primary contact
    assert listed(engine) == [
        ("Ada", "ada@acme.example", "other", True),
        ("Bo", "bo@acme.example", "other", False),
    ]


def test_a_bad_field_writes_nothing(engine: Engine) -> None:
    customer(engine)
    ada = add(engine, name="Ada", email="ada@acme.example")
    before = logged(engine)
    for change, args in [
        (contacts.add, ("acme", "Bo", "bo@acme")),
        (contacts.add, ("acme", "", "bo@acme.example")),
        (contacts.update, ("acme", ada, "Ada", "not an address")),
        (contacts.update, ("acme", ada, "Ada", "ada@acme.example", "ceo")),
    ]:
        with pytest.raises(model.ContactError):
            db_support.write(engine, "dana", change, *args)
    assert logged(engine) == before
    assert listed(engine) == [("Ada", "ada@acme.example", "other", False)]


def test_unknown_customer_and_vanished_contact(engine: Engine) -> None:
    customer(engine)
    customer(engine, "beta")
    with pytest.raises(NotFound, match="No such customer 'nobody'"):
        db_support.write(engine, "dana", contacts.add, "nobody", "Ada", "ada@x.example")
    ada = add(engine, name="Ada", email="ada@acme.example")
    # another customer's page cannot reach acme's contact
    with pytest.raises(NotFound, match="no longer there"):
        db_support.write(engine, "dana", contacts.remove, "beta", ada)
    db_support.write(engine, "dana", contacts.remove, "acme", ada)
    with pytest.raises(NotFound, match="someone removed it"):
        db_support.write(engine, "dana", contacts.make_primary, "acme", ada)


def test_a_stale_edit_is_refused_and_says_who(engine: Engine) -> None:
    customer(engine)
    ada = add(engine, name="Ada", email="ada@acme.example")
    opened = db_support.read(engine, contacts.for_customer, "acme")[0].updated_at
    db_support.write(
        engine, "priya", contacts.update, "acme", ada, "Ada L", "ada@acme.example",
        seen_at=opened,
    )  # fmt: skip
    with pytest.raises(Conflict) as refused:
        db_support.write(
            engine, "dana", contacts.update, "acme", ada, "Ada K", "ada@acme.example",
            seen_at=opened,
        )  # fmt: skip
    assert str(refused.value).startswith("priya changed Ada L (ada@acme.example) at ")
    with pytest.raises(Conflict):
        db_support.write(engine, "dana", contacts.remove, "acme", ada, seen_at=opened)
    assert listed(engine) == [("Ada L", "ada@acme.example", "other", False)]


def test_contacts_go_with_their_customer(engine: Engine) -> None:
    customer(engine)
    add(engine, name="Ada", email="ada@acme.example")
    with db.write_session(engine, "admin") as session:
        session.delete(session.get(models.Customer, "acme"))
    with db.read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(models.Contact)) == 0


# ------------------------------------------------------------------ contacts.csv

HEADER = "customer_id,name,email,role,primary"
GOOD = (
    f"{HEADER}\n"
    "acme,Ada Lovelace,Ada@Acme.example,founder,true\n"
    "acme,Bo,bo@acme.example,,\n"
    "beta,Cy,cy@beta.example,Billing,false\n"
)


def contacts_csv(text: str, name: str = "contacts.csv") -> list[Source]:
    return [Source(name, text.encode())]


def test_import_contacts_csv_once_and_again(engine: Engine) -> None:
    customer(engine)
    customer(engine, "beta")
    first = import_sources(engine, contacts_csv(GOOD), user="ops")
    assert (first.kinds["contacts"].added, first.kinds["contacts"].updated) == (3, 0)
    assert listed(engine) == [
        ("Ada Lovelace", "ada@acme.example", "founder", True),
        ("Bo", "bo@acme.example", "other", False),
    ]
    assert listed(engine, "beta") == [("Cy", "cy@beta.example", "billing", False)]
    again = import_sources(engine, contacts_csv(GOOD), user="ops")
    assert (again.kinds["contacts"].added, again.kinds["contacts"].updated) == (0, 0)
    assert again.kinds["contacts"].unchanged == 3 and again.changed == 0
    # each contact is in the change log under the importing user
    inserts = [(u, c["email"]) for u, a, _, c in logged(engine) if a == "insert"]
    assert inserts == [
        ("ops", "ada@acme.example"),
        ("ops", "bo@acme.example"),
        ("ops", "cy@beta.example"),
    ]


def test_contacts_csv_upserts_by_customer_and_email(engine: Engine) -> None:
    customer(engine)
    customer(engine, "beta")
    import_sources(engine, contacts_csv(GOOD), user="ops")
    kept = db_support.write(engine, "dana", contacts.add, "acme", "Dee", "dee@acme.example")
    # Bo (by his address, in capitals) is renamed and made primary; Ada is no longer
    # primary; Eve is new; Dee, not in the file, stays.
    update = (
        f"{HEADER}\nacme,Bo Diddley,BO@acme.example,engineer,true\nacme,Eve,eve@acme.example,,\n"
    )
    result = import_sources(engine, contacts_csv(update), user="ops")
    assert (result.kinds["contacts"].added, result.kinds["contacts"].updated) == (1, 2)
    assert listed(engine) == [
        ("Bo Diddley", "bo@acme.example", "engineer", True),
        ("Ada Lovelace", "ada@acme.example", "founder", False),
        ("Dee", "dee@acme.example", "other", False),
        ("Eve", "eve@acme.example", "other", False),
    ]
    assert kept.id in {c.id for c in db_support.read(engine, contacts.for_customer, "acme")}
    # Without role and primary columns, a row leaves those as they are.
    names_only = "customer_id,name,email\nacme,Robert,bo@acme.example\n"
    result = import_sources(engine, contacts_csv(names_only), user="ops")
    assert result.kinds["contacts"].updated == 1
    assert listed(engine)[0] == ("Robert", "bo@acme.example", "engineer", True)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "acme,Ada,ada@acme,founder,true",
            "contacts.csv row 2, column email: 'ada@acme': an email address (like "
            "name@example.com): The part after the @-sign is not valid. It should have a period.",
        ),  # an invalid address
        (
            "acme,Ada,ada@acme.example,,true\nacme,Ada again,ADA@acme.example,,",
            "contacts.csv row 3, column email: 'ADA@acme.example': the same email for "
            "customer acme as contacts.csv row 2",
        ),  # a duplicate address for one customer (case-insensitive)
        (
            "acme,Ada,ada@acme.example,,true\nacme,Bo,bo@acme.example,,TRUE",
            "contacts.csv row 3, column primary: 'TRUE': a second primary contact for "
            "customer acme (the first: contacts.csv row 2); a customer has one",
        ),  # two primaries for one customer
        (
            "acme,Ada,ada@acme.example,ceo,",
            "contacts.csv row 2, column role: 'ceo': one of: founder, engineer, product, "
            "billing, other (or empty: other)",
        ),
        (
            "acme,Ada,ada@acme.example,,yes",
            "contacts.csv row 2, column primary: 'yes': true or false (or empty: false)",
        ),
        ("acme,,ada@acme.example,,", "contacts.csv row 2, column name: '': a name is required"),
        (
            "acme,Ada,,,",
            "contacts.csv row 2, column email: '': an email address (like name@example.com): "
            "an email address is required",
        ),
        (
            "nobody,Ada,ada@acme.example,,",
            "contacts.csv row 2, column customer_id: 'nobody': unknown customer",
        ),
        ("acme," + "n" * 201 + ",ada@acme.example,,", "column name: 'nnnn"),
    ],
    ids=[
        "invalid-email", "duplicate-email", "two-primaries", "role", "primary", "no-name",
        "no-email", "unknown-customer", "long-name",
    ],
)  # fmt: skip
def test_bad_contacts_csv_is_refused_and_nothing_written(
    engine: Engine, rows: str, message: str
) -> None:
    customer(engine)
    import_sources(engine, contacts_csv(f"{HEADER}\nacme,Zed,zed@acme.example,,true\n"))
    before = (listed(engine), logged(engine))
    # a good row after the bad ones: all-or-nothing, it is not written either
    text = f"{HEADER}\n{rows}\nacme,Good,good@acme.example,,\n"
    with pytest.raises(ImportRejected) as rejected:
        import_sources(engine, contacts_csv(text))
    summary = rejected.value.summary()
    assert summary.startswith("Import refused, nothing was written")
    assert message in summary
    assert (listed(engine), logged(engine)) == before


def test_two_files_repeating_an_address_are_refused(engine: Engine) -> None:
    customer(engine)
    one = contacts_csv(f"{HEADER}\nacme,Ada,ada@acme.example,,\n", "contacts.csv")
    two = contacts_csv(f"{HEADER}\nacme,Ada,Ada@acme.example,,\n", "contacts-2.csv")
    with pytest.raises(ImportRejected) as rejected:
        import_sources(engine, one + two)
    assert (
        "contacts-2.csv row 2, column email: 'Ada@acme.example': the same email for "
        "customer acme as contacts.csv row 2" in rejected.value.summary()
    )
    assert listed(engine) == []


def test_the_export_imports_again_unchanged(engine: Engine) -> None:
    customer(engine)
    customer(engine, "beta")
    import_sources(engine, contacts_csv(GOOD), user="ops")
    frame = db_support.read(engine, contacts.export_frame, ["acme"])
    assert list(frame.columns) == ["customer_id", "name", "email", "role", "primary"]
    assert frame.to_dict("records")[0] == {
        "customer_id": "acme",
        "name": "Ada Lovelace",
        "email": "ada@acme.example",
        "role": "founder",
        "primary": "true",
    }
    again = import_sources(engine, contacts_csv(csv_safe.to_safe_csv(frame).decode()))
    assert again.changed == 0 and again.kinds["contacts"].unchanged == 2


def test_onboarding_import_picks_up_contacts_csv(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "customers.csv").write_text(
        "customer_id,name,segment_entered_on\nacme,Acme,2026-03-01\nbeta,Beta,2026-03-01\n"
    )
    (folder / "contacts.csv").write_text(GOOD)
    code, out, _ = run(["--db", db_url, "import", str(folder), "--user", "ops"])
    assert code == 0, out
    assert "contacts.csv: 3 added, 0 updated, 0 unchanged" in out
    (folder / "contacts.csv").write_text(f"{HEADER}\nacme,Ada,ada@acme,,\n")
    code, out, err = run(["--db", db_url, "import", str(folder / "contacts.csv")])
    assert code == cli.EXIT_BAD_INPUT
    assert "contacts.csv row 2, column email: 'ada@acme': an email address" in err


# ------------------------------------------------------------------ the drafts


def test_the_drafts_greet_the_primary_contact(engine: Engine) -> None:
    add_customer(engine, "acme", {"events": 1_000}, name="Star*Corp")
    for make in (outreach.initial_draft, outreach.final_draft):
        draft = db_support.read(engine, make, "acme", AS_OF, sender="Dana")
        assert draft.text.startswith("Hi Star*Corp team,")
        assert draft.markdown.startswith("Hi Star\\*Corp team,")
        assert draft.recipients == ()
    db_support.write(engine, "dana", contacts.add, "acme", "Bo", "bo@acme.example")
    draft = db_support.read(engine, outreach.initial_draft, "acme", AS_OF, sender="Dana")
    assert draft.text.startswith("Hi Star*Corp team,")  # a contact, but no primary
    assert draft.recipients == ("Bo <bo@acme.example>",)
    db_support.write(
        engine, "dana", contacts.add, "acme", "Ada_L Lovelace", "ada@acme.example", primary=True
    )
    for make in (outreach.initial_draft, outreach.final_draft):
        draft = db_support.read(engine, make, "acme", AS_OF, sender="Dana")
        assert draft.text.startswith("Hi Ada_L,\n")
        assert draft.markdown.startswith("Hi Ada\\_L,\n")  # a name is inert in Markdown
        assert draft.recipients == ("Ada_L Lovelace <ada@acme.example>", "Bo <bo@acme.example>")


@pytest.mark.parametrize(
    ("people", "opening"),
    [([], "Hi Acme team,"), ([BO], "Hi Acme team,"), ([ADA, BO], "Hi Ada,")],
)
def test_the_pure_drafts_greet_the_primary_contact(people: list[Any], opening: str) -> None:
    report = fake_report([], bill=10.0, saving=0.0)
    draft = outreach.drafts.initial(report, AS_OF, "Dana", people)
    assert draft.text.startswith(opening) and draft.markdown.startswith(opening)
    assert draft.recipients == tuple(contacts.recipients(people))


def test_the_homework_email_greets_the_primary_contact() -> None:
    call = SimpleNamespace(
        attendees=(
            SimpleNamespace(name="Ann Lee", side="customer"),
            SimpleNamespace(name="Dana", side="team"),
        )
    )
    assert homework.greeting_for(call, [ADA, BO]) == "Ada"
    assert homework.greeting_for(call, [BO]) == "Ann"
    assert homework.greeting_for(None, [BO]) == ""
    email = homework.render_email(
        "Acme", [homework.greeting_for(None, [ADA])], "Dana", "", [], None
    )
    assert email.markdown.startswith("Hi Ada,") and email.text.startswith("Hi Ada,")


# ------------------------------------------------------------------ the demo's contacts


def test_the_demo_gives_most_customers_contacts() -> None:
    _, ids = company_names(600)
    rows = contact_rows(ids)
    assert rows == contact_rows(ids)  # the same customers, the same people
    per: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        per.setdefault(row["customer_id"], []).append(row)
    assert set(per) <= set(ids)
    assert 0.10 <= 1 - len(per) / len(ids) <= 0.23  # about one in six has none
    for customer_id, people in per.items():
        assert 1 <= len(people) <= 3
        assert [p["is_primary"] for p in people].count(True) == 1
        emails = [model.normalise_email(p["email"]) for p in people]  # valid, lower-case
        assert emails == [p["email"] for p in people] and len(set(emails)) == len(emails)
        assert all(e.endswith(f"@{customer_id}.example") for e in emails)
        assert all(p["role"] in model.ROLE_LABELS for p in people)


@pytest.mark.parametrize(
    ("customer_id", "host"),
    [("acme-labs-00001", "acme-labs-00001.example"), ("Acme_Labs!", "acme-labs.example"),
     ("---", "customer.example"), ("x" * 80, "x" * 63 + ".example")],
)  # fmt: skip
def test_demo_domains_are_valid(customer_id: str, host: str) -> None:
    assert domain(customer_id) == host
    assert model.email_problem(f"ada@{host}") is None


def test_demo_load_and_replace_keep_contacts(db_url: str) -> None:
    code, out, err = run(["--db", db_url, "demo", "--customers", "12", "--as-of", str(AS_OF)])
    assert code == 0, err
    engine = db.make_engine(db_url)
    try:
        with db.read_session(engine) as session:
            stored = session.scalar(select(func.count()).select_from(models.Contact))
            ids = list(session.scalars(select(models.Customer.customer_id)))
        assert sorted(ids) == sorted(company_names(12)[1])
        assert stored == len(contact_rows(company_names(12)[1])) > 0
        code, _, err = run(
            ["--db", db_url, "demo", "--customers", "12", "--as-of", str(AS_OF), "--replace"]
        )
        assert code == 0, err
        with db.read_session(engine) as session:
            assert session.scalar(select(func.count()).select_from(models.Contact)) == stored
    finally:
        engine.dispose()


def test_demo_drafts_greet_a_demo_contact(engine: Engine) -> None:
    from lib import demo

    data = demo.generate(customers=6, seed=7, as_of=dt.date(2026, 3, 16))
    with db.write_session(engine, "demo") as session:
        demo.load(session, data)
    for customer_id in data.customers["customer_id"]:
        people = db_support.read(engine, contacts.for_customer, customer_id)
        draft = db_support.read(
            engine, outreach.initial_draft, customer_id, dt.date(2026, 3, 16), sender="Dana"
        )
        if people:
            assert draft.text.startswith(f"Hi {people[0].name.split()[0]},")
            assert draft.recipients[0] == model.address(people[0].name, people[0].email)
        else:
            assert draft.text.splitlines()[0].endswith(" team,")


# ------------------------------------------------------------------ the file's checks = the tab's


@settings(max_examples=300, deadline=None)
@given(
    name=st.one_of(st.text(max_size=12), st.sampled_from(["Ada", " ", "\x1c", "Zoë K"])),
    email=st.one_of(
        st.text(max_size=20),
        st.emails(),
        st.sampled_from(["ada@acme.example", "ADA@Acme.Example", "a@b", "é@x.example"]),
    ),
    role=st.one_of(st.text(max_size=8), st.sampled_from(["", "Founder", "billing", " other "])),
    primary=st.sampled_from(["", "true", "FALSE", "yes", " true "]),
)
def test_a_row_the_file_check_accepts_is_a_contact_the_tab_accepts(
    name: str, email: str, role: str, primary: str
) -> None:
    row = {"customer_id": "acme", "name": name, "email": email, "role": role, "primary": primary}
    if model.csv_problems([row], ["contacts.csv row 2"]):
        return
    fields = model.check(name, email, role, primary.strip().lower() == "true")
    assert fields.email == fields.email.lower() and fields.name == " ".join(name.split())
