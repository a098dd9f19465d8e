"""What `onboarding digest` runs: who gets a digest (lib.digest.plan), the digests built
from one read per day (everyone's reports, the facts, leadership's outcomes), printed or
delivered. Like a command it opens its own units of work: one read per day, then for each
delivery its claim and its record (lib.digest.delivery_store)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Engine

from lib import mail, outcomes
from lib.accounts import digest_prefs
from lib.digest import render
from lib.digest import store as digest_store
from lib.digest.build import leadership_digest, owner_digest
from lib.digest.delivery_store import FAILED, SKIPPED, Outcome, Servers, deliver
from lib.digest.model import LEADERSHIP, Digest
from lib.digest.plan import Planned, plan
from lib.digest.settings import DigestSettings, DigestSettingsError
from lib.digest.settings import load as load_settings
from lib.program import report_store
from lib.store import customer_data, db, usage_summary

log = logging.getLogger(__name__)
WRITER = "digest"  # who the audit log names for the deliveries
RULE = "=" * 72


@dataclass(frozen=True)
class Built:
    planned: Planned
    digest: Digest | None  # None: an approver with nothing waiting


def build(engine: Engine, planned: list[Planned], link: Callable[[str], str]) -> list[Built]:
    """Every planned digest, reading the database once per day."""
    built: list[Built] = []
    for day in sorted({p.day for p in planned}):
        todays = [p for p in planned if p.day == day]
        owners = [p for p in todays if p.kind != LEADERSHIP]
        if owners:
            usage_summary.ensure(engine, day)
        with db.read_session(engine) as session:
            reports = report_store.build(session, day) if owners else []
            facts = digest_store.facts(session, day) if owners else None
            weeks = None
            if len(owners) < len(todays):
                weeks = (outcomes.load(session, day), outcomes.load(session, day - dt.timedelta(7)))
        for p in todays:
            if p.kind == LEADERSHIP:
                assert weeks is not None
                built.append(Built(p, leadership_digest(*weeks, p.username, p.name, link)))
                continue
            assert facts is not None
            found = owner_digest(reports, facts, day, p.username, p.name, link, p.approver)
            keep = p.owns_customers or not found.is_empty
            built.append(Built(p, found if keep else None))
    return built


@dataclass(frozen=True)
class Job:
    engine: Engine
    environ: Mapping[str, str]
    settings: DigestSettings
    built: list[Built]

    def text(self) -> str:
        """Every digest as text, one after another (--dry-run)."""
        if not self.built:
            return "No digest is due now.\n"
        parts = []
        for b in self.built:
            p = b.planned
            if b.digest is None:
                parts.append(f"{RULE}\n{p.username}: nothing waits for approval; no digest.\n")
                continue
            to = p.recipient.prefs.describe if p.recipient else "no login: printed only"
            parts.append(
                f"{RULE}\nFor: {p.username} ({p.kind}; {to})\n{RULE}\n{render.text(b.digest)}"
            )
        return "\n".join(parts)

    def servers(self) -> Servers:
        try:
            return Servers(mail.load(self.environ), self.settings)
        except mail.MailSettingsError as error:
            return Servers(None, self.settings, smtp_problem=str(error))

    def send(self, say: Callable[[str], None] = print) -> int:
        """Deliver every digest, saying each outcome; returns how many failed."""
        servers = self.servers()
        unit = partial(db.write_session, self.engine, WRITER)
        results: list[Outcome] = []
        for b in self.built:
            p = b.planned
            if b.digest is None:
                found = [Outcome(p.username, "-", SKIPPED, "nothing waits for approval")]
            elif p.recipient is None:
                found = [
                    Outcome(p.username, "-", SKIPPED, "no login of that name: nowhere to send")
                ]
            else:
                try:
                    found = deliver(unit, b.digest, p.recipient, p.day, servers)
                except Exception as error:  # the others still go out
                    log.exception("digest for %s failed", p.username)
                    found = [Outcome(p.username, "-", FAILED, str(error) or type(error).__name__)]
            for outcome in found:
                say(outcome.line)
            results += found
        counts = {s: sum(1 for r in results if r.status == s) for s in {r.status for r in results}}
        say(", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())) or "Nothing to send.")
        return counts.get(FAILED, 0)


def prepare(
    engine: Engine,
    environ: Mapping[str, str],
    auth_file: Path,
    as_of: dt.date | None,
    only: str | None,
    now: dt.datetime | None,
) -> Job:
    """Plan and build the digests; DigestSettingsError for an unusable setting."""
    chosen = load_settings(environ)
    db.ensure_schema(engine)
    with db.read_session(engine) as session:
        owners = customer_data.owners(session)
    readers = digest_prefs.recipients(auth_file)
    planned = plan(owners, readers, now or dt.datetime.now(dt.UTC), as_of, only)
    return Job(engine, environ, chosen, build(engine, planned, chosen.link))


__all__ = ["Built", "DigestSettingsError", "Job", "build", "prepare"]
