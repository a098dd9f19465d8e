"""Delivering digests, each through the channels its reader chose: for each channel the
claim is committed first (lib.digest.store.claim), then the mail or Slack server is
called, then the delivery is recorded sent, or failed with the reason. A failure for one
person never stops the others: every outcome is returned, saying which failed and why."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lib.accounts.digest_prefs import Recipient
from lib.digest import email, render, slack
from lib.digest import store as digest_store
from lib.digest.model import Digest
from lib.digest.settings import DigestSettings
from lib.errors import UserError
from lib.mail import compose, transport
from lib.mail.settings import SmtpSettings

log = logging.getLogger(__name__)
UnitOfWork = Callable[[], AbstractContextManager[Session]]
SENT, ALREADY, FAILED, SKIPPED = "sent", "already sent", "FAILED", "skipped"


@dataclass(frozen=True)
class Outcome:
    username: str
    channel: str  # email | slack | - (nothing to send through)
    status: str  # SENT | ALREADY | FAILED | SKIPPED
    detail: str

    @property
    def line(self) -> str:
        return f"{self.status:<12} {self.username:<16} {self.channel:<6} {self.detail}"


@dataclass(frozen=True)
class Servers:
    smtp: SmtpSettings | None
    digest: DigestSettings
    smtp_problem: str | None = None  # an SMTP setting that is set but unusable


def _send_email(digest: Digest, recipient: Recipient, servers: Servers) -> str:
    if servers.smtp is None:
        raise UserError(
            servers.smtp_problem
            or "email is not configured: set ONBOARDING_SMTP_HOST (README, Sending email)"
        )
    user = recipient.user
    mail = email.message(digest, user.name, user.email, servers.smtp)
    raw = compose.serialize(mail)
    envelope_from = compose.addresses_of([str(mail["From"])])[0]
    to = compose.addresses_of([str(mail["To"])])
    refused = transport.deliver(servers.smtp, envelope_from, to, raw)
    if refused:
        raise UserError(
            f"the mail server refused {', '.join(f'{a} ({r})' for a, r in refused.items())}"
        )
    return f"to {to[0]}"


def _send_slack(digest: Digest, recipient: Recipient, servers: Servers) -> str:
    return slack.post(
        servers.digest, recipient.prefs.slack_user, render.slack_text(digest), render.blocks(digest)
    )


SENDERS: dict[str, Callable[[Digest, Recipient, Servers], str]] = {
    "email": _send_email,
    "slack": _send_slack,
}


def deliver(
    unit: UnitOfWork,
    digest: Digest,
    recipient: Recipient,
    day: dt.date,
    servers: Servers,
    now: Callable[[], dt.datetime] = digest_store.utcnow,
) -> list[Outcome]:
    """Send `digest` through every channel `recipient` chose, once per day and channel."""
    name = recipient.user.username
    if not recipient.prefs.channels:
        return [Outcome(name, "-", SKIPPED, "the digest is off for this login")]
    outcomes: list[Outcome] = []
    for channel in recipient.prefs.channels:
        with unit() as session:
            claim_id = digest_store.claim(session, name, day, channel, digest.kind, now())
        if claim_id is None:
            outcomes.append(Outcome(name, channel, ALREADY, f"today's ({day}) went out already"))
            continue
        try:
            where = SENDERS[channel](digest, recipient, servers)
        except Exception as error:  # one person's failure never stops the others
            if not isinstance(error, UserError):
                log.exception("digest for %s through %s failed", name, channel)
            reason = str(error) or type(error).__name__
            with unit() as session:
                digest_store.fail(session, claim_id, reason)
            outcomes.append(Outcome(name, channel, FAILED, reason))
            continue
        with unit() as session:
            digest_store.finish(session, claim_id, now())
        outcomes.append(Outcome(name, channel, SENT, where))
    return outcomes
