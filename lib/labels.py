"""How the console names its codes and amounts for people: one table, one money format,
for pages, emails and CSV exports; and the one escape that makes user text inert in
Markdown, `md` (pure; docs/rules.md, "User text")."""

from __future__ import annotations

import re
from collections.abc import Iterable

from lib.pricing import usd
from lib.program.stage import STAGE_LABELS
from lib.program.timeline import STEP_LABELS
from lib.vocabulary import PRODUCT_LABELS

PROGRAM_STATUS_LABELS: dict[str, str] = {
    "in_progress": "In progress",
    "extended": "Extended",
    "overdue": "Past week 8",
    "completed": "Completed",
    "churned": "Churned",
}
ENTRY_REASON_LABELS: dict[str, str] = {
    "credits_rolloff": "Credits rolled off",
    "first_bill_projected": "First bill projected",
    "accelerator": "Accelerator",
    "manual": "Added by hand",
}
STEP_STATUS_LABELS: dict[str, str] = {
    "done": "Done",
    "scheduled": "Scheduled",
    "due": "Due",
    "overdue": "Overdue",
    "optional": "Optional",
    "upcoming": "Upcoming",
    "skipped": "Skipped",
}
CUSTOMER_STATUS_LABELS: dict[str, str] = {
    "active": "Active",
    "paused": "Paused",
    "churned": "Churned",
}
# The health score's bands (lib.program.portfolio.health_band; docs/rules.md, "Health").
HEALTH_LABELS: dict[str, str] = {"healthy": "Healthy", "watch": "Watch", "at_risk": "At risk"}
REFUND_SCENARIO_LABELS: dict[str, str] = {
    "learning_curve": "Learning curve (first bill)",
    "unexpected_stardom": "Unexpected stardom (usage spike)",
    "under_attack": "Under attack (bots)",
    "wrong_setup": "Wrong setup",
}
SEVERITY_LABELS: dict[str, str] = {"high": "High", "medium": "Medium", "low": "Low"}
FINDING_STATE_LABELS: dict[str, str] = {"open": "Open", "fixed": "Fixed", "dismissed": "Dismissed"}
REFUND_STATUS_LABELS: dict[str, str] = {
    "proposed": "Proposed",
    "requested": "Requested by the customer",
    "needs_approval": "Waiting for revenue operations",
    "approved": "Approved",
    "issued": "Issued",
    "declined": "Declined",
}
# The audit's rules (lib/audit/events.py, products.py, account.py), by id: each rule's title.
RULE_LABELS: dict[str, str] = {
    "identify_overcalled": "identify() is called too often",
    "groupidentify_overcalled": "group() is called too often",
    "anonymous_person_profiles": "Person profiles are created for anonymous visitors",
    "autocapture_unused": "Autocapture events nobody uses",
    "dev_traffic": "Development and staging traffic in production",
    "replay_short_recordings": "Most session recordings are too short to watch",
    "unused_group_analytics": "Group analytics paid for, not used",
    "unused_data_pipelines": "Data pipelines paid for, no destination",
    "flag_local_eval_polling": "Feature flag definitions polled too often",
    "flag_requests_per_session": "Too many feature flag requests per session",
    "usage_spike": "Usage spike (bot, loop or attack)",
    "identity_merge_errors": "Identity merge errors",
    "outdated_sdk": "Outdated SDK",
    "no_billing_limit": "Billing limits missing or reached",
    "low_adoption": "Low adoption across the team",
    "plan_fit_annual": "An annual plan would cost less",
}
METRIC_LABELS: dict[str, str] = {
    "events": "Events",
    "identified_events": "Identified events",
    "autocapture_events": "Autocapture events",
    "identify_events": "identify() calls",
    "groupidentify_events": "group() calls",
    "group_events": "Events with groups",
    "dev_events": "Development events",
    "sessions": "Sessions",
    "recordings": "Recordings",
    "short_recordings": "Short recordings",
    "recordings_viewed": "Recordings watched",
    "flag_requests": "Feature flag requests",
    "local_eval_requests": "Local evaluation requests",
    "survey_responses": "Survey responses",
    "warehouse_rows": "Warehouse rows synced",
    "exceptions": "Exceptions captured",
    "merge_warnings": "Identity merge warnings",
    "active_users": "Active users",
    "insights_viewed": "Insights viewed",
}
PLAN_LABELS: dict[str, str] = {
    "pay-as-you-go": "Pay-as-you-go",
    "startup": "Startup",
    "teams": "Teams",
    "boost": "Boost",
    "scale": "Scale",
    "enterprise": "Enterprise",
}
ROLE_LABELS: dict[str, str] = {"admin": "Admin", "team": "Team", "leadership": "Leadership"}
CONTACT_ROLE_LABELS: dict[str, str] = {
    "founder": "Founder",
    "engineer": "Engineer",
    "product": "Product",
    "billing": "Billing",
    "other": "Other",
}
MESSAGE_KIND_LABELS: dict[str, str] = {
    "initial_outreach": "Initial outreach",
    "homework": "Homework",
    "final_outreach": "Final outreach",
    "meeting_invite": "Meeting invitation",
    "reply": "Reply",
    "manual_reply": "Reply recorded by hand",
}
CONFIG_KEY_LABELS: dict[str, str] = {
    "autocapture": "Autocapture",
    "autocapture_actions": "Actions using autocapture",
    "person_profiles": "Person profiles",
    "replay_min_duration_s": "Minimum recording length (seconds)",
    "replay_sample_rate": "Recording sample rate",
    "flags_local_evaluation": "Local flag evaluation",
    "flags_poll_interval_s": "Flag polling interval (seconds)",
    "pipeline_destinations": "Pipeline destinations",
    "sdk": "SDK",
    "sdk_version_age_days": "SDK version age (days)",
}

