"""Logins: `auth` (the login file, bcrypt hashes, the password rule, the cookie key),
`tokens` (the cookie's JWT), `login_guard` (failed sign-ins limited per name and per
address); `store` (managing logins with the audit log), `session_store` (signed-in
browsers), `guard_store` (the failed sign-ins) keep their state in the database."""

from lib.accounts.store import add, remove, reset_password, set_revops, set_role, unlock

__all__ = ["add", "remove", "reset_password", "set_revops", "set_role", "unlock"]
