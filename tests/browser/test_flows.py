"""What the team does every day, in a real browser, checked in the database too.

Record a step on Today and see it on the customer page; schedule a call and
log it as held; build homework and send it; upload CSVs on the Data page (a
bad file shows its row-level problems, a good one imports).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import and_, exists, func, select

from lib.store import models
from tests.browser.conftest import ADMIN, AS_OF, TEAM, AppServer, shot
from tests.browser.helpers import login, notice, open_page, scalar, visit, wait_idle


def step_status(app_server: AppServer, customer_id: str, step: str) -> str | None:
    return scalar(
        app_server,
        select(models.Step.status).where(
            models.Step.customer_id == customer_id, models.Step.step == step
        ),
    )


def team_customer(app_server: AppServer, *without: Any) -> str:
    """An active demo customer of TEAM's for which none of `without` exists."""
    customer_id = scalar(
        app_server,
        select(models.Customer.customer_id)
        .where(
            models.Customer.owner == TEAM,
            models.Customer.status == "active",
            ~models.Customer.customer_id.like("zz-%"),  # the hostile ones stay as seeded
            *[~exists().where(condition) for condition in without],
        )
        .order_by(models.Customer.customer_id),
    )
    assert customer_id, "the demo data has no such customer of the team user"
    return str(customer_id)


def of_customer(model: Any) -> Any:
    return model.customer_id == models.Customer.customer_id


def test_record_a_step_on_today_and_see_it_on_the_customer_page(
    page: Page, app_server: AppServer
) -> None:
    login(page, ADMIN)  # everyone's list: many customers with an outreach to send
    row = (
        page.get_by_test_id("stVerticalBlock")
        .filter(has=page.get_by_role("button", name="Outreach sent"))
        .filter(has=page.locator('a[href*="customer?id="]'))
        .filter(has_not=page.locator('a[href*="id=zz-"]'))  # leave the hostile ones be
        .last  # the innermost block: one row of the list
    )
    href = row.locator('a[href*="customer?id="]').first.get_attribute("href") or ""
    customer_id = href.split("id=", 1)[1]
    row.get_by_role("button", name="Outreach sent").click()
    notice(page, "Outreach sent recorded for")
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    assert step_status(app_server, customer_id, "initial_outreach") == "done"

    visit(page, f"/customer?id={customer_id}")
    expect(page.get_by_text("Next: Initial outreach")).to_have_count(0)
    page.get_by_role("tab", name="Step log").click()
    expect(page.get_by_text("Correct a recorded step")).to_be_visible()
    wait_idle(page)
    shot(page, f"{app_server.database}-flow-step-recorded")


def test_schedule_a_call_and_log_it_as_held(page: Page, app_server: AppServer) -> None:
    customer_id = team_customer(
        app_server,
        of_customer(models.Meeting),
        and_(of_customer(models.Step), models.Step.step == "first_meeting"),
    )
    login(page, TEAM)
    visit(page, f"/meetings?customer={customer_id}")
    page.get_by_role("tab", name="Schedule a call").click()
    wait_idle(page)
    people = page.get_by_role("textbox", name="People from the customer (one per line")
    people.fill("Ann Lee <ann@customer.example>")
    # Booked for the form's day (the next working day at 10:00: a booking is never in
    # the past), then logged as held on the day it actually took place, yesterday.
    page.get_by_role("button", name="Schedule").click()
    notice(page, "scheduled for")
    wait_idle(page)
    assert step_status(app_server, customer_id, "first_meeting") == "scheduled"

    outcome = page.get_by_role("combobox", name="Outcome")
    outcome.click()
    outcome.press("ArrowDown")  # a selectbox with a value opens from the keyboard
    page.get_by_role("option", name="Held", exact=True).click()
    wait_idle(page)
    held_on = AS_OF - dt.timedelta(days=1)
    for part, value in (
        ("year", f"{held_on:%Y}"),
        ("month", f"{held_on:%m}"),
        ("day", f"{held_on:%d}"),
    ):
        field = page.get_by_role("spinbutton", name=f"{part}, Date").last  # the outcome's
        field.click()
        field.press_sequentially(value)
    page.keyboard.press("Tab")
    wait_idle(page)
    page.get_by_role("textbox", name="Notes (Markdown)").fill("Fixed autocapture together.")
    page.get_by_role("button", name="Save", exact=True).click()
    notice(page, "Saved: held")
    wait_idle(page)
    shot(page, f"{app_server.database}-flow-meeting-held")
    status = scalar(
        app_server,
        select(models.Meeting.status).where(models.Meeting.customer_id == customer_id),
    )
    assert status == "held"
    assert step_status(app_server, customer_id, "first_meeting") == "done"


