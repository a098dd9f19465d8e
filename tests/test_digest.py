"""The morning digest's pure parts and its build on the demo data (issue 17): the counts are
the Today page's for every owner, the renderers link every item to the configured base URL
and carry no customer's message, address or note, and the plan sends at each reader's hour."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lib import demo, digest
from lib.accounts import auth, digest_prefs
from lib.accounts.digest_prefs import DigestPrefs, Recipient
from lib.digest import build, render
from lib.digest import settings as digest_settings
from lib.digest import store as digest_store
from lib.digest.plan import plan
from lib.errors import UserError
from lib.program import report_store, worklist
from lib.program.report import CustomerReport
from lib.refunds import queue
from lib.refunds import store as refund_store
from lib.refunds.offers import offers
from lib.store import db, usage_summary

AS_OF = dt.date(2026, 3, 15)
BASE = "https://console.example.com"
LINK = digest_settings.DigestSettings(base_url=BASE).link


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The 300-customer demo as `onboarding demo --as-of 2026-03-15` loads it."""
    path = tmp_path_factory.mktemp("digest") / "demo.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    data = demo.generate(customers=300, seed=7, as_of=AS_OF)
    with db.write_session(engine, "demo") as session:
        demo.load(session, data)
        demo.record_history(session, AS_OF, seed=7)
        from lib.demo import homework_history_store

        homework_history_store.assign_homework(session, AS_OF)
    usage_summary.ensure(engine, AS_OF)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def everyone(demo_engine: Engine) -> tuple[list[CustomerReport], digest.Facts]:
    with db.read_session(demo_engine) as session:
        return report_store.build(session, AS_OF), digest_store.facts(session, AS_OF)


def today_page(engine: Engine, owner: str, approver: bool) -> dict[str, int]:
    """What the Today page shows for `owner`: its worklist (built from the owner's reports
    only, as the page does) and its refund queue (ui.refund_queue.tasks)."""
    with db.read_session(engine) as session:
        reports = report_store.build(session, AS_OF, owner=owner)
        open_refunds, recorded = refund_store.open_refunds(session), refund_store.keys(session)
    work = worklist.build(reports, AS_OF, owner)
    customers = {r.customer_id: (r.customer.name, r.customer.owner) for r in reports}
    proposable = {
        r.customer_id: found
        for r in reports
        if r.est_refund_usd > 0 and (found := offers(r.findings, r.totals.refundable))
    }
    tasks = queue.build(open_refunds, proposable, customers, recorded, AS_OF, owner, approver)
    return {
        "overdue": work.overdue,
        "due_this_week": work.due_this_week,
        "calls_today": work.calls_today,
        "refunds": len(tasks),
        "no_reply": len(work.no_reply),
    }


@pytest.mark.parametrize("owner", demo.catalog.OWNERS)
@pytest.mark.parametrize("approver", [False, True], ids=["owner", "approver"])
def test_counts_equal_the_today_page(
    demo_engine: Engine,
    everyone: tuple[list[CustomerReport], digest.Facts],
    owner: str,
    approver: bool,
) -> None:
    reports, facts = everyone
    found = build.owner_digest(reports, facts, AS_OF, owner, owner.title(), LINK, approver)
    expected = today_page(demo_engine, owner, approver)
    assert {key: found.counts[key] for key in expected} == expected
    sections = {s.key: s for s in found.sections}
    assert len(sections["overdue"].items) == expected["overdue"]
    assert len(sections["due"].items) == expected["due_this_week"]
    assert len(sections["refunds"].items) == expected["refunds"]
    assert len(sections["no_reply"].items) == expected["no_reply"]


def test_the_demo_has_something_in_every_section(
    everyone: tuple[list[CustomerReport], digest.Facts],
) -> None:
    reports, facts = everyone
    totals: dict[str, int] = {}
    for owner in demo.catalog.OWNERS:
        found = build.owner_digest(reports, facts, AS_OF, owner, owner, LINK)
        for section in found.sections:
            totals[section.key] = totals.get(section.key, 0) + len(section.items)
    assert {k for k, n in totals.items() if n == 0} <= {"calls", "no_reply"}, totals


def test_churned_and_completed_customers_are_not_listed(
    everyone: tuple[list[CustomerReport], digest.Facts],
) -> None:
    reports, facts = everyone
    closed = {r.customer_id for r in reports if not build._open(r)}
    assert closed, "the demo has churned and completed customers"
    for owner in demo.catalog.OWNERS:
        found = build.owner_digest(reports, facts, AS_OF, owner, owner, LINK)
        listed = {i.customer_id for s in found.sections if s.key != "refunds" for i in s.items}
        assert listed.isdisjoint(closed), owner


