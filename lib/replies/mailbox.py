"""The team's IMAP mailbox: its settings (the environment's `ONBOARDING_IMAP_*`, else the
`[imap]` section of `.streamlit/secrets.toml`, read in ui/ and passed in) and reading it
through imap-tools: every message's headers since a day, then the full text of the ones
a caller wants. Messages are never marked read, moved or deleted. No database.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage
from imap_tools.errors import ImapToolsError, MailboxFolderSelectError, MailboxLoginError

from lib.errors import UserError
from lib.replies.matching import Incoming, addresses, message_id, synthetic_id
from lib.server_settings import SettingsReader

HOST_ENV = "ONBOARDING_IMAP_HOST"
PORT_ENV = "ONBOARDING_IMAP_PORT"
SECURITY_ENV = "ONBOARDING_IMAP_SECURITY"
USER_ENV = "ONBOARDING_IMAP_USER"
PASSWORD_ENV = "ONBOARDING_IMAP_PASSWORD"
FOLDER_ENV = "ONBOARDING_IMAP_FOLDER"
TIMEOUT_ENV = "ONBOARDING_IMAP_TIMEOUT"

# setting -> (environment variable, key in the [imap] section of the secrets)
SOURCES: dict[str, tuple[str, str]] = {
    "host": (HOST_ENV, "host"),
    "port": (PORT_ENV, "port"),
    "security": (SECURITY_ENV, "security"),
    "user": (USER_ENV, "user"),
    "password": (PASSWORD_ENV, "password"),
    "folder": (FOLDER_ENV, "folder"),
    "timeout": (TIMEOUT_ENV, "timeout"),
}
ENV_NAMES: tuple[str, ...] = tuple(env for env, _ in SOURCES.values())
SECRETS_SECTION = "imap"

SECURITIES: tuple[str, ...] = ("tls", "starttls", "none")
DEFAULT_PORTS: dict[str, int] = {"tls": 993, "starttls": 143, "none": 143}
DEFAULT_FOLDER = "INBOX"
DEFAULT_TIMEOUT_S = 30.0
MAX_TIMEOUT_S = 300.0
MAX_RAW_CHARS = 500_000  # a larger message keeps its headers and text, not its attachments
FULL_BATCH = 50  # messages fetched in full per IMAP command


class MailboxError(UserError):
    """The mailbox could not be read; nothing was recorded. The message says why."""


class MailboxSettingsError(MailboxError):
    """A mailbox setting the console cannot use (the admin must fix it)."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    user: str
    password: str = field(repr=False)
    port: int = 993
    security: str = "tls"  # tls | starttls | none
    folder: str = DEFAULT_FOLDER
    timeout_s: float = DEFAULT_TIMEOUT_S

    def describe(self) -> str:
        return f"{self.user} at {self.host}:{self.port} ({self.security}), folder {self.folder}"


def load(
    environ: Mapping[str, str], secrets: Mapping[str, Any] | None = None
) -> ImapSettings | None:
    """The mailbox settings, each from the environment, else the secrets' [imap] section;
    None when no host is set (no mailbox: replies are recorded by hand).
    MailboxSettingsError when a value is set but unusable."""
    read = SettingsReader(SOURCES, SECRETS_SECTION, MailboxSettingsError, environ, secrets or {})
    host = read.text("host")
    if host is None:
        return None
    security = read.security(SECURITIES, "tls")
    port = read.port(DEFAULT_PORTS[security])
    timeout = read.timeout(DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S)
    user, password = read.text("user"), read.text("password")
    if not user or not password:
        raise MailboxSettingsError(
            f"{HOST_ENV} is set but the login is not: set {read.named('user')} and "
            f"{read.named('password')}"
        )
    return ImapSettings(
        host=host,
        user=user,
        password=password,
        port=port,
        security=security,
        folder=read.text("folder") or DEFAULT_FOLDER,
        timeout_s=timeout,
    )


# ------------------------------------------------------------------ reading


