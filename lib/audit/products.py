"""Rules about paid products and add-ons: replay, feature flags, groups, pipelines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from lib import labels
from lib.audit.data import AuditData
from lib.audit.rule import Detection, Rule, count, pct, ratio
from lib.audit.thresholds import RuleSettings

DOCS = "https://posthog.com/docs"
SECONDS_A_MONTH = 30 * 86_400


# --------------------------------------------------- replay_short_recordings


def detect_replay_short_recordings(data: AuditData, t: RuleSettings) -> Detection:
    recordings = data.metric("recordings")
    short = data.metric("short_recordings")
    share = ratio(short, recordings)
    minimum = data.config_number("replay_min_duration_s")  # NaN = unset
    fires = (share > t.number("max_short_share")) & ~(minimum >= t.number("min_duration_s"))
    facts = pd.DataFrame(
        {"share": share, "recordings": recordings, "short": short, "minimum": minimum}
    )
    return Detection(
        fires=fires,
        facts=facts,
        changes={"recordings": -short, "short_recordings": -short},
    )


def evidence_replay_short_recordings(f: Mapping[str, Any]) -> str:
    minimum = (
        "no minimum duration is set"
        if pd.isna(f["minimum"])
        else f"the minimum duration is {f['minimum']:g} s"
    )
    return (
        f"{pct(f['share'])} of your {count(f['recordings'])} recordings in 30 days are under "
        f"2 seconds ({count(f['short'])}); {minimum}"
    )


REPLAY_SHORT_RECORDINGS = Rule(
    id="replay_short_recordings",
    title="Most session recordings are too short to watch",
    fix=(
        "Set a minimum recording duration of at least 2 seconds; add sampling or URL / "
        "feature-flag triggers to record the sessions you will watch."
    ),
    effort="Minutes: a setting in the replay configuration.",
    docs_url=f"{DOCS}/session-replay/how-to-control-which-sessions-you-record",
    detect=detect_replay_short_recordings,
    evidence=evidence_replay_short_recordings,
)


# ---------------------------------------------------- unused_group_analytics


def detect_unused_group_analytics(data: AuditData, t: RuleSettings) -> Detection:
    groups = data.metric("groupidentify_events") + data.metric("group_events")
    events = data.metric("events")
    charge = data.bill_now_by_product["group_analytics"]
    fires = (
        data.is_subscribed("group_analytics")
        & (events > 0)  # no usage data at all: say nothing
        & (groups <= t.number("max_group_events"))
    )
    facts = pd.DataFrame(
        {"charge": charge, "identified": data.metric("identified_events"), "groups": groups}
    )
    return Detection(fires=fires, facts=facts, drop_products=("group_analytics",))


def evidence_unused_group_analytics(f: Mapping[str, Any]) -> str:
    return (
        f"The group analytics add-on bills your {count(f['identified'])} identified events "
        f"({labels.money(f['charge'])} this month), but no $groupidentify call and no event with a "
        f"group arrived in 30 days"
    )


UNUSED_GROUP_ANALYTICS = Rule(
    id="unused_group_analytics",
    title="Group analytics paid for, not used",
    fix=(
        "Either implement groups (call group() with the company id after login) or remove "
        "the group analytics add-on in billing settings."
    ),
    effort="Minutes to remove; about a day to implement groups properly.",
    docs_url=f"{DOCS}/product-analytics/group-analytics",
    detect=detect_unused_group_analytics,
    evidence=evidence_unused_group_analytics,
)


# ----------------------------------------------------- unused_data_pipelines


def detect_unused_data_pipelines(data: AuditData, t: RuleSettings) -> Detection:
    destinations = data.config_number("pipeline_destinations")  # NaN = not known
    charge = data.bill_now_by_product["data_pipelines"]
    fires = data.is_subscribed("data_pipelines") & (destinations <= t.number("max_destinations"))
    facts = pd.DataFrame(
        {"charge": charge, "events": data.metric("events"), "destinations": destinations}
    )
    return Detection(fires=fires, facts=facts, drop_products=("data_pipelines",))


def evidence_unused_data_pipelines(f: Mapping[str, Any]) -> str:
    return (
        f"The data pipelines add-on is on ({labels.money(f['charge'])} this month on "
        f"{count(f['events'])} events) with {f['destinations']:.0f} destinations set up"
    )


UNUSED_DATA_PIPELINES = Rule(
    id="unused_data_pipelines",
    title="Data pipelines paid for, no destination",
    fix="Remove the data pipelines add-on, or set up the destination you bought it for.",
    effort="Minutes.",
    docs_url=f"{DOCS}/cdp",
    detect=detect_unused_data_pipelines,
    evidence=evidence_unused_data_pipelines,
)


# --------------------------------------------------- flag_local_eval_polling


def detect_flag_local_eval_polling(data: AuditData, t: RuleSettings) -> Detection:
    requests = data.metric("local_eval_requests")
    recommended = t.number("recommended_poll_interval_s")
    poll = data.config_number("flags_poll_interval_s").fillna(t.number("default_poll_interval_s"))
    fires = (requests >= t.number("min_requests")) & (poll < recommended)
    # Polling every 5 minutes instead of every `poll` seconds keeps poll/300 of them.
    saved = requests * (1.0 - (poll / recommended).clip(upper=1.0))
    instances = requests / (SECONDS_A_MONTH / poll)
    facts = pd.DataFrame(
        {
            "requests": requests,
            "poll": poll,
            "instances": instances,
            "saved": saved,
            "saved_share": ratio(saved, requests),
        }
    )
    return Detection(
        fires=fires,
        facts=facts,
        changes={"flag_requests": -saved, "local_eval_requests": -saved},
    )


def evidence_flag_local_eval_polling(f: Mapping[str, Any]) -> str:
    return (
        f"{count(f['requests'])} local-evaluation requests in 30 days: about "
        f"{max(f['instances'], 1):.0f} server instance(s) polling every {f['poll']:g} s; "
        f"polling every 5 minutes would cut {pct(f['saved_share'])} of them"
    )


FLAG_LOCAL_EVAL_POLLING = Rule(
    id="flag_local_eval_polling",
    title="Feature flag definitions polled too often",
    fix=(
        "Poll flag definitions every 5 minutes (feature_flags_polling_interval / "
        "featureFlagsPollingInterval = 300 s); do not use local evaluation in short-lived "
        "lambdas or edge functions."
    ),
    effort="Minutes: one server SDK option.",
    docs_url=f"{DOCS}/feature-flags/local-evaluation",
    detect=detect_flag_local_eval_polling,
    evidence=evidence_flag_local_eval_polling,
)


# ------------------------------------------------- flag_requests_per_session


def detect_flag_requests_per_session(data: AuditData, t: RuleSettings) -> Detection:
    client = (data.metric("flag_requests") - data.metric("local_eval_requests")).clip(lower=0.0)
    sessions = data.metric("sessions")
    per_session = ratio(client, sessions)
    fires = per_session > t.number("max_per_session")
    excess = (client - sessions * t.number("target_per_session")).clip(lower=0.0)
    facts = pd.DataFrame(
        {"per_session": per_session, "client": client, "sessions": sessions, "excess": excess}
    )
    return Detection(fires=fires, facts=facts, changes={"flag_requests": -excess})


def evidence_flag_requests_per_session(f: Mapping[str, Any]) -> str:
    return (
        f"{f['per_session']:.0f} feature flag requests per session ({count(f['client'])} "
        f"client requests over {count(f['sessions'])} sessions); a few per session is typical"
    )


FLAG_REQUESTS_PER_SESSION = Rule(
    id="flag_requests_per_session",
    title="Too many feature flag requests per session",
    fix=(
        "Bootstrap flags from the server on first load, stop reloading flags on every "
        "route change, and disable flag loading on pages that use none "
        "(advanced_disable_feature_flags_on_first_load)."
    ),
    effort="Half a day.",
    docs_url=f"{DOCS}/feature-flags/bootstrapping",
    detect=detect_flag_requests_per_session,
    evidence=evidence_flag_requests_per_session,
)

RULES: tuple[Rule, ...] = (
    REPLAY_SHORT_RECORDINGS,
    UNUSED_GROUP_ANALYTICS,
    UNUSED_DATA_PIPELINES,
    FLAG_LOCAL_EVAL_POLLING,
    FLAG_REQUESTS_PER_SESSION,
)