def test_build_time_on_300_customers(
    demo_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """Everyone's digests from one read: measured, and well within a cron minute."""
    started = time.perf_counter()
    with db.read_session(demo_engine) as session:
        reports = report_store.build(session, AS_OF)
        facts = digest_store.facts(session, AS_OF)
    read = time.perf_counter() - started
    digests = [build.owner_digest(reports, facts, AS_OF, o, o, LINK) for o in demo.catalog.OWNERS]
    texts = [render.text(d) + render.html(d) + str(render.blocks(d)) for d in digests]
    total = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n300 customers: read {read:.2f} s, 12 digests built and rendered {total:.2f} s")
    assert all(texts) and total < 30


def test_leadership_week_beside_the_week_before(demo_engine: Engine) -> None:
    from lib import outcomes

    with db.read_session(demo_engine) as session:
        now = outcomes.load(session, AS_OF)
        before = outcomes.load(session, AS_OF - dt.timedelta(days=7))
    found = build.leadership_digest(now, before, "lead", "Lea Der", LINK)
    labels = [f.label for f in found.figures]
    assert labels[:2] == ["Entrants", "Completions (final outreach done)"]
    assert {"Steps done on time", "Refunds issued", "3-month retention"} <= set(labels)
    assert found.week == (dt.date(2026, 3, 9), AS_OF)
    entrants = now.customers["segment_entered_on"]
    week = entrants.map(lambda d: dt.date(2026, 3, 9) <= d <= AS_OF).sum()
    assert found.figures[0].this_week == f"{week:,}"
    text = render.text(found)
    assert "week before" in text and f"{BASE}/outcomes" in text


# ------------------------------------------------------------------ rendering

HOSTILE = "<script>alert(1)</script> & *Co* <https://evil.example|x>"


def sample() -> digest.Digest:
    item = digest.Item(
        HOSTILE, "Initial outreach, due today (week 1)", LINK("customer?id=c1"), "c1"
    )
    return digest.Digest(
        digest.OWNER,
        "priya",
        "Priya Patel",
        AS_OF,
        LINK("today"),
        sections=(digest.Section("overdue", (item,)), digest.Section("replies")),
        counts={"overdue": 1},
    )


def test_text_lists_every_item_with_its_link() -> None:
    text = render.text(sample())
    assert "Good morning, Priya" in text
    assert f"{BASE}/customer?id=c1" in text and f"{BASE}/today" in text
    assert "No replies since yesterday." in text


def test_html_escapes_names_and_links_to_the_base_url() -> None:
    html = render.html(sample())
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert f'<a href="{BASE}/customer?id=c1">' in html


def test_blocks_escape_names_and_link_to_the_base_url() -> None:
    blocks = render.blocks(sample())
    texts = " ".join(b["text"]["text"] for b in blocks if b["type"] in ("section", "header"))
    assert f"<{BASE}/customer?id=c1|&lt;script&gt;" in texts
    assert "<https://evil.example" not in texts  # a name cannot become a link
    assert blocks[0]["type"] == "header" and len(blocks) <= 50


def test_a_long_section_shows_the_first_items_and_how_many_more() -> None:
    items = tuple(digest.Item(f"Customer {n}", "due", LINK(f"customer?id={n}")) for n in range(45))
    many = digest.Digest(
        digest.OWNER, "p", "P", AS_OF, LINK("today"), (digest.Section("due", items),), {}
    )
    assert "and 25 more on the Today page" in render.text(many)
    assert "and 25 more on the Today page" in render.html(many)
    assert sum(1 for b in render.blocks(many) if b["type"] == "section") >= 2


# ------------------------------------------------------------------ the plan


def reader(
    username: str, role: str = "team", hour: int = 8, zone: str = "UTC", **kw: Any
) -> Recipient:
    user = auth.User(
        username, username.title(), f"{username}@example.com", role, kw.pop("revops", False)
    )
    return Recipient(user, DigestPrefs(hour=hour, timezone=zone, **kw))


READERS = {
    "priya": reader("priya", hour=8, zone="Europe/Berlin"),
    "dana": reader("dana", hour=9, zone="America/New_York"),
    "lead": reader("lead", role="leadership", hour=7),
    "rev": reader("rev", revops=True),
    "off": reader("off", channels=()),
}


@pytest.mark.parametrize(
    ("now", "as_of", "only", "expected"),
    [
        # 07:30 UTC on a Monday: 08:30 in Berlin (priya's hour came), 03:30 in New York.
        ("2026-03-16T07:30", None, None, {"priya", "lead"}),  # rev: 08:00 UTC
        ("2026-03-16T06:59", None, None, set()),  # 07:59 Berlin, 06:59 UTC: nobody yet
        ("2026-03-16T13:00", None, None, {"priya", "dana", "lead", "rev"}),  # 09:00 New York
        ("2026-03-17T13:00", None, None, {"priya", "dana", "rev"}),  # Tuesday: no summary
        ("2026-03-16T00:00", AS_OF, None, {"priya", "dana", "lee", "lead", "rev", "off"}),
        ("2026-03-16T00:00", None, "dana", {"dana"}),
        ("2026-03-16T00:00", None, "lee", {"lee"}),  # an owner without a login
    ],
)
def test_the_plan_sends_at_each_readers_hour(
    now: str, as_of: dt.date | None, only: str | None, expected: set[str]
) -> None:
    moment = dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC)
    found = plan(["priya", "dana", "lee", "off"], READERS, moment, as_of, only)
    assert {p.username for p in found} == expected


