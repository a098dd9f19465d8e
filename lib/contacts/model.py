"""A contact's fields checked and normalised, and what the emails make of a customer's
contacts (pure): the greeting's first name and the suggested recipients, primary first.

Rules (docs/rules.md, "Contacts"): a name is required; the email is a valid address
(email-validator, no DNS lookup), stored lower-case and unique per customer; the role is
one of `CONTACT_ROLES`; a customer has at most one primary contact."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from email_validator import EmailNotValidError, validate_email

from lib.errors import UserError
from lib.labels import CONTACT_ROLE_LABELS
from lib.vocabulary import CONTACT_ROLES

MAX_NAME = 200  # models.Contact.name
MAX_EMAIL = 320  # models.Contact.email
DEFAULT_ROLE = "other"
# contacts.csv (docs/interface.md): the import's and the export's columns; a contact is
# known by its customer and email.
REQUIRED: tuple[str, ...] = ("customer_id", "name", "email")
OPTIONAL: tuple[str, ...] = ("role", "primary")
COLUMNS: tuple[str, ...] = REQUIRED + OPTIONAL
KEY: tuple[str, ...] = ("customer_id", "email")
LENGTHS: dict[str, int] = {"customer_id": 100, "name": MAX_NAME, "email": MAX_EMAIL, "role": 30}
ROLE_LABELS = CONTACT_ROLE_LABELS  # the one label table (lib.labels)
# A display name with any of these is quoted in an address (RFC 5322 specials).
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')


class ContactError(UserError):
    """A contact the console refuses: the message names the field and what was expected."""


class ContactLike(Protocol):
    """What the emails read of a contact (models.Contact has these)."""

    @property
    def name(self) -> str: ...

    @property
    def email(self) -> str: ...

    @property
    def is_primary(self) -> bool: ...


C = TypeVar("C", bound=ContactLike)


@dataclass(frozen=True)
class ContactFields:
    """A contact's fields, checked and normalised (the email lower-case)."""

    name: str
    email: str
    role: str = DEFAULT_ROLE
    is_primary: bool = False


# ------------------------------------------------------------------ checks


def email_problem(text: str) -> str | None:
    """Why `text` is not an address the console can write to (email-validator's words),
    or None when it is one."""
    text = text.strip()
    if not text:
        return "an email address is required"
    if len(text) > MAX_EMAIL:
        return f"at most {MAX_EMAIL} characters (this has {len(text)})"
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        return str(error)
    return None


def normalise_email(text: str) -> str:
    """The address as stored: validated and lower-case. Raises ContactError."""
    problem = email_problem(text)
    if problem is not None:
        raise ContactError(f"Email {text.strip()!r} is not a valid address: {problem}")
    return validate_email(text.strip(), check_deliverability=False).normalized.lower()


def clean_name(text: str) -> str:
    """The name as stored: spaces and line breaks collapsed. Raises ContactError."""
    name = " ".join(text.split())
    if not name:
        raise ContactError("A contact needs a name.")
    if len(name) > MAX_NAME:
        raise ContactError(f"A name has at most {MAX_NAME} characters (this has {len(name)}).")
    return name


def clean_role(text: str | None) -> str:
    """The role as stored (lower-case; empty: `other`). Raises ContactError."""
    role = (text or "").strip().lower() or DEFAULT_ROLE
    if role not in CONTACT_ROLES:
        raise ContactError(f"Role {text!r}: expected one of {', '.join(CONTACT_ROLES)}.")
    return role


def check(name: str, email: str, role: str | None = None, primary: bool = False) -> ContactFields:
    """A contact's fields checked and normalised; raises ContactError naming what is wrong."""
    return ContactFields(clean_name(name), normalise_email(email), clean_role(role), primary)


def check_one_primary(contacts: Iterable[ContactLike]) -> None:
    """At most one primary contact (of one customer). Raises ContactError."""
    primaries = [c.name for c in contacts if c.is_primary]
    if len(primaries) > 1:
        raise ContactError(
            f"A customer has one primary contact; {', '.join(primaries)} are all marked primary."
        )


def csv_problems(
    rows: Sequence[Mapping[str, str]], where: Sequence[str]
) -> list[tuple[int, str, str]]:
    """Every bad cell of contacts.csv rows (text cells; `where[i]` names row i, e.g.
    "contacts.csv row 3"): (row position, column, what was expected). The same checks as
    `check`, so rows without problems always import; and no customer has the same email
    twice (case-insensitive) or two primary contacts."""
    problems: list[tuple[int, str, str]] = []
    first_email: dict[tuple[str, str], int] = {}
    first_primary: dict[str, int] = {}
    for i, row in enumerate(rows):
        customer = row.get("customer_id", "")
        if not row.get("name", "").split():
            problems.append((i, "name", "a name is required"))
        email = row.get("email", "")
        problem = email_problem(email)
        if problem is not None:
            problems.append((i, "email", f"an email address (like name@example.com): {problem}"))
        else:
            key = (customer, normalise_email(email))
            if key in first_email:
                earlier = where[first_email[key]]
                problems.append(
                    (i, "email", f"the same email for customer {customer} as {earlier}")
                )
            first_email.setdefault(key, i)
        if row.get("role", "").strip().lower() not in ("", *CONTACT_ROLES):
            problems.append((i, "role", f"one of: {', '.join(CONTACT_ROLES)} (or empty: other)"))
        flag = row.get("primary", "").strip().lower()
        if flag not in ("", "true", "false"):
            problems.append((i, "primary", "true or false (or empty: false)"))
        elif flag == "true":
            if customer in first_primary:
                earlier = where[first_primary[customer]]
                problems.append(
                    (
                        i,
                        "primary",
                        f"a second primary contact for customer {customer} "
                        f"(the first: {earlier}); a customer has one",
                    )
                )
            first_primary.setdefault(customer, i)
    return problems


# ------------------------------------------------------------------ what the emails use


def ordered(contacts: Iterable[C]) -> list[C]:
    """The primary contact first, the others in the order given."""
    people = list(contacts)
    return [c for c in people if c.is_primary] + [c for c in people if not c.is_primary]


def first_name(name: str) -> str:
    """The first word of a name ("Ada Lovelace" -> "Ada")."""
    words = name.split()
    return words[0] if words else ""


def greeting_name(contacts: Iterable[ContactLike]) -> str | None:
    """The first name a draft greets: the primary contact's, else None (the draft greets
    the company's team)."""
    primary = next((c for c in contacts if c.is_primary), None)
    return (first_name(primary.name) or None) if primary else None


def address(name: str, email: str) -> str:
    """ "Ada Lovelace <ada@acme.example>"; a name with commas, dots or quotes is quoted
    (RFC 5322), so the header reads back as one address."""
    name = " ".join(name.split())
    if not name:
        return email
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{email}>"


def recipients(contacts: Iterable[ContactLike]) -> list[str]:
    """The suggested To addresses: every contact as "Name <email>", the primary first."""
    return [address(c.name, c.email) for c in ordered(contacts)]
