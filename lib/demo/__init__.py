"""The deterministic demo data set: `generate` it (same seed, same data), `load` it, and
`record_history` (findings seen and fixed, refunds). Pure: `catalog`, `dataset`, `usage`,
`steps`, `history`, `contacts`, `replies`. Database: `store`, `homework_history_store`
(the demo's homework)."""

from __future__ import annotations

from lib.demo.catalog import (
    ACCOUNT_PLANT_RATES,
    LIMITED_PRODUCTS,
    OWNERS,
    PLAN_WEIGHTS,
    PLANS,
    PLANT_RATES,
    REASON_WEIGHTS,
    REASONS,
    SPEND_CAP_USD,
    SUBSCRIPTION_RATES,
    USAGE_DAYS,
)
from lib.demo.dataset import DemoData, generate
from lib.demo.history import FIXES_ON_CALL, FixOnCall
from lib.demo.store import load, record_history

__all__ = [
    "ACCOUNT_PLANT_RATES",
    "FIXES_ON_CALL",
    "LIMITED_PRODUCTS",
    "OWNERS",
    "PLANS",
    "PLANT_RATES",
    "PLAN_WEIGHTS",
    "REASONS",
    "REASON_WEIGHTS",
    "SPEND_CAP_USD",
    "SUBSCRIPTION_RATES",
    "USAGE_DAYS",
    "DemoData",
    "FixOnCall",
    "generate",
    "load",
    "record_history",
]
