"""A deterministic, realistic demo data set (same seed, same data).

Customers are spread over every program week and status; usage is 120 days of
daily counts with log-normal account sizes and a weekday rhythm; the
misconfigurations of DOMAIN.md section 3 are planted at realistic rates; steps
and meetings follow the timeline (most on time, some late, some missing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, insert

from lib import bulk, db, models, pricing, timeline, usage_summary

USAGE_DAYS = 120
OWNERS: tuple[str, ...] = (
    "dana",
    "lee",
    "priya",
    "marco",
    "sofia",
    "tomas",
    "aisha",
    "ken",
    "nora",
    "oliver",
    "yuki",
    "zane",
)
_FIRST = (
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Aperture",
    "Black Mesa",
    "Blue Sun",
    "Monarch",
    "Pied Piper",
    "Dunder",
    "Bluth",
    "Sirius",
    "Nakatomi",
    "Duff",
    "Prestige",
    "Massive",
    "Sterling",
    "Virtucon",
    "Wernham",
    "Zorg",
    "Oceanic",
    "Ollivander",
    "Kerbal",
    "Lumon",
    "Hanso",
    "Octan",
    "Genco",
    "Ajax",
    "Paper Street",
)
_SECOND = (
    "Labs",
    "Analytics",
    "Health",
    "Pay",
    "Cloud",
    "Studio",
    "Robotics",
    "Foods",
    "Travel",
    "Learning",
    "Security",
    "Logistics",
    "Games",
    "Energy",
    "Media",
    "Bank",
    "AI",
    "Works",
    "Commerce",
    "Software",
)
PLANS = ("pay-as-you-go", "startup", "teams", "boost", "scale", "enterprise")
PLAN_WEIGHTS = (0.45, 0.2, 0.15, 0.1, 0.07, 0.03)
REASONS = ("credits_rolloff", "first_bill_projected", "accelerator", "manual")
REASON_WEIGHTS = (0.35, 0.45, 0.12, 0.08)
SUBSCRIPTION_RATES = {
    "product_analytics": 1.0,
    "session_replay": 0.7,
    "feature_flags": 0.5,
    "surveys": 0.2,
    "data_warehouse": 0.15,
    "error_tracking": 0.3,
    "group_analytics": 0.22,
    "data_pipelines": 0.12,
}
# How often each misconfiguration is planted.
PLANT_RATES = {
    "identify_overcalled": 0.08,
    "groupidentify_overcalled": 0.25,  # of group analytics users
    "anonymous_person_profiles": 0.12,
    "autocapture_unused": 0.15,
    "replay_short_recordings": 0.2,  # of replay users
    "dev_traffic": 0.07,
    "unused_group_analytics": 0.35,  # of group analytics subscribers
    "unused_data_pipelines": 0.4,  # of data pipelines subscribers
    "flag_local_eval_polling": 0.3,  # of flag users
    "flag_requests_per_session": 0.15,  # of flag users
    "usage_spike": 0.05,
    "identity_merge_errors": 0.08,
    "outdated_sdk": 0.15,
    "low_adoption": 0.12,
}
# Account-level plants, drawn from their own random stream (see generate()).
ACCOUNT_PLANT_RATES = {
    "no_billing_limit": 0.2,  # no billing limit at all; a quarter of them hit one
    "plan_fit_annual": 0.03,  # a big, steady spender (others' spend stays below it)
}
# Customers the plan-fit plant does not touch spend at most this much a month.
SPEND_CAP_USD = 1_400.0
# Usage products a billing limit applies to (add-ons bill through them).
LIMITED_PRODUCTS = (
    "product_analytics",
    "session_replay",
    "feature_flags",
    "surveys",
    "data_warehouse",
    "error_tracking",
)
# Metrics that are not billed volumes (team activity, warnings): never scaled.
_NOT_VOLUME = ("merge_warnings", "active_users", "insights_viewed")


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


def generate(customers: int = 300, seed: int = 7, as_of: dt.date | None = None) -> DemoData:
    as_of = as_of or dt.date.today()
    rng = np.random.default_rng(seed)
    n = customers

    # ------------------------------------------------------------ customers
    # Most customers are inside their 8 weeks; a tail entered up to 16 weeks ago.
    entered_days_ago = np.where(
        rng.random(n) < 0.72, rng.integers(0, 63, n), rng.integers(63, 112, n)
    )
    entered = [as_of - dt.timedelta(days=int(d)) for d in entered_days_ago]
    status = rng.choice(["active", "paused", "churned"], n, p=[0.9, 0.03, 0.07])
    engaged = rng.random(n) < 0.75  # the handbook's response rate to the first email
    diligent = rng.random(n) < 0.8  # the owner keeps to the windows
    names, ids = [], []
    for i in range(n):
        name = f"{_FIRST[i % len(_FIRST)]} {_SECOND[(i // len(_FIRST) + i) % len(_SECOND)]}"
        if i >= len(_FIRST) * len(_SECOND):
            name += f" {i // (len(_FIRST) * len(_SECOND)) + 1}"
        names.append(name)
        ids.append(f"{name.lower().replace(' ', '-')}-{i + 1:05d}")
    extended = [
        e + dt.timedelta(days=56 + int(rng.integers(7, 29)))
        if d >= 42 and eng and rng.random() < 0.15
        else None
        for e, d, eng in zip(entered, entered_days_ago, engaged, strict=True)
    ]
    size = rng.lognormal(mean=np.log(45_000), sigma=1.3, size=n)  # median daily events
    customer_frame = pd.DataFrame(
        {
            "customer_id": ids,
            "name": names,
            "owner": [OWNERS[int(k)] for k in rng.integers(0, len(OWNERS), n)],
            "plan": rng.choice(PLANS, n, p=PLAN_WEIGHTS),
            "segment_entered_on": entered,
            "entry_reason": rng.choice(REASONS, n, p=REASON_WEIGHTS),
            "mrr_usd": np.round(size * 30 * 0.00004 + rng.uniform(0, 200, n), 2),
            "extended_until": extended,
            "status": status,
        }
    )

    # -------------------------------------------------------- subscriptions
    subscribed = {p: rng.random(n) < rate for p, rate in SUBSCRIPTION_RATES.items()}
    # Billing limits are set once usage is known (below); this draw only keeps the
    # random stream, and so the rest of the data set, as it was.
    rng.random(n)
    sub_rows = [
        (ids[i], product, None) for i in range(n) for product, on in subscribed.items() if on[i]
    ]
    subscriptions = pd.DataFrame(sub_rows, columns=["customer_id", "product", "billing_limit_usd"])

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
        (status != "churned")
        & (customer_frame["plan"].to_numpy() != "enterprise")
        & ~plant["usage_spike"]
    )

    # --------------------------------------------------------------- config
    config_rows = []
    for i in range(n):
        cid = ids[i]
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
    config = pd.DataFrame(config_rows, columns=["customer_id", "key", "value"])

    # ---------------------------------------------------------------- usage
    days = np.array([as_of - dt.timedelta(days=USAGE_DAYS - 1 - d) for d in range(USAGE_DAYS)])
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
    sessions = events / rng.uniform(18, 35, n)[:, None]
    share = lambda lo, hi: rng.uniform(lo, hi, n)[:, None]  # noqa: E731
    identified_share = np.where(
        plant["anonymous_person_profiles"][:, None], share(0.93, 0.99), share(0.2, 0.7)
    )
    autocapture_on = (
        config.pivot(index="customer_id", columns="key", values="value")
        .reindex(ids)["autocapture"]
        .eq("on")
        .to_numpy()
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
    team_size = rng.integers(3, 20, n)[:, None]  # 3+: a healthy team has 3 active some day
    low = plant["low_adoption"][:, None]
    active_users = np.where(
        low, rng.integers(0, 3, (n, USAGE_DAYS)), rng.binomial(team_size, 0.5, (n, USAGE_DAYS))
    )
    insights = np.where(low, 0, rng.poisson(team_size * 2.0, (n, USAGE_DAYS)))
    insights = np.where(
        low & (np.arange(USAGE_DAYS) < USAGE_DAYS - 10), rng.poisson(1.0, (n, USAGE_DAYS)), insights
    )

    metrics: dict[str, np.ndarray] = {
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
        "merge_warnings": np.where(
            plant["identity_merge_errors"][:, None], rng.poisson(40, (n, USAGE_DAYS)), 0
        ),
        "active_users": active_users,
        "insights_viewed": insights,
    }
    _cap_spend(metrics, subscribed, ~plant["plan_fit_annual"], plant["usage_spike"])
    subscriptions["billing_limit_usd"], paying = _billing_limits(
        subscriptions, metrics, subscribed, ids, plant["no_billing_limit"], limit_hit
    )
    # A missing limit only matters (and is only found) where a usage product is paid for.
    plant["no_billing_limit"] &= paying

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
    usage = pd.concat(frames, ignore_index=True)

    # ---------------------------------------------------------------- steps
    step_rows, meetings = _history(rng, customer_frame, engaged, diligent, as_of)
    steps = pd.DataFrame(step_rows, columns=["customer_id", "step", "status", "date"])
    planted = pd.DataFrame(plant, index=pd.Index(ids, name="customer_id"))
    return DemoData(customer_frame, subscriptions, config, usage, steps, meetings, planted)


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


def _cap_spend(
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
            if metric not in _NOT_VOLUME:
                metrics[metric] = metrics[metric] * factor


def _billing_limits(
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


def _history(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    engaged: np.ndarray,
    diligent: np.ndarray,
    as_of: dt.date,
) -> tuple[list[tuple[str, str, str, dt.date]], list[dict[str, Any]]]:
    """Steps and meetings consistent with each customer's timeline as of `as_of`."""
    steps: list[tuple[str, str, str, dt.date]] = []
    meetings: list[dict[str, Any]] = []
    for i, row in enumerate(customers.to_dict("records")):
        _one_history(rng, row, bool(engaged[i]), bool(diligent[i]), as_of, steps, meetings)
    return steps, meetings


