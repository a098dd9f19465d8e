"""The people at each customer: who the program's emails greet and go to (contacts.csv,
the customer page's Contacts tab). Pure: `model` (checks, the greeting's first name, the
suggested recipients). Database: `store` (read, add, edit, make primary, remove,
contacts.csv in and out)."""

from lib.contacts.model import (
    DEFAULT_ROLE,
    ROLE_LABELS,
    ContactError,
    ContactFields,
    ContactLike,
    address,
    check,
    first_name,
    greeting_name,
    normalise_email,
    ordered,
    recipients,
)
from lib.contacts.store import (
    add,
    export_frame,
    for_customer,
    import_rows,
    make_primary,
    primary,
    remove,
    update,
)

__all__ = [
    "DEFAULT_ROLE",
    "ROLE_LABELS",
    "ContactError",
    "ContactFields",
    "ContactLike",
    "add",
    "address",
    "check",
    "export_frame",
    "first_name",
    "for_customer",
    "greeting_name",
    "import_rows",
    "make_primary",
    "normalise_email",
    "ordered",
    "primary",
    "recipients",
    "remove",
    "update",
]
