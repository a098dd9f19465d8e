"""Reassigning a customer's owner by hand, in the caller's unit of work (docs/rules.md,
"Owners").

An owner is a name as customers.csv's `owner` column holds it: a login's username or any
other name (a teammate without a login), at most 100 characters; empty means "no owner".
The change lands in the audit log with the writing user (lib.store.journal: "owner: old ->
new"). A form passes the customer's `version` it showed; a save based on another one
raises lib.store.versions.EditConflict and writes nothing."""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from lib.errors import NotFound, UserError
from lib.ingest.spec import SPECS
from lib.store import models, versions

MAX_OWNER_CHARS = SPECS["customers"].lengths["owner"]


class OwnerError(UserError):
    """An owner the console cannot store; the message says why."""


def clean_owner(owner: str | None) -> str | None:
    """The owner as stored: trimmed, None for empty; refuses control characters (a line
    break, a tab) and names longer than the column."""
    text = (owner or "").strip()
    if not text:
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise OwnerError("owner: expected a name on one line, without control characters")
    if len(text) > MAX_OWNER_CHARS:
        raise OwnerError(f"owner: expected at most {MAX_OWNER_CHARS} characters")
    return text


def known(session: Session) -> list[str]:
    """Every owner named on a customer, sorted."""
    names = session.scalars(
        select(models.Customer.owner).where(models.Customer.owner.is_not(None)).distinct()
    )
    return sorted(n for n in names if n)


def reassign(
    session: Session, customer_id: str, owner: str | None, *, version: int | None = None
) -> str | None:
    """Make `owner` (None or empty: nobody) the customer's owner; returns the previous one.

    `version`: the customer's, as the form showed it (None: not checked). Giving the owner
    the customer already has writes nothing (no new version, no log entry)."""
    new = clean_owner(owner)
    customer = session.get(models.Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id!r}: no such customer")
    versions.check(
        "this customer's owner", version, customer.version, lambda: now(session, customer)
    )
    previous = customer.owner
    if previous == new:
        return previous
    customer.owner = new
    versions.bump(customer)
    return previous


def now(session: Session, customer: models.Customer) -> versions.Stored:
    """The customer's hand-set fields as stored now, with the owner (for a refusal)."""
    stored = versions.customer_now(session, customer)
    owner = f"owner {customer.owner}" if customer.owner else "no owner"
    return versions.Stored(stored.version, f"{owner}; {stored.now}", stored.who, stored.when)
