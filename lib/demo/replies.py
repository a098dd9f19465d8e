"""The demo customers' answers to the initial outreach (pure): about three in four reply a
few days after it, so the stages and the response rate have something true to show.

Consistent with the recorded steps: a customer with a call booked or held replied
(before the call); one whose calls and homework were skipped to the final outreach did
not; the others reply by chance if the days since the outreach allow. Each customer's
draws come from its own id, so the answers do not change when other data does."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lib.replies.matching import MANUAL_SUBJECT

REPLY_CHANCE = 0.75  # the handbook's response rate, for customers the steps leave open
MANUAL_SHARE = 0.2  # recorded by hand (answered by phone, or no mailbox connected)
MAX_DAYS_TO_REPLY = 4
OPENINGS: tuple[str, ...] = (
    "Thanks for the review, this is really helpful.",
    "Thanks! We had no idea identify() was being called that often.",
    "Appreciate you reaching out. Happy to jump on a call.",
    "Thanks for the heads-up on the bill, we will look at the findings this week.",
    "Great timing, we were about to ask about our usage.",
)
FOLLOW_UPS: tuple[str, ...] = (
    "Could we do Thursday afternoon?",
    "Our CTO will join too.",
    "Is there a doc on setting billing limits?",
    "We will fix the autocapture settings first.",
)
MANUAL_NOTES: tuple[str, ...] = (
    "Answered by phone: keen to go through the findings.",
    "Replied on Slack; call to be booked.",
)


def _rng(customer_id: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(customer_id.encode()))


def plan(
    customers: pd.DataFrame,
    steps: pd.DataFrame,
    contacts: Mapping[str, str],
    as_of: dt.date,
) -> list[dict[str, Any]]:
    """email_messages rows (direction "in") for the customers who answered by `as_of`.
    `contacts`: customer_id -> who a reply comes from, `Name <address>` (the primary
    contact; without one, the company at a made-up address of its domain)."""
    recorded: dict[str, dict[str, tuple[str, dt.date]]] = {}
    for cid, step, status, date in steps[["customer_id", "step", "status", "date"]].itertuples(
        index=False, name=None
    ):
        recorded.setdefault(cid, {})[step] = (status, date)
    rows: list[dict[str, Any]] = []
    for record in customers[["customer_id", "name", "owner"]].to_dict("records"):
        cid = str(record["customer_id"])
        row = _reply(cid, record, recorded.get(cid, {}), contacts.get(cid), as_of)
        if row is not None:
            rows.append(row)
    return rows


def _reply(
    cid: str,
    customer: Mapping[Any, Any],
    steps: Mapping[str, tuple[str, dt.date]],
    contact: str | None,
    as_of: dt.date,
) -> dict[str, Any] | None:
    outreach = steps.get("initial_outreach")
    if outreach is None or outreach[0] != "done" or outreach[1] > as_of:
        return None
    rng = _rng(cid)
    chance, manual, lag, hour, opening, follow_up = (
        rng.random(),
        rng.random(),
        int(rng.integers(1, MAX_DAYS_TO_REPLY + 1)),
        int(rng.integers(8, 19)),
        int(rng.integers(len(OPENINGS))),
        int(rng.integers(len(FOLLOW_UPS))),
    )
    sent_on = outreach[1]
    calls = [
        day
        for step in ("first_meeting", "second_meeting")
        if (found := steps.get(step)) and found[0] in ("done", "scheduled")
        for day in (found[1],)
    ]
    if calls:  # a call was booked: they answered, before it
        on = max(sent_on, min(sent_on + dt.timedelta(days=lag), min(calls), as_of))
    elif steps.get("first_meeting", ("",))[0] == "skipped":
        return None  # silent: skipped to the final outreach
    else:
        on = sent_on + dt.timedelta(days=lag)
        if chance >= REPLY_CHANCE or on > as_of:
            return None
    name = str(customer["name"])
    owner = str(customer["owner"] or "team")
    at = dt.datetime.combine(on, dt.time(hour, int(rng.integers(0, 60))))
    sender = contact or f"{name} <hello@{cid}.example>"
    signed = sender.split(" <")[0] if " <" in sender else name
    if manual < MANUAL_SHARE:
        return _row(cid, "manual_reply", on, at, owner, body=MANUAL_NOTES[opening % 2])
    return _row(
        cid,
        "reply",
        on,
        at,
        owner,
        message_id=f"<{zlib.crc32(f'{cid}/{on}'.encode()):08x}.{cid}@mail.{cid}.example>",
        from_addr=sender,
        to_addrs=[f"{owner}@posthog.example"],
        subject=f"Re: {name} + PostHog: a few things we noticed in your setup",
        body=f"Hi {owner.title()},\n\n{OPENINGS[opening]}\n{FOLLOW_UPS[follow_up]}\n\n"
        f"Best,\n{signed}",
    )


def _row(
    cid: str, kind: str, on: dt.date, at: dt.datetime, owner: str, body: str, **extra: Any
) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "direction": "in",
        "kind": kind,
        "status": "received",
        "message_id": None,
        "from_addr": None,
        "to_addrs": [],
        "subject": MANUAL_SUBJECT,
        **extra,
        "body_text": body,
        "on": on,
        "at": at,
        "by": owner if kind == "manual_reply" else "demo",
    }
