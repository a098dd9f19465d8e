"""One customer, its 360: header (stage, health, owner, people, goals, next action), audit,
program timeline, usage, contacts, outreach, homework, emails, refunds, step log, history.

Its own URL: /customer?id=<customer_id> (shareable). Reads lib, draws; every
write goes through ui.actions (role checked on the server, one unit of work,
caches cleared, the audit log records the user). The panels live in ui/customer_*.
"""

from __future__ import annotations

import streamlit as st

from ui import (
    access,
    actions,
    call_panel,
    customer_audit,
    customer_charts,
    customer_contacts,
    customer_header,
    customer_log,
    customer_mail,
    customer_next,
    customer_refunds,
    data,
    homework_panel,
    labels,
    outreach_panel,
    telemetry,
)

as_of = data.as_of()
customer_id = st.query_params.get("id", "")
can_write = access.can(*access.TEAM_WRITERS)


def pick_customer(message: str | None) -> None:
    st.title(":material/person_search: Customer", anchor=False)
    if message:
        st.warning(message, icon=":material/search_off:")
    everyone = data.reports(as_of)
    if not everyone:
        st.info(
            "No customers yet: import CSVs on the Data page or run `onboarding demo`.",
            icon=":material/inbox:",
        )
        st.stop()
    names = {r.customer_id: f"{r.customer.name} ({r.customer_id})" for r in everyone}
    chosen = st.selectbox(
        "Open a customer",
        list(names),
        index=None,
        format_func=names.__getitem__,
        placeholder="Type a name",
        key="customer_pick",
    )
    if chosen:
        st.switch_page("app_pages/customer.py", query_params={"id": chosen})
    st.stop()


if not customer_id:
    pick_customer(None)
rep = data.report_for(customer_id, as_of)
if rep is None:
    pick_customer(f"No customer with id {labels.md(repr(customer_id))}. Pick one below.")
assert rep is not None
customer, line = rep.customer, rep.timeline
telemetry.customer_opened(rep.customer_id)

# ------------------------------------------------------------------ header (always visible)
customer_header.header(rep, as_of)
actions.show_notice()
customer_next.next_step_bar(rep, as_of, can_write)  # one click, as on Today

cells = st.columns(4)
cells[0].metric(
    "Program week",
    f"Week {line.program_week}",
    labels.PROGRAM_STATUS_LABELS[line.program_status],
    delta_color="off",
    delta_arrow="off",
    border=True,
)
cells[1].metric("MRR", labels.money(customer.mrr_usd), border=True)
cells[2].metric(
    "Projected bill",
    labels.money(rep.projected_monthly_bill_usd),
    help="The 30 days ending on the as-of date, at list prices",
    border=True,
)
cells[3].metric(
    "Savings found",
    labels.money(rep.est_monthly_saving_usd),
    f"{len(rep.findings)} open finding{'s' if len(rep.findings) != 1 else ''}",
    delta_color="off",
    delta_arrow="off",
    help="A month, once every open finding is fixed: the fixes priced together, so "
    "findings that remove the same dollars count once",
    border=True,
)
if rep.est_refund_usd > 0:
    st.caption(
        f"Refundable now: about {labels.money_md(rep.est_refund_usd, cents=False)}, a one-off "
        "credit on this month's bill by the refund policy (not a monthly saving): propose it, "
        "and follow it, on the Refunds tab."
    )


# ------------------------------------------------------------------ layout
# Only the open tab runs (a cold page stays fast), and the tab is in the URL:
# /customer?id=acme&tab=Outreach opens that tab for whoever follows the link.
TABS = (
    "Audit", "Timeline", "Usage", "Contacts", "Outreach", "Calls", "Homework", "Emails",
    "Refunds", "Step log", "History",
)  # fmt: skip
tabs = dict(zip(TABS, st.tabs(TABS, key="tab", bind="query-params", default="Audit"), strict=True))
with tabs["Audit"]:
    if tabs["Audit"].open:
        findings_col, health_col = st.columns([3, 2], gap="large")
        with findings_col:
            customer_audit.findings_panel(rep, as_of, can_write)
        with health_col:
            customer_audit.health_panel(rep, as_of, can_write)
with tabs["Timeline"]:
    if tabs["Timeline"].open:
        customer_charts.timeline_panel(rep, as_of)
with tabs["Usage"]:
    if tabs["Usage"].open:
        customer_charts.usage_charts(rep, as_of)
with tabs["Contacts"]:
    if tabs["Contacts"].open:
        customer_contacts.contacts_panel(rep, can_write)
with tabs["Outreach"]:
    if tabs["Outreach"].open:
        outreach_panel.outreach_panel(rep, as_of)
with tabs["Calls"]:
    if tabs["Calls"].open:
        call_panel.calls_tab(rep, as_of)
with tabs["Homework"]:
    if tabs["Homework"].open:
        homework_panel.draw(rep, as_of, can_write)
with tabs["Emails"]:
    if tabs["Emails"].open:
        customer_mail.mail_panel(rep, as_of, can_write)
with tabs["Refunds"]:
    if tabs["Refunds"].open:
        customer_refunds.refunds_panel(rep, as_of)
with tabs["Step log"]:
    if tabs["Step log"].open:
        customer_log.step_log(rep, as_of, can_write)
with tabs["History"]:
    if tabs["History"].open:
        customer_log.history(rep)
