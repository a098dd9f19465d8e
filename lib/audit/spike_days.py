"""Spike days on a daily usage chart, by the `usage_spike` rule's settings (pure)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lib.audit.thresholds import thresholds
from lib.windows import BASELINE_DAYS, Windows


def spike_day_ratio() -> float:
    return float(thresholds().rule("usage_spike").number("max_day_ratio"))


def mark_spikes(
    frame: pd.DataFrame,
    as_of: dt.date,
    day_ratio: float | None = None,
    min_baseline_days: int | None = None,
) -> pd.Series:
    """True on the days above `day_ratio` x the metric's average baseline day.

    `frame`: columns date, metric, value (lib.store.usage_history.daily).
    """
    rule = thresholds().rule("usage_spike")
    ratio = spike_day_ratio() if day_ratio is None else day_ratio
    needed = (
        int(rule.number("min_baseline_days")) if min_baseline_days is None else min_baseline_days
    )
    windows = Windows(as_of)
    in_baseline = (frame["date"] >= windows.baseline_start) & (
        frame["date"] <= windows.baseline_end
    )
    baseline = frame["value"].where(in_baseline)
    average = baseline.groupby(frame["metric"]).transform("sum") / BASELINE_DAYS
    days_with_data = (baseline > 0).groupby(frame["metric"]).transform("sum")
    return ((days_with_data >= needed) & (average > 0) & (frame["value"] > ratio * average)).astype(
        bool
    )
