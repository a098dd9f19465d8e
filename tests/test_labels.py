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


# ------------------------------------------------------------------ the one label table


def _vocabularies() -> list[tuple[str, tuple[str, ...]]]:
    from lib import vocabulary
    from lib.audit import engine
    from lib.audit import refunds as refund_policy
    from lib.audit.thresholds import SEVERITIES, STATES
    from lib.program import timeline

    return [
        ("product", vocabulary.PRODUCTS),
        ("metric", vocabulary.METRICS),
        ("entry_reason", vocabulary.ENTRY_REASONS),
        ("plan", vocabulary.PLANS),
        ("role", vocabulary.ROLES),
        ("refund_status", vocabulary.REFUND_STATUSES),
        ("contact_role", vocabulary.CONTACT_ROLES),
        ("message_kind", vocabulary.MESSAGE_KINDS),
        ("stage", vocabulary.STAGES),
        ("config_key", tuple(vocabulary.CONFIG_KEYS)),
        ("step", timeline.STEPS),
        ("program_status", timeline.PROGRAM_STATUSES),
        ("rule", tuple(rule.id for rule in engine.RULES)),
        ("refund_scenario", refund_policy.SCENARIOS),
        ("severity", SEVERITIES),
        ("finding_state", STATES),
    ]


@pytest.mark.parametrize(
    "kind,codes", _vocabularies(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_code_has_a_human_label(kind: str, codes: tuple[str, ...]) -> None:
    """Every code of the vocabulary, the audit's rules and the refund scenarios has a label
    in lib.labels' one table: no page, CSV or email falls back to the code itself."""
    table = lib_labels.TABLES[kind]
    assert codes
    missing = [code for code in codes if code not in table]
    assert missing == [], f"{kind} codes without a label: {missing}"
    for code in codes:
        text = lib_labels.label(kind, code)
        assert text.strip() and text != code, f"{kind} {code} shows as itself"
        assert "_" not in text, f"{kind} {code}: {text!r}"


def test_label_tables_kept_beside_their_code_agree() -> None:
    """Tables kept beside their module (for its own messages) say what the one table says."""
    from lib.audit import engine
    from lib.contacts import model as contacts
    from lib.program import stage, timeline
    from lib.refunds import model as refunds
    from lib.replies import matching

    assert refunds.STATUS_LABELS == lib_labels.REFUND_STATUS_LABELS
    assert contacts.ROLE_LABELS == lib_labels.CONTACT_ROLE_LABELS
    assert matching.KIND_LABELS == lib_labels.MESSAGE_KIND_LABELS
    assert {rule.id: rule.title for rule in engine.RULES} == lib_labels.RULE_LABELS
    assert lib_labels.TABLES["stage"] is stage.STAGE_LABELS
    assert lib_labels.TABLES["step"] is timeline.STEP_LABELS


@pytest.mark.parametrize(
    "kind,code,text",
    [
        ("refund_scenario", "under_attack", "Under attack (bots)"),
        ("refund_scenario", "wrong_setup", "Wrong setup"),
        ("stage", "onboarded_no_engagement", "Onboarded without engagement"),
        ("program_status", "overdue", "Past week 8"),
        ("plan", "pay-as-you-go", "Pay-as-you-go"),
        ("rule", "autocapture_unused", "Autocapture events nobody uses"),
        ("refund_scenario", "made_up_code", "made up code"),  # unknown: words, not underscores
        ("stage", None, ""),
    ],
)
def test_label(kind: str, code: str | None, text: str) -> None:
    assert lib_labels.label(kind, code) == text


def test_uses_names_products_by_their_labels() -> None:
    assert lib_labels.uses(["product_analytics"]) == "uses Product analytics"
    assert lib_labels.uses(["session_replay", "feature_flags"]) == (
        "uses Session replay, Feature flags"
    )
