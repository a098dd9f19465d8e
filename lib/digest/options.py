"""The command line of the digest (pure argparse, added to lib.cli's parser):
`onboarding digest` and `onboarding user digest NAME`."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from typing import Any

from lib.accounts.digest_prefs import CHANNELS

Handler = Callable[[argparse.Namespace], int]


def moment(text: str) -> dt.datetime:
    """--now: an ISO date and time; without a zone it is UTC."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time YYYY-MM-DDTHH:MM[+HH:MM]"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def add_digest(commands: Any, handler: Handler, day: Callable[[str], dt.date]) -> None:
    found = commands.add_parser(
        "digest",
        help="each owner's morning digest (and leadership's week), printed or sent",
        description="Each owner's morning digest from the Today page's worklist; leadership's "
        "weekly summary. Without --as-of and --owner (run hourly): those whose hour has come.",
    )
    found.add_argument("--owner", metavar="NAME", help="only this owner's (or login's) digest")
    found.add_argument(
        "--as-of", type=day, dest="as_of", metavar="DATE", help="the digests' day (every reader)"
    )
    mode = found.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", dest="dry_run", help="print them as text")
    mode.add_argument("--send", action="store_true", help="deliver by email and Slack, once a day")
    found.add_argument(
        "--now", type=moment, metavar="DATETIME", help="the time the hour check uses (default: now)"
    )
    found.set_defaults(func=handler)


def add_user_digest(user_commands: Any, handler: Handler) -> None:
    found = user_commands.add_parser("digest", help="a login's digest: channels, hour, time zone")
    found.add_argument("username")
    found.add_argument(
        "--channels",
        nargs="+",
        metavar="CHANNEL",
        help=f"{', '.join(CHANNELS)} or none (default: email)",
    )
    found.add_argument("--hour", metavar="H", help="0-23, in the login's time zone (default: 8)")
    found.add_argument("--timezone", metavar="ZONE", help="e.g. Europe/Berlin (default: UTC)")
    found.add_argument(
        "--slack-user", dest="slack_user", metavar="ID", help='Slack member ID, U...; "" clears it'
    )
    found.set_defaults(func=handler)
