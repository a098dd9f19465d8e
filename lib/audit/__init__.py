"""The account audit: the 16 rules of CONTRACT.md, and the engine that runs them.

- `base`: Finding, AuditData (what a rule reads, all customers at once),
  Detection (what a rule answers), thresholds from data/audit_thresholds.toml.
- `events`, `products`, `account`: the rules, one small unit each (signal,
  threshold, severity, evidence with numbers, fix, effort, docs link, and what
  the fix changes so its saving is bill(now) - bill(after)).
- `engine`: run every rule, price every fix, apply the team's decisions.

Pages call `for_customer(engine, customer_id, as_of, include_closed=False)`;
the report calls `for_report(data, as_of)`.
"""

from __future__ import annotations

from lib.audit.base import (
    SEVERITIES,
    STATES,
    AuditData,
    Detection,
    Finding,
    Rule,
    RuleSettings,
    Thresholds,
    combined_bill,
    load_thresholds,
    thresholds,
)
from lib.audit.engine import (
    MONEY_RULES,
    RULE_IDS,
    RULES,
    RULES_BY_ID,
    apply_states,
    for_customer,
    for_report,
    run,
)

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
    "for_customer",
    "for_report",
    "load_thresholds",
    "run",
    "thresholds",
]
