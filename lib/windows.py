"""The usage windows every figure is summed over (pure): the 30-day billing window
ending on as-of, and the 90 days before it that make the 3-month baseline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

WINDOW_DAYS = 30
BASELINE_DAYS = 90
# The per customer x metric sums kept for a date (lib.store.customer_data sums them).
AGGREGATES: tuple[str, ...] = (
    "last_30",
    "prior_90",
    "max_day_30",
    "days_30",
    "last_7",
    "prev_7",
    "last_3",
    "days_prior_90",
)


@dataclass(frozen=True)
class Windows:
    as_of: dt.date

    @property
    def start(self) -> dt.date:
        """First day of the 30-day window (inclusive)."""
        return self.as_of - dt.timedelta(days=WINDOW_DAYS - 1)

    @property
    def baseline_start(self) -> dt.date:
        return self.start - dt.timedelta(days=BASELINE_DAYS)

    @property
    def baseline_end(self) -> dt.date:
        return self.start - dt.timedelta(days=1)
