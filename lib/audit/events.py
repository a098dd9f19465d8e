"""Rules about analytics events: what is sent, and what is processed with profiles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lib.audit.data import AuditData
from lib.audit.rule import Detection, Rule, count, pct, ratio
from lib.audit.thresholds import RuleSettings

DOCS = "https://posthog.com/docs"


def _remove_events(removed: pd.Series, identified: pd.Series) -> dict[str, pd.Series]:
    """Volume changes when `removed` events stop, `identified` of them with profiles."""
    return {"events": -removed, "identified_events": -identified}


# ------------------------------------------------------- identify_overcalled


def detect_identify_overcalled(data: AuditData, t: RuleSettings) -> Detection:
    identify = data.metric("identify_events")
    sessions = data.metric("sessions")
    events = data.metric("events")
    per_session = ratio(identify, sessions)
    share = ratio(identify, events)
    fires = (per_session > t.number("max_per_session")) | (share > t.number("max_share_of_events"))
    # Identify once per session; without sessions, keep at most the allowed share.
    target = pd.Series(
        np.where(
            sessions > 0,
            sessions * t.number("target_per_session"),
            events * t.number("max_share_of_events"),
        ),
        index=data.index,
    )
    excess = (identify - target).clip(lower=0.0)
    changes = _remove_events(excess, excess)  # $identify events carry a profile
    changes["identify_events"] = -excess
    facts = pd.DataFrame(
        {
            "identify_events": identify,
            "per_session": per_session,
            "share": share,
            "events": events,
            "excess": excess,
        }
    )
    return Detection(fires=fires, facts=facts, changes=changes)


def evidence_identify_overcalled(f: Mapping[str, Any]) -> str:
    per_session = f"{f['per_session']:.1f} per session, " if not pd.isna(f["per_session"]) else ""
    return (
        f"{count(f['identify_events'])} $identify/$set calls in 30 days: {per_session}"
        f"{pct(f['share'])} of your {count(f['events'])} events; identifying once per "
        f"session would remove about {count(f['excess'])} of them"
    )


IDENTIFY_OVERCALLED = Rule(
    id="identify_overcalled",
    title="identify() is called too often",
    fix=(
        "Call identify() once per session, when the user logs in (or signs up), not on every "
        "page load; set person properties with the identify call instead of separate $set events."
    ),
    effort="About an hour: move the call to the login handler.",
    docs_url=f"{DOCS}/product-analytics/identify",
    detect=detect_identify_overcalled,
    evidence=evidence_identify_overcalled,
)


# -------------------------------------------------- groupidentify_overcalled


def detect_groupidentify_overcalled(data: AuditData, t: RuleSettings) -> Detection:
    calls = data.metric("groupidentify_events")
    events = data.metric("events")
    sessions = data.metric("sessions")
    share = ratio(calls, events)
    fires = share > t.number("max_share_of_events")
    target = pd.Series(
        np.where(
            sessions > 0,
            sessions * t.number("target_per_session"),
            events * t.number("max_share_of_events"),
        ),
        index=data.index,
    )
    excess = (calls - target).clip(lower=0.0)
    changes = _remove_events(excess, excess * data.identified_share())
    changes["groupidentify_events"] = -excess
    facts = pd.DataFrame(
        {
            "calls": calls,
            "share": share,
            "events": events,
            "per_session": ratio(calls, sessions),
            "excess": excess,
        }
    )
    return Detection(fires=fires, facts=facts, changes=changes)


def evidence_groupidentify_overcalled(f: Mapping[str, Any]) -> str:
    per_session = f" ({f['per_session']:.1f} per session)" if not pd.isna(f["per_session"]) else ""
    return (
        f"{pct(f['share'])} of your {count(f['events'])} events are $groupidentify calls: "
        f"{count(f['calls'])} in 30 days{per_session}; calling group() once per session "
        f"would remove about {count(f['excess'])}"
    )


GROUPIDENTIFY_OVERCALLED = Rule(
    id="groupidentify_overcalled",
    title="group() is called too often",
    fix=(
        "Call group() once per session (after login or when the company changes), not on "
        "every page or event; group properties only need sending when they change."
    ),
    effort="About an hour.",
    docs_url=f"{DOCS}/product-analytics/group-analytics",
    detect=detect_groupidentify_overcalled,
    evidence=evidence_groupidentify_overcalled,
)


# ------------------------------------------------- anonymous_person_profiles


def detect_anonymous_person_profiles(data: AuditData, t: RuleSettings) -> Detection:
    events = data.metric("events")
    identified = data.metric("identified_events")
    sessions = data.metric("sessions")
    identify = data.metric("identify_events")
    profiles = data.config_text("person_profiles")
    identified_share = ratio(identified, events)
    per_session = ratio(identify, sessions)  # NaN without sessions: the rule says nothing
    fires = (
        profiles.eq("always")
        & (identified_share >= t.number("min_identified_share"))
        & (per_session <= t.number("max_identify_per_session"))
    )
    # With identified_only, only sessions that log in carry a profile: about one
    # identify call per such session, so that share of events stays identified.
    identified_after = pd.concat([identified, events * per_session.clip(0.0, 1.0)], axis=1).min(
        axis=1
    )
    moved = (identified - identified_after).fillna(0.0).clip(lower=0.0)
    facts = pd.DataFrame(
        {
            "identified_share": identified_share,
            "events": events,
            "identified": identified,
            "per_session": per_session,
            "moved": moved,
        }
    )
    return Detection(fires=fires, facts=facts, changes={"identified_events": -moved})


def evidence_anonymous_person_profiles(f: Mapping[str, Any]) -> str:
    return (
        f"person_profiles is 'always': {pct(f['identified_share'])} of your "
        f"{count(f['events'])} events are processed with a person profile, yet only "
        f"{f['per_session']:.2f} identify calls per session, so almost no visitor logs in; "
        f"about {count(f['moved'])} events would become anonymous"
    )


ANONYMOUS_PERSON_PROFILES = Rule(
    id="anonymous_person_profiles",
    title="Person profiles are created for anonymous visitors",
    fix=(
        "Initialise the SDK with person_profiles: 'identified_only' so that profiles are "
        "created only for users you identify; anonymous events then bill at the lower price."
    ),
    effort="Minutes: one SDK option.",
    docs_url=f"{DOCS}/data/persons",
    detect=detect_anonymous_person_profiles,
    evidence=evidence_anonymous_person_profiles,
)


# -------------------------------------------------------- autocapture_unused


def detect_autocapture_unused(data: AuditData, t: RuleSettings) -> Detection:
    events = data.metric("events")
    autocapture = data.metric("autocapture_events")
    share = ratio(autocapture, events)
    actions = data.config_number("autocapture_actions")  # NaN = not known: say nothing
    fires = (share > t.number("max_autocapture_share")) & (actions <= t.number("max_actions"))
    changes = _remove_events(autocapture, autocapture * data.identified_share())
    changes["autocapture_events"] = -autocapture
    facts = pd.DataFrame(
        {"share": share, "events": events, "autocapture": autocapture, "actions": actions}
    )
    return Detection(fires=fires, facts=facts, changes=changes)


def evidence_autocapture_unused(f: Mapping[str, Any]) -> str:
    uses = (
        "no action uses them"
        if f["actions"] == 0
        else f"only {f['actions']:.0f} action(s) use them"
    )
    return f"{pct(f['share'])} of your {count(f['events'])} events are autocapture; {uses}"


AUTOCAPTURE_UNUSED = Rule(
    id="autocapture_unused",
    title="Autocapture events nobody uses",
    fix=(
        "Limit autocapture with an allow list (or ignore list) of the elements and URLs you "
        "care about, define actions on the clicks that matter, or turn autocapture off and "
        "send the few events you need."
    ),
    effort="An hour to a day, depending on how many actions to define.",
    docs_url=f"{DOCS}/product-analytics/autocapture",
    detect=detect_autocapture_unused,
    evidence=evidence_autocapture_unused,
)


# ---------------------------------------------------------------- dev_traffic


def detect_dev_traffic(data: AuditData, t: RuleSettings) -> Detection:
    events = data.metric("events")
    dev = data.metric("dev_events")
    share = ratio(dev, events)
    fires = share > t.number("max_dev_share")
    changes = _remove_events(dev, dev * data.identified_share())
    changes["dev_events"] = -dev
    return Detection(
        fires=fires,
        facts=pd.DataFrame({"dev": dev, "share": share, "events": events}),
        changes=changes,
    )


def evidence_dev_traffic(f: Mapping[str, Any]) -> str:
    return (
        f"{count(f['dev'])} events ({pct(f['share'])} of your {count(f['events'])}) came from "
        f"localhost or staging hosts into the production project"
    )


DEV_TRAFFIC = Rule(
    id="dev_traffic",
    title="Development and staging traffic in production",
    fix=(
        "Send development and staging to a separate project (or do not load the SDK there); "
        "filter localhost out of the production project."
    ),
    effort="About an hour: an environment check around the SDK init.",
    docs_url="https://posthog.com/tutorials/multiple-environments",
    detect=detect_dev_traffic,
    evidence=evidence_dev_traffic,
)

RULES: tuple[Rule, ...] = (
    IDENTIFY_OVERCALLED,
    GROUPIDENTIFY_OVERCALLED,
    ANONYMOUS_PERSON_PROFILES,
    AUTOCAPTURE_UNUSED,
    DEV_TRAFFIC,
)