@contextmanager
def _opened(settings: ImapSettings) -> Iterator[BaseMailBox]:
    """A logged-in mailbox on the folder; every failure to get there is a MailboxError."""
    where = f"the mailbox at {settings.host}:{settings.port}"
    box: BaseMailBox
    try:
        if settings.security == "tls":
            box = MailBox(settings.host, settings.port, timeout=settings.timeout_s)
        elif settings.security == "starttls":
            box = MailBoxStartTls(settings.host, settings.port, timeout=settings.timeout_s)
        else:
            box = MailBoxUnencrypted(settings.host, settings.port, timeout=settings.timeout_s)
    except TimeoutError:
        raise MailboxError(
            f"Cannot reach {where}: no answer within {settings.timeout_s:g} s"
        ) from None
    except ssl.SSLError as error:
        raise MailboxError(f"Cannot reach {where}: TLS failed ({error.reason or error})") from None
    except OSError as error:
        raise MailboxError(f"Cannot reach {where}: {error.strerror or error}") from None
    except (imaplib.IMAP4.error, ImapToolsError) as error:
        raise MailboxError(f"Cannot reach {where}: {error}") from None
    try:
        try:
            box.login(settings.user, settings.password, initial_folder=None)
        except MailboxLoginError:
            raise MailboxError(
                f"{where.capitalize()} refused the login of {settings.user!r}: check "
                f"{USER_ENV} and {PASSWORD_ENV} (or [imap] user and password)"
            ) from None
        try:
            box.folder.set(settings.folder)
        except MailboxFolderSelectError:
            raise MailboxError(
                f"{where.capitalize()} has no folder {settings.folder!r} (set {FOLDER_ENV})"
            ) from None
        yield box
    except TimeoutError:
        raise MailboxError(
            f"{where.capitalize()} stopped answering (no answer within {settings.timeout_s:g} s)"
        ) from None
    except (OSError, imaplib.IMAP4.error, ImapToolsError) as error:
        raise MailboxError(f"Reading {where} failed: {error}") from None
    finally:
        try:
            box.logout()
        except (OSError, imaplib.IMAP4.error, ImapToolsError):
            pass  # the connection is gone already: nothing to close


def _header(message: MailMessage, name: str) -> str:
    values = message.headers.get(name, ())
    return " ".join(" ".join(str(v).split()) for v in values)


def _utc(value: dt.datetime) -> dt.datetime | None:
    if value.year < 1970:  # imap-tools' 1900-01-01: no parsable Date header
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _raw_text(message: MailMessage) -> str:
    try:
        raw = message.obj.as_bytes().decode("utf-8", errors="replace")
    except (UnicodeError, LookupError, ValueError):
        raw = message.obj.as_string()
    if len(raw) > MAX_RAW_CHARS:
        header_end = raw.find("\n\n")
        raw = raw[: header_end if 0 < header_end < MAX_RAW_CHARS else MAX_RAW_CHARS]
    return raw


def _incoming(message: MailMessage, full: bool) -> Incoming:
    return Incoming(
        uid=message.uid or "",
        message_id=message_id(_header(message, "message-id"))
        or synthetic_id(message.from_, message.date_str, message.subject),
        in_reply_to=_header(message, "in-reply-to"),
        references=_header(message, "references"),
        from_addr=message.from_values.full if message.from_values else _header(message, "from"),
        to_addrs=tuple(addresses([_header(message, "to"), _header(message, "cc")])),
        subject=message.subject,
        at=_utc(message.date),
        text=message.text if full else "",
        html=message.html if full else "",
        raw=_raw_text(message) if full else "",
    )


@dataclass(frozen=True)
class Fetched:
    """What a read of the mailbox saw: every message's headers, and the ones wanted in full."""

    where: str
    since: dt.date
    seen: tuple[Incoming, ...]
    full: tuple[Incoming, ...]


def fetch(settings: ImapSettings, since: dt.date, wanted: Callable[[Incoming], bool]) -> Fetched:
    """Every message of the folder received since `since` (headers only, nothing marked
    read), then in full those `wanted(headers)` says yes to."""
    with _opened(settings) as box:
        seen = tuple(
            _incoming(m, full=False)
            for m in box.fetch(
                AND(date_gte=since), mark_seen=False, headers_only=True, bulk=FULL_BATCH
            )
        )
        uids = [m.uid for m in seen if m.uid and wanted(m)]
        full: list[Incoming] = []
        for start in range(0, len(uids), FULL_BATCH):
            batch = uids[start : start + FULL_BATCH]
            full += [
                _incoming(m, full=True)
                for m in box.fetch(uid_list=batch, mark_seen=False, bulk=True)
            ]
    return Fetched(settings.describe(), since, seen, tuple(full))
