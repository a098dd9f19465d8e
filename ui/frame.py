"""The sidebar every signed-in page shares: who you are, the date shown, sign out."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib.accounts import auth
from ui import data, labels, login, notices


def sidebar(user: auth.User) -> None:
    with st.sidebar:
        st.markdown(
            f"**{labels.md(user.name)}**  \n:gray[{labels.md(user.username)} · {user.role}]"
        )
        st.session_state.setdefault(data.AS_OF_KEY, dt.date.today())
        st.date_input(
            "As of",
            key=data.AS_OF_KEY,
            format="YYYY-MM-DD",
            help="The day the pages show. Steps you record keep the date you give them.",
        )
        st.button(
            "Log out",
            key="sidebar_logout",  # not "logout": the authenticator owns that state key
            icon=":material/logout:",
            on_click=login.request_logout,
            width="stretch",
        )
    notices.notices_area(user)
