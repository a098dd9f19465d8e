"""One customer: header, program timeline, audit, health, usage, outreach, step log, history.

Its own URL: /customer?id=<customer_id> (shareable). Reads lib, draws; every
write goes through ui.access.writing (role checked on the server, caches
cleared, the audit log records the user).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import altair as alt
import pandas as pd
import streamlit as st

from lib import audit, changes, findings, health, pricing, steps, timeline, usage_history
from lib.findings import FindingStateError
from lib.report import CustomerReport
from lib.steps import StepError
from lib.vocabulary import PRODUCT_LABELS
from ui import access, data, labels, login, telemetry

NOTICE = "customer_notice"

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
    pick_customer(f"No customer with id {customer_id!r}. Pick one below.")
assert rep is not None
customer = rep.customer
line = rep.timeline
telemetry.customer_opened(rep.customer_id)

# ------------------------------------------------------------------ header (always visible)
st.set_page_config(page_title=f"{customer.name} · week {line.program_week}")
with st.sidebar:
    st.divider()
    st.markdown(
        f":material/person: **{labels.md(customer.name)}**  \n"
        f"Week {line.program_week} · {labels.PROGRAM_STATUS_LABELS[line.program_status]}"
    )

st.title(f"{labels.md(customer.name)}", anchor=False)
facts = [
    labels.md(customer.customer_id),
    f"plan **{labels.md(customer.plan or 'unknown')}**",
    f"owner **{labels.md(customer.owner or 'nobody')}**",
    f"entered {labels.day(customer.segment_entered_on)} "
    f"({labels.ENTRY_REASON_LABELS.get(customer.entry_reason or '', 'reason not given')})",
]
if customer.status != "active":
    facts.append(f"customer status **{labels.md(customer.status)}**")
st.markdown(" · ".join(facts))
action = line.next_action
if action:
    st.markdown(
        f"Next: **{labels.step(action.step)}** "
        f"{labels.badge(action.status, labels.due_text(action.status, action.due_on, as_of))} "
        f"(window ends {labels.day(action.due_on)})"
    )
else:
    st.markdown(":green-badge[Nothing due] every open step is done, booked or not yet open.")

notice = st.session_state.pop(NOTICE, None)
if notice:
    st.success(notice, icon=":material/check_circle:")

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
    help="Monthly, if the open findings are fixed",
    border=True,
)


def write(action_text: str, notice_text: str, change: Callable[[str], object]) -> None:
    """One write as the signed-in user; a refused input is shown where it happened."""
    try:
        with access.writing(action_text) as user:
            change(user)
    except (StepError, FindingStateError, ValueError, LookupError) as error:
        st.error(str(error), icon=":material/error:")
        return
    st.session_state[NOTICE] = notice_text
    st.rerun()


# ------------------------------------------------------------------ timeline
def timeline_chart(rep: CustomerReport) -> alt.LayerChart:
    rows = []
    own_end = timeline.window("final_outreach", rep.customer.segment_entered_on)[1]
    for state in rep.timeline.steps.values():
        end = state.window_end
        if state.step == "final_outreach" and end > own_end:
            end = own_end
        rows.append(
            {
                "Step": labels.step(state.step),
                "From": pd.Timestamp(state.window_start),
                "To": pd.Timestamp(end + dt.timedelta(days=1)),
                "Status": state.status,
                "Window": f"{state.window_start:%d %b} - {state.window_end:%d %b}",
                "Recorded": pd.Timestamp(state.date) if state.date else pd.NaT,
                "Part": "window",
            }
        )
    final = rep.timeline.steps["final_outreach"]
    if final.window_end > own_end:
        rows.append(
            {
                "Step": labels.step("final_outreach"),
                "From": pd.Timestamp(own_end + dt.timedelta(days=1)),
                "To": pd.Timestamp(final.window_end + dt.timedelta(days=1)),
                "Status": final.status,
                "Window": f"extended to {final.window_end:%d %b}",
                "Recorded": pd.NaT,
                "Part": "extension",
            }
        )
    frame = pd.DataFrame(rows)
    order = [labels.step(s) for s in timeline.STEPS]
    colour = alt.Color(
        "Status:N",
        scale=alt.Scale(
            domain=list(labels.STEP_STATUS_COLOURS), range=list(labels.STEP_STATUS_COLOURS.values())
        ),
        legend=alt.Legend(orient="bottom", title=None),
    )
    y = alt.Y("Step:N", sort=order, title=None)
    tooltip = ["Step", "Status", "Window", alt.Tooltip("Recorded:T", format="%Y-%m-%d")]
    windows = (
        alt.Chart(frame[frame["Part"] == "window"])
        .mark_bar(cornerRadius=3, height=18)
        .encode(x=alt.X("From:T", title=None), x2="To:T", y=y, color=colour, tooltip=tooltip)
    )
    extension = (
        alt.Chart(frame[frame["Part"] == "extension"])
        .mark_bar(cornerRadius=3, height=18, opacity=0.45, strokeDash=[4, 2], stroke="#555")
        .encode(x="From:T", x2="To:T", y=y, color=colour, tooltip=tooltip)
    )
    recorded = (
        alt.Chart(frame.dropna(subset=["Recorded"]))
        .mark_point(shape="diamond", size=90, filled=True, color="#151515")
        .encode(x="Recorded:T", y=y, tooltip=tooltip)
    )
    today = pd.DataFrame({"day": [pd.Timestamp(as_of)], "label": ["as of"]})
    rule = alt.Chart(today).mark_rule(color="#E03131", strokeWidth=2).encode(x="day:T")
    rule_text = (
        alt.Chart(today)
        .mark_text(align="left", dx=4, dy=-6, color="#E03131")
        .encode(x="day:T", y=alt.value(0), text="label:N")
    )
    return (windows + extension + recorded + rule + rule_text).properties(height=230)


# ------------------------------------------------------------------ usage
def usage_charts(rep: CustomerReport) -> None:
    products = usage_history.subscribed_products(data.engine(), rep.customer_id)
    if not products:
        st.info("No subscriptions on record, so nothing is billed.", icon=":material/info:")
        return
    metrics = sorted({m for p in products for m in usage_history.PRODUCT_METRICS.get(p, ())})
    daily = usage_history.daily(data.engine(), rep.customer_id, as_of, metrics)
    daily["date"] = pd.to_datetime(daily["date"])
    daily["metric"] = daily["metric"].str.replace("_", " ").str.capitalize()
    window = pd.DataFrame(
        {
            "start": [pd.Timestamp(usage_history.window_start(as_of))],
            "end": [pd.Timestamp(as_of + dt.timedelta(days=1))],
        }
    )
    st.caption(
        f"Daily volumes over {usage_history.HISTORY_DAYS} days; the shaded band is the "
        f"30-day billing window; red dots are spike days (over "
        f"{usage_history.spike_day_ratio():g}x the average day of the 90 days before the "
        "window, the audit's usage-spike rule)."
    )
    grid = st.columns(2)
    for index, product in enumerate(products):
        wanted = [
            m.replace("_", " ").capitalize() for m in usage_history.PRODUCT_METRICS.get(product, ())
        ]
        series = daily[daily["metric"].isin(wanted)]
        band = (
            alt.Chart(window)
            .mark_rect(color="#1D4AFF", opacity=0.08)
            .encode(x="start:T", x2="end:T")
        )
        lines = (
            alt.Chart(series)
            .mark_line(interpolate="monotone")
            .encode(
                x=alt.X("date:T", title=None),
                y=alt.Y("value:Q", title=None, axis=alt.Axis(format="~s")),
                color=alt.Color("metric:N", legend=alt.Legend(orient="bottom", title=None)),
                tooltip=[
                    alt.Tooltip("date:T", format="%Y-%m-%d"),
                    "metric",
                    alt.Tooltip("value:Q", format=","),
                ],
            )
        )
        spikes = (
            alt.Chart(series[series["spike"]])
            .mark_point(color="#E03131", filled=True, size=70)
            .encode(
                x="date:T",
                y="value:Q",
                tooltip=[
                    alt.Tooltip("date:T", format="%Y-%m-%d"),
                    "metric",
                    alt.Tooltip("value:Q", format=","),
                ],
            )
        )
        with grid[index % 2].container(border=True):
            prices = pricing.price_list()
            billed = sum(v for k, v in rep.bill_lines.items() if prices.line(k).product == product)
            st.markdown(f"**{PRODUCT_LABELS.get(product, product)}**")
            if billed:
                st.caption(f"Billed this window: {labels.money(billed)}")
            st.altair_chart((band + lines + spikes).properties(height=200), width="stretch")


# ------------------------------------------------------------------ step log
def step_log(rep: CustomerReport) -> None:
    entries = steps.recorded(data.engine(), rep.customer_id)
    table = pd.DataFrame(
        [
            {
                "Step": labels.step(s.step),
                "Window": f"{s.window_start:%Y-%m-%d} - {s.window_end:%Y-%m-%d}",
                "Status": s.status,
                "Date": s.date,
                "Note": (entries[s.step].note or "") if s.step in entries else "",
                "Recorded by": (entries[s.step].recorded_by or "") if s.step in entries else "",
            }
            for s in rep.timeline.steps.values()
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={"Date": st.column_config.DateColumn(format="YYYY-MM-DD")},
    )
    if rep.customer.extended_until:
        st.caption(
            f"Program extended to {labels.day(rep.customer.extended_until)}: "
            f"{rep.customer.extension_reason or 'no reason recorded'}"
        )
    if not can_write:
        st.caption("Read-only: your role cannot change the step log.")
        return

    record_col, other_col = st.columns(2)
    with record_col, st.form("customer_record", border=True):
        st.markdown("**Record a step**")
        step = st.selectbox("Step", timeline.STEPS, format_func=labels.step, key="customer_step")
        status = st.segmented_control(
            "Status", timeline.RECORDED_STATUSES, default="done", key="customer_status"
        )
        on = st.date_input("Date", value=as_of, format="YYYY-MM-DD", key="customer_on")
        note = st.text_area(
            "Note (optional)", key="customer_note", help="Leave empty to keep the step's note"
        )
        if st.form_submit_button("Save", type="primary", icon=":material/save:"):
            chosen_status = status or "done"
            write(
                f"record {labels.step(step).lower()}",
                f"{labels.step(step)} recorded as {chosen_status} on {on:%Y-%m-%d}.",
                telemetry.after(
                    lambda user: steps.record(
                        data.engine(), user, rep.customer_id, step, chosen_status, on, note or None
                    ),
                    "step_recorded",
                    customer_id=rep.customer_id,
                    step=step,
                    status=chosen_status,
                    source="customer",
                ),
            )
    with other_col:
        with st.form("customer_extend", border=True):
            st.markdown("**Extend the program**")
            own_end = timeline.window("final_outreach", rep.customer.segment_entered_on)[1]
            until = st.date_input(
                "Until",
                value=max(rep.customer.extended_until or own_end, own_end) + dt.timedelta(days=14),
                min_value=own_end + dt.timedelta(days=1),
                format="YYYY-MM-DD",
                key="customer_until",
            )
            reason = st.text_input("Reason (required)", key="customer_reason")
            if st.form_submit_button("Extend", icon=":material/more_time:"):
                write(
                    "extend the program",
                    f"Program extended to {until:%Y-%m-%d}.",
                    lambda user: steps.extend(data.engine(), user, rep.customer_id, until, reason),
                )
        recorded_steps = [s for s in timeline.STEPS if s in entries]
        if recorded_steps:
            with st.form("customer_fix", border=True):
                st.markdown("**Correct a recorded step**")
                which = st.selectbox(
                    "Step", recorded_steps, format_func=labels.step, key="customer_fix_step"
                )
                new_note = st.text_area("Note", key="customer_fix_note", help="Empty removes it")
                left, right = st.columns(2)
                if left.form_submit_button("Save note", icon=":material/edit_note:"):
                    write(
                        "change a step's note",
                        f"Note of {labels.step(which).lower()} saved.",
                        lambda user: steps.set_note(
                            data.engine(), user, rep.customer_id, which, new_note
                        ),
                    )
                if right.form_submit_button("Clear what was recorded", icon=":material/undo:"):
                    write(
                        "clear a recorded step",
                        f"{labels.step(which)} is computed from the timeline again.",
                        lambda user: steps.clear(data.engine(), user, rep.customer_id, which),
                    )
        if rep.customer.extended_until:
            with st.form("customer_unextend", border=True):
                why = st.text_input("Reason for removing the extension", key="customer_unreason")
                if st.form_submit_button("Remove the extension", icon=":material/event_busy:"):
                    write(
                        "remove the extension",
                        "Extension removed.",
                        lambda user: steps.extend(data.engine(), user, rep.customer_id, None, why),
                    )


def history(rep: CustomerReport) -> None:
    entries = changes.recent(data.engine(), rep.customer_id)
    if not entries:
        st.caption("No changes recorded for this customer yet.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When (UTC)": e.at,
                    "Who": e.user,
                    "What": f"{e.action} {e.entity}",
                    "Changes": e.summary,
                }
                for e in entries
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"When (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )


# ------------------------------------------------------------------ audit and health
SEVERITY_BADGES = {"high": "red", "medium": "orange", "low": "gray"}
STATE_BADGES = {"open": "blue", "fixed": "green", "dismissed": "gray"}


def finding_card(f: audit.Finding, customer_id: str) -> None:
    with st.container(border=True):
        head, money = st.columns([3, 1], vertical_alignment="top")
        head.markdown(
            f":{SEVERITY_BADGES.get(f.severity, 'gray')}-badge[{f.severity}] "
            f"**{labels.md(f.title)}**"
            + (f" :{STATE_BADGES[f.state]}-badge[{f.state}]" if f.state != "open" else "")
        )
        if f.est_monthly_saving_usd > 0:
            money.markdown(f"**{labels.money(f.est_monthly_saving_usd)}** a month")
        st.markdown(f"**Evidence:** {labels.md(f.evidence)}")
        st.markdown(f"**Fix:** {labels.md(f.fix)}  \n**Effort:** {labels.md(f.effort)}")
        if f.refund is not None:
            if f.refund_eligible:
                st.markdown(
                    f":green-badge[Refund eligible] about {labels.money(f.est_refund_usd)} "
                    f"({labels.md(f.refund.scenario.replace('_', ' '))})"
                )
            else:
                why = "; ".join(f.refund.reasons) or "the policy's conditions are not met"
                st.caption(f"Refund not eligible yet. Policy check: {labels.md(why)}")
        if f.note:
            st.caption(labels.md(f.note))
        links, actions = st.columns([2, 3], vertical_alignment="center")
        if f.docs_url.startswith("https://"):
            links.link_button("Docs", f.docs_url, icon=":material/menu_book:")
        if not can_write:
            return
        with actions:
            key = f"finding_{customer_id}_{f.rule}"
            if f.state == "open":
                fix_col, dismiss_col = st.columns(2)
                if fix_col.button("Mark fixed", key=f"{key}_fixed", icon=":material/build:"):
                    write(
                        f"mark {f.title.lower()} fixed",
                        f"{f.title}: fixed on {as_of:%Y-%m-%d}.",
                        lambda user: findings.set_state(
                            data.engine(), user, customer_id, f.rule, "fixed", on=as_of
                        ),
                    )
                with dismiss_col.popover("Dismiss", icon=":material/block:"):
                    reason = st.text_input("Why? (kept in the log)", key=f"{key}_reason")
                    if st.button("Dismiss finding", key=f"{key}_dismiss"):
                        write(
                            f"dismiss {f.title.lower()}",
                            f"{f.title}: dismissed.",
                            lambda user: findings.set_state(
                                data.engine(),
                                user,
                                customer_id,
                                f.rule,
                                "dismissed",
                                on=as_of,
                                reason=reason,
                            ),
                        )
            elif st.button("Reopen", key=f"{key}_reopen", icon=":material/restart_alt:"):
                write(
                    f"reopen {f.title.lower()}",
                    f"{f.title}: open again.",
                    lambda user: findings.set_state(
                        data.engine(), user, customer_id, f.rule, "open", on=as_of
                    ),
                )


def findings_panel(rep: CustomerReport) -> None:
    found = data.findings_for(rep.customer_id, as_of)
    still_open = sorted(
        (f for f in found if f.state == "open"),
        key=lambda f: (-f.est_monthly_saving_usd, audit.SEVERITIES.index(f.severity)),
    )
    closed = [f for f in found if f.state != "open"]
    st.subheader(f"Findings ({len(still_open)} open)", anchor=False)
    if not found:
        st.success(
            "The audit found nothing to fix in the last 30 days.", icon=":material/verified:"
        )
    for f in still_open:
        finding_card(f, rep.customer_id)
    if closed:
        with st.expander(f"Fixed and dismissed ({len(closed)})", icon=":material/inventory:"):
            for f in closed:
                finding_card(f, rep.customer_id)


def health_panel(rep: CustomerReport) -> None:
    score = data.health_for(rep.customer_id, as_of)
    st.subheader("Health", anchor=False)
    st.metric("Health score", f"{score.score:.1f} / 10", border=True)
    for part in score.breakdown:
        share = part.points / part.max_points if part.max_points else 0.0
        st.progress(
            min(max(share, 0.0), 1.0),
            text=f"**{labels.md(part.name)}** {part.points:g} of {part.max_points:g}: "
            f"{labels.md(part.detail)}",
        )
    for risk in score.risks:
        st.markdown(f":red[:material/warning:] {labels.md(risk)}")
    rating = score.relationship_rating
    if not can_write:
        st.caption(f"Relationship (owner's 1-5): {rating if rating else 'not rated'}")
        return
    chosen = st.segmented_control(
        "Relationship (your read, 1-5)",
        [1, 2, 3, 4, 5],
        default=rating,
        key=f"customer_rating_{rep.customer_id}",
        help="Beside the computed score; click the chosen value again to clear it.",
    )
    if chosen != rating and st.button("Save rating", key="customer_rating_save"):
        write(
            "rate the relationship",
            f"Relationship rated {chosen if chosen else 'none'}.",
            lambda user: health.set_relationship(data.engine(), user, rep.customer_id, chosen),
        )


# ------------------------------------------------------------------ outreach
DRAFT_KINDS = {"initial": "Initial outreach (week 1)", "final": "Final outreach (weeks 7-8)"}


def outreach_panel(rep: CustomerReport) -> None:
    default = "final" if rep.timeline.program_week >= 7 else "initial"
    kind = (
        st.segmented_control(
            "Draft",
            list(DRAFT_KINDS),
            default=default,
            format_func=DRAFT_KINDS.__getitem__,
            key="customer_draft_kind",
        )
        or default
    )
    me = login.current_user()
    sender = me.name if me else "The onboarding team"
    draft = data.draft(kind, rep.customer_id, sender, as_of)
    st.caption("Subject")
    st.code(draft.subject, language=None, wrap_lines=True)
    text_col, preview_col = st.columns(2)
    with text_col:
        st.caption("Plain text (copy with the icon at the top right)")
        st.code(draft.text, language=None, wrap_lines=True, height=420)
    with preview_col:
        st.caption("Preview")
        with st.container(border=True, height=420):
            st.markdown(draft.markdown)
    name = f"{rep.customer_id}-{kind}-outreach-{as_of:%Y-%m-%d}"
    left, right = st.columns(2)
    left.download_button(
        "Download as Markdown",
        f"Subject: {draft.subject}\n\n{draft.markdown}".encode(),
        file_name=f"{name}.md",
        mime="text/markdown",
        icon=":material/download:",
        key="customer_draft_md",
        on_click=telemetry.track,
        args=("outreach_drafted",),
        kwargs={"customer_id": rep.customer_id, "kind": kind},
    )
    right.download_button(
        "Download as text",
        f"Subject: {draft.subject}\n\n{draft.text}".encode(),
        file_name=f"{name}.txt",
        mime="text/plain",
        icon=":material/download:",
        key="customer_draft_txt",
        on_click=telemetry.track,
        args=("outreach_drafted",),
        kwargs={"customer_id": rep.customer_id, "kind": kind},
    )


# ------------------------------------------------------------------ layout
# Only the open tab runs (a cold page stays fast), and the tab is in the URL:
# /customer?id=acme&tab=Outreach opens that tab for whoever follows the link.
TABS = ("Audit", "Timeline", "Usage", "Outreach", "Step log", "History")
tabs = dict(zip(TABS, st.tabs(TABS, key="tab", bind="query-params", default="Audit"), strict=True))
with tabs["Audit"]:
    if tabs["Audit"].open:
        findings_col, health_col = st.columns([3, 2], gap="large")
        with findings_col:
            findings_panel(rep)
        with health_col:
            health_panel(rep)
with tabs["Timeline"]:
    if tabs["Timeline"].open:
        st.altair_chart(timeline_chart(rep), width="stretch")
with tabs["Usage"]:
    if tabs["Usage"].open:
        usage_charts(rep)
with tabs["Outreach"]:
    if tabs["Outreach"].open:
        outreach_panel(rep)
with tabs["Step log"]:
    if tabs["Step log"].open:
        step_log(rep)
with tabs["History"]:
    if tabs["History"].open:
        history(rep)
