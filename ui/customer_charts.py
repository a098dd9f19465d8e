"""The customer page's charts: the program timeline and the daily usage per product."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import altair as alt
import pandas as pd
import streamlit as st

from lib import pricing, replies
from lib.audit import spike_days
from lib.program import timeline
from lib.program.report import CustomerReport
from lib.store import usage_history
from lib.vocabulary import PRODUCT_LABELS
from lib.windows import Windows
from ui import data, labels

EMAILS_ROW = "Emails"


def timeline_panel(rep: CustomerReport, as_of: dt.date) -> None:
    """The program timeline with the emails sent and the customer's answers on it."""
    with data.reading() as session:
        emails = [m for m in replies.conversation(session, rep.customer_id) if m.on <= as_of]
    st.altair_chart(timeline_chart(rep, as_of, emails), width="stretch")
    if emails:
        st.caption(
            "Emails row: triangles are emails sent from the console, circles the customer's "
            "answers (hover for who, what and the first lines; the Emails tab has them all)."
        )


def _email_marks(emails: Sequence[replies.MessageView]) -> alt.Chart | None:
    if not emails:
        return None
    frame = pd.DataFrame(
        {
            "Step": EMAILS_ROW,
            "Day": [pd.Timestamp(m.on) for m in emails],
            "Way": ["answer" if m.direction == "in" else "sent" for m in emails],
            "From": [m.sender for m in emails],
            "Subject": [m.subject for m in emails],
            "First lines": [m.opening[:160] for m in emails],
        }
    )
    return (
        alt.Chart(frame)
        .mark_point(size=110, filled=True, color="#1C7ED6")
        .encode(
            x="Day:T",
            y=alt.Y("Step:N"),
            shape=alt.Shape(
                "Way:N",
                scale=alt.Scale(domain=["sent", "answer"], range=["triangle-right", "circle"]),
                legend=None,
            ),
            tooltip=[alt.Tooltip("Day:T", format="%Y-%m-%d"), "Way", "From", "Subject",
                     "First lines"],
        )
    )  # fmt: skip


def timeline_chart(
    rep: CustomerReport, as_of: dt.date, emails: Sequence[replies.MessageView] = ()
) -> alt.LayerChart:
    """Each step's window as a bar coloured by status, recorded days as diamonds, as-of as a
    rule; with `emails`, a row of the emails sent and answered."""
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
    order = [labels.step(s) for s in timeline.STEPS] + ([EMAILS_ROW] if emails else [])
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
    chart = windows + extension + recorded + rule + rule_text
    marks = _email_marks(emails)
    if marks is not None:
        chart += marks.encode(y=y)
    return chart.properties(height=270 if emails else 230)


def usage_charts(rep: CustomerReport, as_of: dt.date) -> None:
    """120 days of each subscribed product's volumes, the billing window shaded, spikes marked."""
    with data.reading() as session:
        products = usage_history.subscribed_products(session, rep.customer_id)
    if not products:
        st.info("No subscriptions on record, so nothing is billed.", icon=":material/info:")
        return
    metrics = sorted({m for p in products for m in usage_history.PRODUCT_METRICS.get(p, ())})
    with data.reading() as session:
        daily = usage_history.daily(session, rep.customer_id, as_of, metrics)
    daily["spike"] = spike_days.mark_spikes(daily, as_of)
    daily["date"] = pd.to_datetime(daily["date"])
    daily["metric"] = daily["metric"].str.replace("_", " ").str.capitalize()
    window = pd.DataFrame(
        {
            "start": [pd.Timestamp(Windows(as_of).start)],
            "end": [pd.Timestamp(as_of + dt.timedelta(days=1))],
        }
    )
    st.caption(
        f"Daily volumes over {usage_history.HISTORY_DAYS} days; the shaded band is the "
        f"30-day billing window; red dots are spike days (over "
        f"{spike_days.spike_day_ratio():g}x the average day of the 90 days before the "
        "window, the audit's usage-spike rule)."
    )
    billed_by_product = pricing.billed_by_product(rep.bill_lines)
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
            billed = billed_by_product.get(product, 0.0)
            st.markdown(f"**{labels.md(PRODUCT_LABELS.get(product, product))}**")
            if billed:
                st.caption(f"Billed this window: {labels.money_md(billed)}")
            st.altair_chart((band + lines + spikes).properties(height=200), width="stretch")
