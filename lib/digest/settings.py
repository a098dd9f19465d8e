"""Where the digest goes and what its links open: the console's address (every item links
to its page there) and Slack (a team's incoming webhook, or a bot token that writes to each
owner), each from the environment, else the `[digest]` section of
`.streamlit/secrets.toml` (passed in). Email goes through lib.mail's SMTP settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lib.errors import UserError
from lib.server_settings import SettingsReader

BASE_URL_ENV = "ONBOARDING_BASE_URL"
SLACK_WEBHOOK_ENV = "ONBOARDING_SLACK_WEBHOOK_URL"
SLACK_TOKEN_ENV = "ONBOARDING_SLACK_BOT_TOKEN"
SLACK_API_ENV = "ONBOARDING_SLACK_API_URL"
SLACK_RETRIES_ENV = "ONBOARDING_SLACK_RETRIES"
SLACK_TIMEOUT_ENV = "ONBOARDING_SLACK_TIMEOUT"

SOURCES: dict[str, tuple[str, str]] = {
    "base_url": (BASE_URL_ENV, "base_url"),
    "webhook": (SLACK_WEBHOOK_ENV, "slack_webhook_url"),
    "token": (SLACK_TOKEN_ENV, "slack_bot_token"),
    "api_url": (SLACK_API_ENV, "slack_api_url"),
    "retries": (SLACK_RETRIES_ENV, "slack_retries"),
    "timeout": (SLACK_TIMEOUT_ENV, "slack_timeout"),
}
ENV_NAMES: tuple[str, ...] = tuple(env for env, _ in SOURCES.values())
SECRETS_SECTION = "digest"

DEFAULT_BASE_URL = "http://localhost:8501"
DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_RETRIES = 3
MAX_RETRIES = 10
DEFAULT_TIMEOUT_S = 20.0
MAX_TIMEOUT_S = 300.0


class DigestSettingsError(UserError):
    """A digest setting the console cannot use; the message names it and what is expected."""


@dataclass(frozen=True)
class DigestSettings:
    base_url: str = DEFAULT_BASE_URL  # no trailing slash
    slack_webhook_url: str | None = field(default=None, repr=False)  # a secret
    slack_bot_token: str | None = field(default=None, repr=False)  # a secret
    slack_api_url: str = DEFAULT_API_URL  # ends with "/"
    slack_retries: int = DEFAULT_RETRIES  # per message, on 429 / 5xx / a dropped connection
    slack_timeout_s: float = DEFAULT_TIMEOUT_S
    slack_backoff_s: float = 0.5  # the first wait on a 5xx; doubles each time

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_webhook_url or self.slack_bot_token)

    def link(self, path: str) -> str:
        """An absolute link to a page of the console: `path` as "customer?id=acme"."""
        return f"{self.base_url}/{path.lstrip('/')}"


def _url(read: SettingsReader, name: str, default: str | None) -> str | None:
    text = read.text(name)
    if text is None:
        return default
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DigestSettingsError(f"{read.named(name)}: {text!r}: expected an http(s):// address")
    return text


def load(environ: Mapping[str, str], secrets: Mapping[str, Any] | None = None) -> DigestSettings:
    """The digest's settings (each from the environment, else the secrets' [digest]
    section); DigestSettingsError when a value is set but unusable."""
    read = SettingsReader(SOURCES, SECRETS_SECTION, DigestSettingsError, environ, secrets or {})
    base = _url(read, "base_url", DEFAULT_BASE_URL) or DEFAULT_BASE_URL
    api = _url(read, "api_url", DEFAULT_API_URL) or DEFAULT_API_URL
    retries_text = read.text("retries")
    retries = DEFAULT_RETRIES
    if retries_text is not None:
        number = read.number("retries", retries_text, 0, MAX_RETRIES)
        if number != int(number):
            raise DigestSettingsError(f"{read.named('retries')}: {retries_text!r}: a whole number")
        retries = int(number)
    return DigestSettings(
        base_url=base.rstrip("/"),
        slack_webhook_url=_url(read, "webhook", None),
        slack_bot_token=read.text("token"),
        slack_api_url=api if api.endswith("/") else api + "/",
        slack_retries=retries,
        slack_timeout_s=read.timeout(DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S),
    )
