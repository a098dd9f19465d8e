"""What a reader sees of Markdown escaped by lib.labels.md: page tests read an element's
Markdown source (AppTest), so they compare `shown(source)` with the text as written."""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # a backslash before ASCII punctuation


def shown(markdown: str) -> str:
    """`markdown` without the escape's backslashes, zero-width spaces and hard breaks."""
    return _ESCAPE.sub(r"\1", markdown.replace("\\\n", "\n")).replace("\u200b", "")
