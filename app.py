"""Entry point: page config, then the pages (login and navigation land with the dashboard)."""

import streamlit as st

st.set_page_config(
    page_title="Onboarding console", page_icon=":material/rocket_launch:", layout="wide"
)


def home() -> None:
    st.title("Onboarding console")
    st.write("The database is ready. The dashboard pages arrive next.")


st.navigation([st.Page(home, title="Home", icon=":material/home:")]).run()
