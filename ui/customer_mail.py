"""The customer page's Emails tab: the program's emails as sent and the customer's answers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
from sqlalchemy import select

from lib.program.report import CustomerReport
from lib.store import models
from ui import data


def mail_panel(rep: CustomerReport, as_of: dt.date, can_write: bool) -> None:
    """Every email of the program with this customer, newest first."""
    with data.reading() as session:
        rows = session.scalars(
            select(models.EmailMessage)
            .where(models.EmailMessage.customer_id == rep.customer_id)
            .order_by(models.EmailMessage.on.desc(), models.EmailMessage.id.desc())
        ).all()
        table = pd.DataFrame(
            [
                {"Date": m.on, "Direction": m.direction, "Kind": m.kind, "Subject": m.subject}
                for m in rows
            ]
        )
    if table.empty:
        st.info("No emails with this customer yet.")
        return
    st.dataframe(table, hide_index=True, width="stretch")
