"""Tiered list prices -> monthly bills (pure; prices in data/pricing.toml)."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from lib import settings

PRICING_FILE = settings.DATA_DIR / "pricing.toml"


@dataclass(frozen=True)
class Tier:
    up_to: float  # math.inf on the last tier
    price: float


@dataclass(frozen=True)
class BillLine:
    """One priced line: `metric` volume of a subscribed `product`."""

    name: str
    label: str
    product: str
    metric: str
    tiers: tuple[Tier, ...]

    def price(self, volume: float) -> float:
        total, lower = 0.0, 0.0
        for tier in self.tiers:
            if volume <= lower:
                break
            total += (min(volume, tier.up_to) - lower) * tier.price
            lower = tier.up_to
        return total

    def price_array(self, volumes: np.ndarray) -> np.ndarray:
        total = np.zeros(len(volumes), dtype=float)
        lower = 0.0
        for tier in self.tiers:
            band = np.clip(volumes - lower, 0, tier.up_to - lower)
            total += band * tier.price
            lower = tier.up_to
        return total


@dataclass(frozen=True)
class PriceList:
    taken_on: str
    lines: tuple[BillLine, ...]

    def line(self, name: str) -> BillLine:
        return next(line for line in self.lines if line.name == name)


def load_price_list(path: Path = PRICING_FILE) -> PriceList:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    lines = []
    for name, spec in raw["products"].items():
        tiers = tuple(
            Tier(float(t.get("up_to", math.inf)), float(t["price"])) for t in spec["tiers"]
        )
        lines.append(
            BillLine(name, spec.get("label", name), spec["product"], spec["metric"], tiers)
        )
    return PriceList(taken_on=str(raw.get("taken_on", "")), lines=tuple(lines))


@cache
def price_list() -> PriceList:
    return load_price_list()


def billable_volumes(volumes: Mapping[str, float]) -> dict[str, float]:
    """Usage metrics -> the volumes the price list bills (anonymous events split out)."""
    events = float(volumes.get("events", 0) or 0)
    identified = (
        min(float(volumes.get("identified_events", 0) or 0), events)
        if events
        else float(volumes.get("identified_events", 0) or 0)
    )
    billable = {k: float(v or 0) for k, v in volumes.items()}
    billable["identified_events"] = identified
    billable["anonymous_events"] = max(events - identified, 0.0)
    return billable


@dataclass(frozen=True)
class Bill:
    lines: dict[str, float]  # line name -> USD, unrounded
    by_product: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.lines.values())


def bill(
    volumes: Mapping[str, float],
    products: set[str] | frozenset[str],
    prices: PriceList | None = None,
) -> Bill:
    """The monthly bill of `volumes` (usage metrics) for the subscribed `products`."""
    prices = prices or price_list()
    billable = billable_volumes(volumes)
    lines: dict[str, float] = {}
    by_product: dict[str, float] = {}
    for line in prices.lines:
        if line.product not in products:
            continue
        amount = line.price(billable.get(line.metric, 0.0))
        lines[line.name] = amount
        by_product[line.product] = by_product.get(line.product, 0.0) + amount
    return Bill(lines=lines, by_product=by_product)


def bill_frame(
    volumes: pd.DataFrame, subscribed: pd.DataFrame, prices: PriceList | None = None
) -> pd.DataFrame:
    """Vectorised bills of many customers.

    `volumes`: index customer_id, one column per usage metric (monthly sums).
    `subscribed`: same index, one boolean column per product.
    Returns one USD column per bill line plus `total`, unrounded.
    """
    prices = prices or price_list()

    def column(name: str) -> np.ndarray:
        if name in volumes.columns:
            return volumes[name].fillna(0).to_numpy(dtype=float)
        return np.zeros(len(volumes), dtype=float)

    events = column("events")
    identified = np.minimum(column("identified_events"), np.where(events > 0, events, np.inf))
    billable = {
        "anonymous_events": np.maximum(events - identified, 0.0),
        "identified_events": identified,
    }
    columns: dict[str, np.ndarray] = {}
    for line in prices.lines:
        metric_volumes = billable.get(line.metric)
        if metric_volumes is None:
            metric_volumes = column(line.metric)
        on = (
            subscribed[line.product].reindex(volumes.index).fillna(False).to_numpy(dtype=bool)
            if line.product in subscribed.columns
            else np.zeros(len(volumes), dtype=bool)
        )
        columns[line.name] = np.where(on, line.price_array(metric_volumes), 0.0)
    out = pd.DataFrame(columns, index=volumes.index)
    out["total"] = out.sum(axis=1)
    return out


def by_product_frame(bills: pd.DataFrame, prices: PriceList | None = None) -> pd.DataFrame:
    """`bill_frame` lines summed per subscribed product (one USD column per product)."""
    prices = prices or price_list()
    sums: dict[str, np.ndarray] = {}
    for line in prices.lines:
        if line.name in bills.columns:
            amounts = bills[line.name].to_numpy(dtype=float)
            sums[line.product] = sums[line.product] + amounts if line.product in sums else amounts
    return pd.DataFrame(sums, index=bills.index)


def usd(amount: float) -> float:
    """Money is rounded once, to cents, at the edge."""
    return round(amount + 0.0, 2)


def billed_by_product(
    bill_lines: Mapping[str, float], prices: PriceList | None = None
) -> dict[str, float]:
    """A bill's lines (line name -> USD) summed per product (unrounded)."""
    prices = prices or price_list()
    out: dict[str, float] = {}
    for name, amount in bill_lines.items():
        product = prices.line(name).product
        out[product] = out.get(product, 0.0) + amount
    return out
