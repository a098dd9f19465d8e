"""The demo's daily usage (pure): 120 days of counts per customer and metric, with
log-normal account sizes, a weekday rhythm and the planted misconfigurations, and the
billing limits set from the bills it makes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from lib import pricing
from lib.demo.catalog import LIMITED_PRODUCTS, NOT_VOLUME, SPEND_CAP_USD, USAGE_DAYS

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
) -> dict[str, np.ndarray]:
    """Every metric, one (customers x days) array each (or one broadcast to it)."""
    n = len(size)
    events = _events(rng, as_of, size, status, plant, big_daily_events)
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
    # Spikes: a bot or a loop multiplies five days inside the last 30 by ~40.
    spike_start = rng.integers(USAGE_DAYS - 25, USAGE_DAYS - 6, n)
    for spiked in np.flatnonzero(plant["usage_spike"]).tolist():
        first_day = int(spike_start[spiked])
        events[spiked, first_day : first_day + 5] *= 40
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


def _product_bills(
    metrics: dict[str, np.ndarray], subscribed: dict[str, np.ndarray], spiked: np.ndarray
) -> pd.DataFrame:
    """Each customer's usual monthly bill per product: the larger of the 3-month average
    and the last 30 days (the 3-month average only where a spike is planted)."""
    frame = pd.DataFrame(subscribed)
    baseline = pricing.by_product_frame(
        pricing.bill_frame(_monthly(metrics, slice(0, USAGE_DAYS - 30), 3.0), frame)
    )
    recent = pricing.by_product_frame(
        pricing.bill_frame(_monthly(metrics, slice(USAGE_DAYS - 30, USAGE_DAYS), 1.0), frame)
    )
    usual = np.maximum(baseline.to_numpy(), recent.to_numpy())
    usual = np.where(spiked[:, None], baseline.to_numpy(), usual)
    return pd.DataFrame(usual, columns=baseline.columns)


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
        pricing.bill_frame(
            _monthly(metrics, slice(USAGE_DAYS - 30, USAGE_DAYS), 1.0), pd.DataFrame(subscribed)
        )
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