def _one_history(
    rng: np.random.Generator,
    row: dict[Any, Any],
    engaged: bool,
    on_time: bool,
    as_of: dt.date,
    steps: list[tuple[str, str, str, dt.date]],
    meetings: list[dict[str, Any]],
) -> None:
    customer_id: str = row["customer_id"]
    entered: dt.date = row["segment_entered_on"]
    extended: dt.date | None = row["extended_until"]

    def when(step: str, late: bool = False) -> dt.date:
        start, end = timeline.window(step, entered, extended)
        if late:
            return end + dt.timedelta(days=int(rng.integers(1, 6)))
        return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))

    def record(step: str, status: str, date: dt.date) -> None:
        steps.append((customer_id, step, status, date))

    # Initial outreach: nearly always sent, the diligent on time.
    outreach_day = when("initial_outreach", late=not on_time and rng.random() < 0.5)
    if outreach_day <= as_of and rng.random() < 0.95:
        record("initial_outreach", "done", outreach_day)
    if not engaged:
        # Customers who never reply skip straight to the final outreach.
        skip_day = timeline.window("first_meeting", entered)[1]
        if skip_day < as_of and rng.random() < 0.8:
            for step in ("first_meeting", "second_meeting", "homework"):
                record(step, "skipped", skip_day)
    else:
        for step, kind, chance in (
            ("first_meeting", "first", 0.95),
            ("second_meeting", "second", 0.4),
        ):
            day = when(step, late=not on_time and rng.random() < 0.4)
            if rng.random() > chance:
                if step == "second_meeting" and day < as_of:
                    record(step, "skipped", day)
                continue
            starts = dt.datetime.combine(day, dt.time(int(rng.integers(14, 19)), 0))
            if day < as_of:
                record(step, "done", day)
                meetings.append(_meeting(row, kind, starts, "held"))
            elif day <= as_of + dt.timedelta(days=10):
                record(step, "scheduled", day)
                meetings.append(_meeting(row, kind, starts, "scheduled"))
        homework_day = when("homework", late=not on_time and rng.random() < 0.3)
        if homework_day < as_of and rng.random() < 0.85:
            record("homework", "done", homework_day)
    final_day = when("final_outreach", late=not on_time and rng.random() < 0.5)
    if final_day < as_of and rng.random() < 0.9 and row["status"] != "churned":
        record("final_outreach", "done", final_day)


