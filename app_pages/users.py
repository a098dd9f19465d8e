"""Users (admin): list, add, change role, name refund approvers, reset password, remove
logins (lib.accounts.auth + audit log); clear sign-in locks (lib.accounts.guard_store)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from lib import accounts
from lib.accounts import guard_store, login_guard
from lib.accounts.auth import MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH
from lib.vocabulary import ROLES
from ui import access, actions, data, digest_prefs, labels, login, sessions, settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

me = login.current_user()
assert me is not None
path = settings.auth_file()

st.title(":material/manage_accounts: Users", anchor=False)
st.caption(f"Logins live in `{path}` (bcrypt hashes only). Every change is in the audit log.")

actions.show_notice()

everyone = login.users()
st.dataframe(
    pd.DataFrame(
        [
            {
                "Username": u.username,
                "Name": u.name,
                "Email": u.email,
                "Role": u.role,
                "Approves refunds": u.revops,
            }
            for u in everyone.values()
        ],
        columns=["Username", "Name", "Email", "Role", "Approves refunds"],
    ),
    hide_index=True,
    width="stretch",
)


def apply(action: str, change: Callable[[Session], object]) -> None:
    """One login change as the signed-in admin; its error shows inline."""
    actions.apply(action, f"Done: {labels.md(action)}.", change, access.ADMINS)


PASSWORD_HELP = (
    f"{MIN_PASSWORD_LENGTH} characters to {MAX_PASSWORD_BYTES} bytes, no space at either end; "
    "share it privately. Every session of the login ends."
)
names = sorted(everyone)
add_tab, role_tab, approver_tab, password_tab, remove_tab = st.tabs(
    ["Add", "Change role", "Refund approvers", "Reset password", "Remove"]
)

with add_tab, st.form("users_add", clear_on_submit=True, border=False):
    cols = st.columns(2)
    username = cols[0].text_input("Username", placeholder="e.g. dana", key="users_add_username")
    role = cols[1].selectbox("Role", ROLES, index=ROLES.index("team"), key="users_add_role")
    name = cols[0].text_input("Full name", key="users_add_name")
    email = cols[1].text_input("Email", key="users_add_email")
    password = cols[0].text_input(
        "Password",
        type="password",
        key="users_add_password",
        help=PASSWORD_HELP,
    )
    revops = cols[1].checkbox(
        "Approves refunds (revenue operations)",
        key="users_add_revops",
        help="Approves or declines refunds above the threshold, repeats and invoice changes "
        "(team or admin logins).",
    )
    if st.form_submit_button("Add login", icon=":material/person_add:", type="primary"):
        if username.strip().lower() in everyone:
            st.error(
                f"{labels.md(username.strip().lower())} already exists: use Change role or "
                "Reset password.",
                icon=":material/error:",
            )
        else:
            apply(
                f"add {username.strip().lower()} as {role}",
                lambda session: accounts.add(
                    session,
                    path,
                    username,
                    role,
                    password,
                    name or None,
                    email or None,
                    revops,
                ),
            )

with role_tab, st.form("users_role", border=False):
    cols = st.columns(2)
    who = cols[0].selectbox("User", names, key="users_role_user")
    new_role = cols[1].selectbox("New role", ROLES, key="users_role_role")
    if st.form_submit_button("Change role", icon=":material/badge:") and who:
        apply(
            f"make {who} {new_role}",
            lambda session: accounts.set_role(session, path, who, new_role),
        )

with approver_tab, st.form("users_revops", border=False):
    st.caption(
        "Revenue operations' named approvers approve or decline the refunds the policy sends "
        "them (above the threshold, repeats, invoice changes); nobody approves a refund they "
        "proposed. Team and admin logins only."
    )
    cols = st.columns(2)
    who_rv = cols[0].selectbox("User", names, key="users_revops_user")
    approves = cols[1].toggle("Approves refunds", key="users_revops_on")
    if st.form_submit_button("Save", icon=":material/verified_user:") and who_rv:
        apply(
            f"{'make' if approves else 'stop making'} {who_rv} a refund approver",
            lambda session: accounts.set_revops(session, path, who_rv, approves),
        )

with password_tab, st.form("users_password", clear_on_submit=True, border=False):
    cols = st.columns(2)
    who_pw = cols[0].selectbox("User", names, key="users_password_user")
    new_password = cols[1].text_input(
        "New password",
        type="password",
        key="users_password_new",
        help=PASSWORD_HELP,
    )
    if st.form_submit_button("Reset password", icon=":material/key:") and who_pw:
        apply(
            f"reset {who_pw}'s password",
            lambda session: accounts.reset_password(session, path, who_pw, new_password),
        )

with remove_tab, st.form("users_remove", border=False):
    cols = st.columns(2)
    who_rm = cols[0].selectbox(
        "User", [n for n in names if n != me.username], key="users_remove_user"
    )
    sure = cols[1].checkbox("Yes, remove this login", key="users_remove_sure")
    if st.form_submit_button("Remove login", icon=":material/person_remove:") and who_rm:
        if not sure:
            st.warning("Tick the box to confirm.", icon=":material/warning:")
        else:
            apply(
                f"remove {who_rm}",
                lambda session: accounts.remove(session, path, who_rm),
            )

st.subheader(":material/lock_clock: Sign-in locks", anchor=False)
with data.reading() as reader:
    locks = guard_store.locks(reader, sessions.now())
if not locks:
    st.caption(
        f"No name or address is locked. A name locks after {login_guard.POLICY.max_name_failures} "
        f"failed sign-ins in {int(login_guard.POLICY.window.total_seconds() // 60)} minutes, an "
        f"address after {login_guard.POLICY.max_address_failures}; clearing one is logged."
    )


def unlock(kind: str, key: str) -> None:
    apply(f"clear a sign-in lock ({kind})", lambda session: accounts.unlock(session, kind, key))


for lock in locks:
    what = "Username" if lock.kind == login_guard.NAME else "Address"
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.markdown(
        f"{what} **{labels.md(lock.key)}**: {lock.failures} failed sign-ins, unlocks by "
        f"itself in {lock.retry_minutes} min"
    )
    if right.button(
        "Clear", key=f"users_unlock_{lock.kind}_{lock.key}", icon=":material/lock_open:"
    ):
        unlock(lock.kind, lock.key)

digest_prefs.digest_section(path)
