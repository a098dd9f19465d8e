"""A digest as plain text (--dry-run, and the email's text part), as HTML (the email's
HTML part, a Jinja2 template in data/templates/digest/ with every value escaped) and as
Slack Block Kit blocks (mrkdwn with links). Pure; every item links to its page."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2

from lib import settings
from lib.digest.model import LEADERSHIP, Digest, Item

TEMPLATES_DIR = settings.DATA_DIR / "templates" / "digest"
MAX_ITEMS = 20  # per section; the rest is "and N more on the Today page"
SLACK_TEXT_MAX = 2_900  # a section block's text holds 3,000 characters
FOOTER = (
    "Your onboarding console's morning digest. Change its hour or channels on the Users "
    "page, or ask an admin."
)


@dataclass(frozen=True)
class Shown:
    """A section as the renderers show it: at most MAX_ITEMS items, and how many more."""

    key: str
    title: str
    empty: str
    count: int
    items: tuple[Item, ...]
    more: int


def shown(digest: Digest) -> list[Shown]:
    return [
        Shown(
            s.key,
            s.title,
            s.empty,
            len(s.items),
            s.items[:MAX_ITEMS],
            max(0, len(s.items) - MAX_ITEMS),
        )
        for s in digest.sections
    ]


def greeting(digest: Digest) -> str:
    first = digest.name.split()[0] if digest.name.strip() else digest.username
    if digest.kind == LEADERSHIP:
        return f"{first}, the onboarding program's week"
    return f"Good morning, {first}: your onboarding digest for {digest.as_of:%a %d %b %Y}"


def open_label(digest: Digest) -> str:
    return "Open Outcomes" if digest.kind == LEADERSHIP else "Open your Today page"


def text(digest: Digest) -> str:
    lines = [greeting(digest), digest.summary, f"{open_label(digest)}: {digest.url}", ""]
    if digest.kind == LEADERSHIP:
        width = max(len(f.label) for f in digest.figures)
        lines.append(f"{'':{width}}  {'this week':>14}  {'week before':>14}")
        for f in digest.figures:
            lines.append(f"{f.label:{width}}  {f.this_week:>14}  {f.week_before:>14}")
        lines.append("")
    for section in shown(digest):
        lines.append(f"{section.title} ({section.count})")
        if not section.items:
            lines.append(f"  {section.empty}")
        for item in section.items:
            lines.append(f"- {item.title}: {item.detail}")
            lines.append(f"  {item.url}")
        if section.more:
            lines.append(f"- and {section.more} more on the Today page: {digest.url}")
        lines.append("")
    lines.append(FOOTER)
    return "\n".join(lines).rstrip("\n") + "\n"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,  # HTML: every name and detail escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html(digest: Digest) -> str:
    return (
        _environment()
        .get_template("digest.html.j2")
        .render(
            digest=digest,
            sections=shown(digest),
            greeting=greeting(digest),
            open_label=open_label(digest),
            footer=FOOTER,
        )
    )


# ------------------------------------------------------------------ Slack


def slack_escape(value: str) -> str:
    """Text inside Slack mrkdwn: &, < and > escaped (a name cannot become a link)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, label: str) -> str:
    return f"<{slack_escape(url).replace('|', '%7C')}|{slack_escape(label)}>"


def _chunks(lines: list[str]) -> list[str]:
    """Lines joined into texts of at most SLACK_TEXT_MAX characters."""
    texts: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + len(line) + 1 > SLACK_TEXT_MAX:
            texts.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line[:SLACK_TEXT_MAX]
    if current:
        texts.append(current)
    return texts


def _section(text_: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text_}}


def blocks(digest: Digest) -> list[dict[str, Any]]:
    """The digest as Block Kit: a header, the summary with the page's link, then each
    section (its items as links), or leadership's figures."""
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": greeting(digest)[:150]}},
        _section(f"{slack_escape(digest.summary)}\n{_link(digest.url, open_label(digest))}"),
    ]
    if digest.kind == LEADERSHIP:
        lines = [
            f"*{slack_escape(f.label)}*: {slack_escape(f.this_week)} "
            f"(week before: {slack_escape(f.week_before)})"
            for f in digest.figures
        ]
        out += [_section(t) for t in _chunks(lines)]
        return out
    for section in shown(digest):
        out.append({"type": "divider"})
        lines = [f"*{slack_escape(section.title)}* ({section.count})"]
        if not section.items:
            lines.append(f"_{slack_escape(section.empty)}_")
        lines += [
            f"• {_link(item.url, item.title)}: {slack_escape(item.detail)}"
            for item in section.items
        ]
        if section.more:
            lines.append(f"• {_link(digest.url, f'and {section.more} more on the Today page')}")
        out += [_section(t) for t in _chunks(lines)]
    out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": FOOTER}]})
    return out[:50]  # Slack takes at most 50 blocks


def slack_text(digest: Digest) -> str:
    """The notification's text (and what clients without blocks show)."""
    return f"{digest.subject}: {digest.summary}"
