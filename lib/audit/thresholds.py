"""The audit's thresholds, severities and refund kinds, from data/audit_thresholds.toml."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lib import settings

THRESHOLDS_FILE = settings.DATA_DIR / "audit_thresholds.toml"
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
STATES: tuple[str, ...] = ("open", "fixed", "dismissed")


@dataclass(frozen=True)
class RuleSettings:
    """One rule's table of data/audit_thresholds.toml."""

    rule: str
    values: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            raise KeyError(f"{THRESHOLDS_FILE.name}: [rules.{self.rule}] has no {key!r}") from None

    def number(self, key: str) -> float:
        return float(self[key])

    @property
    def severity(self) -> str:
        return str(self.values.get("severity", "medium"))

    @property
    def severity_by_saving(self) -> bool:
        return bool(self.values.get("severity_by_saving", False))

    @property
    def refund(self) -> str:
        return str(self.values.get("refund", ""))

    @property
    def enabled(self) -> bool:
        return bool(self.values.get("enabled", True))


@dataclass(frozen=True)
class Thresholds:
    rules: Mapping[str, RuleSettings]
    high_saving_usd: float = 100.0
    low_saving_usd: float = 5.0
    reopen_after_days: int = 30

    def rule(self, rule: str) -> RuleSettings:
        return self.rules.get(rule, RuleSettings(rule, {}))


def load_thresholds(path: Path = THRESHOLDS_FILE) -> Thresholds:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for name, spec in raw.get("rules", {}).items():
        for key, value in spec.items():
            if key.startswith("severity") and isinstance(value, str) and value not in SEVERITIES:
                raise ValueError(
                    f"{path.name}: [rules.{name}] {key} {value!r} is not one of {SEVERITIES}"
                )
    severity = raw.get("severity", {})
    return Thresholds(
        rules={name: RuleSettings(name, spec) for name, spec in raw.get("rules", {}).items()},
        high_saving_usd=float(severity.get("high_saving_usd", 100.0)),
        low_saving_usd=float(severity.get("low_saving_usd", 5.0)),
        reopen_after_days=int(raw.get("findings", {}).get("reopen_after_days", 30)),
    )


@cache
def thresholds() -> Thresholds:
    return load_thresholds()
