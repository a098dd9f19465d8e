"""Homework: placeholder until the page lands (owned by another engineer)."""

import streamlit as st

st.title("Homework", anchor=False)
st.info(
    "Building, sending and verifying each customer's homework lands here.",
    icon=":material/construction:",
)
