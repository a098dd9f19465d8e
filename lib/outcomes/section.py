"""One chart of the Outcomes page (Section: its finding in words and its frame), and how
the titles write shares, money and months (pure)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

SMALL_GROUP = 10  # a rate over fewer customers than this is flagged as a small group


@dataclass(frozen=True)
class Section:
    """One chart: the finding in words and the numbers behind it."""

    key: str
    title: str
    frame: pd.DataFrame
    empty_message: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.empty_message is not None


def rate(numerator: float, denominator: float) -> float:
    """A share rounded for display and CSV (4 decimals); 0 when nothing to divide."""
    return round(numerator / denominator, 4) if denominator else 0.0


def pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def size(n: int) -> str:
    """A rate's group size: "n=25", or "n=5, small group" under SMALL_GROUP."""
    return f"n={n:,}, small group" if n < SMALL_GROUP else f"n={n:,}"


def sized(share: float, n: int) -> str:
    """A rate with its group size: "72% (n=25)", "40% (n=5, small group)"."""
    return f"{pct(share)} ({size(n)})"


def month_key(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def none_if_nan(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    return value
