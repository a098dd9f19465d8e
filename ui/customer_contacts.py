"""The customer page's Contacts tab: the people the program's emails greet and go to."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import contacts
from lib.program.report import CustomerReport
from ui import data


def contacts_panel(rep: CustomerReport, can_write: bool) -> None:
    """The customer's contacts, the primary one first."""
    with data.reading() as session:
        people = contacts.for_customer(session, rep.customer_id)
    if not people:
        st.info("No contacts yet: drafts greet the team by the company's name.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {"Name": c.name, "Email": c.email, "Role": c.role, "Primary": c.is_primary}
                for c in people
            ]
        ),
        hide_index=True,
        width="stretch",
    )
