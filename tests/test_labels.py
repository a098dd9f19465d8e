"""User text made inert inside Markdown, one row per kind of hostile text."""

from __future__ import annotations

import pytest

from ui import labels


@pytest.mark.parametrize(
    "text,escaped",
    [
        ("Acme", "Acme"),  # plain text is untouched
        ("**bold**", r"\*\*bold\*\*"),  # emphasis
        ("[x](javascript:alert(1))", r"\[x\]\(javascript\:alert\(1\)\)"),  # a link
        ("<script>", r"\<script\>"),  # HTML
        ("R&amp;D", r"R\&amp;D"),  # an entity shows as written, not as "&"
        ("$x$", r"\$x\$"),  # LaTeX
        (":material/home:", r"\:material/home\:"),  # an icon shortcode
        ("# heading", r"\# heading"),
    ],
)
def test_md_escapes_markdown(text: str, escaped: str) -> None:
    assert labels.md(text) == escaped
