"""The Jinja2 environment of the email templates in data/templates: Markdown and plain
text, never HTML (nothing escaped, every variable must exist); `md` and `usd` filters."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jinja2

from lib import labels, settings

TEMPLATES_DIR = settings.DATA_DIR / "templates"

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(value: Any) -> str:
    """Escape text from the data (names) so Markdown shows it as written."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


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
    env.filters["md"] = md
    env.filters["usd"] = lambda amount: labels.money(float(amount))
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)
