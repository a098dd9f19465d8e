"""Refunds in the database (lib/refunds/store.py), on SQLite and PostgreSQL: proposed from
the audit's offer, moved through every state with each move in the change log, repeats
from the recorded history, two people acting on one refund at once, and refunds.csv
imported (all-or-nothing, idempotent) and exported (the same format, round trip)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select

from lib import csv_safe, ingest
from lib.errors import Conflict
from lib.ingest import Source
from lib.refunds import Actor, RefundError, store
from lib.refunds.model import RefundAmountError, RefundConflict, RefundNotAllowed, RefundView
from lib.store import db, models
from lib.store.customer_data import prior_refund_counts
from tests import db_support
from tests.audit_fixtures import AS_OF, DAYS, add_customer
from tests.csv_fixtures import import_sources

DANA = Actor("dana", "team")  # the customers' owner
RITA = Actor("rita", "team", revops=True)  # revenue operations
ADA = Actor("ada", "admin")
MONTH = AS_OF.replace(day=1)
SPIKE_DAYS = range(DAYS - 10, DAYS - 5)  # five days at 40x, over 5 days before as-of


def spiky(customer_id: str, engine: Engine, calm: int = 100_000) -> None:
    """A bot spike that is over, with a billing limit set: an under_attack refund."""
    events = [calm * (40 if i in SPIKE_DAYS else 1) for i in range(DAYS)]
    add_customer(
        engine,
        customer_id,
        {"events": events, "identified_events": [e * 0.3 for e in events], "sessions": 5_000.0},
        products={"product_analytics": 2_000.0},
    )


def history_refund(engine: Engine, customer_id: str, month: dt.date, status: str) -> int:
    """A refund the customer had before (lib.refunds.store.record, as the demo records)."""
    return db_support.write(
        engine, "dana", store.record, customer_id, "learning_curve", 20.0, {}, month,
        status=status, on=month + dt.timedelta(days=3),
    )  # fmt: skip


def view(engine: Engine, refund_id: int) -> RefundView:
    return db_support.read(engine, store.get, refund_id)


def act(engine: Engine, actor: Actor, move: Callable[..., Any], refund_id: int, *args: Any) -> Any:
    """One move in its own unit of work, based on the version stored now."""
    version = view(engine, refund_id).version
    return db_support.write(engine, actor.username, move, actor, refund_id, version, *args)


def propose(engine: Engine, customer_id: str, **kwargs: Any) -> int:
    refund_id, _ = db_support.write(
        engine, "dana", store.propose, DANA, customer_id, "under_attack", AS_OF, **kwargs
    )
    return int(refund_id)


def changes(engine: Engine, refund_id: int) -> list[tuple[str, str, Any]]:
    """(user, action, status change) of every logged change of the refund, oldest first."""
    log = models.AuditLog
    with db.read_session(engine) as session:
        rows = session.scalars(
            select(log)
            .where(log.entity == "refunds", log.entity_id == str(refund_id))
            .order_by(log.id)
        ).all()
        return [(r.user, r.action, r.changes.get("status")) for r in rows]


# ------------------------------------------------------------------ every state


def test_a_first_refund_is_proposed_requested_and_issued(engine: Engine) -> None:
    spiky("acme", engine)
    (offer,) = db_support.read(engine, store.offers_for, "acme", AS_OF)
    assert offer.scenario == "under_attack" and offer.eligible and offer.occurrence == 1
    assert 100 < offer.amount_usd < 1_667  # no approval needed
    refund_id = propose(engine, "acme", note="bots from one ASN")
    proposed = view(engine, refund_id)
    assert (proposed.status, proposed.amount_usd, proposed.recorded_by) == (
        "proposed", round(offer.amount_usd, 2), "dana",
    )  # fmt: skip
    assert proposed.ceiling_usd == round(offer.amount_usd, 2)
    # A proposal is not a refund yet: it does not count as a repeat.
    assert db_support.read(engine, prior_refund_counts, ["acme"]) == {}

    move = act(engine, DANA, store.request, refund_id, AS_OF, AS_OF)
    assert move.status == "requested"
    assert db_support.read(engine, prior_refund_counts, ["acme"]) == {"acme": {"under_attack": 1}}
    act(engine, DANA, store.issue, refund_id, AS_OF, "CN-1001", AS_OF, 100.0)
    issued = view(engine, refund_id)
    assert (issued.status, issued.issued_usd, issued.reference, issued.issued_on) == (
        "issued", 100.0, "CN-1001", AS_OF,
    )  # fmt: skip
    assert issued.version == 3
    assert changes(engine, refund_id) == [
        ("dana", "insert", "proposed"),
        ("dana", "update", ["proposed", "requested"]),
        ("dana", "update", ["requested", "issued"]),
    ]
    # Proposed once for its customer, month and scenario: never twice.
    with pytest.raises(RefundError, match=f"refund #{refund_id}"):
        propose(engine, "acme")


def test_a_repeat_waits_for_revenue_operations(engine: Engine) -> None:
    spiky("acme", engine)
    history_refund(engine, "acme", dt.date(2026, 1, 1), "issued")
    (offer,) = db_support.read(engine, store.offers_for, "acme", AS_OF)
    assert offer.occurrence == 2 and offer.needs_approval
    assert offer.amount_usd == pytest.approx(offer.full_usd * 0.5)  # a second: up to 50%
    refund_id = propose(engine, "acme")
    assert act(engine, DANA, store.request, refund_id, AS_OF, AS_OF).status == "needs_approval"
    # Only revenue operations decide, and never on a refund they proposed themselves.
    with pytest.raises(RefundNotAllowed):
        act(engine, DANA, store.approve, refund_id, "fine by me", AS_OF)
    with pytest.raises(RefundNotAllowed):
        act(engine, ADA, store.approve, refund_id, "an admin is no approver", AS_OF)
    with pytest.raises(RefundError, match="reason"):
        act(engine, RITA, store.approve, refund_id, "", AS_OF)
    act(engine, RITA, store.approve, refund_id, "bots, fixed in good faith", AS_OF)
    approved = view(engine, refund_id)
    assert (approved.status, approved.decided_by) == ("approved", "rita")
    act(engine, DANA, store.issue, refund_id, AS_OF, "CN-1002", AS_OF)
    assert [(u, s) for u, _, s in changes(engine, refund_id)] == [
        ("dana", "proposed"),
        ("dana", ["proposed", "needs_approval"]),
        ("rita", ["needs_approval", "approved"]),
        ("dana", ["approved", "issued"]),
    ]


def test_a_third_refund_is_declined_unless_an_admin_overrides(engine: Engine) -> None:
    spiky("acme", engine)
    history_refund(engine, "acme", dt.date(2025, 12, 1), "issued")
    history_refund(engine, "acme", dt.date(2026, 1, 1), "needs_approval")  # counts too
    history_refund(engine, "acme", dt.date(2026, 2, 1), "declined")  # does not
    (offer,) = db_support.read(engine, store.offers_for, "acme", AS_OF)
    assert offer.occurrence == 3 and offer.declined_as_repeat and not offer.eligible
    refund_id = propose(engine, "acme")
    move = act(engine, DANA, store.request, refund_id, AS_OF, AS_OF)
    declined = view(engine, refund_id)
    assert (move.status, declined.decided_by) == ("declined", "policy")
    assert declined.declined_by_policy
    with pytest.raises(RefundNotAllowed):
        act(engine, DANA, store.override, refund_id, "please", AS_OF)
    act(engine, ADA, store.override, refund_id, "enterprise renewal at stake", AS_OF)
    assert view(engine, refund_id).status == "needs_approval"
    act(engine, RITA, store.decline, refund_id, "third time: no", AS_OF)
    final = view(engine, refund_id)
    assert (final.status, final.decided_by, final.override_by) == ("declined", "rita", "ada")
    assert not final.declined_by_policy  # a person's decline cannot be overridden
    with pytest.raises(RefundError):
        act(engine, ADA, store.override, refund_id, "again", AS_OF)


def test_the_amount_is_the_servers_never_above_the_offer(engine: Engine) -> None:
    spiky("acme", engine)
    (offer,) = db_support.read(engine, store.offers_for, "acme", AS_OF)
    with pytest.raises(RefundAmountError):
        propose(engine, "acme", amount_usd=offer.amount_usd + 1)
    with pytest.raises(RefundError, match="no open finding"):
        db_support.write(engine, "dana", store.propose, DANA, "acme", "wrong_setup", AS_OF)
    with db.read_session(engine) as session:
        assert session.scalars(select(models.Refund)).all() == []
    refund_id = propose(engine, "acme", amount_usd=50)
    assert view(engine, refund_id).amount_usd == 50.0
    act(engine, DANA, store.request, refund_id, AS_OF, AS_OF)
    with pytest.raises(RefundAmountError):
        act(engine, DANA, store.issue, refund_id, AS_OF, "CN-9", AS_OF, 50.01)


def test_a_stale_version_is_refused_saying_who_changed_the_refund(engine: Engine) -> None:
    spiky("acme", engine)
    refund_id = propose(engine, "acme")
    opened = view(engine, refund_id).version
    act(engine, DANA, store.request, refund_id, AS_OF, AS_OF)
    with pytest.raises(RefundConflict, match=r"dana changed refund #\d+ .* now requested"):
        db_support.write(
            engine, "ken", store.decline, Actor("ken", "team"), refund_id, opened, "dup", AS_OF
        )
    assert view(engine, refund_id).status == "requested"


def test_two_people_acting_on_one_refund_at_once_lose_nothing(engine: Engine, db_url: str) -> None:
    """Revenue operations approve while the owner's colleague declines, both from the
    version they opened, at the same moment: one wins, the other is refused with a
    Conflict naming the winner, and nothing of the loser is written."""
    spiky("acme", engine)
    history_refund(engine, "acme", dt.date(2026, 1, 1), "issued")  # a repeat: approval
    refund_id = propose(engine, "acme")
    act(engine, DANA, store.request, refund_id, AS_OF, AS_OF)
    opened = view(engine, refund_id).version
    sam = Actor("sam", "team", revops=True)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def run(actor: Actor, move: Callable[..., Any], *args: Any) -> None:
        writer = db.make_engine(db_url)
        try:
            barrier.wait(timeout=30)
            db_support.write(writer, actor.username, move, actor, refund_id, opened, *args)
            outcomes[actor.username] = "saved"
        except Conflict as error:
            outcomes[actor.username] = error
        finally:
            writer.dispose()

    threads = [
        threading.Thread(target=run, args=(RITA, store.approve, "ok", AS_OF)),
        threading.Thread(target=run, args=(sam, store.decline, "not ok", AS_OF)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(str(type(o).__name__) for o in outcomes.values()) == ["RefundConflict", "str"]
    winner = next(name for name, o in outcomes.items() if o == "saved")
    loser = next(o for o in outcomes.values() if isinstance(o, RefundConflict))
    assert f"{winner} changed refund #{refund_id}" in str(loser)
    final = view(engine, refund_id)
    assert final.decided_by == winner and final.version == opened + 1
    assert final.status == ("approved" if winner == "rita" else "declined")
    decisions = [c for c in changes(engine, refund_id) if c[2] and c[2][0] == "needs_approval"]
    assert [user for user, _, _ in decisions] == [winner]


# ------------------------------------------------------------------ history


def test_recorded_history_counts_as_repeats(engine: Engine) -> None:
    add_customer(engine, "acme", {"events": 1_000})
    history_refund(engine, "acme", dt.date(2026, 1, 1), "issued")
    legacy = history_refund(engine, "acme", dt.date(2026, 2, 1), "pending_approval")
    assert view(engine, legacy).status == "needs_approval"  # the old name is understood
    big = db_support.write(
        engine, "dana", store.record, "acme", "under_attack", 2_000.0, {"product_analytics": 2e3},
        MONTH, on=AS_OF,
    )  # fmt: skip
    stored = view(engine, big)
    assert stored.status == "needs_approval" and stored.occurrence == 3  # by the policy
    assert db_support.read(engine, prior_refund_counts, ["acme"]) == {
        "acme": {"learning_curve": 2, "under_attack": 1}
    }
    with pytest.raises(Exception, match="unknown refund status"):
        db_support.write(
            engine, "dana", store.record, "acme", "wrong_setup", 1.0, {}, MONTH, status="maybe"
        )


# ------------------------------------------------------------------ refunds.csv

HEADER = "customer_id,scenario,billing_month,amount_usd,status,issued_on,issued_usd,reference"
GOOD = (
    f"{HEADER}\n"
    "acme,wrong_setup,2026-01-01,120.50,issued,2026-02-10,100,CN-77\n"
    "acme,under_attack,2026-02-01,300,needs_approval,,,\n"
)


def test_import_refunds_csv_once_and_again(engine: Engine) -> None:
    add_customer(engine, "acme", {"events": 1_000})
    first = import_sources(engine, [Source("refunds.csv", GOOD.encode())], user="ops")
    assert (first.kinds["refunds"].added, first.kinds["refunds"].updated) == (2, 0)
    again = import_sources(engine, [Source("refunds.csv", GOOD.encode())], user="ops")
    assert (again.kinds["refunds"].added, again.kinds["refunds"].updated) == (0, 0)
    assert again.kinds["refunds"].unchanged == 2
    history = {r.scenario: r for r in db_support.read(engine, store.history, "acme")}
    issued = history["wrong_setup"]
    assert (issued.amount_usd, issued.issued_usd, issued.reference) == (120.5, 100.0, "CN-77")
    assert issued.recorded_by == "ops"
    # The waiting one is approved elsewhere: the new file updates it (a new version).
    waiting = history["under_attack"]
    changed = GOOD.replace("300,needs_approval,,,", "300,issued,2026-03-02,300,CN-78")
    third = import_sources(engine, [Source("refunds.csv", changed.encode())], user="ops")
    assert (third.kinds["refunds"].added, third.kinds["refunds"].updated) == (0, 1)
    now = view(engine, waiting.id)
    assert (now.status, now.reference, now.version) == ("issued", "CN-78", waiting.version + 1)
    assert ("ops", "update", ["needs_approval", "issued"]) in changes(engine, waiting.id)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "acme,wrong_setup,2026-01-15,10,issued,2026-02-01,,CN",
            "column billing_month: '2026-01-15': the first day of the billing month, YYYY-MM-01",
        ),  # fmt: skip
        ("acme,because,2026-01-01,10,issued,2026-02-01,,CN", "column scenario: 'because'"),
        ("acme,wrong_setup,2026-01-01,-1,issued,2026-02-01,,CN", "column amount_usd: '-1'"),
        ("acme,wrong_setup,2026-01-01,10,paid,2026-02-01,,CN", "column status: 'paid'"),
        ("acme,wrong_setup,2026-01-01,10,issued,,,CN", "column issued_on: '': an issued refund"),
        ("acme,wrong_setup,2026-01-01,10,issued,2026-02-01,12,CN", "column issued_usd: '12'"),
        (
            "nobody,wrong_setup,2026-01-01,10,issued,2026-02-01,,CN",
            "column customer_id: 'nobody': unknown customer",
        ),  # fmt: skip
    ],
)
def test_a_bad_refunds_csv_names_file_row_column_value_and_writes_nothing(
    engine: Engine, row: str, message: str
) -> None:
    add_customer(engine, "acme", {"events": 1_000})
    text = f"{GOOD}{row}\n"
    with pytest.raises(ingest.ImportRejected) as rejected:
        import_sources(engine, [Source("refunds.csv", text.encode())])
    assert f"refunds.csv row 4, {message}" in rejected.value.summary()
    with db.read_session(engine) as session:
        assert session.scalars(select(models.Refund)).all() == []


def test_a_declined_row_needs_its_reason_and_a_key_appears_once(engine: Engine) -> None:
    add_customer(engine, "acme", {"events": 1_000})
    text = (
        "customer_id,scenario,billing_month,amount_usd,status,decision_reason\n"
        "acme,wrong_setup,2026-01-01,10,declined,\n"
        "acme,wrong_setup,2026-01-01,10,declined,abuse\n"
    )
    with pytest.raises(ingest.ImportRejected) as rejected:
        import_sources(engine, [Source("refunds.csv", text.encode())])
    summary = rejected.value.summary()
    assert "refunds.csv row 2, column decision_reason: '': a declined refund needs" in summary
    assert "refunds.csv row 3: the same customer_id + billing_month + scenario" in summary


def test_the_export_is_the_import_format_and_imports_as_unchanged(engine: Engine) -> None:
    spiky("acme", engine)
    history_refund(engine, "acme", dt.date(2026, 1, 1), "issued")
    refund_id = propose(engine, "acme", invoice_change=True, note="=HYPERLINK(evil)")
    act(engine, DANA, store.request, refund_id, AS_OF, AS_OF)
    act(engine, RITA, store.decline, refund_id, "-1 cannot", AS_OF)
    frame = db_support.read(engine, store.export_frame)
    assert list(frame.columns) == list(ingest.SPECS["refunds"].columns)
    assert len(frame) == 2
    data = csv_safe.to_safe_csv(frame)
    assert b"'=HYPERLINK(evil)" in data and b"'-1 cannot" in data  # never a formula
    again = import_sources(engine, [Source("refunds.csv", frame.to_csv(index=False).encode())])
    assert again.kinds["refunds"].unchanged == 2 and again.changed == 0
