"""The demo data set's make-up: owners, company names, plans, products and the rates at
which misconfigurations are planted (pure constants)."""

from __future__ import annotations

from lib.vocabulary import USAGE_PRODUCTS

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
# Company names: a first word and a second word (see generate.company_names).
NAME_FIRST: tuple[str, ...] = (
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
NAME_SECOND: tuple[str, ...] = (
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
# Account-level plants, drawn from their own random stream (see generate.plants).
ACCOUNT_PLANT_RATES = {
    "no_billing_limit": 0.2,  # no billing limit at all; a quarter of them hit one
    "plan_fit_annual": 0.03,  # a big, steady spender (others' spend stays below it)
}
# Customers the plan-fit plant does not touch spend at most this much a month.
SPEND_CAP_USD = 1_400.0
# Usage products a billing limit applies to (add-ons bill through them).
LIMITED_PRODUCTS = USAGE_PRODUCTS
# Metrics that are not billed volumes (team activity, warnings): never scaled.
NOT_VOLUME = ("merge_warnings", "active_users", "insights_viewed")
# The money story, drawn from a stream of its own (see dataset.money_story).
# A customer entered for a projected first bill at one of the team's two thresholds of
# forecast monthly spend; its bill, even with every planted fix applied, is at least
# FIRST_BILL_MARGIN[0] times the threshold: one below a drawn margin is raised to it.
FIRST_BILL_THRESHOLDS_USD = (100.0, 500.0)
FIRST_BILL_HIGH_SHARE = 0.4  # entered at the $500 threshold
FIRST_BILL_MARGIN = (1.05, 1.8)
# Planted spikes still running on as-of (the rest stopped at least 4 days before).
SPIKE_RUNNING_SHARE = 0.3
# Once a spike is over, this share of its customers set a billing limit (if they had none).
LIMIT_AFTER_SPIKE = 0.7
