"""Today: the signed-in owner's worklist, most urgent first, each next action one click
away: "done" for an email sent, the email itself, the call booked or its outcome logged
(the call form Meetings and the customer page share), the program extended
(ui/today_dialog.py); the refunds waiting for them (and, for revenue operations, the ones
waiting for approval)."""

from __future__ import annotations

import streamlit as st

from lib.program import worklist
from ui import (
    access,
    actions,
    data,
    labels,
    login,
    no_reply,
    refund_queue,
    step_done,
    today_dialog,
)

EVERYONE = "*"  # never a username (lib.accounts.auth allows a-z, 0-9, '.', '_' and '-')
PAGE_SIZE = 25
LAST_DONE = "today_last_done"
SHOWN = "today_shown"

user = login.current_user()
assert user is not None  # pages exist only after sign-in
me = user.username
as_of = data.as_of()

st.title(":material/today: Today", anchor=False)
actions.show_notice()

if not data.customer_count():
    st.info(
        "No customers yet: import CSVs on the Data page or run `onboarding demo`.",
        icon=":material/inbox:",
    )
    st.stop()

# ------------------------------------------------------------------ whose list
may_see_everyone = access.can(*access.EVERYONE_VIEWERS)
owner_names = data.owners()
options = ([EVERYONE] if may_see_everyone else []) + sorted(set(owner_names) | {me})
default = EVERYONE if may_see_everyone and me not in owner_names else me


def owner_label(owner: str) -> str:
    if owner == EVERYONE:
        return "Everyone"
    return f"{owner} (you)" if owner == me else owner


top = st.columns([2, 2, 4], vertical_alignment="bottom")
chosen = top[0].selectbox(
    "Worklist of",
    options,
    index=options.index(default),
    format_func=owner_label,
    key="today_owner",
    help="Switch to a colleague's list to cover for them.",
)
done_on = top[1].date_input(
    "Record as done on",
    value=as_of,
    format="YYYY-MM-DD",
    key="today_done_on",
    help="The date the one-click buttons record.",
)
owner = None if chosen == EVERYONE else chosen
# Only the chosen owner's reports are built (everyone's only for "Everyone").
reports = data.reports(as_of, owner=owner)
work = worklist.build(reports, as_of, owner)
can_write = access.can(*access.TEAM_WRITERS)

# ------------------------------------------------------------------ metrics
cells = st.columns(5)
cells[0].metric("Overdue", work.overdue, border=True, help="Next actions past their window")
cells[1].metric(
    "Due this week",
    work.due_this_week,
    border=True,
    help=f"Due by {labels.day(as_of + worklist.WEEK)}",
)
cells[2].metric(
    "New this week",
    len(work.new_entrants),
    border=True,
    help="Entered the program in the last 7 days",
)
cells[3].metric("Calls today", work.calls_today, border=True)
cells[4].metric(
    "Calls this week", work.calls_this_week, border=True, help="Today and the next 6 days"
)

# ------------------------------------------------------------------ undo
step_done.undo_bar(LAST_DONE, "today_undo")

# ------------------------------------------------------------------ the list
if work.customers == 0:
    who = "You own" if owner == me else f"{labels.md(owner_label(chosen))} owns"
    st.info(
        f"{who} no customers. Switch the list above to cover a colleague, or ask an admin to "
        "set `owner` in customers.csv (Data page).",
        icon=":material/person_off:",
    )
elif not work.items:
    st.success(
        "Nothing due: every customer's next step is done, booked or not open yet. "
        "Look at the Customers page to prepare upcoming calls.",
        icon=":material/task_alt:",
    )
