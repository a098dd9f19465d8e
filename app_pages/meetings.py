"""Meetings: placeholder until the page lands (owned by another engineer)."""

import streamlit as st

st.title("Meetings", anchor=False)
st.info(
    "Scheduling, preparing and logging the first and second calls (with calendar invites) lands here.",
    icon=":material/construction:",
)
