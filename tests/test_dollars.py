"""Dollar signs never turn into maths: Streamlit renders text between two `$` in Markdown
as LaTeX, so every Markdown the app renders escapes them (user text through
ui.labels.md, Markdown the app wrote through ui.labels.markdown).

`latex_stretches` finds what would become maths; the page test walks every element of
every page with amounts (AppTest from app.py, on the demo data) and checks each Markdown
field Streamlit renders: bodies, labels, values and deltas of metrics, help tooltips,
progress texts, tab and expander labels. tests/browser/test_money_text.py checks the same
in a real browser (no KaTeX output at all)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from lib import templates
from lib.demo import homework_history_store
from lib.program.report import CustomerReport
from lib.store import db, models
from tests import db_support
from tests.apptest_support import AS_OF, page_errors
from ui import labels

# What remark-math leaves alone: fenced code, code spans, backslash escapes.
_NOT_MATHS = re.compile(
    r"^ {0,3}(?P<marks>`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^ {0,3}(?P=marks)[^\n]*$|\Z)"
    r"|(?<!`)(?P<ticks>`+)(?!`)(?:(?!\n[ \t]*\n)[\s\S])+?(?<!`)(?P=ticks)(?!`)"
    r"|\\[\s\S]",
    re.MULTILINE,
)


def latex_stretches(markdown: str) -> list[str]:
    """The stretches between two bare `$` in one paragraph: what Streamlit's Markdown
    (remark-math, `$...$` and `$$...$$`) would render as maths once KaTeX is on."""
    plain = _NOT_MATHS.sub(lambda m: "_" * len(m.group(0)), markdown)
    found = []
    for paragraph in re.split(r"\n[ \t]*\n", plain):
        dollars = [m.start() for m in re.finditer(r"\$", paragraph)]
        if len(dollars) >= 2:
            found.append(paragraph[dollars[0] : dollars[1] + 1])
    return found


# ------------------------------------------------------------------ the helpers


@pytest.mark.parametrize(
    ("written", "safe"),
    [
        ("about $1,080 a month, $3,000.26 less", "about \\$1,080 a month, \\$3,000.26 less"),
        ("**$6,522** then **$1,850**", "**\\$6,522** then **\\$1,850**"),
        ("already \\$5 and $6", "already \\$5 and \\$6"),  # escaped once, not twice
        ("`$set` in code and $7", "`$set` in code and \\$7"),
        ("``a ` $b`` and $c", "``a ` $b`` and \\$c"),
        ("```\n$x$\n```\n$y", "```\n$x$\n```\n\\$y"),
        (
            "[how we price](https://posthog.com/pricing) $1",
            "[how we price](https://posthog.com/pricing) \\$1",
        ),
        (":green-badge[Refund] about $5 _it_", ":green-badge[Refund] about \\$5 _it_"),
        (
            "no dollars: **bold**, [a](b), # not changed",
            "no dollars: **bold**, [a](b), # not changed",
        ),
    ],
)
def test_app_markdown_escapes_dollars_and_nothing_else(written: str, safe: str) -> None:
    assert labels.markdown(written) == safe == templates.inert_dollars(written)
    assert latex_stretches(labels.markdown(written)) == []
    assert labels.markdown(safe) == safe  # idempotent


@pytest.mark.parametrize(
    ("markdown", "maths"),
    [
        ("$3,000.26 ... $1,081", ["$3,000.26 ... $"]),
        ("about $5\n\nand $6", []),  # two paragraphs
        ("\\$5 and \\$6", []),
        ("`$set` and `$unset`", []),
        ("$$\nx\n$$", ["$$"]),
        ("a $x^2$ name", ["$x^2$"]),
    ],
)
def test_latex_stretches(markdown: str, maths: list[str]) -> None:
    assert latex_stretches(markdown) == maths


def test_an_amount_for_markdown() -> None:
    assert labels.money_md(1234.5) == "\\$1,234.50"
    assert labels.money_md(1234.5, cents=False) == "\\$1,234"
    assert labels.money_md(None) == "-"


def test_user_text_stays_inert() -> None:
    assert latex_stretches(labels.md("$x^2$ and $y$ Corp")) == []
    assert latex_stretches(labels.md("$x^2$ and $y$ Corp")) == []


# ------------------------------------------------------------------ every page

# Proto fields Streamlit renders as Markdown; elements whose text is not Markdown.
MARKDOWN_FIELDS = frozenset({"body", "label", "help", "text", "delta"})
NOT_MARKDOWN = frozenset({"code", "text", "exception", "json", "html", "latex", "divider"})


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _strings(proto: Any) -> Iterator[tuple[str, str]]:
    for field, value in proto.ListFields():
        if field.name in MARKDOWN_FIELDS and isinstance(value, str):
            yield field.name, value
        elif hasattr(value, "ListFields"):
            yield from _strings(value)


def rendered_markdown(at: AppTest) -> list[tuple[str, str, str]]:
    """(element type, field, text) of every Markdown string on the page."""
    found = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        kind = str(getattr(node, "type", ""))
        if proto is None or not hasattr(proto, "ListFields") or kind in NOT_MARKDOWN:
            continue
        found += [(kind, field, text) for field, text in _strings(proto)]
    return found


def maths_on(at: AppTest) -> list[tuple[str, str, list[str]]]:
    return [
        (kind, field, latex_stretches(text))
        for kind, field, text in rendered_markdown(at)
        if latex_stretches(text)
    ]


def customers_with_amounts(reports: list[CustomerReport]) -> list[str]:
    """The demo customers whose pages and drafts carry the most amounts: the largest
    savings, every refund, a free-tier one with findings, a late and a paused one."""
    chosen: list[str] = []

    def pick(candidates: list[CustomerReport], n: int = 1) -> None:
        for rep in candidates[:n]:
            if rep.customer_id not in chosen:
                chosen.append(rep.customer_id)

    pick(sorted(reports, key=lambda r: -r.est_monthly_saving_usd), 3)
    pick([r for r in reports if getattr(r, "est_refund_usd", 0) > 0], 3)
    pick([r for r in reports if r.projected_monthly_bill_usd == 0 and r.findings])
    pick([r for r in reports if r.timeline.program_week > 8 and r.findings])
    pick([r for r in reports if r.customer.status == "paused"])
    return chosen


# At least these; a tab added later is walked too (the page's own list).
CUSTOMER_TABS = (
    "Audit", "Timeline", "Usage", "Contacts", "Outreach", "Refunds", "Step log", "History",
)  # fmt: skip
PAGES = ("today", "customers", "meetings", "homework", "outcomes", "data", "users")


def test_no_page_renders_dollars_as_maths(
    login_app: Callable[..., AppTest], demo_db_url: str
) -> None:
    engine = db.make_engine(demo_db_url)
    try:
        with db.write_session(engine, "demo") as session:  # as `onboarding demo` does
            homework_history_store.assign_homework(session, AS_OF)
        reports = db_support.reports(engine, AS_OF)
        with db.read_session(engine) as session:
            with_homework = sorted(
                set(session.scalars(select(models.HomeworkAssignment.customer_id)))
            )
    finally:
        engine.dispose()
    customers = customers_with_amounts(reports)
    assert len(customers) >= 5 and with_homework

    at = login_app("admin")
    seen: dict[str, int] = {}

    def check(where: str) -> None:
        assert not page_errors(at), (where, page_errors(at))
        assert maths_on(at) == [], where
        seen[where] = sum("$" in text for _, _, text in rendered_markdown(at))

    for page in PAGES:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
        check(page)
    # Tabs drawn only when open: each one.
    for page, key, tabs in (
        ("outcomes", "view", ("Progress", "Money", "Retention and team")),
        ("meetings", "mtg_tab", ("By day", "Week", "Schedule a call")),
    ):
        at.switch_page(f"app_pages/{page}.py")
        for tab in tabs:
            at.session_state[key] = tab
            at.run()
            check(f"{page} {tab}")
    for customer_id in customers:
        at.query_params["id"] = customer_id
        at.query_params["tab"] = "Audit"
        at.switch_page("app_pages/customer.py")
        at.run()
        tabs = [node.proto.label for node in _walk(at._tree) if node.type == "tab"]
        assert set(tabs) >= set(CUSTOMER_TABS), tabs
        for tab in tabs:
            at.query_params["tab"] = tab
            at.switch_page("app_pages/customer.py")
            at.run()
            check(f"{customer_id} {tab}")
        # both drafts: the tab shows the one for the customer's week first
        at.query_params["tab"] = "Outreach"
        at.switch_page("app_pages/customer.py")
        at.run()
        (kind,) = [g for g in at.get("button_group") if g.key == "customer_draft_kind"]
        kind.set_value("final" if kind.value == "initial" else "initial").run()
        check(f"{customer_id} Outreach, the other draft")
    for customer_id in with_homework[:3]:
        at.query_params["customer"] = customer_id
        at.switch_page("app_pages/homework.py")
        at.run()
        check(f"homework {customer_id}")
    # the pages did show amounts (escaped): the walk saw them
    assert sum(seen.values()) > 20, seen
