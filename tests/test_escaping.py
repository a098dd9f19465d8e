"""User text reaches Streamlit's Markdown only through the one escape (docs/rules.md,
"User text"): an AST check of every page and ui module.

Streamlit renders Markdown in far more than st.markdown: captions, alerts, toasts, titles,
the labels of buttons, expanders, tabs, metrics, checkboxes, radios and page links, help
tooltips, progress and spinner texts. Every f-string given to one of them (and every notice
kept by ui.actions, shown as Markdown after the rerun) may interpolate only
- a value passed through an escape or a formatter of the app's own (md, markdown, money,
  badge, label, day, ...), anything inside such a call included;
- a value with a format spec (numbers and dates: `{n:,}`, `{on:%d %b}`);
- an expression listed in REVIEWED: numbers, codes and the app's own labels.
A new interpolation of anything else fails here: wrap it in labels.md(), or, when it is a
number or the app's own text, add it to REVIEWED."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from lib.settings import PROJECT_ROOT

# Methods whose text Streamlit renders as Markdown (on st, a column, a container, ...).
MARKDOWN_CALLS = frozenset(
    {
        "markdown", "caption", "toast", "success", "info", "warning", "error", "exception",
        "write", "title", "header", "subheader", "expander", "popover", "status", "metric",
        "button", "form_submit_button", "download_button", "link_button", "page_link",
        "checkbox", "toggle", "radio", "tabs", "progress", "spinner", "text_input",
        "text_area", "number_input", "date_input", "time_input", "selectbox", "multiselect",
        "segmented_control", "pills", "slider", "select_slider", "file_uploader",
    }
)  # fmt: skip
# The keyword arguments holding such text.
MARKDOWN_KEYWORDS = frozenset({"body", "label", "help", "text", "placeholder"})
# ui.actions: a notice is kept and shown as Markdown on the next run (apply's 2nd argument).
NOTICE_CALLS = {"apply": 1, "post": 0}
# Receivers that are not Streamlit (logging, the labels module itself).
NOT_STREAMLIT = frozenset({"logger", "logging", "labels", "lib_labels", "templates"})
# Calls whose result is safe in Markdown: the escape, Markdown the app wrote, formatters.
SAFE_CALLS = frozenset(
    {
        "md", "markdown", "money", "money_md", "badge", "label", "step", "day", "short_day",
        "due_text", "len", "int", "float", "round", "min", "max", "sum", "isoformat",
        "strftime", "lower", "spike_day_ratio", "status_text", "when", "tzname",
    }
)  # fmt: skip
# Expressions reviewed as safe: numbers, codes from the app's vocabulary, the app's labels.
REVIEWED = frozenset(
    {
        # numbers
        "number", "rid", "count", "customers", "reference", "mine", "minutes",
        "item.program_week", "item.days", "line.program_week", "rep.timeline.program_week",
        "work.no_reply_days", "work.calls_this_week", "summary.done", "summary.total",
        "current.duration_min", "current.version", "offer.occurrence", "rules.ask_within_days",
        "lock.failures", "lock.retry_minutes", "found.checked", "usage_history.HISTORY_DAYS",
        "limits.MAX_FILE_MB", "limits.MAX_SMALL_FILE_MB", "limits.MAX_COLUMNS",
        "login_guard.POLICY.max_name_failures", "login_guard.POLICY.max_address_failures",
        "MIN_PASSWORD_LENGTH", "MAX_PASSWORD_BYTES", "chosen_status",
        "refused.total", "found.since", "on", "rating if rating else 'not rated'",
        "chosen if chosen else 'none'", "min(synced.values())",
        # codes and the app's own labels and texts
        "f.severity", "f.state", "f.title", "user.role", "SEVERITY_BADGES.get(f.severity, 'gray')",
        "STATE_BADGES[f.state]", "KIND_LABELS[kind]", "KIND_LABELS.get(view.kind, view.kind)",
        "KIND_LABELS.get(current.kind, current.kind)", "STAGE_LABELS[chosen]",
        "labels.PROGRAM_STATUS_LABELS[line.program_status]", "task.shows_in", "notice.label",
        "STATUS_LABELS.get(current.status, current.status).lower()", "draft.label",
        "'s' if len(rep.findings) != 1 else ''", "'y' if len(found.new) == 1 else 'ies'",
        "'Ticked' if done else 'Marked not done'", "'s' if minutes != 1 else ''",
        "engine.url.render_as_string(hide_password=True)", "as_of.isoformat()",
        "labels.day(last) if last else 'none recorded'", "len(messages) - MAX_SHOWN",
        "len(found) - MAX_SHOWN", "limits.MAX_LINE_BYTES // 1024",
    }
)  # fmt: skip
# Local names reviewed in one file: the app's own text, or built from escaped values.
REVIEWED_IN = frozenset(
    {
        ("ui/customer_mail.py", "icon"),  # a :material/...: icon of the app's
        ("ui/customer_refunds.py", "month"),  # a date, or "no month"
        ("app_pages/data.py", "shown"),  # " (the first 20 below)"
        ("app_pages/today.py", "who"),  # "You own", or the escaped owner's label
        ("app_pages/users.py", "what"),  # "Username" or "Address"
        ("app_pages/users.py", "path"),  # the login file's path (the server's setting)
        ("ui/today_dialog.py", "status"),  # call_panel.step_badge: a badge of the app's words
    }
)


def source_files() -> list[Path]:
    return [
        PROJECT_ROOT / "app.py",
        *sorted((PROJECT_ROOT / "ui").glob("*.py")),
        *sorted((PROJECT_ROOT / "app_pages").glob("*.py")),
    ]


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _receiver(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id
    return None


def _texts(call: ast.Call) -> Iterator[ast.expr]:
    """The arguments of `call` that Streamlit renders as Markdown."""
    name = _name(call.func)
    if name in NOTICE_CALLS and _receiver(call.func) == "actions":
        index = NOTICE_CALLS[name]
        if len(call.args) > index:
            yield call.args[index]
        return
    if name not in MARKDOWN_CALLS or _receiver(call.func) in NOT_STREAMLIT:
        return
    if call.args:
        yield call.args[0]
    for keyword in call.keywords:
        if keyword.arg in MARKDOWN_KEYWORDS:
            yield keyword.value


def _unsafe(text: ast.expr, where: str = "") -> Iterator[ast.FormattedValue]:
    """Interpolations inside `text` that are neither escaped, formatted nor reviewed."""
    if isinstance(text, ast.Call) and _name(text.func) in SAFE_CALLS:
        return  # md(...), markdown(...), money(...): everything inside is handled
    if isinstance(text, ast.FormattedValue):
        value = text.value
        if text.format_spec is not None:
            return
        if isinstance(value, ast.Call) and _name(value.func) in SAFE_CALLS:
            return
        expression = ast.unparse(value)
        if isinstance(value, ast.Constant) or expression in REVIEWED:
            return
        if (where, expression) in REVIEWED_IN:
            return
        yield text
        return
    for child in ast.iter_child_nodes(text):
        if isinstance(child, ast.expr):
            yield from _unsafe(child, where)


def unescaped(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(PROJECT_ROOT).as_posix()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for text in _texts(node):
                for value in _unsafe(text, where):
                    found.append(f"{where}:{value.lineno}: {{{ast.unparse(value.value)}}}")
    return found


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_user_text_reaches_markdown_escaped(path: Path) -> None:
    assert unescaped(path) == []


@pytest.mark.parametrize(
    "source,flagged",
    [
        ('st.markdown(f"**{name}**")', ["{name}"]),
        ('st.caption(f"Reason: {rep.customer.extension_reason}")', ["{rep.customer.extension_reason}"]),
        ('col.button(f"Make {contact.name} primary")', ["{contact.name}"]),
        ('st.tabs([f"Build ({title})", "Other"])', ["{title}"]),
        ('st.metric("x", 1, help=f"{note}")', ["{note}"]),
        ('actions.apply("x", f"Added: {title}", change)', ["{title}"]),
        ('actions.post(f"Removed: {item.title}")', ["{item.title}"]),
        ('st.error(f"{error}; nothing was recorded.")', ["{error}"]),
        ('st.markdown(f"**{labels.md(name)}**")', []),
        ('st.markdown(labels.md(f"{a} and {b}"))', []),
        ('st.caption(f"{n:,} rows on {on:%d %b}")', []),
        ('st.caption(f"{labels.money_md(x)} a month")', []),
        ('logger.info(f"{name}")', []),
        ('st.download_button(f"Get {name}", f"{body}", file_name=f"{name}.md")', ["{name}"]),
    ],
)  # fmt: skip
def test_the_check_finds_unescaped_interpolations(source: str, flagged: list[str]) -> None:
    tree = ast.parse(source)
    found = [
        f"{{{ast.unparse(value.value)}}}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for text in _texts(node)
        for value in _unsafe(text)
    ]
    assert found == flagged