def test_build_homework_and_send_it(page: Page, app_server: AppServer) -> None:
    customer_id = team_customer(
        app_server,
        of_customer(models.HomeworkAssignment),
        and_(of_customer(models.Step), models.Step.step == "homework"),
    )
    login(page, TEAM)
    visit(page, f"/homework?customer={customer_id}")
    picked = page.get_by_role("combobox", name="Customer")
    expect(picked).to_have_value(re.compile(re.escape(f"({customer_id})")))
    expect(page.get_by_role("tab", name="Build (0 draft)")).to_be_visible()
    page.get_by_role("button", name="Add").first.click()
    notice(page, "Added:")
    wait_idle(page)
    drafts = models.HomeworkAssignment.customer_id == customer_id
    count = func.count(models.HomeworkAssignment.id)
    assert scalar(app_server, select(count).where(drafts)) == 1
    page.get_by_role("tab", name="Follow-up email").click()
    wait_idle(page)
    page.get_by_role("button", name="Mark as sent").click()
    notice(page, "Homework sent (1 task(s))")
    wait_idle(page)
    shot(page, f"{app_server.database}-flow-homework-sent")
    sent = and_(drafts, models.HomeworkAssignment.status == "sent")
    assert scalar(app_server, select(count).where(sent)) == 1
    assert step_status(app_server, customer_id, "homework") == "done"


BAD_CUSTOMERS = (
    "customer_id,name,segment_entered_on,status\n"
    "up-1,Uploaded One,2026-02-30,active\n"  # row 2: no such date
    "up-2,,2026-03-01,active\n"  # row 3: a name is required
    'up-3,"=HYPERLINK(""http://evil.example"",""x"")",2026-03-01,sleeping\n'  # row 4: status
)


def upload(page: Page, name: str, text: str) -> None:
    uploader = page.get_by_test_id("stFileUploaderDropzoneInput")
    uploader.set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}]
    )
    expect(page.get_by_test_id("stFileChip").filter(has_text=name)).to_be_visible()
    # Enabled once the upload reached the server and the page ran again with it.
    button = page.get_by_role("button", name="Import")
    expect(button).to_be_enabled()
    wait_idle(page)
    button.click()


def test_upload_csvs_on_the_data_page(page: Page, app_server: AppServer) -> None:
    before = scalar(app_server, select(func.count()).select_from(models.Customer))
    login(page, ADMIN)
    open_page(page, "Data")
    upload(page, "customers.csv", BAD_CUSTOMERS)
    notice(page, "Import refused, nothing was written: 3 problem(s)")
    wait_idle(page)
    shot(page, f"{app_server.database}-flow-upload-refused")
    # The problems table is a canvas; its CSV download names each row and column.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the problems (CSV)").click()
    text = download.value.path().read_text(encoding="utf-8")
    problems = list(csv.DictReader(io.StringIO(text, newline="")))
    where = {(p["Row"].removesuffix(".0"), p["Column"]) for p in problems}
    assert where == {("2", "segment_entered_on"), ("3", "name"), ("4", "status")}
    assert all(p["File"] == "customers.csv" for p in problems)
    assert scalar(app_server, select(func.count()).select_from(models.Customer)) == before

    good = (
        f"customer_id,name,segment_entered_on\nup-ok,Uploaded Ok,{AS_OF - dt.timedelta(days=1)}\n"
    )
    page.get_by_role("button", name="Remove customers.csv").click()
    expect(page.get_by_role("button", name="Import")).to_be_disabled()
    wait_idle(page)
    upload(page, "customers.csv", good)
    notice(page, "Imported: 1 rows added or updated.")
    assert scalar(app_server, select(func.count()).select_from(models.Customer)) == before + 1
