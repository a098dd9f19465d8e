"""User text made inert inside Markdown: one escape (lib.labels.md, re-exported by ui.labels
and used by the email templates), one row per kind of hostile text.
tests/browser/test_hostile_text.py checks the same in Streamlit's renderer in Chromium."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from lib import labels as lib_labels
from lib import templates
from ui import labels

ZWSP = "\u200b"  # after ":" and "@" before text, and after "www" before ".": invisible


@pytest.mark.parametrize(
    "text,escaped",
    [
        ("Acme", "Acme"),  # plain text is untouched
        ("Acme GmbH 2", "Acme GmbH 2"),
        ("", ""),
        (42, "42"),
        ("**bold**", r"\*\*bold\*\*"),  # emphasis
        ("_it_ ~~gone~~", r"\_it\_ \~\~gone\~\~"),
        ("[x](javascript:alert(1))", rf"\[x\]\(javascript\:{ZWSP}alert\(1\)\)"),  # a link
        ("![x](http://a.invalid/i.png)", rf"\!\[x\]\(http\:{ZWSP}\/\/a\.invalid\/i\.png\)"),
        ("<script>", r"\<script\>"),  # HTML
        ('<img src="x">', r"\<img src\=\"x\"\>"),
        ("R&amp;D", r"R\&amp\;D"),  # an entity shows as written, not as "&"
        ("$x$", r"\$x\$"),  # LaTeX
        ("`code`", r"\`code\`"),
        ("# heading", r"\# heading"),  # block structure at a line's start
        ("- item", r"\- item"),
        ("1. first", r"1\. first"),
        ("> quote", r"\> quote"),
        ("| a | b |", r"\| a \| b \|"),
        ("***", r"\*\*\*"),
        ("Title\n===", "Title\\\n\\=\\=\\="),  # a setext heading: "=" escaped too
        # Streamlit's shortcodes and directives: ":" escaped and broken by a zero-width space
        (":material/home:", rf"\:{ZWSP}material\/home\:"),
        (":smile: :+1:", rf"\:{ZWSP}smile\: \:{ZWSP}\+1\:"),
        (":red[red]", rf"\:{ZWSP}red\[red\]"),
        (":blue-badge[x]", rf"\:{ZWSP}blue\-badge\[x\]"),
        ("Note: fine", r"Note\: fine"),  # a colon before a space needs nothing
        ("10:30", rf"10\:{ZWSP}30"),
        # autolinks (GFM): the scheme, "www." and emails
        ("http://a.invalid", rf"http\:{ZWSP}\/\/a\.invalid"),
        ("https://a.invalid", rf"https\:{ZWSP}\/\/a\.invalid"),
        ("www.a.invalid", rf"www{ZWSP}\.a\.invalid"),
        ("WWW.A.INVALID", rf"WWW{ZWSP}\.A\.INVALID"),
        ("ann@a.invalid", rf"ann\@{ZWSP}a\.invalid"),
        ("mailto:ann@a.invalid", rf"mailto\:{ZWSP}ann\@{ZWSP}a\.invalid"),
        # bidirectional controls show as U+FFFD (never reorder the text)
        ("abc\u202edcba", "abc\ufffddcba"),
        ("\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c", "\ufffd" * 11),
        # new lines: hard breaks, never paragraphs, code blocks or headings
        ("a\nb", "a\\\nb"),
        ("a\r\nb", "a\\\nb"),
        ("a\n\nb", "a\\\n\\\nb"),
        ("    code", "code"),  # four spaces would be a code block
        ("a\n    # not a heading", "a\\\n\\# not a heading"),
        ("\n\nmiddle\n\n", "middle"),
        ("a\u2028b", "a\\\nb"),
        ("\\", "\\\\"),  # a backslash stays a backslash
        ("\\*", "\\\\\\*"),
    ],
)
def test_md_escapes_markdown(text: object, escaped: str) -> None:
    assert labels.md(text) == escaped


def test_there_is_one_escape() -> None:
    assert labels.md is lib_labels.md
    assert templates.environment().filters["md"] is lib_labels.md


@pytest.mark.parametrize(
    "text",
    [
        "**Bold** _it_ :red[red] $x^2$ # not a heading",
        "[Click me](javascript:window.__pwned=1) Ltd",
        "![x](http://attacker.invalid/a.png) <img src=x> www.attacker.invalid a@b.invalid",
        "line one\n\n    line two\n# three\n- four\n> five\n| a | b |\n|---|---|",
        "R&amp;D &lt;b&gt; \\ back\\slash",
        "Title\n===",
    ],
)
def test_md_renders_as_the_text_itself(text: str) -> None:
    """Through a CommonMark renderer the escaped text is one paragraph of the text as
    written: no element but line breaks, nothing lost (the zero-width spaces aside)."""
    rendered = MarkdownIt("commonmark", {"html": False}).render(labels.md(text))
    assert rendered.startswith("<p>") and rendered.count("<p>") == 1
    body = rendered.removeprefix("<p>").removesuffix("</p>\n").replace("<br />\n", "\n")
    assert "<" not in body.replace("&lt;", "")
    expected = "\n".join(line.lstrip(" ") for line in text.splitlines())
    unescaped = body.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert unescaped.replace("&amp;", "&").replace(ZWSP, "") == expected


def test_markdown_the_app_wrote_keeps_its_formatting() -> None:
    assert labels.markdown("**$3,000** saved, $5 each") == r"**\$3,000** saved, \$5 each"
    assert labels.money_md(1234.5) == r"\$1,234.50"
