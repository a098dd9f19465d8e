"""Contacts in the database: read a customer's people (primary first), add, edit, make
primary and remove them (the customer page), contacts.csv in (an upsert by customer and
email) and out. Every change goes through the ORM, so it lands in the change log under
the session's user (lib.store.journal); the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from lib.contacts.model import (
    COLUMNS,
    ContactError,
    ContactFields,
    check,
    clean_role,
)
from lib.errors import Conflict, NotFound
from lib.store import journal, models
from lib.store.models import Contact, utcnow


def for_customer(session: Session, customer_id: str) -> list[models.Contact]:
    """The customer's contacts, the primary one first, then by name."""
    return list(
        session.scalars(
            select(models.Contact)
            .where(models.Contact.customer_id == customer_id)
            .order_by(models.Contact.is_primary.desc(), models.Contact.name, models.Contact.id)
        )
    )


def primary(session: Session, customer_id: str) -> models.Contact | None:
    """The customer's primary contact, if one is named."""
    return session.scalar(
        select(models.Contact).where(
            models.Contact.customer_id == customer_id, models.Contact.is_primary.is_(True)
        )
    )


# ------------------------------------------------------------------ the customer page


def _customer(session: Session, customer_id: str) -> models.Customer:
    customer = session.get(models.Customer, customer_id)
    if customer is None:
        raise NotFound(f"No such customer {customer_id!r}.")
    return customer


def _contact(
    session: Session, customer_id: str, contact_id: int, seen_at: dt.datetime | None
) -> Contact:
    """The contact to change; refused when it is gone or changed since the page read it
    (`seen_at`: its updated_at then; None skips the check)."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.customer_id != customer_id:
        raise NotFound("That contact is no longer there: someone removed it. Nothing was changed.")
    if seen_at is not None and contact.updated_at != seen_at:
        who = contact.updated_by or "someone"
        raise Conflict(
            f"{who} changed {contact.name} ({contact.email}) at "
            f"{contact.updated_at:%H:%M} UTC since you opened it; nothing was changed."
        )
    return contact


def _same_email(
    session: Session, customer_id: str, email: str, other_than: int | None
) -> Contact | None:
    found = session.scalar(
        select(Contact).where(Contact.customer_id == customer_id, Contact.email == email)
    )
    return found if found is not None and found.id != other_than else None


def _refuse_duplicate(
    session: Session, customer_id: str, fields: ContactFields, me: int | None
) -> None:
    twin = _same_email(session, customer_id, fields.email, me)
    if twin is not None:
        raise ContactError(
            f"{customer_id} already has a contact with the email {fields.email} ({twin.name})."
        )


def _unset_other_primaries(session: Session, customer_id: str, keep: Contact, user: str) -> None:
    for other in session.scalars(
        select(Contact).where(Contact.customer_id == customer_id, Contact.is_primary.is_(True))
    ):
        if other is not keep:
            other.is_primary = False
            other.updated_by = user


def add(
    session: Session,
    customer_id: str,
    name: str,
    email: str,
    role: str | None = None,
    primary: bool = False,
) -> Contact:
    """A new contact of the customer, by the session's user; `primary` makes it the
    customer's one primary contact (the previous one no longer is)."""
    _customer(session, customer_id)
    fields = check(name, email, role, primary)
    _refuse_duplicate(session, customer_id, fields, None)
    user = journal.user_of(session)
    contact = Contact(
        customer_id=customer_id,
        name=fields.name,
        email=fields.email,
        role=fields.role,
        is_primary=fields.is_primary,
        created_by=user,
        updated_by=user,
        updated_at=utcnow(),
    )
    session.add(contact)
    if fields.is_primary:
        _unset_other_primaries(session, customer_id, contact, user)
    session.flush()
    return contact


def update(
    session: Session,
    customer_id: str,
    contact_id: int,
    name: str,
    email: str,
    role: str | None = None,
    primary: bool = False,
    seen_at: dt.datetime | None = None,
) -> Contact:
    """Edit a contact of the customer (every field). Refused, writing nothing, when the
    email is another contact's of the customer, or the contact changed since `seen_at`."""
    contact = _contact(session, customer_id, contact_id, seen_at)
    fields = check(name, email, role, primary)
    _refuse_duplicate(session, customer_id, fields, contact.id)
    user = journal.user_of(session)
    _apply(contact, fields, user)
    if fields.is_primary:
        _unset_other_primaries(session, customer_id, contact, user)
    session.flush()
    return contact


