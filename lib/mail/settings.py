"""Where the console sends mail: the team's SMTP server and the From and Reply-To
addresses, from the environment (`ONBOARDING_SMTP_*`, `ONBOARDING_MAIL_*`) or else the
`[smtp]` section of `.streamlit/secrets.toml` (read in ui/, passed in). No host: sending
is not configured (`None`), and the pages offer copy and download only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lib.errors import UserError

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


def _raw(name: str, environ: Mapping[str, str], secrets: Mapping[str, Any]) -> str | None:
    env, key = SOURCES[name]
    value = environ.get(env)
    if value is None or not str(value).strip():
        value = secrets.get(key)
    text = str(value).strip() if value is not None else ""
    return text or None


def _number(name: str, text: str, low: float, high: float) -> float:
    env, key = SOURCES[name]
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise MailSettingsError(
            f"{env} (or [smtp] {key}): {text!r}: expected a number from {low:g} to {high:g}"
        )
    return value


def load(
    environ: Mapping[str, str], secrets: Mapping[str, Any] | None = None
) -> SmtpSettings | None:
    """The SMTP settings: each from the environment, else from the secrets' [smtp]
    section; None when no host is set (sending not configured). MailSettingsError when
    a value is set but unusable."""
    section = secrets or {}
    host = _raw("host", environ, section)
    if host is None:
        return None
    security = (_raw("security", environ, section) or "starttls").lower()
    if security not in SECURITIES:
        raise MailSettingsError(
            f"{SECURITY_ENV} (or [smtp] security): {security!r}: expected one of "
            f"{', '.join(SECURITIES)}"
        )
    port_text = _raw("port", environ, section)
    port = DEFAULT_PORTS[security]
    if port_text is not None:
        number = _number("port", port_text, 1, 65535)
        if number != int(number):
            raise MailSettingsError(f"{PORT_ENV} (or [smtp] port): {port_text!r}: a whole number")
        port = int(number)
    timeout_text = _raw("timeout", environ, section)
    timeout = (
        DEFAULT_TIMEOUT_S
        if timeout_text is None
        else _number("timeout", timeout_text, 0.01, MAX_TIMEOUT_S)
    )
    user, password = _raw("user", environ, section), _raw("password", environ, section)
    if user and not password:
        raise MailSettingsError(
            f"{USER_ENV} (or [smtp] user) is set but no password: set {PASSWORD_ENV} "
            "(or [smtp] password)"
        )
    return SmtpSettings(
        host=host,
        port=port,
        security=security,
        user=user,
        password=password if user else None,
        timeout_s=timeout,
        from_addr=_raw("from", environ, section),
        reply_to=_raw("reply_to", environ, section),
    )
