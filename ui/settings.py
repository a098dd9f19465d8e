"""Where the dashboard finds its database, logins and cookie key.

`streamlit run app.py -- --db URL --auth FILE` (Streamlit passes what follows
`--` to the script), else the environment, else the defaults: the same order as
the command line (docs/interface.md); the database URL may also sit in
.streamlit/secrets.toml as `database_url` (after the environment). The cookie key comes from secrets
(`[auth] cookie_key`), else ONBOARDING_COOKIE_KEY, else a key file generated on
first run beside the login file.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path
from typing import Any

import streamlit as st

from lib import settings

# streamlit-authenticator sleeps this long on every run before sign-in (its own default
# is 0.7 s) so that its cookie component can report the browser's cookie. The app has no
# such component and reads the cookie from the request (ui.sessions, st.context.cookies), so
# the wait buys nothing and cost every sign-in 0.7 s per run (bench/clicks.py).
DEFAULT_LOGIN_SLEEP_S = 0.0


def _cli_args() -> argparse.Namespace:
    return _parsed(tuple(sys.argv))


@functools.lru_cache(maxsize=4)
def _parsed(command: tuple[str, ...]) -> argparse.Namespace:
    # Parsed once, not on each of a run's many reads (0.06 s a run).
    # Streamlit sets sys.argv to [script, *args]; under pytest argv is pytest's own.
    argv = list(command[1:]) if Path(command[0]).name == "app.py" else []
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    parser.add_argument("--auth")
    args, _ = parser.parse_known_args(argv)
    return args


def database_url() -> str:
    """--db, else ONBOARDING_DATABASE_URL, else secrets' `database_url`, else the default."""
    explicit = _cli_args().db or os.environ.get(settings.DATABASE_URL_ENV)
    if not explicit:
        try:
            explicit = st.secrets["database_url"]
        except (KeyError, FileNotFoundError):
            explicit = None
    return settings.database_url(str(explicit) if explicit else None)


def auth_file() -> Path:
    return settings.auth_file(_cli_args().auth)


def secret(section: str, key: str) -> Any:
    """A value from .streamlit/secrets.toml (or AppTest.secrets), None when absent."""
    try:
        return st.secrets[section][key]
    except (KeyError, FileNotFoundError):
        return None


def login_sleep_time() -> float:
    """Seconds the login form waits before checking a cookie ([auth] login_sleep_time;
    default 0)."""
    value = secret("auth", "login_sleep_time")
    return DEFAULT_LOGIN_SLEEP_S if value is None else float(value)
