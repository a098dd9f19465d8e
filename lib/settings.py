"""Where things live: the project root, the database URL and the login file (an explicit
argument, then the environment, then a default under the project root)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"

DATABASE_URL_ENV = "ONBOARDING_DATABASE_URL"
AUTH_FILE_ENV = "ONBOARDING_AUTH_FILE"
COOKIE_KEY_ENV = "ONBOARDING_COOKIE_KEY"


def database_url(explicit: str | None = None) -> str:
    if explicit:
        return explicit
    from_env = os.environ.get(DATABASE_URL_ENV)
    if from_env:
        return from_env
    return f"sqlite:///{DATA_DIR / 'onboarding.db'}"


def auth_file(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(AUTH_FILE_ENV)
    if from_env:
        return Path(from_env)
    return DATA_DIR / "auth.yaml"
