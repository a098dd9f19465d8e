"""Contacts in the database: read a customer's people (primary first)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lib.store import models


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
