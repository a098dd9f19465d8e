"""The task library (data/homework_tasks.toml): tasks an owner sends as homework, and the
use cases whose keywords match the goals from the second call. Validated on load."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib import settings
from lib.homework.conditions import Condition, LibraryError, parse_condition
from lib.vocabulary import PRODUCTS

LIBRARY_PATH = settings.DATA_DIR / "homework_tasks.toml"
CUSTOM_TASK = "custom"  # the task id of an item the owner wrote themselves


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    why: str
    steps: tuple[str, ...]
    docs_url: str
    products: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    shows_in: str = ""
    verify: Condition | None = None
    new_product: bool = False
    any_goal: bool = False

    def body(self) -> str:
        """The Markdown the builder starts from (the owner may reword it)."""
        lines = [self.why, ""]
        lines += [f"{n}. {step}" for n, step in enumerate(self.steps, start=1)]
        return "\n".join(lines)


@dataclass(frozen=True)
class Library:
    tasks: tuple[Task, ...]
    use_cases: dict[str, tuple[str, ...]]  # use case -> keywords matched in goals

    def get(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.id == task_id), None)

    def use_cases_of_goal(self, text: str) -> set[str]:
        lowered = text.lower()
        return {
            name
            for name, keywords in self.use_cases.items()
            if any(re.search(rf"(?<![a-z]){re.escape(k)}", lowered) for k in keywords)
        }

    def browse(
        self,
        products: Collection[str] = (),
        use_cases: Collection[str] = (),
        exclude: Collection[str] = (),
    ) -> list[Task]:
        """Tasks not in `exclude` about any of `products` and any of `use_cases` (none: all)."""
        return [
            t
            for t in self.tasks
            if t.id not in exclude
            and (not products or bool(set(products) & set(t.products)))
            and (not use_cases or bool(set(use_cases) & set(t.use_cases)))
        ]


_TASK_FIELDS = {
    "id",
    "title",
    "why",
    "steps",
    "docs_url",
    "products",
    "use_cases",
    "findings",
    "shows_in",
    "verify",
    "new_product",
    "any_goal",
}


def parse_library(data: dict[str, Any]) -> Library:
    """The library a parsed TOML file describes; LibraryError names the task and field."""
    use_cases = data.get("use_cases", {})
    if not isinstance(use_cases, dict):
        raise LibraryError("[use_cases]: expected a table of keyword lists")
    cases = {str(k): tuple(str(w).lower() for w in v) for k, v in use_cases.items()}
    tasks: list[Task] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("task", [])):
        tasks.append(_task(raw, f"task {raw.get('id', f'#{i + 1}')!r}", cases, seen))
        seen.add(raw["id"])
    return Library(tasks=tuple(tasks), use_cases=cases)


def _task(raw: dict[str, Any], where: str, cases: dict[str, Any], seen: set[str]) -> Task:
    extra = set(raw) - _TASK_FIELDS
    if extra:
        raise LibraryError(f"{where}: unknown fields {sorted(extra)}")
    for name in ("id", "title", "why", "docs_url"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise LibraryError(f"{where}: {name} is required text")
    if raw["id"] in seen or raw["id"] == CUSTOM_TASK:
        raise LibraryError(f"{where}: duplicate or reserved id")
    if not raw["docs_url"].startswith("https://"):
        raise LibraryError(f"{where}: docs_url must be an https:// link")
    steps = raw.get("steps", [])
    if not isinstance(steps, list) or not steps:
        raise LibraryError(f"{where}: steps must be a non-empty list")
    for product in raw.get("products", []):
        if product not in PRODUCTS:
            raise LibraryError(f"{where}: unknown product {product!r}")
    for case in raw.get("use_cases", []):
        if case not in cases:
            raise LibraryError(f"{where}: unknown use case {case!r} (add it to [use_cases])")
    verify = parse_condition(raw["verify"], f"{where}.verify") if "verify" in raw else None
    return Task(
        id=raw["id"],
        title=raw["title"].strip(),
        why=raw["why"].strip(),
        steps=tuple(str(s) for s in steps),
        docs_url=raw["docs_url"],
        products=tuple(raw.get("products", ())),
        use_cases=tuple(raw.get("use_cases", ())),
        findings=tuple(raw.get("findings", ())),
        shows_in=str(raw.get("shows_in", "")),
        verify=verify,
        new_product=bool(raw.get("new_product", False)),
        any_goal=bool(raw.get("any_goal", False)),
    )


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float) -> Library:
    with open(path, "rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise LibraryError(f"{path}: {exc}") from None
    return parse_library(data)


def load_library(path: Path | None = None) -> Library:
    """The task library (read again when the file changes)."""
    path = path or LIBRARY_PATH
    return _load_cached(str(path), path.stat().st_mtime)
