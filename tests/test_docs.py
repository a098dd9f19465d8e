"""The docs keep up with the code (datasette's test_docs): every command and option, CSV
column, audit rule and threshold, report field and setting is documented. `make docs`
rewrites the generated command reference; run it when this test says so."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from lib import audit, cli, ingest, settings, telemetry
from lib.ingest import posthog_client
from lib.program import timeline
from lib.program.report import CustomerReport
from lib.store import models
from lib.vocabulary import CONFIG_KEYS, ENTRY_REASONS, METRICS, PRODUCTS, ROLES

ROOT = settings.PROJECT_ROOT
INTERFACE = ROOT / "docs" / "interface.md"
RULES = ROOT / "docs" / "rules.md"
THRESHOLDS = settings.DATA_DIR / "audit_thresholds.toml"
START, END = "<!-- cli-help:start -->", "<!-- cli-help:end -->"


def commands(
    parser: argparse.ArgumentParser, path: str = "onboarding"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{path} {name}")


def cli_reference() -> str:
    """Every command's --help, at a fixed width so the text does not depend on the terminal."""
    width = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "92"
    try:
        blocks = [
            f"$ {path} --help\n{parser.format_help().rstrip()}"
            for path, parser in commands(cli.build_parser())
        ]
    finally:
        if width is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = width
    return "```\n" + "\n\n".join(blocks) + "\n```"


def generated(text: str) -> str:
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def written(text: str) -> str:
    """The docs without the generated block: what people wrote."""
    return text.split(START, 1)[0] + text.split(END, 1)[1]


def write_cli_reference(path: Path = INTERFACE) -> None:
    text = path.read_text(encoding="utf-8")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    path.write_text(f"{before}{START}\n{cli_reference()}\n{END}{after}", encoding="utf-8")


def test_the_command_reference_is_generated_from_the_parser() -> None:
    assert generated(INTERFACE.read_text(encoding="utf-8")) == cli_reference(), (
        "docs/interface.md's command reference is stale: run `make docs`"
    )


@pytest.mark.parametrize("path", [path for path, _ in commands(cli.build_parser())][1:])
def test_every_command_and_option_is_described(path: str) -> None:
    text = written(INTERFACE.read_text(encoding="utf-8"))
    words = path.removeprefix("onboarding ")
    assert re.search(rf"onboarding (\[[^\]]*\] )*{re.escape(words)}\b", text), path
    parser = dict(commands(cli.build_parser()))[path]
    for action in parser._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert option in text, f"{path}: {option}"


@pytest.mark.parametrize("kind", ingest.KINDS)
def test_every_csv_file_and_column_is_described(kind: str) -> None:
    text = INTERFACE.read_text(encoding="utf-8")
    assert f"`{kind}.csv`" in text
    for column in ingest.SPECS[kind].columns:
        assert re.search(rf"\b{column}\b", text), f"{kind}.csv: {column}"


@pytest.mark.parametrize(
    "names",
    [PRODUCTS, METRICS, tuple(CONFIG_KEYS), ENTRY_REASONS, ROLES, timeline.STEPS],
    ids=["products", "metrics", "config keys", "entry reasons", "roles", "steps"],
)
def test_every_name_of_the_vocabulary_is_described(names: tuple[str, ...]) -> None:
    text = INTERFACE.read_text(encoding="utf-8")
    assert [name for name in names if f"`{name}`" not in text and f"| {name} |" not in text] == []


def test_every_audit_rule_is_described_with_its_thresholds() -> None:
    interface, rules = INTERFACE.read_text(encoding="utf-8"), RULES.read_text(encoding="utf-8")
    raw = tomllib.loads(THRESHOLDS.read_text(encoding="utf-8"))
    generic = ("severity", "severity_by_saving", "refund", "enabled")  # every rule's
    missing = [key for key in generic if f"`{key}`" not in rules]
    for rule in audit.RULE_IDS:
        if f"`{rule}`" not in interface or f"`{rule}`" not in rules:
            missing.append(rule)
        for key in raw["rules"][rule]:
            if key not in generic and f"`{key}`" not in rules:
                missing.append(f"{rule}.{key}")
    for section in ("severity", "findings", "refunds"):
        missing += [f"{section}.{key}" for key in raw[section] if f"`{key}`" not in rules]
    assert missing == []


def test_every_report_field_is_described() -> None:
    customer = models.Customer(
        customer_id="c", name="C", segment_entered_on=dt.date(2026, 3, 1), status="active"
    )
    finding = audit.Finding(
        rule="dev_traffic", title="t", severity="low", evidence="e", fix="f", effort="x",
        docs_url="https://posthog.com/docs",
    )  # fmt: skip
    rep = CustomerReport(
        customer=customer,
        timeline=timeline.compute(dt.date(2026, 3, 1), dt.date(2026, 3, 15)),
        projected_monthly_bill_usd=0.0,
        findings=[finding],
    )
    shown = rep.as_json()
    text = INTERFACE.read_text(encoding="utf-8")
    fields = [*shown, *shown["findings"][0], *shown["steps"]["first_meeting"]]
    assert [field for field in fields if f'"{field}"' not in text] == []


def test_every_setting_is_documented() -> None:
    documented = "\n".join(
        path.read_text(encoding="utf-8") for path in [ROOT / "README.md", *ROOT.glob("docs/*.md")]
    )
    names = [
        settings.DATABASE_URL_ENV,
        settings.AUTH_FILE_ENV,
        settings.COOKIE_KEY_ENV,
        posthog_client.ENV_API_KEY,
        posthog_client.ENV_PROJECT_ID,
        posthog_client.ENV_HOST,
        telemetry.API_KEY_ENV,
        telemetry.HOST_ENV,
    ]
    assert [name for name in names if name not in documented] == []


def test_nothing_points_outside_the_repository() -> None:
    tracked = [
        path
        for pattern in ("*.md", "lib/**/*.py", "ui/*.py", "app_pages/*.py", "data/**/*.*")
        for path in ROOT.glob(pattern)
    ]
    outside = [
        str(path.relative_to(ROOT))
        for path in tracked
        if "../shared" in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert outside == []


if __name__ == "__main__":
    write_cli_reference()
    print(f"wrote the command reference into {INTERFACE.relative_to(ROOT)}")
