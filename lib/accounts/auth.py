"""Logins: the YAML file streamlit-authenticator reads (bcrypt hashes only), the password
rule, and the cookie key; both files written 0600."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from lib import settings
from lib.errors import UserError
from lib.vocabulary import ROLES

COOKIE_NAME = "onboarding_console_auth"
COOKIE_EXPIRY_DAYS = 14
MIN_COOKIE_KEY_BYTES = 32
MIN_PASSWORD_LENGTH = 10  # characters
MAX_PASSWORD_BYTES = 72  # bcrypt's limit, in UTF-8 bytes
BCRYPT_ROUNDS = 12  # the cost of every hash, and of the dummy check for unknown names
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}$")
APPROVER_ROLES: tuple[str, ...] = ("team", "admin")  # may be revenue operations' approvers


class AuthError(UserError):
    """A bad username, role or password; the message says which and why."""


class PasswordError(AuthError):
    """A password the rule refuses (docs/rules.md, "Sign-in"); the message says why."""


def check_password(password: str) -> None:
    """The one password rule (the CLI, the Users page, ensure-admin): 10 characters to 72
    UTF-8 bytes, and no space at either end (the sign-in form trims what is typed there,
    so such a password could never sign in). Nothing is ever trimmed silently."""
    if password != password.strip():
        raise PasswordError(
            "password: no spaces (or tabs, newlines) at the start or end; the sign-in form "
            "trims them, so the password could never sign in"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordError(f"password: expected at least {MIN_PASSWORD_LENGTH} characters")
    size = len(password.encode("utf-8"))
    if size > MAX_PASSWORD_BYTES:
        raise PasswordError(
            f"password: at most {MAX_PASSWORD_BYTES} bytes (bcrypt's limit); this one is "
            f"{size} bytes in UTF-8 (accented letters take 2, most emoji 4)"
        )


@dataclass(frozen=True)
class User:
    username: str
    name: str
    email: str
    role: str
    # One of revenue operations' named approvers: approves or declines refunds that wait
    # for approval (a team or admin login; `revops: true` in the file).
    revops: bool = False
    # A fingerprint of the password hash: a new password (any way it was set) ends the
    # sessions signed in with the old one (lib.accounts.tokens).
    stamp: str = ""


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_auth(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"credentials": {"usernames": {}}}
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    loaded.setdefault("credentials", {}).setdefault("usernames", {})
    if loaded["credentials"]["usernames"] is None:
        loaded["credentials"]["usernames"] = {}
    return loaded


def write_auth(path: Path, config: dict[str, Any]) -> None:
    _write_private(path, yaml.safe_dump(config, sort_keys=True))


def hash_password(password: str) -> str:
    check_password(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


def password_stamp(hashed: object) -> str:
    """A short fingerprint of a password hash (salted, so every reset changes it)."""
    return hashlib.sha256(str(hashed or "").encode("utf-8")).hexdigest()[:16]


@functools.cache
def _dummy_hash() -> bytes:
    # Made once per process, at the same cost as real hashes.
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(BCRYPT_ROUNDS))


def dummy_check(password: str) -> bool:
    """The bcrypt check an unknown name costs, so a wrong password takes as long for an
    unknown name as for a known one (the answer never says which names exist)."""
    bcrypt.checkpw(password.encode("utf-8")[:MAX_PASSWORD_BYTES], _dummy_hash())
    return False


def users(path: Path) -> list[User]:
    entries = read_auth(path)["credentials"]["usernames"]
    return [
        User(
            username=name,
            name=str(entry.get("name") or entry.get("first_name") or name),
            email=str(entry.get("email") or ""),
            role=(entry.get("roles") or ["team"])[0],
            revops=entry.get("revops") is True,
            stamp=password_stamp(entry.get("password")),
        )
        for name, entry in sorted(entries.items())
    ]


def check_revops(role: str, revops: bool) -> None:
    """Revenue operations approve refunds: a login that does customer work (team or admin),
    never a read-only leadership one."""
    if revops and role not in APPROVER_ROLES:
        raise AuthError(
            f"only a {' or '.join(APPROVER_ROLES)} login can approve refunds (revops); "
            f"this one is {role}"
        )


def add_user(
    path: Path,
    username: str,
    role: str,
    password: str,
    name: str | None = None,
    email: str | None = None,
    revops: bool | None = None,
) -> bool:
    """Create or update a login. Returns True when the user is new. `revops`: make it one
    of revenue operations' approvers (True), not (False), or leave it as it is (None)."""
    if not USERNAME_PATTERN.match(username):
        raise AuthError(
            f"username {username!r}: expected 2-50 characters of a-z, 0-9, '.', '_' or '-'"
        )
    if role not in ROLES:
        raise AuthError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    check_password(password)
    config = read_auth(path)
    entries = config["credentials"]["usernames"]
    is_new = username not in entries
    entry = entries.get(username, {})
    approver = bool(entry.get("revops") is True) if revops is None else revops
    check_revops(role, approver)
    display = name or entry.get("name") or username
    first, _, last = display.partition(" ")
    entry.update(
        {
            "name": display,
            "first_name": first,
            "last_name": last,
            "email": email or entry.get("email") or f"{username}@example.invalid",
            "password": hash_password(password),
            "roles": [role],
            "failed_login_attempts": 0,
            "logged_in": False,
        }
    )
    if approver:
        entry["revops"] = True
    else:
        entry.pop("revops", None)
    entries[username] = entry
    write_auth(path, config)
    return is_new


def remove_user(path: Path, username: str) -> None:
    config = read_auth(path)
    if username not in config["credentials"]["usernames"]:
        raise AuthError(f"username {username!r}: no such user")
    del config["credentials"]["usernames"][username]
    write_auth(path, config)


def ensure_admin(path: Path) -> str | None:
    """On first run create `admin` with a random password and return it (shown
    once); when any login exists, change nothing and return None."""
    if read_auth(path)["credentials"]["usernames"]:
        return None
    password = secrets.token_urlsafe(12)
    add_user(path, "admin", "admin", password, name="Administrator")
    return password


def cookie_key(explicit: str | None = None, key_file: Path | None = None) -> str:
    """The cookie signing key: given (secrets), else the environment, else a key
    file generated on first use with 48 random bytes. Never a shipped default."""
    for candidate in (explicit, os.environ.get(settings.COOKIE_KEY_ENV)):
        if candidate:
            if len(candidate.encode("utf-8")) < MIN_COOKIE_KEY_BYTES:
                raise AuthError(
                    f"the cookie key must be at least {MIN_COOKIE_KEY_BYTES} bytes long"
                )
            return candidate
    key_file = key_file or settings.DATA_DIR / ".cookie_key"
    if key_file.exists():
        existing = key_file.read_text(encoding="utf-8").strip()
        if len(existing.encode("utf-8")) >= MIN_COOKIE_KEY_BYTES:
            return existing
    key = secrets.token_urlsafe(48)
    _write_private(key_file, key + "\n")
    return key
