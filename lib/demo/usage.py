"""The demo's daily usage (pure): 120 days of counts per customer and metric, with
log-normal account sizes, a weekday rhythm and the planted misconfigurations, and the
billing limits set from the bills it makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from lib import pricing
from lib.demo.catalog import (
    FIRST_BILL_MARGIN,
    FIRST_BILL_THRESHOLDS_USD,
    LIMITED_PRODUCTS,
    NOT_VOLUME,
    SPEND_CAP_USD,
    USAGE_DAYS,
)
from lib.demo.history import FIXES_ON_CALL

Flags = dict[str, np.ndarray]  # one boolean per customer, by product or rule


def usage_days(as_of: dt.date) -> np.ndarray:
    """The USAGE_DAYS days ending on as-of, oldest first."""
    return np.array([as_of - dt.timedelta(days=USAGE_DAYS - 1 - d) for d in range(USAGE_DAYS)])


def daily_metrics(
    rng: np.random.Generator,
    as_of: dt.date,
    size: np.ndarray,
    status: np.ndarray,
    plant: Flags,
    subscribed: Flags,
    autocapture_on: np.ndarray,
    big_daily_events: np.ndarray,
    spike_running_days: np.ndarray,
) -> dict[str, np.ndarray]:
    """Every metric, one (customers x days) array each (or one broadcast to it).
    `spike_running_days`: a planted spike still running on as-of covers that many last
    days; 0 = it ran five days and stopped at least four days before as-of."""
    n = len(size)
    events = _events(rng, as_of, size, status, plant, big_daily_events, spike_running_days)
    metrics = _volumes(rng, events, plant, subscribed, autocapture_on)
    active_users, insights = _team_activity(rng, plant["low_adoption"])
    metrics["merge_warnings"] = np.where(
        plant["identity_merge_errors"][:, None], rng.poisson(40, (n, USAGE_DAYS)), 0
    )
    metrics["active_users"] = active_users
    metrics["insights_viewed"] = insights
    return metrics


def _events(
    rng: np.random.Generator,
    as_of: dt.date,
    size: np.ndarray,
    status: np.ndarray,
    plant: Flags,
    big_daily_events: np.ndarray,
    spike_running_days: np.ndarray,
) -> np.ndarray:
    n = len(size)
    days = usage_days(as_of)
    weekday = np.array([d.weekday() for d in days])
    rhythm = np.where(weekday >= 5, 0.55, 1.0)
    trend = np.linspace(0.85, 1.05, USAGE_DAYS)
    noise = rng.lognormal(0, 0.15, (n, USAGE_DAYS))
    events = size[:, None] * rhythm[None, :] * trend[None, :] * noise
    # Plan fit: a big, steady account (about 1.2-2.5M events a day).
    events *= np.where(plant["plan_fit_annual"], np.maximum(big_daily_events / size, 1.0), 1.0)[
        :, None
    ]
    # Churned customers fade out over their last weeks.
    churned = status == "churned"
    fade = np.clip(np.linspace(1.6, -0.4, USAGE_DAYS), 0, 1)
    events[churned] *= fade[None, :]
    # Spikes: a bot or a loop multiplies days inside the last 30 by ~40: five days that
    # ended before the last three (over), or the last few days (still running).
    spike_start = rng.integers(USAGE_DAYS - 25, USAGE_DAYS - 6, n)
    for spiked in np.flatnonzero(plant["usage_spike"]).tolist():
        running = int(spike_running_days[spiked])
        first_day = (
            USAGE_DAYS - running if running else min(int(spike_start[spiked]), USAGE_DAYS - 9)
        )
        events[spiked, first_day : first_day + (running or 5)] *= 40
    return events


def _volumes(
    rng: np.random.Generator,
    events: np.ndarray,
    plant: Flags,
    subscribed: Flags,
    autocapture_on: np.ndarray,
) -> dict[str, np.ndarray]:
    n = len(events)
    sessions = events / rng.uniform(18, 35, n)[:, None]
    share = lambda lo, hi: rng.uniform(lo, hi, n)[:, None]  # noqa: E731
    identified_share = np.where(
        plant["anonymous_person_profiles"][:, None], share(0.93, 0.99), share(0.2, 0.7)
    )
    autocapture_share = (
        np.where(plant["autocapture_unused"][:, None], share(0.55, 0.8), share(0.1, 0.4))
        * autocapture_on[:, None]
    )
    identify_per_session = np.where(
        plant["identify_overcalled"][:, None],
        share(5, 9),
        np.where(plant["anonymous_person_profiles"][:, None], share(0.0, 0.02), share(0.2, 0.8)),
    )
    uses_groups = subscribed["group_analytics"] & ~plant["unused_group_analytics"]
    group_share = (
        np.where(plant["groupidentify_overcalled"][:, None], share(0.06, 0.12), share(0.005, 0.02))
        * uses_groups[:, None]
    )
    dev_share = np.where(plant["dev_traffic"][:, None], share(0.02, 0.08), 0.0)
    replay = subscribed["session_replay"][:, None]
    recordings = sessions * share(0.2, 0.5) * replay
    short_share = np.where(
        plant["replay_short_recordings"][:, None], share(0.55, 0.8), share(0.05, 0.3)
    )
    flags = subscribed["feature_flags"][:, None]
    per_session_flags = np.where(
        plant["flag_requests_per_session"][:, None], share(25, 60), share(1, 4)
    )
    instances = rng.integers(2, 8, n)[:, None]
    local_eval = (
        np.where(plant["flag_local_eval_polling"][:, None], instances * 2880.0, 0.0) * flags
    )
    return {
        "events": events,
        "identified_events": events * identified_share,
        "autocapture_events": events * autocapture_share,
        "identify_events": sessions * identify_per_session,
        "groupidentify_events": events * group_share,
        "group_events": events * 0.6 * uses_groups[:, None],
        "dev_events": events * dev_share,
        "sessions": sessions,
        "recordings": recordings,
        "short_recordings": recordings * short_share,
        "recordings_viewed": recordings * 0.02,
        "flag_requests": (sessions * per_session_flags + local_eval) * flags,
        "local_eval_requests": local_eval,
        "survey_responses": sessions * 0.002 * subscribed["surveys"][:, None],
        "warehouse_rows": events * 0.4 * subscribed["data_warehouse"][:, None],
        "exceptions": sessions * 0.3 * subscribed["error_tracking"][:, None],
    }


def _team_activity(
    rng: np.random.Generator, low_adoption: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Active users and insights viewed a day (low adoption: almost nobody, then nothing)."""
    n = len(low_adoption)
    team_size = rng.integers(3, 20, n)[:, None]  # 3+: a healthy team has 3 active some day
    low = low_adoption[:, None]
    active_users = np.where(
        low, rng.integers(0, 3, (n, USAGE_DAYS)), rng.binomial(team_size, 0.5, (n, USAGE_DAYS))
    )
    insights = np.where(low, 0, rng.poisson(team_size * 2.0, (n, USAGE_DAYS)))
    insights = np.where(
        low & (np.arange(USAGE_DAYS) < USAGE_DAYS - 10), rng.poisson(1.0, (n, USAGE_DAYS)), insights
    )
    return active_users, insights