# Every table above, and the ones kept beside their vocabulary, by kind of code.
TABLES: dict[str, dict[str, str]] = {
    "step": STEP_LABELS,
    "step_status": STEP_STATUS_LABELS,
    "program_status": PROGRAM_STATUS_LABELS,
    "entry_reason": ENTRY_REASON_LABELS,
    "customer_status": CUSTOMER_STATUS_LABELS,
    "health": HEALTH_LABELS,
    "product": PRODUCT_LABELS,
    "refund_scenario": REFUND_SCENARIO_LABELS,
    "severity": SEVERITY_LABELS,
    "finding_state": FINDING_STATE_LABELS,
    "refund_status": REFUND_STATUS_LABELS,
    "stage": STAGE_LABELS,
    "rule": RULE_LABELS,
    "metric": METRIC_LABELS,
    "plan": PLAN_LABELS,
    "role": ROLE_LABELS,
    "contact_role": CONTACT_ROLE_LABELS,
    "message_kind": MESSAGE_KIND_LABELS,
    "config_key": CONFIG_KEY_LABELS,
}


def label(kind: str, code: str | None) -> str:
    """The human label of `code` in the `kind` table (e.g. label("step", "first_meeting"))."""
    if code is None:
        return ""
    return TABLES[kind].get(code, code.replace("_", " "))


def labelled(kind: str, codes: Iterable[str]) -> str:
    """Several codes of one kind, labelled and joined: "Product analytics, Session replay"."""
    return ", ".join(label(kind, code) for code in codes)


def uses(products: Iterable[str]) -> str:
    """Why a homework task fits: "uses Product analytics, Session replay"."""
    return "uses " + labelled("product", products)


def money(amount: float | None, cents: bool = True) -> str:
    """$1,234.56 (or $1,235 without cents); "-" for no amount."""
    if amount is None:
        return "-"
    if cents:
        return f"${usd(amount):,.2f}"
    return f"${usd(amount):,.0f}"


# ------------------------------------------------------------------ user text in Markdown

# Every ASCII punctuation character: CommonMark lets a backslash escape any of them, and
# then none starts structure (headings, lists, quotes, tables, HTML, links, images,
# emphasis, code, entities, setext underlines) nor Streamlit's `$` maths or `:` directives.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Right-to-left and left-to-right overrides, embeddings, isolates and marks: shown as
# U+FFFD, so nobody can reorder what a line seems to say.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What the renderers match in text after the escapes are read: emoji and icon shortcodes
# (":smile:", ":material/home:"), autolinks ("http://", "www.", "a@b.com"). An invisible
# zero-width space after a ":" or "@" that text follows, and after a "www" before ".",
# breaks them all (browsers show nothing; Playwright's text matching ignores it too).
_ZERO_WIDTH_SPACE = "\u200b"
_LINK_MARKS = re.compile(r"\\[:@](?=\S)|(?i:www)(?=\\\.)")


def unreordered(text: object) -> str:
    """Plain user text (a browser tab's title) with its bidirectional controls as U+FFFD."""
    return _BIDI.sub("\ufffd", str(text))


def md(text: object) -> str:
    """User text (names, notes, reasons, CSV and PostHog values) made inert in Markdown:
    it shows as written and nothing in it becomes structure, a link, an image, HTML, maths,
    an icon, an emoji or a colour. Every ASCII punctuation character is backslash-escaped;
    a zero-width space follows a ":" or "@" before text (and a "www" before "."), so shortcodes
    and autolinks never fire; bidirectional controls become U+FFFD; each new line becomes a
    hard line break (a line of its own, never a paragraph, a heading or a code block)."""
    value = unreordered(text)
    lines = [line.lstrip(" \t") for line in value.splitlines()]
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    escaped = "\\\n".join(_PUNCTUATION.sub(r"\\\1", line) for line in lines)
    return _LINK_MARKS.sub(lambda m: m.group(0) + _ZERO_WIDTH_SPACE, escaped)
