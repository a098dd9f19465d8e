"""A view of the Customers table as its URL, so it can be bookmarked and shared (pure;
docs/interface.md, "The Customers page's URL"):

    /customers?owner=NAME&stage=CODE&status=CODE&health=CODE&overdue=1&q=TEXT

every parameter optional; owner, stage, status, health (and next, the next action's
step) take a comma-separated list, or the parameter repeated. `findings=1` keeps the
customers with open findings. Unknown codes are dropped, never an error: an old link
still opens."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from lib.program import portfolio, timeline
from lib.program.stage import STAGE_LABELS

MAX_QUERY_CHARS = 200
TRUE = frozenset({"1", "true", "yes", "on"})

# parameter -> the codes it takes (owner: the owners the table knows, given at parse time)
CODES: dict[str, tuple[str, ...]] = {
    "stage": tuple(STAGE_LABELS),
    "status": timeline.PROGRAM_STATUSES,
    "health": portfolio.HEALTH_BANDS,
    "next": timeline.STEPS,
}
LISTS: tuple[str, ...] = ("owner", "stage", "status", "health", "next")
FLAGS: tuple[str, ...] = ("overdue", "findings")
PARAMS: tuple[str, ...] = (*LISTS, *FLAGS, "q")


@dataclass(frozen=True)
class View:
    owner: tuple[str, ...] = ()
    stage: tuple[str, ...] = ()
    status: tuple[str, ...] = ()  # the program status
    health: tuple[str, ...] = ()  # the health band
    next: tuple[str, ...] = ()  # the next action's step
    overdue: bool = False
    findings: bool = False
    q: str = ""

    def matches(self, row: portfolio.Row) -> bool:
        return portfolio.matches(
            row,
            self.q,
            self.owner,
            self.status,
            self.next,
            self.findings,
            stages=self.stage,
            health=self.health,
            overdue_only=self.overdue,
        )

    def params(self) -> dict[str, str | list[str]]:
        """The URL's query parameters (empty ones left out): lists comma-separated, or
        repeated when a value holds a comma itself (an owner's name)."""
        out: dict[str, str | list[str]] = {}
        for name in LISTS:
            values: tuple[str, ...] = getattr(self, name)
            if values:
                out[name] = list(values) if any("," in v for v in values) else ",".join(values)
        for name in FLAGS:
            if getattr(self, name):
                out[name] = "1"
        if self.q.strip():
            out["q"] = self.q.strip()
        return out


def _values(raw: Sequence[str], known: Collection[str]) -> tuple[str, ...]:
    """The known values among the raw ones, in order, once: a value that is itself known
    is kept whole (an owner "Smith, Jo"), any other is split at commas."""
    out: list[str] = []
    for value in raw:
        parts = [value] if value in known else value.split(",")
        for part in (p.strip() for p in parts):
            if part in known and part not in out:
                out.append(part)
    return tuple(out)


def parse(params: Mapping[str, Sequence[str]], owners: Collection[str]) -> View:
    """The view a URL names; `params`: parameter -> its values (repeated ones in order);
    `owners`: the owners the table knows (an unknown owner is dropped)."""

    def raw(name: str) -> Sequence[str]:
        return params.get(name) or ()

    known = {**CODES, "owner": tuple(owners)}

    def codes(name: str) -> tuple[str, ...]:
        return _values(raw(name), known[name])

    def flag(name: str) -> bool:
        return any(v.strip().lower() in TRUE for v in raw(name))

    return View(
        owner=codes("owner"),
        stage=codes("stage"),
        status=codes("status"),
        health=codes("health"),
        next=codes("next"),
        overdue=flag("overdue"),
        findings=flag("findings"),
        q=(raw("q") or [""])[-1].strip()[:MAX_QUERY_CHARS],
    )
