"""The outreach drafts of one stored customer: reads what lib.outreach.drafts renders
(the report, findings, homework and the customer's contacts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lib.audit import finding_store
from lib.contacts import store as contact_store
from lib.errors import NotFound
from lib.homework import completion_summary
from lib.outreach.drafts import Draft, HomeworkLines, PlainHomework, final, initial
from lib.program import report, report_store
from lib.store import models


def _report(session: Session, customer_id: str, as_of: dt.date) -> report.CustomerReport:
    found = report_store.build(session, as_of, customer_id)
    if not found:
        raise NotFound(f"no such customer {customer_id!r}")
    return found[0]


def initial_draft(session: Session, customer_id: str, as_of: dt.date, sender: str) -> Draft:
    """The week-1 email of a customer (lib.outreach.drafts.initial), greeting its primary
    contact."""
    customer_report = _report(session, customer_id, as_of)
    people = contact_store.for_customer(session, customer_id)
    return initial(customer_report, as_of, sender, people)


def _initial_audit_day(session: Session, customer: models.Customer) -> dt.date:
    """The day the first audit went out (initial outreach sent), else the entry day."""
    sent = session.scalar(
        select(models.Step.date).where(
            models.Step.customer_id == customer.customer_id,
            models.Step.step == "initial_outreach",
            models.Step.status == "done",
        )
    )
    return sent or customer.segment_entered_on


def final_draft(
    session: Session,
    customer_id: str,
    as_of: dt.date,
    sender: str,
    homework: HomeworkLines | Sequence[str] | None = None,
) -> Draft:
    """The weeks 7-8 email of a customer (lib.outreach.drafts.final).

    `homework`: completion lines for the email: an object with markdown()/text()
    (lib.homework.HomeworkSummary) or plain lines. None reads the customer's
    homework; an empty list leaves the section out.
    """
    customer_report = _report(session, customer_id, as_of)
    customer = customer_report.customer
    now = finding_store.for_customer(session, customer_id, as_of, include_closed=True)
    then_day = min(_initial_audit_day(session, customer), as_of)
    then = finding_store.for_customer(session, customer_id, then_day, include_closed=True)
    decided = finding_store.states(session, customer_id)
    return final(
        customer_report,
        now,
        then,
        decided,
        _homework(session, customer_id, homework),
        as_of,
        sender,
        contact_store.for_customer(session, customer_id),
    )


def _homework(
    session: Session, customer_id: str, homework: HomeworkLines | Sequence[str] | None
) -> HomeworkLines | None:
    if homework is None:
        return completion_summary(session, customer_id)
    if isinstance(homework, str):
        return PlainHomework((homework,))
    if isinstance(homework, Sequence):
        return PlainHomework(tuple(str(line) for line in homework)) if homework else None
    return homework