def usage_frame(metrics: dict[str, np.ndarray], ids: list[str], as_of: dt.date) -> pd.DataFrame:
    """The usage CSV's rows: one per customer, day and metric with a count above zero."""
    n = len(ids)
    days = usage_days(as_of)
    frames = []
    customer_index = np.repeat(np.arange(n), USAGE_DAYS)
    day_index = np.tile(np.arange(USAGE_DAYS), n)
    # Usage starts when the account existed: at most 120 days, and never
    # before an account that entered recently had been active a while.
    for metric, values in metrics.items():
        flat = np.rint(np.broadcast_to(values, (n, USAGE_DAYS))).astype(np.int64).ravel()
        keep = flat > 0
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": np.asarray(ids, dtype=object)[customer_index[keep]],
                    "date": days[day_index[keep]],
                    "metric": metric,
                    "value": flat[keep],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _monthly(metrics: dict[str, np.ndarray], days: slice, months: float) -> pd.DataFrame:
    n = len(metrics["events"])
    return pd.DataFrame(
        {
            m: np.broadcast_to(v, (n, USAGE_DAYS))[:, days].sum(axis=1) / months
            for m, v in metrics.items()
        }
    )


BASELINE = slice(0, USAGE_DAYS - 30)  # the 90 days before the 30-day window
WINDOW = slice(USAGE_DAYS - 30, USAGE_DAYS)  # the 30 days ending on as-of


