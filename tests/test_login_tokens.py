"""The sign-in cookie's JWT (every forged or broken token is refused, never raised) and the
one password rule; the dummy bcrypt check of unknown names (pure)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import bcrypt
import jwt
import pytest

from lib.accounts import auth, tokens

KEY = "k" * 64
NOW = time.time()
GOOD = {"username": "dana", "exp_date": NOW + 3600, "sid": "s" * 43, "pwd": "0123456789abcdef"}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def without(name: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != name}


FORGED: dict[str, object] = {
    "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(GOOD)}.",
    "alg None": f"{b64({'alg': 'None', 'typ': 'JWT'})}.{b64(GOOD)}.",
    "HS512 with the right key": jwt.encode(GOOD, KEY, algorithm="HS512"),
    "HS384 with the right key": jwt.encode(GOOD, KEY, algorithm="HS384"),
    "a bad signature": jwt.encode(GOOD, "x" * 48, algorithm="HS256"),
    "no exp_date": jwt.encode(without("exp_date"), KEY, algorithm="HS256"),
    "no username": jwt.encode(without("username"), KEY, algorithm="HS256"),
    "no sid": jwt.encode(without("sid"), KEY, algorithm="HS256"),
    "no password stamp": jwt.encode(without("pwd"), KEY, algorithm="HS256"),
    "expired": jwt.encode(GOOD | {"exp_date": NOW - 1}, KEY, algorithm="HS256"),
    "exp_date as text": jwt.encode(GOOD | {"exp_date": "9999999999"}, KEY, algorithm="HS256"),
    "exp_date true": jwt.encode(GOOD | {"exp_date": True}, KEY, algorithm="HS256"),
    "username a list": jwt.encode(GOOD | {"username": ["dana"]}, KEY, algorithm="HS256"),
    "empty sid": jwt.encode(GOOD | {"sid": ""}, KEY, algorithm="HS256"),
    "a header that is no JSON": f"bm90IGpzb24.{b64(GOOD)}.c2ln",
    "a payload that is a list": f"{b64({'alg': 'HS256'})}.{base64.urlsafe_b64encode(b'[1]').decode()}.x",
    "two parts": "abc.def",
    "not a JWT": "hello",
    "empty": "",
    "huge": "a" * 100_000,
    "not text": 12345,
}


@pytest.mark.parametrize("token", FORGED.values(), ids=FORGED.keys())
def test_every_forged_or_broken_token_is_refused(token: object) -> None:
    assert tokens.decode(token, KEY, NOW) is None


def test_a_good_token_round_trips() -> None:
    claims = tokens.Claims("dana", NOW + 60, "sid-1", "stamp")
    assert tokens.decode(tokens.encode(claims, KEY), KEY, NOW) == claims
    assert jwt.get_unverified_header(tokens.encode(claims, KEY))["alg"] == "HS256"


def test_session_ids_are_random_and_stored_hashed() -> None:
    first, second = tokens.new_session_id(), tokens.new_session_id()
    assert first != second and len(first) >= 40
    assert len(tokens.session_key(first)) == 64 and first not in tokens.session_key(first)


@pytest.mark.parametrize(
    "password,error",
    [
        ("short", "at least 10 characters"),
        ("nine char", "at least 10 characters"),
        (" leading-space", "no spaces"),  # the sign-in form trims: it could never sign in
        ("trailing-space ", "no spaces"),
        ("tab-at-end-xx\t", "no spaces"),
        ("a" * 73, "at most 72 bytes"),  # bcrypt's limit
        ("é" * 37, "at most 72 bytes"),  # 37 characters, 74 bytes in UTF-8
        ("🔑" * 19, "at most 72 bytes"),  # 19 characters, 76 bytes
        ("a" * 72, None),
        ("é" * 36, None),  # 72 bytes
        ("spaces inside are fine", None),
        ("exactly-10", None),
    ],
)
def test_the_password_rule(password: str, error: str | None) -> None:
    if error is None:
        auth.check_password(password)
        hashed = auth.hash_password(password)
        assert bcrypt.checkpw(password.encode(), hashed.encode())
        return
    with pytest.raises(auth.PasswordError, match=error):
        auth.check_password(password)
    with pytest.raises(auth.PasswordError, match=error):
        auth.hash_password(password)


def test_the_dummy_check_costs_a_real_bcrypt_check(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting)
    assert auth.dummy_check("whatever-password") is False
    assert auth.dummy_check("x" * 500) is False  # longer than bcrypt takes: no error
    assert len(calls) == 2 and calls[0] == calls[1]  # one dummy hash per process
    assert calls[0].startswith(f"$2b${auth.BCRYPT_ROUNDS:02d}$".encode())  # the same cost


def test_the_stamp_changes_with_every_hash() -> None:
    one, two = auth.hash_password("same-password"), auth.hash_password("same-password")
    assert auth.password_stamp(one) != auth.password_stamp(two)
    assert auth.password_stamp(one) == auth.password_stamp(one)
