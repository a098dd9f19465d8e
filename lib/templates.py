"""The Jinja2 environment of the email templates in data/templates: Markdown and plain
text, never HTML (nothing escaped, every variable must exist); and `inert_dollars`, which
keeps Markdown's dollar signs from turning into maths (ui.labels.markdown uses it too).

Filters: `md` (text from the data, inert in Markdown: lib.labels.md, the one escape), `usd` (cents, for tables),
`dollars` (whole dollars, for prose: "about $1,080 a month") and `inert_dollars` (a
Markdown template wraps itself in it); docs/rules.md, "Outreach emails"."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jinja2

from lib import labels, pricing, settings

TEMPLATES_DIR = settings.DATA_DIR / "templates"

_CENTS = re.compile(r"\$(\d[\d,]*\.\d\d)\b")
# What inert_dollars leaves alone (code, escapes) and what it escapes (a bare $).
_DOLLARS = re.compile(
    r"(?P<fence>^ {0,3}(?P<marks>`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^ {0,3}(?P=marks)[^\n]*$|\Z))"
    r"|(?P<code>(?<!`)(?P<ticks>`+)(?!`)(?:(?!\n[ \t]*\n)[\s\S])+?(?<!`)(?P=ticks)(?!`))"
    r"|(?P<escaped>\\[\s\S])"
    r"|(?P<dollar>\$)",
    re.MULTILINE,
)


def inert_dollars(markdown: str) -> str:
    """Markdown with every bare `$` escaped (`\\$`), so no viewer (Streamlit included) reads
    text between two of them as maths; code and what is escaped already stay as they are,
    and nothing else changes (the formatting survives)."""
    return _DOLLARS.sub(lambda m: "\\$" if m.group("dollar") else m.group(0), markdown)


def dollars(amount: float) -> str:
    """An amount in prose: whole dollars ("$1,080"); "less than $1" for a few cents."""
    if 0 < pricing.usd(amount) < 0.5:
        return "less than $1"
    return labels.money(amount, cents=False)


def whole_dollars(text: str) -> str:
    """Prose with every "$1,234.56" rounded to whole dollars ("$1,235")."""
    return _CENTS.sub(lambda m: dollars(float(m.group(1).replace(",", ""))), text)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=False,  # Markdown and plain text, never rendered as HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = labels.md
    env.filters["usd"] = lambda amount: labels.money(float(amount))
    env.filters["dollars"] = lambda amount: dollars(float(amount))
    env.filters["inert_dollars"] = inert_dollars
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)
