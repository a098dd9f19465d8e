"""A customer's money in one figure each (pure): the monthly saving of every open fix
applied together, and the refundable total; which findings overlap (docs/rules.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from lib import pricing
from lib.audit.data import AuditData
from lib.audit.finding import Finding, changes_bill, combined_bill
from lib.audit.refunds import SPIKE_SCENARIOS

OVERLAP_USD = 0.01  # two fixes overlap when together they save at least a cent less


@dataclass(frozen=True)
class Totals:
    """Unrounded USD. `monthly_saving`: bill now - bill with every open money finding's
    fix applied together (0 .. the bill). `refundable`: the refunds the policy allows now,
    spikes' and wrong setups' together (0 .. the bill)."""

    monthly_saving: float = 0.0
    refundable: float = 0.0


def _bills_after(
    data: AuditData, chosen: Mapping[str, Sequence[Finding]]
) -> tuple[pd.Index, pd.Series]:
    """Each customer's bill with the chosen findings' fixes applied together."""
    ids = pd.Index([cid for cid, found in chosen.items() if found], name="customer_id")
    if ids.empty:
        return ids, pd.Series(dtype=float)
    volumes = data.last_30.loc[ids].copy()
    subscribed = data.subscribed.loc[ids].copy()
    discount = pd.Series(0.0, index=ids)
    rows = {cid: i for i, cid in enumerate(ids)}
    deltas = np.zeros(volumes.shape)
    columns = {metric: j for j, metric in enumerate(volumes.columns)}
    for cid in ids:
        for finding in chosen[cid]:
            for metric, delta in finding.volume_changes.items():
                if metric in columns:
                    deltas[rows[cid], columns[metric]] += delta
            for product in finding.products_removed:
                if product in subscribed.columns:
                    subscribed.at[cid, product] = False
            discount[cid] = max(discount[cid], finding.discount)
    volumes = (volumes + deltas).clip(lower=0.0)
    after = pricing.bill_frame(volumes, subscribed, data.prices)["total"] * (1.0 - discount)
    return ids, after


def money_totals(
    data: AuditData, open_findings: Mapping[str, Sequence[Finding]]
) -> dict[str, Totals]:
    """Every customer's Totals from its open findings (all customers at once)."""
    now = data.bill_now["total"]
    saving_ids, saving_after = _bills_after(
        data, {cid: [f for f in found if changes_bill(f)] for cid, found in open_findings.items()}
    )
    wrong_setup = {
        cid: [
            f
            for f in found
            if f.refund is not None
            and f.refund_eligible
            and f.refund.scenario not in SPIKE_SCENARIOS
            and changes_bill(f)
        ]
        for cid, found in open_findings.items()
    }
    refund_ids, refund_after = _bills_after(data, wrong_setup)
    saving = (now.loc[saving_ids] - saving_after).clip(lower=0.0).to_dict()
    wrong_setup_refund = (now.loc[refund_ids] - refund_after).clip(lower=0.0).to_dict()
    totals: dict[str, Totals] = {}
    for cid, found in open_findings.items():
        bill = float(now.get(cid, 0.0))
        share = max(
            (f.est_refund_usd / f.refund.full_amount_usd
             for f in wrong_setup.get(cid, ()) if f.refund and f.refund.full_amount_usd),
            default=0.0,
        )  # fmt: skip
        spikes = sum(
            f.est_refund_usd
            for f in found
            if f.refund_eligible and f.refund is not None and f.refund.scenario in SPIKE_SCENARIOS
        )
        refundable = spikes + share * float(wrong_setup_refund.get(cid, 0.0))
        totals[cid] = Totals(
            monthly_saving=min(float(saving.get(cid, 0.0)), bill),
            refundable=min(max(refundable, 0.0), bill),
        )
    return totals


def overlaps(
    findings: Sequence[Finding],
    volumes: Mapping[str, float],
    products: frozenset[str],
    prices: pricing.PriceList | None = None,
) -> dict[str, tuple[str, ...]]:
    """rule -> the rules whose fixes save some of the same dollars: fixed together, the two
    save at least a cent less than their savings alone added up."""
    money = [f for f in findings if f.state == "open" and changes_bill(f)]
    now = pricing.bill(volumes, products, prices).total
    alone = {f.rule: now - combined_bill(volumes, products, [f], prices) for f in money}
    found: dict[str, list[str]] = {}
    for a, b in combinations(money, 2):
        together = now - combined_bill(volumes, products, [a, b], prices)
        if alone[a.rule] + alone[b.rule] - together >= OVERLAP_USD:
            found.setdefault(a.rule, []).append(b.rule)
            found.setdefault(b.rule, []).append(a.rule)
    return {rule: tuple(others) for rule, others in found.items()}