def _product_bills(
    metrics: dict[str, np.ndarray], subscribed: dict[str, np.ndarray], spiked: np.ndarray
) -> pd.DataFrame:
    """Each customer's usual monthly bill per product (see _usual)."""
    return _usual(
        _monthly(metrics, BASELINE, 3.0),
        _monthly(metrics, WINDOW, 1.0),
        pd.DataFrame(subscribed),
        spiked,
    )


def _usual(
    baseline: pd.DataFrame, recent: pd.DataFrame, subscribed: pd.DataFrame, spiked: np.ndarray
) -> pd.DataFrame:
    """The usual monthly bill per product: the larger of the 3-month average and the last
    30 days (the 3-month average only where a spike is planted)."""
    before = pricing.by_product_frame(pricing.bill_frame(baseline, subscribed))
    now = pricing.by_product_frame(pricing.bill_frame(recent, subscribed))
    usual = np.maximum(before.to_numpy(), now.to_numpy())
    usual = np.where(spiked[:, None], before.to_numpy(), usual)
    return pd.DataFrame(usual, columns=before.columns)


def _after_fixes(
    recent: pd.DataFrame, subscribed: pd.DataFrame, plant: Flags
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 30 days' volumes and the subscriptions with every fix the first call may make
    (lib.demo.history.FIXES_ON_CALL) applied to the whole window, wherever its
    misconfiguration is planted: the least the report's bill can become."""
    volumes, products = recent.copy(), subscribed.copy()
    for rule, fix in FIXES_ON_CALL.items():
        where = plant[rule]
        for metric, factor in fix.usage:
            if metric in volumes.columns:
                volumes.loc[where, metric] *= factor
        for product in fix.drop_products:
            products.loc[where, product] = False
    return volumes, products


def _smallest_scale(
    bill_at: Callable[[np.ndarray], np.ndarray], target: np.ndarray, most: float = 1e4
) -> np.ndarray:
    """Per customer, the smallest factor in [1, most] that makes the increasing
    `bill_at(factors)` reach `target` (bisection on a log scale)."""
    low, high = np.ones(len(target)), np.full(len(target), most)
    for _ in range(16):  # to 0.015% of the factor
        middle = np.sqrt(low * high)
        reached = bill_at(middle) >= target
        high, low = np.where(reached, middle, high), np.where(reached, low, middle)
    return np.where(bill_at(low) >= target, low, high)


def raise_first_bills(
    metrics: dict[str, np.ndarray],
    subscribed: Flags,
    plant: Flags,
    capped: np.ndarray,
    spiked: np.ndarray,
    thresholds: np.ndarray,
    margins: np.ndarray,
) -> np.ndarray:
    """Scale up every volume of the customers with a threshold (NaN: none) until their
    30-day bill, even with every planted fix applied (_after_fixes), is at least
    threshold x margin (never below FIRST_BILL_MARGIN[0] x threshold), keeping the
    `capped` ones under SPEND_CAP_USD. Returns the thresholds kept: a $500 one that
    cannot fit under the cap becomes $100."""
    kept = thresholds.copy()
    rows = np.flatnonzero(~np.isnan(thresholds))
    products = pd.DataFrame(subscribed).iloc[rows].reset_index(drop=True)
    recent = _monthly(metrics, WINDOW, 1.0).iloc[rows].reset_index(drop=True)
    fixed, fixed_products = _after_fixes(recent, products, {k: v[rows] for k, v in plant.items()})
    lowest_now = pricing.bill_frame(fixed, fixed_products)["total"].to_numpy()
    # Only those below their target move.
    low = lowest_now < thresholds[rows] * margins[rows]
    rows = rows[low]
    products, recent, fixed, fixed_products = (
        f[low].reset_index(drop=True) for f in (products, recent, fixed, fixed_products)
    )
    baseline = _monthly(metrics, BASELINE, 3.0).iloc[rows].reset_index(drop=True)

    def lowest(factor: np.ndarray) -> np.ndarray:
        return pricing.bill_frame(fixed.mul(factor, axis=0), fixed_products)["total"].to_numpy()

    def usual(factor: np.ndarray) -> np.ndarray:
        return (
            _usual(baseline.mul(factor, axis=0), recent.mul(factor, axis=0), products, spiked[rows])
            .sum(axis=1)
            .to_numpy()
        )

    chosen = thresholds[rows].copy()
    ceiling = np.where(
        capped[rows], _smallest_scale(usual, np.full(len(rows), SPEND_CAP_USD * 0.95)), np.inf
    )
    floor = _smallest_scale(lowest, chosen * FIRST_BILL_MARGIN[0])
    if (too_high := floor > ceiling).any():
        chosen[too_high] = FIRST_BILL_THRESHOLDS_USD[0]
        floor = _smallest_scale(lowest, chosen * FIRST_BILL_MARGIN[0])
    wanted = _smallest_scale(lowest, chosen * margins[rows])
    factor = np.ones(len(thresholds))
    factor[rows] = np.minimum(wanted, np.maximum(ceiling, floor))
    for metric in metrics:
        if metric not in NOT_VOLUME:
            metrics[metric] = metrics[metric] * factor[:, None]
    kept[rows] = chosen
    return kept


def baseline_bills(metrics: dict[str, np.ndarray], subscribed: Flags) -> np.ndarray:
    """The bill of the baseline's average month (the 90 days before the 30-day window,
    divided by 3) of the whole units the usage CSV holds, through lib.pricing."""
    n = len(metrics["events"])
    months = pd.DataFrame(
        {
            m: np.rint(np.broadcast_to(v, (n, USAGE_DAYS))[:, BASELINE]).sum(axis=1) / 3.0
            for m, v in metrics.items()
        }
    )
    return pricing.bill_frame(months, pd.DataFrame(subscribed))["total"].to_numpy(dtype=float)


def cap_spend(
    metrics: dict[str, np.ndarray],
    subscribed: dict[str, np.ndarray],
    capped: np.ndarray,
    spiked: np.ndarray,
) -> None:
    """Scale the volumes of `capped` customers down until they spend under SPEND_CAP_USD,
    so that only the planted big spenders fit an annual plan."""
    for _ in range(6):
        total = _product_bills(metrics, subscribed, spiked).sum(axis=1).to_numpy()
        over = capped & (total > SPEND_CAP_USD)
        if not over.any():
            return
        factor = np.where(over, SPEND_CAP_USD / np.maximum(total, 1.0) * 0.95, 1.0)[:, None]
        for metric in metrics:
            if metric not in NOT_VOLUME:
                metrics[metric] = metrics[metric] * factor


def billing_limits(
    subscriptions: pd.DataFrame,
    metrics: dict[str, np.ndarray],
    subscribed: dict[str, np.ndarray],
    ids: list[str],
    no_limit: np.ndarray,
    limit_hit: np.ndarray,
) -> tuple[list[float | None], np.ndarray]:
    """A generous billing limit (3x the usual bill, at least $50) on each usage product;
    none where `no_billing_limit` is planted, and a limit below the bill where it is hit.
    Also returns which customers pay for a usage product (in the last 30 days)."""
    usual_frame = _product_bills(metrics, subscribed, np.zeros(len(ids), dtype=bool))
    usual = usual_frame.to_numpy(dtype=float)
    column = {str(product): j for j, product in enumerate(usual_frame.columns)}
    recent = pricing.by_product_frame(
        pricing.bill_frame(_monthly(metrics, WINDOW, 1.0), pd.DataFrame(subscribed))
    )
    paying = (
        recent.reindex(columns=list(LIMITED_PRODUCTS), fill_value=0.0).gt(0).any(axis=1).to_numpy()
    )
    position = {cid: i for i, cid in enumerate(ids)}
    limits: list[float | None] = []
    for customer_id, product in subscriptions[["customer_id", "product"]].itertuples(
        index=False, name=None
    ):
        i = position[customer_id]
        amount = float(usual[i, column[product]]) if product in column else 0.0
        if product not in LIMITED_PRODUCTS:
            limits.append(None)
        elif limit_hit[i] and amount > 0:
            limits.append(float(max(round(amount * 0.8, -1), 10.0)))
        elif no_limit[i]:
            limits.append(None)
        else:
            limits.append(float(max(round(amount * 3, -1), 50.0)))
    return limits, paying
