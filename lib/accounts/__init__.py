"""Logins: `auth` (the login file, bcrypt hashes, the cookie key), `login_guard` (failed
sign-ins limited per name), `store` (managing logins with the audit log)."""

from lib.accounts.store import add, remove, reset_password, set_revops, set_role

__all__ = ["add", "remove", "reset_password", "set_revops", "set_role"]
