"""Tiered prices -> bills: tier edges, identified events, add-ons, the vectorised twin."""

from __future__ import annotations

import pandas as pd
import pytest

from lib import pricing

ANALYTICS = frozenset({"product_analytics"})
ALL = frozenset(line.product for line in pricing.price_list().lines)


@pytest.mark.parametrize(
    ("volumes", "products", "expected"),
    [
        # the first 1M events are free
        ({"events": 1_000_000}, ANALYTICS, 0.0),
        # one event over the free tier costs one 1-2M unit
        ({"events": 1_000_001}, ANALYTICS, 0.00005),
        # 2M anonymous events: 1M free + 1M at 0.00005
        ({"events": 2_000_000}, ANALYTICS, 50.0),
        # four tiers by hand: 1M free, 1M x 0.00005 = 50, 13M x 0.0000343 = 445.9,
        # 5M x 0.0000295 = 147.5 -> 643.4
        ({"events": 20_000_000}, ANALYTICS, 643.4),
        # identified events cost the identified price in place of the anonymous one:
        # 1M free + 1M x 0.000248 + 1M x 0.000104 = 352
        ({"events": 3_000_000, "identified_events": 3_000_000}, ANALYTICS, 352.0),
        # half identified: 1.5M anonymous (0.5M x 0.00005 = 25) + 1.5M identified
        # (0.5M x 0.000248 = 124), each line with its own free tier
        ({"events": 3_000_000, "identified_events": 1_500_000}, ANALYTICS, 149.0),
        # identified events can never exceed events
        ({"events": 2_000_000, "identified_events": 5_000_000}, ANALYTICS, 248.0),
        # the group analytics add-on bills the identified events again:
        # 352 (identified) + 1M x 0.000071 + 1M x 0.00003 = 101 -> 453
        (
            {"events": 3_000_000, "identified_events": 3_000_000},
            frozenset({"product_analytics", "group_analytics"}),
            453.0,
        ),
        # the add-on alone: anonymous events do not count towards it
        ({"events": 3_000_000}, frozenset({"group_analytics"}), 0.0),
        # an unsubscribed product's usage is not billed
        ({"events": 3_000_000, "recordings": 100_000}, ANALYTICS, 50.0 + 1_000_000 * 0.0000343),
        # recordings: 5k free, 10k x 0.005 = 50, 35k x 0.0035 = 122.5, 50k x 0.002 = 100
        ({"recordings": 100_000}, frozenset({"session_replay"}), 272.5),
        # flags: 1M free, 1M x 0.0001 = 100, 1M x 0.000045 = 45
        ({"flag_requests": 3_000_000}, frozenset({"feature_flags"}), 145.0),
        # surveys: 1,500 free, 500 x 0.10 = 50, 500 x 0.035 = 17.5
        ({"survey_responses": 2_500}, frozenset({"surveys"}), 67.5),
        # the data pipelines add-on (an assumption, see data/pricing.toml) bills all events
        ({"events": 2_000_000}, frozenset({"data_pipelines"}), 71.0),
        # nothing used, nothing billed
        ({}, ALL, 0.0),
    ],
)
def test_bill_total(volumes: dict[str, float], products: frozenset[str], expected: float) -> None:
    assert pricing.bill(volumes, products).total == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        (0, 0.0),  # nothing
        (999_999, 0.0),  # just under the free tier
        (1_000_000, 0.0),  # exactly the free tier
        (2_000_000, 50.0),  # top of the first paid band
        (15_000_000, 50.0 + 13_000_000 * 0.0000343),  # top of the second paid band
        (300_000_000, None),  # every band; checked against the sum of bands below
    ],
)
def test_tier_edges_anonymous_events(volume: float, expected: float | None) -> None:
    line = pricing.price_list().line("analytics_events")
    if expected is None:
        bands = [
            (1e6, 0.0),
            (1e6, 0.00005),
            (13e6, 0.0000343),
            (35e6, 0.0000295),
            (50e6, 0.0000218),
            (150e6, 0.000015),
            (50e6, 0.000009),
        ]
        expected = sum(units * price for units, price in bands)
    assert line.price(volume) == pytest.approx(expected, rel=1e-12)


def test_by_product_splits_the_add_on_from_analytics() -> None:
    bill = pricing.bill(
        {"events": 3_000_000, "identified_events": 3_000_000},
        frozenset({"product_analytics", "group_analytics"}),
    )
    assert bill.by_product == pytest.approx({"product_analytics": 352.0, "group_analytics": 101.0})


def test_bill_frame_matches_bill_customer_by_customer() -> None:
    volumes = pd.DataFrame(
        {
            "events": [0, 1_500_000, 20_000_000, 400_000_000],
            "identified_events": [0, 1_500_000, 5_000_000, 90_000_000],
            "recordings": [10, 6_000, 80_000, 900_000],
            "flag_requests": [0, 0, 12_000_000, 60_000_000],
        },
        index=["a", "b", "c", "d"],
    )
    subscribed = pd.DataFrame(
        {
            "product_analytics": [True, True, True, True],
            "session_replay": [False, True, True, True],
            "feature_flags": [False, False, True, True],
            "group_analytics": [False, True, False, True],
        },
        index=volumes.index,
    )
    frame = pricing.bill_frame(volumes, subscribed)
    for customer in volumes.index:
        products = {p for p in subscribed.columns if subscribed.at[customer, p]}
        expected = pricing.bill(volumes.loc[customer].to_dict(), products)
        assert frame.at[customer, "total"] == pytest.approx(expected.total, rel=1e-12)
    by_product = pricing.by_product_frame(frame)
    assert by_product.sum(axis=1).to_numpy() == pytest.approx(frame["total"].to_numpy())


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0.005, 0.01),  # half a cent rounds up (float 0.005 is just above)
        (1234.5649, 1234.56),  # rounded once, to cents
        (-0.0, 0.0),  # no negative zero in JSON
    ],
)
def test_usd_rounds_at_the_edge(amount: float, expected: float) -> None:
    assert pricing.usd(amount) == expected
    assert str(pricing.usd(amount)) != "-0.0"


def test_price_list_keeps_taken_on_and_every_contract_product() -> None:
    prices = pricing.price_list()
    assert prices.taken_on
    from lib.vocabulary import PRODUCTS

    assert {line.product for line in prices.lines} == set(PRODUCTS)