else:
    st.subheader(f"{len(work.items)} to do", anchor=False)
    shown = st.session_state.get(SHOWN, PAGE_SIZE)
    widths = [2.4, 0.7, 2.6, 1.3, 1.2, 1.2, 3.8]
    by_id = {r.customer_id: r for r in reports}
    header = st.columns(widths)
    for cell, text in zip(
        header,
        ["Customer", "Week", "Next action", "Due", "Projected bill", "Savings found", ""],
        strict=True,
    ):
        cell.caption(text)
    clicked: worklist.WorkItem | None = None
    for item in work.items[:shown]:
        with st.container(border=True):
            row = st.columns(widths, vertical_alignment="center")
            row[0].page_link(
                "app_pages/customer.py",
                label=labels.md(item.name),
                icon=":material/open_in_new:",
                query_params={"id": item.customer_id},
            )
            if owner is None:
                row[0].caption(f"owner: {labels.md(item.owner or 'nobody')}")
            row[1].markdown(str(item.program_week))
            row[2].markdown(
                f"{labels.badge(item.status, labels.due_text(item.status, item.due_on, as_of))} "
                f"{labels.md(item.step_label)}"
            )
            row[3].markdown(labels.short_day(item.due_on, as_of))
            row[4].markdown(labels.money_md(item.projected_monthly_bill_usd))
            row[5].markdown(labels.money_md(item.est_monthly_saving_usd))
            if not can_write:
                continue
            act = row[6].container(horizontal=True, gap="small")
            if item.done_action:
                if act.button(
                    item.done_action,
                    key=f"today_done_{item.customer_id}_{item.step}",
                    icon=":material/check:",
                ):
                    clicked = item
                outreach = item.step in today_dialog.OUTREACH_KINDS
                act.button(
                    "Send" if outreach else "More",
                    key=f"today_next_{item.customer_id}_{item.step}",
                    icon=":material/send:" if outreach else ":material/more_horiz:",
                    help="The email, to send from here; extending the program"
                    if outreach
                    else "Where to build the homework; extending the program",
                    on_click=today_dialog.open_for,
                    args=(item.customer_id, item.step),
                )
            else:  # a call: book it, or log the outcome of the one booked (now past)
                state = by_id[item.customer_id].timeline.steps[item.step]
                booked = state.date is not None
                act.button(
                    "Log the call" if booked else "Book the call",
                    key=f"today_call_{item.customer_id}_{item.step}",
                    icon=":material/edit_note:" if booked else ":material/add_call:",
                    type="primary",
                    on_click=today_dialog.open_for,
                    args=(item.customer_id, item.step),
                )
    if len(work.items) > shown:
        if st.button(f"Show {min(PAGE_SIZE, len(work.items) - shown)} more", key="today_more"):
            st.session_state[SHOWN] = shown + PAGE_SIZE
            st.rerun()

    if clicked is not None:
        step_done.record(
            LAST_DONE, clicked.customer_id, clicked.name, clicked.step, done_on, "today"
        )

# ------------------------------------------------------------------ no reply, refunds
no_reply.no_reply_section(work, owner, done_on, can_write)
refund_queue.refunds_section(reports, as_of, owner)

# ------------------------------------------------------------------ calls and newcomers
left, right = st.columns(2)
with left.expander(f"Calls this week ({work.calls_this_week})", icon=":material/call:"):
    if not work.calls:
        st.caption("No calls booked for the next 7 days.")
    for call in no_reply.capped(work.calls, "today_calls_all", "soonest first"):
        line = st.columns([5, 2], vertical_alignment="center")
        line[0].page_link(
            "app_pages/customer.py",
            label=f"{labels.day(call.on)}: {labels.md(call.name)}, {labels.step(call.step).lower()}",
            query_params={"id": call.customer_id, "tab": "Calls"},
        )
        if can_write:
            line[1].button(
                "Open",
                key=f"today_open_{call.customer_id}_{call.step}",
                icon=":material/edit_note:",
                help="Its invite, and the form that logs the outcome",
                on_click=today_dialog.open_for,
                args=(call.customer_id, call.step),
            )
with right.expander(f"New this week ({len(work.new_entrants)})", icon=":material/fiber_new:"):
    if not work.new_entrants:
        st.caption("Nobody entered the program in the last 7 days.")
    names = {r.customer_id: r.customer.name for r in reports}
    for customer_id in work.new_entrants:
        st.page_link(
            "app_pages/customer.py",
            label=labels.md(names[customer_id]),
            query_params={"id": customer_id},
        )

# ------------------------------------------------------------------ the next step, in place
today_dialog.show(as_of)
