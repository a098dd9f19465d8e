"""The sidebar's bell: what changed for the signed-in user since they last looked (replies,
refund decisions and approvals, customers assigned to them; lib.notices), each with
"Mark read", and "Mark all read"."""

from __future__ import annotations

import streamlit as st

from lib import notices
from lib.accounts import auth
from lib.store import db
from lib.vocabulary import ROLES
from ui import access, data, labels

MAX_SHOWN = 10
CUSTOMER_PAGE_ROLES = ("team", "admin")  # the roles whose navigation has the customer page


def _mark(keys: list[str]) -> None:
    username = access.require("mark notices read", ROLES)
    with db.write_session(data.engine(), username) as session:
        notices.mark_read(session, username, keys)


def notices_area(user: auth.User) -> None:
    """The bell in the sidebar, with the user's unread notices."""
    with data.reading() as session:
        found = notices.for_user(session, user.username, access.is_approver())
    title = f"Notices ({len(found)} new)" if found else "Notices"
    icon = ":material/notifications_active:" if found else ":material/notifications:"
    with st.sidebar, st.expander(title, icon=icon, expanded=False):
        if not found:
            st.caption(
                "Nothing new: replies from your customers, refund decisions and customers "
                "assigned to you show here."
            )
            return
        for notice in found[:MAX_SHOWN]:
            text = f"{labels.md(notice.name)}: {labels.md(notice.text)}"
            if user.role in CUSTOMER_PAGE_ROLES:
                st.page_link("app_pages/customer.py", label=text, query_params=notice.query)
            else:
                st.markdown(text)
            left, right = st.columns([3, 2], vertical_alignment="center")
            left.caption(f"{notice.label} · {notice.at:%d %b %H:%M} UTC")
            right.button(
                "Mark read", key=f"notice_read_{notice.key}", on_click=_mark, args=([notice.key],)
            )
        if len(found) > MAX_SHOWN:
            st.caption(f"and {len(found) - MAX_SHOWN} more")
        st.button(
            "Mark all read",
            key="notice_read_all",
            icon=":material/done_all:",
            on_click=_mark,
            args=([n.key for n in found],),
            width="stretch",
        )