def test_the_hourly_run_uses_each_readers_local_day() -> None:
    moment = dt.datetime(2026, 3, 16, 3, 30, tzinfo=dt.UTC)  # 23:30 the day before in New York
    late = {"dana": reader("dana", hour=20, zone="America/New_York")}
    (found,) = plan(["dana"], late, moment)
    assert found.day == dt.date(2026, 3, 15)


def test_plan_refuses_an_unknown_owner() -> None:
    with pytest.raises(UserError, match="--owner .nobody."):
        plan(["priya"], READERS, dt.datetime.now(dt.UTC), None, "nobody")


# ------------------------------------------------------------------ preferences, settings


@pytest.fixture
def login_file(tmp_path: Path) -> Path:
    path = tmp_path / "auth.yaml"
    auth.add_user(path, "priya", "team", "a-long-password", email="priya@example.com")
    return path


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, DigestPrefs()),
        ({"channels": ["email", "slack"]}, DigestPrefs(channels=("email", "slack"))),
        ({"channels": ["slack,email"]}, DigestPrefs(channels=("email", "slack"))),
        ({"channels": ["none"]}, DigestPrefs(channels=())),
        ({"hour": "0"}, DigestPrefs(hour=0)),
        ({"hour": 23, "timezone": "Asia/Tokyo"}, DigestPrefs(hour=23, timezone="Asia/Tokyo")),
        ({"slack_user": "U024BE7LH"}, DigestPrefs(slack_user="U024BE7LH")),
    ],
)
def test_preferences_are_kept_in_the_login_file(
    login_file: Path, changes: dict[str, Any], expected: DigestPrefs
) -> None:
    assert digest_prefs.set_prefs(login_file, "priya", **changes) == expected
    assert digest_prefs.recipients(login_file)["priya"].prefs == expected
    assert auth.users(login_file)[0].email == "priya@example.com"  # the login unchanged


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"channels": ["fax"]}, "digest channel 'fax'"),
        ({"hour": "24"}, "expected a whole hour from 0 to 23"),
        ({"hour": "8.5"}, "expected a whole hour from 0 to 23"),
        ({"timezone": "Mars/Olympus"}, "IANA name"),
        ({"slack_user": "@priya"}, "Slack member ID"),
    ],
)
def test_bad_preferences_are_refused_and_nothing_is_written(
    login_file: Path, changes: dict[str, Any], message: str
) -> None:
    before = login_file.read_text()
    with pytest.raises(auth.AuthError, match=message):
        digest_prefs.set_prefs(login_file, "priya", **changes)
    assert login_file.read_text() == before


def test_a_hand_edited_file_falls_back_to_the_defaults() -> None:
    entry = {"digest": {"channels": ["pigeon"], "hour": 99, "timezone": "Nowhere"}}
    assert digest_prefs.prefs_of(entry) == DigestPrefs()


@pytest.mark.parametrize(
    ("environ", "expected", "error"),
    [
        ({}, {"base_url": "http://localhost:8501", "slack_configured": False}, None),
        (
            {"ONBOARDING_BASE_URL": "https://c.example.com/"},
            {"base_url": "https://c.example.com"},
            None,
        ),
        ({"ONBOARDING_SLACK_RETRIES": "0"}, {"slack_retries": 0}, None),
        ({"ONBOARDING_BASE_URL": "c.example.com"}, None, "ONBOARDING_BASE_URL"),
        ({"ONBOARDING_SLACK_WEBHOOK_URL": "hooks"}, None, "ONBOARDING_SLACK_WEBHOOK_URL"),
        ({"ONBOARDING_SLACK_RETRIES": "x"}, None, "ONBOARDING_SLACK_RETRIES"),
        ({"ONBOARDING_SLACK_RETRIES": "2.5"}, None, "a whole number"),
    ],
)
def test_settings(
    environ: dict[str, str], expected: dict[str, Any] | None, error: str | None
) -> None:
    if error:
        with pytest.raises(digest.DigestSettingsError, match=error):
            digest.load(environ)
        return
    found = digest.load(environ)
    assert expected is not None
    assert {k: getattr(found, k) for k in expected} == expected


def test_settings_from_the_secrets_section() -> None:
    found = digest.load({}, {"slack_bot_token": "xoxb-1", "base_url": "https://s.example.com"})
    assert found.slack_bot_token == "xoxb-1" and found.base_url == "https://s.example.com"
    assert "xoxb" not in repr(found)


def test_every_digest_setting_is_documented() -> None:
    from lib.settings import PROJECT_ROOT

    documented = "\n".join(
        p.read_text(encoding="utf-8")
        for p in [PROJECT_ROOT / "README.md", *PROJECT_ROOT.glob("docs/*.md")]
    )
    assert [n for n in digest_settings.ENV_NAMES if n not in documented] == []
