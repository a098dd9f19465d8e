"""The demo's homework: the top suggestions of each customer whose homework step is done,
sent on the step's day and verified against the demo usage (some done, some not yet)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from lib import homework
from lib.program import report_store
from lib.store import journal, models


def assign_homework(session: Session, as_of: dt.date, per_customer: int = 3) -> int:
    """Homework for the demo customers (after lib.demo.load and record_history); returns
    the number of tasks. Deterministic; customers with homework already are left alone."""
    library = homework.load_library()
    user = journal.user_of(session)
    findings = {r.customer_id: list(r.findings) for r in report_store.build(session, as_of)}
    done_steps = session.execute(
        select(models.Step.customer_id, models.Step.date).where(
            models.Step.step == "homework", models.Step.status == "done"
        )
    ).all()
    have = set(session.scalars(select(models.HomeworkAssignment.customer_id).distinct()))
    count = 0
    for customer_id, sent_on in sorted(done_steps):
        if customer_id in have or sent_on > as_of:
            continue
        products = session.scalars(
            select(models.Subscription.product).where(
                models.Subscription.customer_id == customer_id
            )
        ).all()
        goals = session.scalars(
            select(models.Goal).where(models.Goal.customer_id == customer_id)
        ).all()
        # No "already true" penalty: in the story the customer may have done it since.
        picks = homework.suggest(
            library, findings.get(customer_id, []), products, goals, limit=per_customer
        )
        for position, pick in enumerate(picks):
            session.add(
                models.HomeworkAssignment(
                    customer_id=customer_id,
                    task_id=pick.task.id,
                    title=pick.task.title,
                    body=pick.task.body(),
                    position=position,
                    status="sent",
                    sent_on=sent_on,
                    created_by=user,
                )
            )
            count += 1
    session.flush()
    homework.verify(session, library=library)
    return count
