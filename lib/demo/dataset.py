"""The demo data set, generated (pure): same seed, same data. `generate` draws customers,
subscriptions, planted misconfigurations, config, usage, then steps and meetings, in
that order from one random stream (the order of draws is the data set)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lib.demo.catalog import (
    ACCOUNT_PLANT_RATES,
    FIRST_BILL_HIGH_SHARE,
    FIRST_BILL_MARGIN,
    FIRST_BILL_THRESHOLDS_USD,
    LIMIT_AFTER_SPIKE,
    NAME_FIRST,
    NAME_SECOND,
    OWNERS,
    PLAN_WEIGHTS,
    PLANS,
    PLANT_RATES,
    REASON_WEIGHTS,
    REASONS,
    SPIKE_RUNNING_SHARE,
    SUBSCRIPTION_RATES,
)
from lib.demo.steps import steps_and_meetings
from lib.demo.usage import (
    Flags,
    baseline_bills,
    billing_limits,
    cap_spend,
    daily_metrics,
    raise_first_bills,
    usage_frame,
)


@dataclass
class DemoData:
    customers: pd.DataFrame
    subscriptions: pd.DataFrame
    config: pd.DataFrame
    usage: pd.DataFrame
    steps: pd.DataFrame
    meetings: list[dict[str, Any]]
    # Which misconfigurations were planted where: index customer_id, one bool
    # column per rule of PLANT_RATES / ACCOUNT_PLANT_RATES (for tests and demos).
    planted: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The entry threshold (USD of forecast monthly spend) of each customer who entered
    # for a projected first bill (index customer_id; the others are not listed).
    first_bill_thresholds: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))

    def write_csvs(self, folder: Path) -> list[Path]:
        """The same data set as the contract's five CSV files."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in ("customers", "subscriptions", "config", "usage", "steps"):
            frame: pd.DataFrame = getattr(self, name).copy()
            for column in frame.columns:
                if (
                    frame[column].dtype == object
                    and len(frame)
                    and isinstance(frame[column].iloc[0], dt.date)
                ):
                    frame[column] = frame[column].map(lambda d: d.isoformat() if d else "")
            path = folder / f"{name}.csv"
            frame.to_csv(path, index=False)
            written.append(path)
        return written


@dataclass(frozen=True)
class Customers:
    """The customers drawn, with what the rest of the data set follows from."""

    frame: pd.DataFrame
    ids: list[str]
    status: np.ndarray
    engaged: np.ndarray  # replied to the first email
    diligent: np.ndarray  # the owner keeps to the windows
    size: np.ndarray  # median daily events


def generate(customers: int = 300, seed: int = 7, as_of: dt.date | None = None) -> DemoData:
    as_of = as_of or dt.date.today()
    rng = np.random.default_rng(seed)
    people = draw_customers(rng, customers, as_of)
    subscribed, subscriptions = draw_subscriptions(rng, people.ids)
    plant, limit_hit, big_daily_events = plants(rng, seed, people, subscribed)
    config = draw_config(rng, people.ids, plant, subscribed)
    story = money_story(seed, people)
    # Once a spike stopped, most set the billing limit the refund policy asks for.
    limit_set = plant["usage_spike"] & (story.spike_running_days == 0) & story.limit_after_spike
    plant["no_billing_limit"] &= ~limit_set
    limit_hit &= ~limit_set
    metrics = daily_metrics(
        rng,
        as_of,
        people.size,
        people.status,
        plant,
        subscribed,
        _autocapture_on(config, people.ids),
        big_daily_events,
        story.spike_running_days,
    )
    capped = ~plant["plan_fit_annual"]
    cap_spend(metrics, subscribed, capped, plant["usage_spike"])
    thresholds = raise_first_bills(
        metrics, subscribed, plant, capped, plant["usage_spike"], story.thresholds, story.margins
    )
    # MRR follows the bills: the baseline's average monthly bill, in whole dollars.
    people.frame["mrr_usd"] = np.round(baseline_bills(metrics, subscribed))
    subscriptions["billing_limit_usd"], paying = billing_limits(
        subscriptions, metrics, subscribed, people.ids, plant["no_billing_limit"], limit_hit
    )
    # A missing limit only matters (and is only found) where a usage product is paid for.
    plant["no_billing_limit"] &= paying
    usage_rows = usage_frame(metrics, people.ids, as_of)
    step_rows, meetings = steps_and_meetings(
        rng, people.frame, people.engaged, people.diligent, as_of
    )
    step_frame = pd.DataFrame(step_rows, columns=["customer_id", "step", "status", "date"])
    index = pd.Index(people.ids, name="customer_id")
    planted = pd.DataFrame(plant, index=index)
    first_bill = pd.Series(thresholds, index=index, name="threshold_usd").dropna()
    return DemoData(
        people.frame, subscriptions, config, usage_rows, step_frame, meetings, planted, first_bill
    )


