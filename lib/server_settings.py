"""One server's connection settings (the SMTP server of lib.mail, the IMAP mailbox of
lib.replies): each value from the environment, else from a section of
`.streamlit/secrets.toml` (read in ui/, passed in), with the checks both share. An
unusable value raises the caller's UserError naming the variable and the secrets key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lib.errors import UserError


@dataclass(frozen=True)
class SettingsReader:
    # setting -> (environment variable, key in the secrets section)
    sources: Mapping[str, tuple[str, str]]
    section: str  # the secrets section's name, for messages: "smtp", "imap"
    error: type[UserError]
    environ: Mapping[str, str]
    secrets: Mapping[str, Any]

    def named(self, name: str) -> str:
        env, key = self.sources[name]
        return f"{env} (or [{self.section}] {key})"

    def text(self, name: str) -> str | None:
        """The environment's value, else the secrets'; None when neither is set."""
        env, key = self.sources[name]
        value = self.environ.get(env)
        if value is None or not str(value).strip():
            value = self.secrets.get(key)
        text = str(value).strip() if value is not None else ""
        return text or None

    def number(self, name: str, text: str, low: float, high: float) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            raise self.error(
                f"{self.named(name)}: {text!r}: expected a number from {low:g} to {high:g}"
            )
        return value

    def security(self, choices: tuple[str, ...], default: str) -> str:
        security = (self.text("security") or default).lower()
        if security not in choices:
            raise self.error(
                f"{self.named('security')}: {security!r}: expected one of {', '.join(choices)}"
            )
        return security

    def port(self, default: int) -> int:
        text = self.text("port")
        if text is None:
            return default
        number = self.number("port", text, 1, 65535)
        if number != int(number):
            raise self.error(f"{self.named('port')}: {text!r}: a whole number")
        return int(number)

    def timeout(self, default: float, most: float) -> float:
        text = self.text("timeout")
        return default if text is None else self.number("timeout", text, 0.01, most)
