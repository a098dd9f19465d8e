"""The contract's fixed names: products, config keys, metrics, entry reasons."""

from __future__ import annotations

PRODUCTS: tuple[str, ...] = (
    "product_analytics",
    "session_replay",
    "feature_flags",
    "surveys",
    "data_warehouse",
    "error_tracking",
    "group_analytics",
    "data_pipelines",
)

# The add-ons bill through the usage products' volumes; a billing limit applies to the others.
ADDONS: tuple[str, ...] = ("group_analytics", "data_pipelines")
USAGE_PRODUCTS: tuple[str, ...] = tuple(p for p in PRODUCTS if p not in ADDONS)

PRODUCT_LABELS: dict[str, str] = {
    "product_analytics": "Product analytics",
    "session_replay": "Session replay",
    "feature_flags": "Feature flags",
    "surveys": "Surveys",
    "data_warehouse": "Data warehouse",
    "error_tracking": "Error tracking",
    "group_analytics": "Group analytics",
    "data_pipelines": "Data pipelines",
}

METRICS: tuple[str, ...] = (
    "events",
    "identified_events",
    "autocapture_events",
    "identify_events",
    "groupidentify_events",
    "group_events",
    "dev_events",
    "sessions",
    "recordings",
    "short_recordings",
    "recordings_viewed",
    "flag_requests",
    "local_eval_requests",
    "survey_responses",
    "warehouse_rows",
    "exceptions",
    "merge_warnings",
    "active_users",
    "insights_viewed",
)

# Which product each metric's volume belongs to (for charts and health).
METRIC_PRODUCT: dict[str, str] = {
    "events": "product_analytics",
    "identified_events": "product_analytics",
    "autocapture_events": "product_analytics",
    "identify_events": "product_analytics",
    "groupidentify_events": "group_analytics",
    "group_events": "group_analytics",
    "dev_events": "product_analytics",
    "sessions": "product_analytics",
    "recordings": "session_replay",
    "short_recordings": "session_replay",
    "recordings_viewed": "session_replay",
    "flag_requests": "feature_flags",
    "local_eval_requests": "feature_flags",
    "survey_responses": "surveys",
    "warehouse_rows": "data_warehouse",
    "exceptions": "error_tracking",
}

ENTRY_REASONS: tuple[str, ...] = (
    "credits_rolloff",
    "first_bill_projected",
    "accelerator",
    "manual",
)

PLANS: tuple[str, ...] = ("pay-as-you-go", "startup", "teams", "boost", "scale", "enterprise")

ROLES: tuple[str, ...] = ("admin", "team", "leadership")

# A refund's states, in the order it moves through them (lib/refunds/workflow.py).
REFUND_STATUSES: tuple[str, ...] = (
    "proposed",
    "requested",
    "needs_approval",
    "approved",
    "issued",
    "declined",
)
# The customer asked for it and nobody declined it: it counts as a repeat.
REFUND_REPEAT_STATUSES: tuple[str, ...] = ("requested", "needs_approval", "approved", "issued")

# A contact's role at the customer (lib/contacts, contacts.csv).
CONTACT_ROLES: tuple[str, ...] = ("founder", "engineer", "product", "billing", "other")

# What an email of the program is (models.EmailMessage.kind): the drafts sent from the
# console, and the customer's answers (from the mailbox, or recorded by hand).
SENT_KINDS: tuple[str, ...] = ("initial_outreach", "homework", "final_outreach", "meeting_invite")
REPLY_KINDS: tuple[str, ...] = ("reply", "manual_reply")
MESSAGE_KINDS: tuple[str, ...] = SENT_KINDS + REPLY_KINDS

# The team's engagement pipeline (its handbook), in order; the last four are where a
# customer ends (report JSON `stage`).
STAGES: tuple[str, ...] = (
    "new_account",
    "onboarding_initiated",
    "engaged",
    "intro_call_done",
    "second_call_done",
    "homework_offered",
    "awaiting_final_outreach",
    "onboarded_engaged",
    "onboarded_no_engagement",
    "handed_to_sales",
    "churned",
)
END_STAGES: tuple[str, ...] = STAGES[-4:]

# Config keys and the kind of value each takes.
CONFIG_KEYS: dict[str, str] = {
    "autocapture": "on_off",
    "autocapture_actions": "count",
    "person_profiles": "person_profiles",
    "replay_min_duration_s": "seconds",
    "replay_sample_rate": "fraction",
    "flags_local_evaluation": "bool",
    "flags_poll_interval_s": "seconds",
    "pipeline_destinations": "count",
    "sdk": "text",
    "sdk_version_age_days": "count",
}