def company_names(n: int) -> tuple[list[str], list[str]]:
    """n company names (a number added once every pair of words is taken) and their ids."""
    names, ids = [], []
    pairs = len(NAME_FIRST) * len(NAME_SECOND)
    for i in range(n):
        name = f"{NAME_FIRST[i % len(NAME_FIRST)]} "
        name += NAME_SECOND[(i // len(NAME_FIRST) + i) % len(NAME_SECOND)]
        if i >= pairs:
            name += f" {i // pairs + 1}"
        names.append(name)
        ids.append(f"{name.lower().replace(' ', '-')}-{i + 1:05d}")
    return names, ids


def draw_customers(rng: np.random.Generator, n: int, as_of: dt.date) -> Customers:
    # Most customers are inside their 8 weeks; a tail entered up to 16 weeks ago.
    entered_days_ago = np.where(
        rng.random(n) < 0.72, rng.integers(0, 63, n), rng.integers(63, 112, n)
    )
    entered = [as_of - dt.timedelta(days=int(d)) for d in entered_days_ago]
    status = rng.choice(["active", "paused", "churned"], n, p=[0.9, 0.03, 0.07])
    engaged = rng.random(n) < 0.75  # the handbook's response rate to the first email
    diligent = rng.random(n) < 0.8  # the owner keeps to the windows
    names, ids = company_names(n)
    extended = [
        e + dt.timedelta(days=56 + int(rng.integers(7, 29)))
        if d >= 42 and eng and rng.random() < 0.15
        else None
        for e, d, eng in zip(entered, entered_days_ago, engaged, strict=True)
    ]
    size = rng.lognormal(mean=np.log(45_000), sigma=1.3, size=n)  # median daily events
    owners = [OWNERS[int(k)] for k in rng.integers(0, len(OWNERS), n)]
    plans = rng.choice(PLANS, n, p=PLAN_WEIGHTS)
    reasons = rng.choice(REASONS, n, p=REASON_WEIGHTS)
    rng.uniform(0, 200, n)  # was MRR's noise; drawn still so the rest of the data stays
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "name": names,
            "owner": owners,
            "plan": plans,
            "segment_entered_on": entered,
            "entry_reason": reasons,
            "mrr_usd": 0.0,  # set from the bills (generate)
            "extended_until": extended,
            "status": status,
        }
    )
    return Customers(frame, ids, status, engaged, diligent, size)


@dataclass(frozen=True)
class MoneyStory:
    thresholds: np.ndarray  # a first-bill customer's entry threshold (USD); NaN otherwise
    margins: np.ndarray  # how far above its threshold its bill is raised (at least)
    spike_running_days: np.ndarray  # a planted spike still running: its days (0: over)
    limit_after_spike: np.ndarray  # sets a billing limit once its spike is over


def money_story(seed: int, people: Customers) -> MoneyStory:
    """Entry thresholds and spike states, from a stream of their own. A churned customer
    has no usage left to project a bill from: one drawn as `first_bill_projected` gets
    another reason. Changes `people.frame["entry_reason"]`."""
    n = len(people.ids)
    story = np.random.default_rng([seed, 2])
    others = [r for r in REASONS if r != "first_bill_projected"]
    weights = np.array([REASON_WEIGHTS[REASONS.index(r)] for r in others])
    instead = story.choice(others, n, p=weights / weights.sum())
    reasons = people.frame["entry_reason"].to_numpy(dtype=object)
    gone = (reasons == "first_bill_projected") & (people.status == "churned")
    reasons[gone] = instead[gone]
    people.frame["entry_reason"] = reasons
    low, high = FIRST_BILL_THRESHOLDS_USD
    thresholds = np.where(story.random(n) < FIRST_BILL_HIGH_SHARE, high, low)
    thresholds = np.where(reasons == "first_bill_projected", thresholds, np.nan)
    margins = story.uniform(*FIRST_BILL_MARGIN, n)
    running = story.random(n) < SPIKE_RUNNING_SHARE
    running_days = np.where(running, story.integers(2, 7, n), 0)
    return MoneyStory(thresholds, margins, running_days, story.random(n) < LIMIT_AFTER_SPIKE)


