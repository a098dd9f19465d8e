"""Customers: every customer in one searchable, filterable table; a row opens its page."""

from __future__ import annotations

from urllib.parse import quote

import pandas as pd
import streamlit as st

from lib.csv_safe import to_safe_csv
from lib.program import portfolio, timeline
from lib.program.stage import STAGE_LABELS
from ui import data, labels

as_of = data.as_of()
reports = data.reports(as_of)

st.title(":material/groups: Customers", anchor=False)

if not reports:
    st.info(
        "No customers yet: import CSVs on the Data page or run `onboarding demo`.",
        icon=":material/inbox:",
    )
    st.stop()

rows = portfolio.rows(reports)
owners = sorted({r.owner for r in rows if r.owner})

with st.container(border=True):
    first = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
    query = first[0].text_input(
        "Search",
        placeholder="Name, id or owner",
        key="customers_search",
        icon=":material/search:",
    )
    chosen_owners = first[1].multiselect("Owner", owners, key="customers_owner", placeholder="All")
    chosen_statuses = first[2].multiselect(
        "Program status",
        list(timeline.PROGRAM_STATUSES),
        format_func=lambda s: labels.PROGRAM_STATUS_LABELS[s],
        key="customers_status",
        placeholder="All",
    )
    chosen_steps = first[3].multiselect(
        "Next action",
        list(timeline.STEPS),
        format_func=labels.step,
        key="customers_next",
        placeholder="Any",
    )
    with_findings = st.toggle("Only customers with findings", key="customers_findings")

shown = [
    r
    for r in rows
    if portfolio.matches(r, query, chosen_owners, chosen_statuses, chosen_steps, with_findings)
]

frame = pd.DataFrame(
    {
        "Customer": [r.name for r in shown],
        "Open": [f"customer?id={quote(r.customer_id)}" for r in shown],
        "Owner": [r.owner or "" for r in shown],
        "Status": [labels.PROGRAM_STATUS_LABELS[r.program_status] for r in shown],
        "Stage": [STAGE_LABELS[r.stage] for r in shown],
        "Last reply": [r.last_customer_reply_on for r in shown],
        "Week": [r.program_week for r in shown],
        "Steps settled": [r.steps_settled for r in shown],
        "Next action": [r.next_action for r in shown],
        "Due": [r.due_on for r in shown],
        "Findings": [r.findings for r in shown],
        "Projected bill": [r.projected_monthly_bill_usd for r in shown],
        "Savings found": [r.est_monthly_saving_usd for r in shown],
        "MRR": [r.mrr_usd for r in shown],
        "Plan": [r.plan or "" for r in shown],
        "Entered": [r.segment_entered_on for r in shown],
    }
)
ids = [r.customer_id for r in shown]

st.caption(
    f"{len(shown)} of {len(rows)} customers, as of {labels.day(as_of)}. "
    "Select a row (or use Open) to see the customer's audit and timeline."
)
selection = st.dataframe(
    frame,
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * max(len(frame), 1), 700),
    key="customers_table",
    on_select="rerun",
    selection_mode="single-row",
    column_config={
        "Customer": st.column_config.TextColumn(pinned=True),
        "Open": st.column_config.LinkColumn(
            "Open", display_text="Open", help="The customer's page (its own URL)"
        ),
        "Week": st.column_config.ProgressColumn(
            "Program week",
            min_value=0,
            max_value=portfolio.PROGRAM_WEEKS,
            format="week %d",
            help="Week of the 8-week program (beyond 8: past the program)",
        ),
        "Steps settled": st.column_config.ProgressColumn(
            "Steps settled",
            min_value=0,
            max_value=len(timeline.STEPS),
            format="%d of 5",
            help="Steps done or skipped",
        ),
        "Due": st.column_config.DateColumn("Due", format="YYYY-MM-DD"),
        "Entered": st.column_config.DateColumn("Entered", format="YYYY-MM-DD"),
        "Last reply": st.column_config.DateColumn(
            "Last reply", format="YYYY-MM-DD", help="The customer's last answer (Emails tab)"
        ),
        "Findings": st.column_config.NumberColumn("Findings", format="%d"),
        "Projected bill": st.column_config.NumberColumn("Projected bill", format="dollar"),
        "Savings found": st.column_config.NumberColumn(
            "Savings found",
            format="dollar",
            help="A month, every open fix priced together (findings that overlap count once)",
        ),
        "MRR": st.column_config.NumberColumn("MRR", format="dollar"),
    },
)

picked = selection.selection.rows if selection is not None else []
if picked:
    st.switch_page("app_pages/customer.py", query_params={"id": ids[picked[0]]})

st.download_button(
    "Download this table (CSV)",
    to_safe_csv(frame.drop(columns=["Open"])),  # names from CSVs: never formulas
    file_name=f"customers-{as_of.isoformat()}.csv",
    mime="text/csv",
    icon=":material/download:",
    key="customers_download",
)