def _meeting(row: dict[Any, Any], kind: str, starts: dt.datetime, status: str) -> dict[str, Any]:
    contact = str(row["name"]).split(" ")[0].lower()
    owner = str(row["owner"])
    return {
        "customer_id": row["customer_id"],
        "kind": kind,
        "owner": owner,
        "starts_at": starts,
        "timezone": "UTC",
        "duration_min": 30 if kind == "first" else 45,
        "attendees": [
            {"name": f"{contact.title()} CTO", "email": f"cto@{contact}.example"},
            {"name": owner.title(), "email": f"{owner}@posthog.example"},
        ],
        "agenda": "Review the audit findings and fix them together."
        if kind == "first"
        else "Your goals and KPIs, and how to track them.",
        "status": status,
        "notes": "Walked through the findings; customer will follow up."
        if status == "held"
        else None,
        "created_by": owner,
        "updated_by": owner,
        "version": 1,
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{str(k): v for k, v in r.items()} for r in records]


def load(engine: Engine, data: DemoData, user: str = "demo", replace: bool = False) -> None:
    """Write the demo data set in one transaction."""
    db.ensure_schema(engine)
    with db.write_session(engine, user) as session:
        if replace:
            for model in (
                models.CustomerUsageSummary,
                models.UsageSummaryDate,
                models.Usage,
                models.Step,
                models.Meeting,
                models.Goal,
                models.HomeworkAssignment,
                models.FindingState,
                models.Refund,
                models.ConfigValue,
                models.Subscription,
                models.Customer,
            ):
                session.execute(delete(model))
        session.execute(insert(models.table(models.Customer)), _records(data.customers))
        session.execute(insert(models.table(models.Subscription)), _records(data.subscriptions))
        session.execute(insert(models.table(models.ConfigValue)), _records(data.config))
        # Millions of rows: plain values through the driver (lib.bulk), not per-row
        # SQLAlchemy processing; dates as ISO text, converted once per distinct day.
        usage = data.usage
        days = {day: day.isoformat() for day in usage["date"].unique()}
        iso_dates = usage["date"].map(days).to_numpy(dtype=object)
        bulk.insert_columns(
            session.connection(),
            models.table(models.Usage),
            ["customer_id", "metric", "date", "value"],
            (
                [
                    usage["customer_id"].iloc[start : start + bulk.CHUNK].to_numpy(dtype=object),
                    usage["metric"].iloc[start : start + bulk.CHUNK].to_numpy(dtype=object),
                    iso_dates[start : start + bulk.CHUNK],
                    usage["value"].iloc[start : start + bulk.CHUNK].to_numpy(dtype=object),
                ]
                for start in range(0, len(usage), bulk.CHUNK)
            ),
        )
        session.execute(
            insert(models.table(models.Step)),
            [{**r, "recorded_by": r.get("recorded_by") or "demo"} for r in _records(data.steps)],
        )
        if data.meetings:
            session.execute(insert(models.table(models.Meeting)), data.meetings)
        # The data set's own as-of (its last day of usage) and today, for the pages.
        last_day = usage["date"].max() if len(usage) else None
        usage_summary.refresh(session, None, dates=[last_day] if last_day else [])
        db.log_write(
            session,
            "demo",
            "customers",
            {"customers": len(data.customers), "usage_rows": len(data.usage)},
        )


