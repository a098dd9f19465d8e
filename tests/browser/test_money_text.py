"""No amount turns into maths in a real browser: every page, every tab of a customer
page, the audit and both outreach drafts of several, the homework email's preview. Streamlit renders text between
two `$` as LaTeX with KaTeX (`.katex` elements); none may exist anywhere.

The customers visited are the demo's with the most amounts: the largest savings, the
refunds, evidence that names `$identify` or `$groupidentify` (one such pair used to turn
the whole draft preview into maths), a customer past week 8, and the hostile `$x^2$`
name.
"""

from __future__ import annotations

from playwright.sync_api import Page

from lib.demo import homework_history_store
from lib.program.report import CustomerReport
from lib.store import db
from tests import db_support
from tests.browser.conftest import ADMIN, AS_OF, AppServer, shot
from tests.browser.helpers import login, open_page, visit, wait_idle

KATEX = ".katex"
PAGES = ["Today", "Customers", "Meetings", "Homework", "Outcomes", "Data", "Users"]
DRAFTS = ("Initial outreach (week 1)", "Final outreach (weeks 7-8)")


def no_maths(page: Page, where: str) -> None:
    count = page.locator(KATEX).count()
    if count:
        shot(page, f"FAILED-maths-{where}")
    assert count == 0, (
        f"{where}: {count} KaTeX element(s): {page.locator(KATEX).first.inner_text()}"
    )


def customers_with_amounts(reports: list[CustomerReport]) -> list[str]:
    chosen: list[str] = []

    def pick(candidates: list[CustomerReport], n: int = 1) -> None:
        for rep in [r for r in candidates if r.customer_id not in chosen][:n]:
            chosen.append(rep.customer_id)

    pick(sorted(reports, key=lambda r: -r.est_monthly_saving_usd), 3)
    pick([r for r in reports if r.est_refund_usd > 0], 2)
    pick([r for r in reports if any("$" in f.evidence for f in r.findings)], 2)
    pick([r for r in reports if r.timeline.program_week > 8 and r.findings])
    return [*chosen, "zz-markdown"]


def test_no_page_or_draft_renders_an_amount_as_maths(page: Page, app_server: AppServer) -> None:
    engine = db.make_engine(app_server.database_url)
    try:
        with db.write_session(engine, "demo") as session:  # as `onboarding demo` does
            homework_history_store.assign_homework(session, AS_OF)
        reports = db_support.reports(engine, AS_OF)
        with_homework = sorted(
            r.customer_id for r in reports if r.timeline.steps["homework"].status == "done"
        )
    finally:
        engine.dispose()

    login(page, ADMIN)
    for title in PAGES:
        open_page(page, title)
        no_maths(page, title)

    chosen = customers_with_amounts(reports)
    visit(page, f"/customer?id={chosen[0]}")  # every tab of the one with the largest saving
    tabs = page.get_by_role("tab").all_inner_texts()
    for tab in tabs:
        page.get_by_role("tab", name=tab.strip()).click()
        wait_idle(page)
        no_maths(page, f"{chosen[0]}-{tab.strip()}")
    for customer_id in chosen:
        visit(page, f"/customer?id={customer_id}")
        no_maths(page, f"{customer_id}-audit")
        page.get_by_role("tab", name="Outreach").click()
        wait_idle(page)
        for draft in DRAFTS:
            page.get_by_test_id("stButtonGroup").get_by_text(draft, exact=True).click()
            wait_idle(page)
            page.get_by_text("Preview", exact=True).first.wait_for()
            no_maths(page, f"{customer_id}-{draft[:7].lower()}")
        shot(page, f"{app_server.database}-money-{customer_id}")

    assert with_homework, "the demo has customers with homework sent"
    for customer_id in with_homework[:2]:
        visit(page, f"/homework?customer={customer_id}")
        page.get_by_role("tab", name="Follow-up email").click()
        wait_idle(page)  # the rendered preview sits beside the Markdown source
        no_maths(page, f"homework-{customer_id}")
    shot(page, f"{app_server.database}-money-homework")
