"""Homework: build a customer's homework from ranked suggestions, write the follow-up
email, mark it sent, and follow completion (checked against the data after every import,
or ticked by hand). The same panel (ui/homework_panel.py) is the customer page's Homework
tab; this page is for going through several customers in a row."""

from __future__ import annotations

import streamlit as st

from ui import access, actions, customer_picker, data, homework_panel, login

CUSTOMER = "hw_customer"

as_of = data.as_of()
user = login.current_user()
username = user.username if user else ""
can_write = access.can(*access.TEAM_WRITERS)

st.title(":material/assignment: Homework", anchor=False)
actions.show_notice()

everyone = data.reports(as_of)
if not everyone:
    st.info("No customers yet: import them on the Data page.", icon=":material/inbox:")
    st.stop()
customer_id = customer_picker.pick(everyone, username, CUSTOMER)
if customer_id is None:
    st.stop()

rep = data.report_for(customer_id, as_of)
if rep is None:
    st.warning("That customer no longer exists.", icon=":material/search_off:")
    st.stop()
homework_panel.draw(rep, as_of, can_write)
