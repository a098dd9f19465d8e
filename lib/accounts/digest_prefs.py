"""Each login's morning digest: the channels it comes by (email, Slack), the hour in the
login's own time zone, and the Slack member it goes to; kept in the login file under the
login's `digest` key (docs/rules.md, "The morning digest"):

    digest: {channels: [email, slack], hour: 8, timezone: Europe/Berlin, slack_user: U123}

A login without the key gets the defaults (email at 08:00 UTC)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from lib.accounts import auth

CHANNELS: tuple[str, ...] = ("email", "slack")
DEFAULT_CHANNELS: tuple[str, ...] = ("email",)
DEFAULT_HOUR = 8
DEFAULT_TIMEZONE = "UTC"
KEY = "digest"
# A Slack member ID (U..., or W... on Enterprise Grid): where a bot token writes to.
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")


@dataclass(frozen=True)
class DigestPrefs:
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    hour: int = DEFAULT_HOUR  # 0-23, in `timezone`
    timezone: str = DEFAULT_TIMEZONE
    slack_user: str | None = None  # the member a bot token writes to

    def as_yaml(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "channels": list(self.channels),
            "hour": self.hour,
            "timezone": self.timezone,
        }
        if self.slack_user:
            value["slack_user"] = self.slack_user
        return value

    def local_now(self, now_utc: dt.datetime) -> dt.datetime:
        return now_utc.astimezone(ZoneInfo(self.timezone))

    def hour_has_come(self, now_utc: dt.datetime) -> bool:
        """The login's hour has come today, in its own zone (an hourly run that missed the
        hour still sends that day's digest once)."""
        return self.local_now(now_utc).hour >= self.hour

    @property
    def describe(self) -> str:
        how = " and ".join(self.channels) if self.channels else "off"
        return f"{how}, {self.hour:02d}:00 {self.timezone}"


@dataclass(frozen=True)
class Recipient:
    user: auth.User
    prefs: DigestPrefs


@cache
def zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def check_channels(values: Iterable[str]) -> tuple[str, ...]:
    chosen: list[str] = []
    for raw in values:
        for value in str(raw).replace(",", " ").split():
            name = value.strip().lower()
            if name == "none":
                continue
            if name not in CHANNELS:
                raise auth.AuthError(
                    f"digest channel {value!r}: expected {', '.join(CHANNELS)} or none"
                )
            if name not in chosen:
                chosen.append(name)
    return tuple(c for c in CHANNELS if c in chosen)


def check_hour(value: Any) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not 0 <= int(text) <= 23:
        raise auth.AuthError(f"digest hour {value!r}: expected a whole hour from 0 to 23")
    return int(text)


def check_timezone(value: str) -> str:
    name = str(value).strip()
    if name not in zones():
        raise auth.AuthError(
            f"time zone {value!r}: expected an IANA name such as Europe/Berlin or America/New_York"
        )
    return name


def check_slack_user(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not SLACK_USER.match(text):
        raise auth.AuthError(
            f"Slack member ID {value!r}: expected U or W and capitals or digits, such as "
            "U024BE7LH (Slack: the member's profile, More, Copy member ID)"
        )
    return text


def prefs_of(entry: Mapping[str, Any]) -> DigestPrefs:
    """A login's preferences as the file holds them; anything unusable falls back to the
    default (the Users page and `onboarding user digest` never write such values)."""
    raw = entry.get(KEY)
    if not isinstance(raw, Mapping):
        return DigestPrefs()
    defaults = DigestPrefs()
    try:
        channels = check_channels(raw.get("channels", defaults.channels) or ())
    except auth.AuthError:
        channels = defaults.channels
    values: dict[str, Any] = {"channels": channels}
    for name, check in (
        ("hour", check_hour),
        ("timezone", check_timezone),
        ("slack_user", check_slack_user),
    ):
        if raw.get(name) is not None:
            try:
                values[name] = check(raw[name])
            except auth.AuthError:
                pass
    return DigestPrefs(**values)


def recipients(path: Path) -> dict[str, Recipient]:
    """username -> the login and its digest preferences."""
    entries = auth.read_auth(path)["credentials"]["usernames"]
    return {
        user.username: Recipient(user, prefs_of(entries.get(user.username) or {}))
        for user in auth.users(path)
    }


def set_prefs(
    path: Path,
    username: str,
    channels: Iterable[str] | None = None,
    hour: Any = None,
    timezone: str | None = None,
    slack_user: str | None = None,
) -> DigestPrefs:
    """Change a login's digest preferences (None: leave as it is; slack_user "" clears
    it). AuthError naming what is wrong; nothing written then."""
    config = auth.read_auth(path)
    entries = config["credentials"]["usernames"]
    if username not in entries:
        raise auth.AuthError(f"username {username!r}: no such user")
    entry = entries[username]
    now = prefs_of(entry)
    updated = DigestPrefs(
        channels=now.channels if channels is None else check_channels(channels),
        hour=now.hour if hour is None else check_hour(hour),
        timezone=now.timezone if timezone is None else check_timezone(timezone),
        slack_user=now.slack_user if slack_user is None else check_slack_user(slack_user),
    )
    entry[KEY] = updated.as_yaml()
    auth.write_auth(path, config)
    return updated
