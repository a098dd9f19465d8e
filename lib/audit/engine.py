"""Run every rule over many customers at once, price every fix through the tiers, and
apply the team's decisions (docs/rules.md, "The audit")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import pandas as pd

from lib import pricing
from lib.audit import account, events, products, refunds
from lib.audit.data import AuditData
from lib.audit.finding import Finding
from lib.audit.rule import Rule
from lib.audit.thresholds import SEVERITIES, Thresholds, thresholds

RULES: tuple[Rule, ...] = events.RULES + products.RULES + account.RULES
RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in RULES)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
MONEY_RULES: frozenset[str] = frozenset(rule.id for rule in RULES if rule.money)
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


class StateLike(Protocol):
    state: str
    fixed_on: dt.date | None
    reason: str | None
    note: str | None


def run(
    data: AuditData,
    settings: Thresholds | None = None,
    rules: Iterable[Rule] = RULES,
) -> dict[str, list[Finding]]:
    """Every rule over every customer of `data`: customer_id -> findings, largest saving first."""
    settings = settings or thresholds()
    found: dict[str, list[Finding]] = {str(c): [] for c in data.index}
    now = data.bill_now
    now_by_product = data.bill_now_by_product
    billing_month = data.as_of.replace(day=1)
    for rule in rules:
        t = settings.rule(rule.id)
        if not t.enabled:
            continue
        detection = rule.detect(data, t)
        fires = detection.fires.reindex(data.index).fillna(False).astype(bool)
        if not fires.any():
            continue
        ids = data.index[fires.to_numpy()]
        after_by_product: pd.DataFrame | None = None
        one_off = (
            detection.one_off.reindex(ids).fillna(0.0).to_dict()
            if detection.one_off is not None
            else {}
        )
        if rule.money:
            volumes = data.volumes_after(detection.changes).loc[ids]
            subscribed = data.subscribed.loc[ids].copy()
            for product in detection.drop_products:
                subscribed[product] = False
            after = pricing.bill_frame(volumes, subscribed, data.prices)
            after_by_product = pricing.by_product_frame(after, data.prices).reindex(
                columns=now_by_product.columns, fill_value=0.0
            ) * (1.0 - detection.discount)
            saving = (now.loc[ids, "total"] - after["total"] * (1.0 - detection.discount)).clip(
                lower=0.0
            )
        else:
            saving = pd.Series(0.0, index=ids)
        severity = _severity(
            rule, t.severity, t.severity_by_saving, detection.severity, saving, settings
        )

        refund_per_product: pd.DataFrame | None = None
        if t.refund == "spike" and detection.refund_per_product is not None:
            refund_per_product = detection.refund_per_product.reindex(ids).fillna(0.0)
        elif t.refund == "wrong_setup" and after_by_product is not None:
            refund_per_product = (now_by_product.loc[ids] - after_by_product).clip(lower=0.0)

        facts: dict[Any, dict[str, Any]] = {
            customer_id: {str(k): v for k, v in row.items()}
            for customer_id, row in detection.facts.reindex(ids).to_dict("index").items()
        }
        changes = {m: delta.reindex(ids).fillna(0.0) for m, delta in detection.changes.items()}
        conditions = {
            reason: met.reindex(ids).fillna(False).astype(bool)
            for reason, met in detection.refund_conditions.items()
        }
        # Plain dicts for the per-customer loop (a pandas lookup per value cost ~0.7 s
        # at 10,000 customers).
        severity_of = severity.to_dict()
        saving_of = saving.to_dict()
        change_of = {m: delta.to_dict() for m, delta in changes.items()}
        refund_rows = refund_per_product.to_dict("index") if refund_per_product is not None else {}
        scenario_of = (
            detection.refund_scenario.to_dict() if detection.refund_scenario is not None else {}
        )
        condition_of = {reason: met.to_dict() for reason, met in conditions.items()}
        for customer_id in ids:
            fact = facts[customer_id]
            finding = Finding(
                rule=rule.id,
                title=rule.title,
                severity=str(severity_of[customer_id]),
                evidence=rule.evidence(fact),
                fix=rule.fix,
                effort=rule.effort,
                docs_url=rule.docs_url,
                est_monthly_saving_usd=float(saving_of[customer_id]),
                customer_id=str(customer_id),
                facts={k: _plain(v) for k, v in fact.items()},
                volume_changes={
                    m: float(delta[customer_id])
                    for m, delta in change_of.items()
                    if delta[customer_id] != 0
                },
                products_removed=detection.drop_products,
                discount=detection.discount,
                one_off_usd=float(one_off.get(customer_id, 0.0)),
            )
            if refund_per_product is not None:
                scenario = (
                    str(scenario_of[customer_id])
                    if detection.refund_scenario is not None
                    else "wrong_setup"
                )
                assessment = refunds.assess(
                    scenario,
                    {str(p): float(v) for p, v in refund_rows[customer_id].items() if v > 0},
                    data.prior_refunds.get(str(customer_id), {}),
                    conditions={r: bool(met[customer_id]) for r, met in condition_of.items()},
                    rule=rule.id,
                    billing_month=billing_month,
                    on_record=(scenario, billing_month)
                    in data.refunds_on_record.get(str(customer_id), ()),
                )
                finding.refund = assessment
                finding.refund_eligible = assessment.eligible
                finding.est_refund_usd = assessment.amount_usd
            found[str(customer_id)].append(finding)
    order = {rule_id: i for i, rule_id in enumerate(RULE_IDS)}
    for findings in found.values():
        findings.sort(
            key=lambda f: (
                -round(f.est_monthly_saving_usd, 2),
                _SEVERITY_RANK.get(f.severity, 9),
                order.get(f.rule, 99),
            )
        )
    return found


def _severity(
    rule: Rule,
    base: str,
    by_saving: bool,
    override: pd.Series | None,
    saving: pd.Series,
    settings: Thresholds,
) -> pd.Series:
    severity = pd.Series(base, index=saving.index, dtype=object)
    if override is not None:
        severity = override.reindex(saving.index).fillna(base).astype(object)
    if rule.money and by_saving:
        severity = severity.mask(saving >= settings.high_saving_usd, "high")
        severity = severity.mask(saving < settings.low_saving_usd, "low")
    return severity


def _plain(value: Any) -> Any:
    """numpy scalars -> Python (facts end up in JSON and templates)."""
    if hasattr(value, "item"):
        return value.item()
    return value


# ------------------------------------------------------------------- states


def apply_states(
    found: Mapping[str, list[Finding]],
    states: Mapping[str, Mapping[str, StateLike]],
    as_of: dt.date,
    settings: Thresholds | None = None,
) -> dict[str, list[Finding]]:
    """Set each finding's `state` and `note` from the team's decisions (no writes)."""
    settings = settings or thresholds()
    grace = dt.timedelta(days=settings.reopen_after_days)
    for customer_id, findings in found.items():
        decided = states.get(customer_id, {})
        for finding in findings:
            state = decided.get(finding.rule)
            # The decision's version, which a card names when it saves (0: none recorded).
            finding.version = int(getattr(state, "version", 0) or 0) if state is not None else 0
            if state is None or state.state == "open":
                finding.state = "open"
                finding.note = state.note if state is not None else None
            elif state.state == "dismissed":
                finding.state = "dismissed"
                finding.note = f"Dismissed: {state.reason}" if state.reason else "Dismissed"
            elif state.state == "fixed":
                fixed_on = state.fixed_on or as_of
                if as_of >= fixed_on + grace:
                    finding.state = "open"
                    finding.note = (
                        f"Reopened: marked fixed on {fixed_on.isoformat()}, but the data "
                        f"still shows it on {as_of.isoformat()}"
                    )
                else:
                    finding.state = "fixed"
                    finding.note = (
                        f"Marked fixed on {fixed_on.isoformat()}; the 30-day window still "
                        f"holds data from before the fix until "
                        f"{(fixed_on + grace).isoformat()}"
                    )
    return dict(found)
