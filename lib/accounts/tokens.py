"""The sign-in cookie's JWT: HS256 only, every claim required and typed (pure).

The cookie carries the username, its expiry (`exp_date`, a Unix time, the name
streamlit-authenticator uses), a random session id (`sid`: the database keeps only its
sha256, lib.accounts.session_store) and the password's stamp (`pwd`: a new password ends
the session). Any problem at all, a forged header, another algorithm, a missing or
mistyped claim, a bad signature, an expired date, gives None: the caller signs out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Claims:
    username: str
    exp_date: float  # Unix time
    sid: str  # the random session id (the browser's secret)
    stamp: str  # auth.password_stamp of the hash it signed in with


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def session_key(sid: str) -> str:
    """What the database keeps of a session id: its sha256 (a stolen table signs in nobody)."""
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def encode(claims: Claims, key: str) -> str:
    payload = {
        "username": claims.username,
        "exp_date": claims.exp_date,
        "sid": claims.sid,
        "pwd": claims.stamp,
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def _text(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    return value if isinstance(value, str) and value else None


def decode(token: object, key: str, now: float) -> Claims | None:
    """The claims of a valid, unexpired token signed with `key`, else None (never raises)."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            return None
        payload = jwt.decode(token, key, algorithms=[ALGORITHM])
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
    if not isinstance(payload, dict):
        return None
    username, sid, stamp = _text(payload, "username"), _text(payload, "sid"), _text(payload, "pwd")
    exp_date = payload.get("exp_date")
    if not isinstance(exp_date, int | float) or isinstance(exp_date, bool):
        return None
    if username is None or sid is None or stamp is None or exp_date <= now:
        return None
    return Claims(username, float(exp_date), sid, stamp)
