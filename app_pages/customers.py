"""Customers: every customer in one searchable, filterable table (the filters are the URL:
a view to bookmark and share); bulk actions on the selected rows; Open leads to a page."""

from __future__ import annotations

from urllib.parse import quote

import pandas as pd
import streamlit as st

from lib.csv_safe import to_safe_csv
from lib.program import portfolio, timeline
from ui import customers_bulk, customers_filters, data, labels

as_of = data.as_of()
reports = data.reports(as_of)

st.title(":material/groups: Customers", anchor=False)

if not reports:
    st.info(
        "No customers yet: import CSVs on the Data page or run `onboarding demo`.",
        icon=":material/inbox:",
    )
    st.stop()

rows = data.portfolio_rows(as_of)
owners = sorted({r.owner for r in rows if r.owner})
names = {r.customer_id: r.name for r in rows}

view = customers_filters.filters(owners)
shown = [r for r in rows if view.matches(r)]
customers_bulk.result(names)

frame = pd.DataFrame(
    {
        "Customer": [r.name for r in shown],
        "Open": [f"customer?id={quote(r.customer_id)}" for r in shown],
        "Owner": [r.owner or "" for r in shown],
        "Next action": [r.next_action for r in shown],
        "Due": [r.due_on for r in shown],
        "Overdue": [r.overdue for r in shown],
        "Health": [r.health for r in shown],
        "Health band": [labels.label("health", r.health_band) for r in shown],
        "Status": [labels.label("program_status", r.program_status) for r in shown],
        "Stage": [labels.label("stage", r.stage) for r in shown],
        "Last reply": [r.last_customer_reply_on for r in shown],
        "Week": [r.program_week for r in shown],
        "Steps settled": [r.steps_settled for r in shown],
        "Findings": [r.findings for r in shown],
        "Projected bill": [r.projected_monthly_bill_usd for r in shown],
        "Savings found": [r.est_monthly_saving_usd for r in shown],
        "MRR": [r.mrr_usd for r in shown],
        "Plan": [r.plan or "" for r in shown],
        "Entered": [r.segment_entered_on for r in shown],
    }
)
# Empty dates blank, never "None"/"NaT": a date column of real dates and missing values.
for column in ("Due", "Last reply", "Entered"):
    frame[column] = pd.to_datetime(frame[column])

top = st.columns([4, 1], vertical_alignment="bottom")
top[0].caption(
    f"{len(shown)} of {len(rows)} customers, as of {labels.day(as_of)}. "
    "Tick rows to act on them together; Open leads to the customer's page."
)
with top[1]:
    customers_filters.share(view)

DAY = "YYYY-MM-DD"
selection = st.dataframe(
    frame,
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * max(len(frame), 1), 700),
    key="customers_table",
    on_select="rerun",
    selection_mode="multi-row",
    column_config={
        "Customer": st.column_config.TextColumn("Customer", width=220, pinned=True),
        "Open": st.column_config.LinkColumn(
            "Open", display_text="Open", width=60, help="The customer's page (its own URL)"
        ),
        "Owner": st.column_config.TextColumn("Owner", width=110),
        "Next action": st.column_config.TextColumn("Next action", width=210),
        "Due": st.column_config.DateColumn("Due", format=DAY, width=105),
        "Overdue": st.column_config.CheckboxColumn(
            "Overdue", width=75, help="The next action is overdue"
        ),
        "Health": st.column_config.ProgressColumn(
            "Health",
            min_value=0,
            max_value=10,
            format="%.1f",
            width=95,
            help="The 0-10 health score (the customer page has its breakdown)",
        ),
        "Health band": st.column_config.TextColumn(
            "Band", width=80, help="Healthy: 7-10; watch: 4 to under 7; at risk: under 4"
        ),
        "Status": st.column_config.TextColumn("Status", width=105),
        "Stage": st.column_config.TextColumn("Stage", width=160),
        "Last reply": st.column_config.DateColumn(
            "Last reply", format=DAY, width=105, help="The customer's last answer (Emails tab)"
        ),
        "Week": st.column_config.ProgressColumn(
            "Program week",
            min_value=0,
            max_value=portfolio.PROGRAM_WEEKS,
            format="week %d",
            width=110,
            help="Week of the 8-week program (beyond 8: past the program)",
        ),
        "Steps settled": st.column_config.ProgressColumn(
            "Steps settled",
            min_value=0,
            max_value=len(timeline.STEPS),
            format="%d of 5",
            width=100,
            help="Steps done or skipped",
        ),
        "Findings": st.column_config.NumberColumn("Findings", format="%d", width=75),
        "Projected bill": st.column_config.NumberColumn("Projected bill", format="dollar"),
        "Savings found": st.column_config.NumberColumn(
            "Savings found",
            format="dollar",
            help="A month, every open fix priced together (findings that overlap count once)",
        ),
        "MRR": st.column_config.NumberColumn("MRR", format="dollar"),
        "Entered": st.column_config.DateColumn("Entered", format=DAY, width=105),
    },
)

picked = [shown[i] for i in (selection.selection.rows if selection is not None else [])]
if len(picked) == 1 and st.button(
    f"Open {labels.md(picked[0].name)}", key="customers_open", icon=":material/open_in_new:"
):
    st.switch_page("app_pages/customer.py", query_params={"id": picked[0].customer_id})
customers_bulk.panel(picked, owners, as_of)

st.download_button(
    "Download this table (CSV)",
    # Made on the click, not on every run (0.3 s at 10,000 customers); names from CSVs:
    # never formulas. The click must not rerun the page: a rerun replaces the file's id
    # while the browser is fetching it (on_click="ignore").
    lambda: to_safe_csv(frame.drop(columns=["Open"])),
    file_name=f"customers-{as_of.isoformat()}.csv",
    mime="text/csv",
    icon=":material/download:",
    key="customers_download",
    on_click="ignore",
)
