""".streamlit/config.toml: every option is one Streamlit 1.67 knows (a typo is silently ignored)."""

from __future__ import annotations

import tomllib
from typing import Any

import streamlit.config as streamlit_config

from lib.settings import PROJECT_ROOT


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flatten(value, f"{name}.")
        else:
            out[name] = value
    return out


def test_every_option_is_known() -> None:
    options = flatten(tomllib.loads((PROJECT_ROOT / ".streamlit/config.toml").read_text()))
    known = set(streamlit_config.get_config_options(force_reparse=True))
    assert sorted(set(options) - known) == []


def test_light_and_dark_themes_are_both_defined() -> None:
    options = flatten(tomllib.loads((PROJECT_ROOT / ".streamlit/config.toml").read_text()))
    for mode in ("light", "dark"):
        assert {
            f"theme.{mode}.{k}" for k in ("primaryColor", "backgroundColor", "textColor")
        } <= set(options)
    # With [theme.light]/[theme.dark] the frontend forces each one's base; a `base` here
    # would only confuse.
    assert "theme.base" not in options
    assert options["client.showErrorDetails"] == "none"
