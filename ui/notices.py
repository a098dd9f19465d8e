"""The sidebar's bell: what changed for the signed-in user since they last looked (replies,
refund decisions and approvals, customers assigned to them; lib.notices), each with
"Mark read", and "Mark all read"."""

from __future__ import annotations

import streamlit as st

from lib import notices
from lib.accounts import auth
from lib.store import db
from lib.vocabulary import ROLES
from ui import access, data, labels, settings

MAX_SHOWN = 10
NOTICES_TTL_S = 60
CUSTOMER_PAGE_ROLES = ("team", "admin")  # the roles whose navigation has the customer page


def _mark(keys: list[str]) -> None:
    username = access.require("mark notices read", ROLES)
    with db.write_session(data.engine(), username) as session:
        notices.mark_read(session, username, keys)
    _unread.clear()  # only the bell changed: the other cached reads stay


# Read once a minute, not on every click (0.1 s a run at 10,000 customers): Mark read,
# and any write in the app (a reply recorded, a refund decided: ui.data.changed), drop it.
@st.cache_data(ttl=NOTICES_TTL_S, max_entries=64, show_spinner=False)
def _unread(database: str, username: str, approver: bool) -> list[notices.Notice]:
    with data.reading() as session:
        return notices.for_user(session, username, approver)


def notices_area(user: auth.User) -> None:
    """The bell in the sidebar, with the user's unread notices."""
    found = _unread(settings.database_url(), user.username, access.is_approver())
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