# ------------------------------------------------------------ program history


# What fixing a finding on the first call changes in the data from that day on:
# usage metrics scaled (0 = the rows go), config values set, products removed.
@dataclass(frozen=True)
class FixOnCall:
    usage: tuple[tuple[str, float], ...] = ()
    config: tuple[tuple[str, str], ...] = ()
    drop_products: tuple[str, ...] = ()


FIXES_ON_CALL: dict[str, FixOnCall] = {
    "identify_overcalled": FixOnCall(usage=(("identify_events", 0.12),)),
    "groupidentify_overcalled": FixOnCall(usage=(("groupidentify_events", 0.1),)),
    "anonymous_person_profiles": FixOnCall(
        usage=(("identified_events", 0.35),), config=(("person_profiles", "identified_only"),)
    ),
    "autocapture_unused": FixOnCall(usage=(("autocapture_events", 0.2),)),
    "replay_short_recordings": FixOnCall(
        usage=(("short_recordings", 0.15), ("recordings", 0.45)),
        config=(("replay_min_duration_s", "2"),),
    ),
    "dev_traffic": FixOnCall(usage=(("dev_events", 0.0),)),
    "flag_local_eval_polling": FixOnCall(
        usage=(("local_eval_requests", 0.1),), config=(("flags_poll_interval_s", "300"),)
    ),
    "identity_merge_errors": FixOnCall(usage=(("merge_warnings", 0.0),)),
    "outdated_sdk": FixOnCall(config=(("sdk_version_age_days", "5"),)),
    "unused_group_analytics": FixOnCall(drop_products=("group_analytics",)),
    "unused_data_pipelines": FixOnCall(drop_products=("data_pipelines",)),
}


