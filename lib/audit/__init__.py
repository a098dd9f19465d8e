"""The account audit: 16 rules over the usage windows, fixes priced through the tiers.
Pure: `thresholds`, `data`, `rule`, `events`/`products`/`account` (the rules), `finding`,
`engine`, `refunds` (the policy; the workflow is lib.refunds), `health`, `spike_days`;
database: `finding_store`, `health_store`."""

from __future__ import annotations

from lib.audit.data import AuditData
from lib.audit.engine import (
    MONEY_RULES,
    RULE_IDS,
    RULES,
    RULES_BY_ID,
    apply_states,
    run,
)
from lib.audit.finding import STATES, Finding, combined_bill
from lib.audit.rule import Detection, Rule
from lib.audit.thresholds import SEVERITIES, RuleSettings, Thresholds, load_thresholds, thresholds

__all__ = [
    "MONEY_RULES",
    "RULES",
    "RULES_BY_ID",
    "RULE_IDS",
    "SEVERITIES",
    "STATES",
    "AuditData",
    "Detection",
    "Finding",
    "Rule",
    "RuleSettings",
    "Thresholds",
    "apply_states",
    "combined_bill",
    "load_thresholds",
    "run",
    "thresholds",
]