def make_primary(
    session: Session, customer_id: str, contact_id: int, seen_at: dt.datetime | None = None
) -> Contact:
    """Make a contact the customer's primary one (the previous primary no longer is)."""
    contact = _contact(session, customer_id, contact_id, seen_at)
    user = journal.user_of(session)
    if not contact.is_primary:
        contact.is_primary = True
        contact.updated_by = user
        contact.updated_at = utcnow()
    _unset_other_primaries(session, customer_id, contact, user)
    session.flush()
    return contact


def remove(
    session: Session, customer_id: str, contact_id: int, seen_at: dt.datetime | None = None
) -> str:
    """Remove a contact of the customer; returns its name (for the notice)."""
    contact = _contact(session, customer_id, contact_id, seen_at)
    name = contact.name
    session.delete(contact)
    session.flush()
    return name


def _apply(contact: Contact, fields: ContactFields, user: str) -> bool:
    """Set the fields that differ; True when something changed."""
    wanted = {
        "name": fields.name,
        "email": fields.email,
        "role": fields.role,
        "is_primary": fields.is_primary,
    }
    changed = {k: v for k, v in wanted.items() if getattr(contact, k) != v}
    for key, value in changed.items():
        setattr(contact, key, value)
    if changed:
        contact.updated_by = user
        contact.updated_at = utcnow()
    return bool(changed)


# ------------------------------------------------------------------ contacts.csv


def import_rows(session: Session, rows: Iterable[Mapping[str, str]]) -> tuple[int, int, int]:
    """Validated contacts.csv rows (text cells) in: (added, updated, unchanged). A row
    updates the customer's contact with the same email (case-insensitive), else adds one;
    only the file's columns are compared (an empty role is `other`, an empty primary
    false). A primary contact in the file replaces the customer's stored one."""
    user = journal.user_of(session)
    wanted = list(rows)
    customer_ids = sorted({row["customer_id"] for row in wanted})
    stored: dict[tuple[str, str], Contact] = {}
    people: dict[str, list[Contact]] = {}  # customer -> contacts
    for first in range(0, len(customer_ids), 500):
        chunk = customer_ids[first : first + 500]
        for known in session.scalars(select(Contact).where(Contact.customer_id.in_(chunk))):
            stored[(known.customer_id, known.email)] = known
            people.setdefault(known.customer_id, []).append(known)
    new: list[Contact] = []
    changed: set[int] = set()  # id() of the stored contacts that changed
    seen: set[int] = set()  # id() of the stored contacts the rows name
    for row in wanted:
        fields = check(row["name"], row["email"], row.get("role"), _flag(row.get("primary")))
        customer_id = row["customer_id"]
        contact = stored.get((customer_id, fields.email))
        if contact is None:
            contact = Contact(
                customer_id=customer_id,
                **_fields(fields),
                created_by=user,
                updated_by=user,
                updated_at=utcnow(),
            )
            session.add(contact)
            stored[(customer_id, fields.email)] = contact
            people.setdefault(customer_id, []).append(contact)
            new.append(contact)
        else:
            seen.add(id(contact))
            role = fields.role if "role" in row else contact.role
            primary = fields.is_primary if "primary" in row else contact.is_primary
            if _apply(contact, ContactFields(fields.name, fields.email, role, primary), user):
                changed.add(id(contact))
        if fields.is_primary:
            for other in people[customer_id]:
                if other is not contact and other.is_primary:
                    other.is_primary = False
                    other.updated_by = user
                    other.updated_at = utcnow()
                    changed.add(id(other))
    session.flush()
    return len(new), len(changed), len(seen - changed)


def _flag(text: str | None) -> bool:
    return (text or "").strip().lower() == "true"


def _fields(fields: ContactFields) -> dict[str, object]:
    return {
        "name": fields.name,
        "email": fields.email,
        "role": fields.role,
        "is_primary": fields.is_primary,
    }


def export_frame(session: Session, customer_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Contacts (of some customers) as contacts.csv rows, by customer, primary first;
    offer it through lib.csv_safe. Imported again, it changes nothing."""
    stmt = select(Contact).order_by(
        Contact.customer_id, Contact.is_primary.desc(), Contact.name, Contact.id
    )
    if customer_ids is not None:
        stmt = stmt.where(Contact.customer_id.in_(list(customer_ids)))
    rows = [
        {
            "customer_id": c.customer_id,
            "name": c.name,
            "email": c.email,
            "role": clean_role(c.role),
            "primary": "true" if c.is_primary else "false",
        }
        for c in session.scalars(stmt)
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))
