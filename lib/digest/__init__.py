"""The morning digest (`onboarding digest`): each owner's worklist, replies, homework
check-ins, calls and refunds, and leadership's week, by email and Slack. Pure: `model`,
`build` (from the Today page's worklist and refund queue), `render` (text, HTML, Block
Kit), `plan` (who, which day, whose hour), `settings` (the base URL, Slack), `email`,
`slack` (slack-sdk). Database: `store` (facts, claims), `delivery_store` (sending)."""

from __future__ import annotations

from lib.digest.build import leadership_digest, owner_digest
from lib.digest.delivery_store import Outcome, Servers, deliver
from lib.digest.model import LEADERSHIP, OWNER, Digest, Facts, Figure, Item, Section
from lib.digest.plan import Planned, plan
from lib.digest.render import blocks, html, slack_text, text
from lib.digest.settings import DigestSettings, DigestSettingsError, load
from lib.digest.store import claim, deliveries, facts, fail, finish

__all__ = [
    "LEADERSHIP",
    "OWNER",
    "Digest",
    "DigestSettings",
    "DigestSettingsError",
    "Facts",
    "Figure",
    "Item",
    "Outcome",
    "Planned",
    "Section",
    "Servers",
    "blocks",
    "claim",
    "deliver",
    "deliveries",
    "facts",
    "fail",
    "finish",
    "html",
    "leadership_digest",
    "load",
    "owner_digest",
    "plan",
    "slack_text",
    "text",
]
