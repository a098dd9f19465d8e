"""One customer's health from the database, and the owner's relationship rating."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from lib.audit.health import Health, from_data
from lib.errors import NotFound, UserError
from lib.store import models, versions
from lib.store.customer_data import load_customer_data


def for_customer(session: Session, customer_id: str, as_of: dt.date) -> Health:
    """One customer's health. Raises NotFound for an unknown customer."""
    found = from_data(load_customer_data(session, as_of, customer_id), as_of)
    if customer_id not in found:
        raise NotFound(f"no such customer {customer_id!r}")
    return found[customer_id]


def scores(session: Session, as_of: dt.date) -> dict[str, float]:
    """customer id -> the 0-10 health score of every customer (the Customers table)."""
    return {cid: h.score for cid, h in from_data(load_customer_data(session, as_of), as_of).items()}


def set_relationship(
    session: Session, customer_id: str, rating: int | None, *, version: int | None = None
) -> None:
    """The owner's own 1-5 read of the relationship (None clears it). `version`: the
    customer's, as the form showed it (lib.store.versions: someone else's change refuses)."""
    if rating is not None and (isinstance(rating, bool) or rating not in range(1, 6)):
        raise UserError(f"relationship rating must be 1-5 or empty, not {rating!r}")
    customer = session.get(models.Customer, customer_id)
    if customer is None:
        raise NotFound(f"no such customer {customer_id!r}")
    versions.check(
        "this customer's relationship rating",
        version,
        customer.version,
        lambda: versions.customer_now(session, customer),
    )
    customer.relationship_rating = rating
    versions.bump(customer)
