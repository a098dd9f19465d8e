"""The demo customers' people (pure): 1-3 contacts for most customers, none for about one
in six, one of them primary; names made up, addresses on the reserved `.example` domain
(`ada.lovelace@<customer-id>.example`). Drawn from a stream of their own, seeded by the
customer ids, so the rest of the data set (and its seed) is as it was."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

FIRST_NAMES: tuple[str, ...] = (
    "Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Dennis", "Barbara",
    "Ken", "Frances", "Tim", "Radia", "Guido", "Hedy", "Donald", "Sophie",
    "Edsger", "Annie", "John", "Mary", "Niklaus", "Karen", "Bjarne", "Jean",
    "Leslie", "Evelyn", "Tony", "Shafi", "Yukihiro", "Lynn", "Rasmus", "Adele",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Ritchie",
    "Liskov", "Thompson", "Allen", "Berners-Lee", "Perlman", "van Rossum", "Lamarr",
    "Knuth", "Wilson", "Dijkstra", "Easley", "McCarthy", "Keller", "Wirth",
    "Sparck Jones", "Stroustrup", "Sammet", "Lamport", "Boyd", "Hoare", "Goldwasser",
    "Matsumoto", "Conway", "Lerdorf", "Goldberg",
)  # fmt: skip
# How many contacts a customer has: none for about one in six.
COUNT_WEIGHTS: dict[int, float] = {0: 1.0, 1: 1.8, 2: 1.9, 3: 1.3}  # sixths
# The roles, in vocabulary.CONTACT_ROLES; the primary contact is usually a founder.
ROLE_WEIGHTS: dict[str, float] = {
    "founder": 0.15,
    "engineer": 0.45,
    "product": 0.2,
    "billing": 0.1,
    "other": 0.1,
}
PRIMARY_ROLE_WEIGHTS: dict[str, float] = {
    "founder": 0.6,
    "engineer": 0.25,
    "product": 0.1,
    "billing": 0.05,
    "other": 0.0,
}
_NOT_IN_DOMAIN = re.compile(r"[^a-z0-9-]+")
_NOT_IN_LOCAL = re.compile(r"[^a-z0-9]+")


def domain(customer_id: str) -> str:
    """The customer's made-up mail domain: `<customer-id>.example` (RFC 2606)."""
    label = _NOT_IN_DOMAIN.sub("-", customer_id.lower()).strip("-")[:63].strip("-")
    return f"{label or 'customer'}.example"


def _local_part(first: str, last: str) -> str:
    return f"{_NOT_IN_LOCAL.sub('', first.lower())}.{_NOT_IN_LOCAL.sub('', last.lower())}"


def _weights(table: dict[str, float]) -> tuple[list[str], np.ndarray]:
    p = np.array(list(table.values()), dtype=float)
    return list(table), p / p.sum()


def contact_rows(customer_ids: Sequence[str], by: str = "demo") -> list[dict[str, Any]]:
    """The contacts table's rows for these customers (every column but id and
    updated_at): the same ids, the same people."""
    ids = list(customer_ids)
    if not ids:
        return []
    rng = np.random.default_rng(zlib.crc32("\n".join(ids).encode("utf-8")))
    counts_p = np.array(list(COUNT_WEIGHTS.values()), dtype=float)
    counts = rng.choice(list(COUNT_WEIGHTS), size=len(ids), p=counts_p / counts_p.sum())
    total = int(counts.sum())
    firsts = rng.integers(len(FIRST_NAMES), size=total)
    lasts = rng.integers(len(LAST_NAMES), size=total)
    roles, role_p = _weights(ROLE_WEIGHTS)
    primary_roles, primary_p = _weights(PRIMARY_ROLE_WEIGHTS)
    drawn_roles = rng.choice(len(roles), size=total, p=role_p)
    drawn_primary_roles = rng.choice(len(primary_roles), size=total, p=primary_p)
    rows: list[dict[str, Any]] = []
    at = 0
    for customer_id, count in zip(ids, counts.tolist(), strict=True):
        host = domain(customer_id)
        used: set[str] = set()
        for n in range(count):
            first, last = FIRST_NAMES[firsts[at]], LAST_NAMES[lasts[at]]
            local = base = _local_part(first, last)
            suffix = 1
            while local in used:  # the same name twice at one customer: a number
                suffix += 1
                local = f"{base}{suffix}"
            used.add(local)
            primary = n == 0
            role = primary_roles[drawn_primary_roles[at]] if primary else roles[drawn_roles[at]]
            rows.append(
                {
                    "customer_id": customer_id,
                    "name": f"{first} {last}",
                    "email": f"{local}@{host}",
                    "role": role,
                    "is_primary": primary,
                    "created_by": by,
                    "updated_by": by,
                }
            )
            at += 1
    return rows