def draw_subscriptions(rng: np.random.Generator, ids: list[str]) -> tuple[Flags, pd.DataFrame]:
    """Who subscribes to each product, and the subscriptions frame (limits set later)."""
    n = len(ids)
    subscribed = {p: rng.random(n) < rate for p, rate in SUBSCRIPTION_RATES.items()}
    # Billing limits are set once usage is known (usage.billing_limits); this draw only
    # keeps the random stream, and so the rest of the data set, as it was.
    rng.random(n)
    rows = [
        (ids[i], product, None) for i in range(n) for product, on in subscribed.items() if on[i]
    ]
    return subscribed, pd.DataFrame(rows, columns=["customer_id", "product", "billing_limit_usd"])


def plants(
    rng: np.random.Generator, seed: int, people: Customers, subscribed: Flags
) -> tuple[Flags, np.ndarray, np.ndarray]:
    """Where each misconfiguration is planted; also which customers without a billing
    limit hit one, and the daily events of a plan-fit account."""
    n = len(people.ids)
    plant = {rule: rng.random(n) < rate for rule, rate in PLANT_RATES.items()}
    plant["groupidentify_overcalled"] &= subscribed["group_analytics"]
    plant["unused_group_analytics"] &= subscribed["group_analytics"]
    plant["groupidentify_overcalled"] &= ~plant["unused_group_analytics"]
    plant["unused_data_pipelines"] &= subscribed["data_pipelines"]
    plant["replay_short_recordings"] &= subscribed["session_replay"]
    plant["flag_local_eval_polling"] &= subscribed["feature_flags"]
    plant["flag_requests_per_session"] &= subscribed["feature_flags"]
    # Profiles for anonymous traffic means almost nobody logs in: no identify flood too.
    plant["anonymous_person_profiles"] &= ~plant["identify_overcalled"]
    # Account-level plants come from a stream of their own so that adding them
    # left every other value of the data set unchanged.
    account_rng = np.random.default_rng([seed, 1])
    for rule, rate in ACCOUNT_PLANT_RATES.items():
        plant[rule] = account_rng.random(n) < rate
    limit_hit = plant["no_billing_limit"] & (account_rng.random(n) < 0.25)
    big_daily_events = account_rng.uniform(1.2e6, 2.5e6, n)
    plant["plan_fit_annual"] &= (
        (people.status != "churned")
        & (people.frame["plan"].to_numpy() != "enterprise")
        & ~plant["usage_spike"]
    )
    return plant, limit_hit, big_daily_events


def draw_config(
    rng: np.random.Generator, ids: list[str], plant: Flags, subscribed: Flags
) -> pd.DataFrame:
    """Each customer's SDK and product settings (the planted ones set to match)."""
    config_rows = []
    for i, cid in enumerate(ids):
        autocapture = "on" if plant["autocapture_unused"][i] or rng.random() < 0.75 else "off"
        config_rows += [
            (cid, "autocapture", autocapture),
            (
                cid,
                "autocapture_actions",
                "0" if plant["autocapture_unused"][i] else str(int(rng.integers(1, 25))),
            ),
            (
                cid,
                "person_profiles",
                "always" if plant["anonymous_person_profiles"][i] else "identified_only",
            ),
            (
                cid,
                "sdk",
                str(rng.choice(["posthog-js", "posthog-python", "posthog-node", "posthog-ios"])),
            ),
            (
                cid,
                "sdk_version_age_days",
                str(
                    int(rng.integers(120, 400) if plant["outdated_sdk"][i] else rng.integers(0, 80))
                ),
            ),
        ]
        if subscribed["session_replay"][i]:
            config_rows += [
                (
                    cid,
                    "replay_min_duration_s",
                    "0" if plant["replay_short_recordings"][i] else str(int(rng.integers(2, 6))),
                ),
                (cid, "replay_sample_rate", f"{rng.choice([1.0, 0.5, 0.25]):.2f}"),
            ]
        if subscribed["feature_flags"][i]:
            polling = plant["flag_local_eval_polling"][i]
            config_rows += [
                (
                    cid,
                    "flags_local_evaluation",
                    "true" if polling or rng.random() < 0.1 else "false",
                ),
                (cid, "flags_poll_interval_s", "30" if polling else "300"),
            ]
        if subscribed["data_pipelines"][i]:
            config_rows.append(
                (
                    cid,
                    "pipeline_destinations",
                    "0" if plant["unused_data_pipelines"][i] else str(int(rng.integers(1, 4))),
                )
            )
    return pd.DataFrame(config_rows, columns=["customer_id", "key", "value"])


def _autocapture_on(config: pd.DataFrame, ids: list[str]) -> np.ndarray:
    return (
        config.pivot(index="customer_id", columns="key", values="value")
        .reindex(ids)["autocapture"]
        .eq("on")
        .to_numpy()
    )
