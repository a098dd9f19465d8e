"""The digest's deliveries on SQLite and PostgreSQL: one per person, day and channel; a
second claim the same day gets nothing; a failed or stale one is taken again; the notices
a user marked read stay read."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from lib.digest import store as digest_store
from lib.store import db

DAY = dt.date(2026, 3, 16)
NOW = dt.datetime(2026, 3, 16, 7, 0)


def claim(engine: Engine, user: str = "priya", channel: str = "email", **kw: object) -> int | None:
    with db.write_session(engine, "digest") as session:
        return digest_store.claim(
            session, user, kw.get("day", DAY), channel, "owner", kw.get("now", NOW)
        )  # type: ignore[arg-type]


def test_one_claim_per_person_day_and_channel(engine: Engine) -> None:
    first = claim(engine)
    assert first is not None
    assert claim(engine) is None  # being sent by the first run
    assert claim(engine, channel="slack") is not None
    assert claim(engine, user="dana") is not None
    assert claim(engine, day=DAY + dt.timedelta(days=1)) is not None
    with db.write_session(engine, "digest") as session:
        digest_store.finish(session, first, NOW)
    assert claim(engine, now=NOW + dt.timedelta(hours=5)) is None  # sent: never again that day
    with db.read_session(engine) as session:
        rows = digest_store.deliveries(session, DAY)
    assert [(r.username, r.channel, r.status) for r in rows] == [
        ("dana", "email", "sending"),
        ("priya", "email", "sent"),
        ("priya", "slack", "sending"),
    ]


def test_a_failed_delivery_is_tried_again_with_its_reason_cleared(engine: Engine) -> None:
    first = claim(engine, channel="slack")
    assert first is not None
    with db.write_session(engine, "digest") as session:
        digest_store.fail(session, first, "Slack answered HTTP 500")
    with db.read_session(engine) as session:
        (row,) = digest_store.deliveries(session, DAY)
    assert (row.status, row.error, row.attempts) == ("failed", "Slack answered HTTP 500", 1)
    again = claim(engine, channel="slack", now=NOW + dt.timedelta(hours=1))
    assert again == first
    with db.read_session(engine) as session:
        (row,) = digest_store.deliveries(session, DAY)
    assert (row.status, row.error, row.attempts) == ("sending", None, 2)


@pytest.mark.parametrize(
    ("after", "taken"),
    [(dt.timedelta(minutes=9), False), (digest_store.STALE_AFTER, True)],
    ids=["still-sending", "stale"],
)
def test_a_claim_left_by_a_crash_is_taken_after_ten_minutes(
    engine: Engine, after: dt.timedelta, taken: bool
) -> None:
    assert claim(engine) is not None
    assert (claim(engine, now=NOW + after) is not None) is taken
