"""Where the console sends mail: the team's SMTP server and the From and Reply-To
addresses, from the environment (`ONBOARDING_SMTP_*`, `ONBOARDING_MAIL_*`) or else the
`[smtp]` section of `.streamlit/secrets.toml` (read in ui/, passed in). No host: sending
is not configured (`None`), and the pages offer copy and download only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lib.errors import UserError
from lib.server_settings import SettingsReader

HOST_ENV = "ONBOARDING_SMTP_HOST"
PORT_ENV = "ONBOARDING_SMTP_PORT"
SECURITY_ENV = "ONBOARDING_SMTP_SECURITY"
USER_ENV = "ONBOARDING_SMTP_USER"
PASSWORD_ENV = "ONBOARDING_SMTP_PASSWORD"
TIMEOUT_ENV = "ONBOARDING_SMTP_TIMEOUT"
FROM_ENV = "ONBOARDING_MAIL_FROM"
REPLY_TO_ENV = "ONBOARDING_MAIL_REPLY_TO"

# setting -> (environment variable, key in the [smtp] section of the secrets)
SOURCES: dict[str, tuple[str, str]] = {
    "host": (HOST_ENV, "host"),
    "port": (PORT_ENV, "port"),
    "security": (SECURITY_ENV, "security"),
    "user": (USER_ENV, "user"),
    "password": (PASSWORD_ENV, "password"),
    "timeout": (TIMEOUT_ENV, "timeout"),
    "from": (FROM_ENV, "from"),
    "reply_to": (REPLY_TO_ENV, "reply_to"),
}
ENV_NAMES: tuple[str, ...] = tuple(env for env, _ in SOURCES.values())
SECRETS_SECTION = "smtp"

SECURITIES: tuple[str, ...] = ("starttls", "tls", "none")
DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_TIMEOUT_S = 20.0
MAX_TIMEOUT_S = 300.0


class MailSettingsError(UserError):
    """A mail setting the console cannot use; the message names it and what is expected."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str = "starttls"  # starttls | tls | none
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = DEFAULT_TIMEOUT_S
    from_addr: str | None = None  # the From when the signed-in user has no email
    reply_to: str | None = None  # where the customers' answers go (the team's mailbox)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def load(
    environ: Mapping[str, str], secrets: Mapping[str, Any] | None = None
) -> SmtpSettings | None:
    """The SMTP settings: each from the environment, else from the secrets' [smtp]
    section; None when no host is set (sending not configured). MailSettingsError when
    a value is set but unusable."""
    read = SettingsReader(SOURCES, SECRETS_SECTION, MailSettingsError, environ, secrets or {})
    host = read.text("host")
    if host is None:
        return None
    security = read.security(SECURITIES, "starttls")
    port = read.port(DEFAULT_PORTS[security])
    timeout = read.timeout(DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S)
    user, password = read.text("user"), read.text("password")
    if user and not password:
        raise MailSettingsError(
            f"{read.named('user')} is set but no password: set {PASSWORD_ENV} "
            f"(or [{SECRETS_SECTION}] password)"
        )
    return SmtpSettings(
        host=host,
        port=port,
        security=security,
        user=user,
        password=password if user else None,
        timeout_s=timeout,
        from_addr=read.text("from"),
        reply_to=read.text("reply_to"),
    )