def _apply_fix(session: Any, customer_id: str, fix: FixOnCall, since: dt.date) -> None:
    from sqlalchemy import BigInteger, cast, update

    usage = models.table(models.Usage)
    for metric, factor in fix.usage:
        rows = (usage.c.customer_id == customer_id) & (usage.c.metric == metric)
        rows &= usage.c.date >= since
        if factor == 0:
            session.execute(delete(usage).where(rows))
        else:
            session.execute(
                update(usage).where(rows).values(value=cast(usage.c.value * factor, BigInteger))
            )
    for key, value in fix.config:
        row = session.get(models.ConfigValue, (customer_id, key))
        if row is None:
            session.add(models.ConfigValue(customer_id=customer_id, key=key, value=value))
        else:
            row.value = value
    for product in fix.drop_products:
        subscriptions = models.table(models.Subscription)
        session.execute(
            delete(subscriptions).where(
                (subscriptions.c.customer_id == customer_id) & (subscriptions.c.product == product)
            )
        )


def record_history(
    engine: Engine, as_of: dt.date, seed: int = 7, user: str = "demo"
) -> dict[str, int]:
    """The audit's story so far, through the same code the team uses.

    Findings are first seen on the customer's initial outreach; on a held first
    call up to two of them are fixed (from then on the usage and config show the
    fix, so the audit agrees); refunds the policy allows are recorded for most
    customers who could have one. Outcomes then have savings identified and
    realised, and refunds, by month. Deterministic for a seed.
    """
    from sqlalchemy import select

    from lib import findings, refunds, report, usage_summary

    rng = np.random.default_rng(seed + 1_000)
    findings.sync(engine, as_of, user=user)
    touched: list[str] = []
    fixed = 0
    with db.write_session(engine, user) as session:
        steps = {
            (cid, step): (status, date)
            for cid, step, status, date in session.execute(
                select(
                    models.Step.customer_id, models.Step.step, models.Step.status, models.Step.date
                )
            )
        }
        entered = dict(
            session.execute(
                select(models.Customer.customer_id, models.Customer.segment_entered_on)
            ).all()
        )
        by_customer: dict[str, list[models.FindingState]] = {}
        for state in session.scalars(
            select(models.FindingState).order_by(
                models.FindingState.customer_id, models.FindingState.rule
            )
        ):
            by_customer.setdefault(state.customer_id, []).append(state)
        for customer_id, states in by_customer.items():
            outreach = steps.get((customer_id, "initial_outreach"))
            seen = outreach[1] if outreach and outreach[0] == "done" else None
            seen = min(seen or entered[customer_id] + dt.timedelta(days=2), as_of)
            for state in states:
                state.first_seen_on = seen
            call = steps.get((customer_id, "first_meeting"))
            if not call or call[0] != "done" or call[1] >= as_of:
                continue
            fixable = sorted(
                (s for s in states if s.rule in FIXES_ON_CALL),
                key=lambda s: -(s.est_monthly_saving_usd or 0.0),
            )
            for state in fixable[: int(rng.integers(0, 3))]:
                _apply_fix(session, customer_id, FIXES_ON_CALL[state.rule], call[1])
                state.state = "fixed"
                state.fixed_on = call[1]
                state.note = "Fixed together on the first call"
                touched.append(customer_id)
                fixed += 1
        if touched:
            usage_summary.refresh(session, sorted(set(touched)), today=as_of)
    issued = 0
    for customer_report in report.build(engine, as_of):
        eligible = [
            f for f in customer_report.findings if f.refund is not None and f.refund.eligible
        ]
        # One refund per customer: a second would be a repeat, at half and for approval.
        if not eligible or rng.random() > 0.7:
            continue
        finding = max(eligible, key=lambda f: f.est_refund_usd)
        assert finding.refund is not None
        if finding.refund.scenario in refunds.SPIKE_SCENARIOS:
            on = as_of - dt.timedelta(days=int(rng.integers(1, 4)))
        else:
            on = customer_report.customer.segment_entered_on + dt.timedelta(days=5)
        refunds.record(
            engine,
            customer_report.customer.owner or user,
            customer_report.customer_id,
            finding.refund.scenario,
            finding.refund.amount_usd,
            finding.refund.per_product,
            finding.refund.billing_month,
            note="Offered in the initial outreach",
            rule=finding.rule,
            on=min(on, as_of),
        )
        issued += 1
    return {"findings_fixed": fixed, "refunds": issued}
