"""The seven CSV kinds (the contract's five, refunds.csv and contacts.csv: columns, keys,
text lengths) and what an import reports: Problem, ImportRejected, ImportResult."""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.contacts import model as contact_model
from lib.errors import UserError
from lib.refunds import records as refund_records

KINDS: tuple[str, ...] = (
    "customers",
    "subscriptions",
    "config",
    "usage",
    "steps",
    "refunds",
    "contacts",
)
MAX_REPORTED_PROBLEMS = 50


@dataclass(frozen=True)
class FileSpec:
    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]
    # The most characters a text column holds (its database column's length).
    lengths: dict[str, int] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


SPECS: dict[str, FileSpec] = {
    "customers": FileSpec(
        "customers",
        required=("customer_id", "name", "segment_entered_on"),
        optional=("owner", "plan", "entry_reason", "mrr_usd", "extended_until", "status"),
        key=("customer_id",),
        lengths={
            "customer_id": 100,
            "name": 300,
            "owner": 100,
            "plan": 50,
            "entry_reason": 50,
            "status": 20,
        },
    ),
    "subscriptions": FileSpec(
        "subscriptions",
        required=("customer_id", "product"),
        optional=("billing_limit_usd",),
        key=("customer_id", "product"),
        lengths={"customer_id": 100, "product": 50},
    ),
    "config": FileSpec(
        "config",
        required=("customer_id", "key", "value"),
        optional=(),
        key=("customer_id", "key"),
        lengths={"customer_id": 100, "key": 50, "value": 200},
    ),
    "usage": FileSpec(
        "usage",
        required=("customer_id", "date", "metric", "value"),
        optional=(),
        key=("customer_id", "date", "metric"),
        lengths={"customer_id": 100, "metric": 40},
    ),
    "steps": FileSpec(
        "steps",
        required=("customer_id", "step", "status", "date"),
        optional=(),
        key=("customer_id", "step"),
        lengths={"customer_id": 100, "step": 30, "status": 20},
    ),
    # The refunds a customer had (history moved in, or an export of this console's).
    "refunds": FileSpec(
        "refunds",
        required=refund_records.REQUIRED,
        optional=refund_records.OPTIONAL,
        key=refund_records.KEY,
        lengths=refund_records.LENGTHS,
    ),
    # The people at each customer (lib.contacts): an upsert by customer_id + email.
    "contacts": FileSpec(
        "contacts",
        required=contact_model.REQUIRED,
        optional=contact_model.OPTIONAL,
        key=contact_model.KEY,
        lengths=contact_model.LENGTHS,
    ),
}


# A problem keeps at most this much of the value it names (a 50 MB cell is not kept
# whole in a refusal that the Data page holds on to).
MAX_VALUE_CHARS = 200


@dataclass(frozen=True)
class Problem:
    file: str
    expected: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        if self.value is not None and len(self.value) > MAX_VALUE_CHARS:
            shortened = f"{self.value[:MAX_VALUE_CHARS]}... ({len(self.value):,} characters)"
            object.__setattr__(self, "value", shortened)

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            return f"{where}: {shown!r}: {self.expected}"
        return f"{where}: {self.expected}"


class ImportRejected(UserError):
    """Bad input: nothing was written."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = list(problems[:MAX_REPORTED_PROBLEMS])
        # A ProblemLog (lib.ingest.limits) counts the problems it did not keep.
        counted = getattr(problems, "total", len(problems))
        self.total = total if total is not None else counted
        super().__init__(self.summary())

    def summary(self) -> str:
        lines = [f"Import refused, nothing was written ({self.total:,} problem(s)):"]
        lines += [f"  {p}" for p in self.problems[:MAX_REPORTED_PROBLEMS]]
        if self.total > len(self.problems):
            lines.append(f"  ... and {self.total - len(self.problems):,} more")
        return "\n".join(lines)


@dataclass
class KindResult:
    files: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportResult:
    kinds: dict[str, KindResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(k.added + k.updated for k in self.kinds.values())

    def summary(self) -> str:
        lines = [
            f"{', '.join(r.files)}: {r.added} added, {r.updated} updated, {r.unchanged} unchanged"
            for kind, r in self.kinds.items()
        ]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines) if lines else "Nothing to import."
