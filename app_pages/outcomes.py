"""Outcomes: what leadership asks of the program, one chart per question.

Read the filters -> lib.outcomes.compute -> draw. Each chart is drawn from its
section's frame, and the CSV offered under it is that same frame.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import textwrap

import altair as alt
import streamlit as st
from sqlalchemy import Engine

from lib import outcomes, timeline
from lib.outcomes import Filters, Outcomes, OutcomesData, Section
from ui import data as ui_data
from ui import telemetry

CUSTOM_PERIOD = "Custom range"
DEFAULT_PERIOD = "Last 6 months"
STEP_ORDER = [timeline.STEP_LABELS[step] for step in timeline.STEPS]
GOOD, LATE, NONE, BAD = "#1D4AFF", "#F9BD2B", "#C9CCD4", "#F54E00"
REASON_LABELS = {
    "credits_rolloff": "Credits roll off",
    "first_bill_projected": "First bill projected",
    "accelerator": "Accelerator",
    "manual": "Added by hand",
}


# Shared read-only objects (ui.data.shared): a rerun neither unpickles the data
# nor recomputes the outcomes; any write in the app drops them (ui.data.changed).
@ui_data.shared(ttl=300, max_entries=4, show_spinner="Reading the program's history...")
def _load(_engine: Engine, database: str, as_of: dt.date) -> OutcomesData:
    # `database` keys the cache (the engine itself is not hashable).
    return outcomes.load(_engine, as_of)


@ui_data.shared(ttl=300, max_entries=16)
def _compute(_data: OutcomesData, database: str, as_of: dt.date, filters: Filters) -> Outcomes:
    # The same data (database, as-of) and filters give the same outcomes: a rerun
    # does not recompute every customer's timeline (~0.6 s at 10,000 customers).
    result = outcomes.compute(_data, filters)
    # The per customer x step frame behind the charts (~30 MB at 10,000 customers)
    # is not drawn: the cache keeps the sections only.
    return dataclasses.replace(result, progress=result.progress.iloc[:0].copy())


def _title(section: Section) -> alt.TitleParams:
    # Vega-Lite titles do not wrap; half-width charts fit about 60 characters a line.
    lines = textwrap.wrap(section.title, width=60) or [section.title]
    return alt.TitleParams(text=lines, anchor="start", fontSize=15, offset=12)


# ------------------------------------------------------------------- charts


def funnel_chart(section: Section) -> alt.TopLevelMixin:
    return (
        alt.Chart(section.frame, title=_title(section))
        .transform_fold(["on_time", "late", "not_reached"], as_=["timing", "customers"])
        .transform_calculate(
            timing_label="{'on_time': 'On time', 'late': 'Late', 'not_reached': 'Not reached'}"
            "[datum.timing]",
            timing_order="indexof(['on_time', 'late', 'not_reached'], datum.timing)",
        )
        .mark_bar()
        .encode(
            y=alt.Y("step_label:N", sort=STEP_ORDER, title=None, axis=alt.Axis(labelLimit=200)),
            x=alt.X("customers:Q", stack="zero", title="Customers who entered in the period"),
            color=alt.Color(
                "timing_label:N",
                scale=alt.Scale(
                    domain=["On time", "Late", "Not reached"], range=[GOOD, LATE, NONE]
                ),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            order=alt.Order("timing_order:Q"),
            tooltip=[
                alt.Tooltip("step_label:N", title="Step"),
                alt.Tooltip("timing_label:N", title="Timing"),
                alt.Tooltip("customers:Q", title="Customers"),
                alt.Tooltip("entrants:Q", title="Entrants"),
                alt.Tooltip("reached_pct:Q", title="Reached", format=".0%"),
                alt.Tooltip("on_time_pct:Q", title="On time", format=".0%"),
            ],
        )
        .properties(height=alt.Step(34))
    )


def cohorts_chart(section: Section) -> alt.TopLevelMixin:
    base = alt.Chart(section.frame).encode(
        x=alt.X(
            "step_label:N",
            sort=STEP_ORDER,
            title=None,
            axis=alt.Axis(labelAngle=-30, labelOverlap=False),
        ),
        y=alt.Y("entry_month:O", title="Entry month"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "reached_pct:Q",
            scale=alt.Scale(domain=[0, 1], scheme="blues"),
            legend=alt.Legend(title="Reached", format=".0%"),
        ),
        tooltip=[
            alt.Tooltip("entry_month:O", title="Entry month"),
            alt.Tooltip("step_label:N", title="Step"),
            alt.Tooltip("entrants:Q", title="Entrants"),
            alt.Tooltip("reached:Q", title="Reached"),
            alt.Tooltip("on_time:Q", title="On time"),
            alt.Tooltip("reached_pct:Q", title="Reached %", format=".0%"),
            alt.Tooltip("on_time_pct:Q", title="On time %", format=".0%"),
        ],
    )
    labels = (
        base.transform_calculate(
            label="format(datum.reached_pct, '.0%') + ' / ' + format(datum.on_time_pct, '.0%')"
        )
        .mark_text(fontSize=11)
        .encode(
            text="label:N",
            color=alt.condition("datum.reached_pct > 0.55", alt.value("white"), alt.value("black")),
        )
    )
    return (cells + labels).properties(title=_title(section), height=alt.Step(32))


def speed_chart(section: Section) -> alt.TopLevelMixin:
    return (
        alt.Chart(section.frame, title=_title(section))
        .transform_fold(["median_days", "p80_days"], as_=["measure", "days"])
        .transform_calculate(
            measure_label="datum.measure == 'median_days' ? 'Median' : '80th percentile'"
        )
        .mark_bar()
        .encode(
            y=alt.Y(
                "milestone_label:N",
                sort=list(outcomes.MILESTONES.values()),
                title=None,
                axis=alt.Axis(labelLimit=200),
            ),
            yOffset=alt.YOffset("measure_label:N", sort=["Median", "80th percentile"]),
            x=alt.X("days:Q", title="Days from entry"),
            color=alt.Color(
                "measure_label:N",
                scale=alt.Scale(domain=["Median", "80th percentile"], range=[GOOD, "#9AA7FF"]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("milestone_label:N", title="Milestone"),
                alt.Tooltip("measure_label:N", title="Measure"),
                alt.Tooltip("days:Q", title="Days"),
                alt.Tooltip("customers:Q", title="Customers who reached it"),
            ],
        )
        .properties(height=alt.Step(16))
    )


def savings_chart(section: Section) -> alt.TopLevelMixin:
    return (
        alt.Chart(section.frame, title=_title(section))
        .transform_fold(["identified_usd", "realised_usd"], as_=["measure", "usd"])
        .transform_calculate(
            measure_label="datum.measure == 'identified_usd' ? 'Identified' : 'Realised (fixed)'"
        )
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Month", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("measure_label:N", sort=["Identified", "Realised (fixed)"]),
            y=alt.Y("usd:Q", title="Monthly saving (USD)", axis=alt.Axis(format="$,.0f")),
            color=alt.Color(
                "measure_label:N",
                scale=alt.Scale(domain=["Identified", "Realised (fixed)"], range=[NONE, GOOD]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("month:O", title="Month"),
                alt.Tooltip("measure_label:N", title="Measure"),
                alt.Tooltip("usd:Q", title="USD per month", format="$,.2f"),
                alt.Tooltip("findings_identified:Q", title="Findings identified"),
                alt.Tooltip("findings_fixed:Q", title="Findings fixed"),
            ],
        )
        .properties(height=260)
    )


def refunds_chart(section: Section) -> alt.TopLevelMixin:
    return (
        alt.Chart(section.frame, title=_title(section))
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Month", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                "amount_usd:Q", stack="zero", title="Refunded (USD)", axis=alt.Axis(format="$,.0f")
            ),
            color=alt.Color("scenario:N", title="Scenario", legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("month:O", title="Month"),
                alt.Tooltip("scenario:N", title="Scenario"),
                alt.Tooltip("refunds:Q", title="Refunds"),
                alt.Tooltip("amount_usd:Q", title="Amount", format="$,.2f"),
            ],
        )
        .properties(height=260)
    )


def retention_chart(section: Section) -> alt.TopLevelMixin:
    base = alt.Chart(section.frame)
    order = list(outcomes.RETENTION_GROUPS.values())
    group_y = alt.Y("group_label:N", sort=order, title=None, axis=alt.Axis(labelLimit=220))
    tooltip = [
        alt.Tooltip("group_label:N", title="Group"),
        alt.Tooltip("customers:Q", title="Customers 90+ days in"),
        alt.Tooltip("retained:Q", title="Retained"),
        alt.Tooltip("retention_pct:Q", title="Retention", format=".0%"),
        alt.Tooltip("first_month_spend_usd:Q", title="First-month spend", format="$,.2f"),
        alt.Tooltip("latest_spend_usd:Q", title="Last-30-days spend", format="$,.2f"),
        alt.Tooltip("spend_change_pct:Q", title="Spend change", format="+.0%"),
    ]
    bars = base.mark_bar().encode(
        y=group_y,
        x=alt.X(
            "retention_pct:Q",
            title="3-month logo retention",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format=".0%"),
        ),
        color=alt.condition(
            "datum.retention_pct >= datum.target_pct", alt.value(GOOD), alt.value(BAD)
        ),
        tooltip=tooltip,
    )
    # The target, drawn from the frame's own target_pct column.
    target = base.mark_rule(strokeDash=[6, 4], color="#151515", size=2).encode(
        x="max(target_pct):Q"
    )
    target_label = base.mark_text(align="center", dy=-8, fontWeight="bold").encode(
        x="max(target_pct):Q",
        y=alt.value(0),
        text=alt.value(f"Target {outcomes.RETENTION_TARGET:.0%}"),
    )
    spend = base.mark_bar().encode(
        y=group_y,
        x=alt.X(
            "spend_change_pct:Q",
            title="Spend change since the first month",
            axis=alt.Axis(format="+.0%"),
        ),
        color=alt.condition("datum.spend_change_pct < 0", alt.value(BAD), alt.value(GOOD)),
        tooltip=tooltip,
    )
    return alt.hconcat(
        (bars + target + target_label).properties(height=alt.Step(30), width=300),
        spend.properties(height=alt.Step(30), width=260),
        title=_title(section),
        spacing=24,
    )


def team_chart(section: Section) -> alt.TopLevelMixin:
    base = alt.Chart(section.frame)
    owner_y = alt.Y("owner:N", title=None, sort="ascending")
    tooltip = [
        alt.Tooltip("owner:N", title="Owner"),
        alt.Tooltip("open_customers:Q", title="Open customers"),
        alt.Tooltip("overdue_customers:Q", title="Overdue"),
        alt.Tooltip("steps_due:Q", title="Steps due"),
        alt.Tooltip("steps_on_time:Q", title="Steps on time"),
        alt.Tooltip("on_time_pct:Q", title="On-time rate", format=".0%"),
    ]
    load = (
        base.transform_fold(["open_customers", "overdue_customers"], as_=["measure", "customers"])
        .transform_calculate(measure_label="datum.measure == 'open_customers' ? 'Open' : 'Overdue'")
        .mark_bar()
        .encode(
            y=owner_y,
            yOffset=alt.YOffset("measure_label:N", sort=["Open", "Overdue"]),
            x=alt.X("customers:Q", title="Customers"),
            color=alt.Color(
                "measure_label:N",
                scale=alt.Scale(domain=["Open", "Overdue"], range=[GOOD, BAD]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=tooltip,
        )
    )
    on_time = base.mark_bar(color=GOOD).encode(
        y=owner_y,
        x=alt.X(
            "on_time_pct:Q",
            title="On-time rate",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format=".0%"),
        ),
        tooltip=tooltip,
    )
    return alt.hconcat(
        load.properties(width=320, height=alt.Step(12)),
        on_time.properties(width=240, height=alt.Step(24)),
        title=_title(section),
    )


CHARTS = {
    "funnel": ("Program funnel", funnel_chart),
    "cohorts": ("Cohorts by entry month", cohorts_chart),
    "speed": ("Speed", speed_chart),
    "savings": ("Savings identified vs realised", savings_chart),
    "refunds": ("Refunds issued", refunds_chart),
    "retention": ("3-month retention and spend", retention_chart),
    "team": ("Team", team_chart),
}


def draw(section: Section, filters: Filters) -> None:
    heading, build = CHARTS[section.key]
    st.subheader(heading)
    if section.is_empty:
        st.info(section.empty_message or "Nothing to show.", icon=":material/info:")
        return
    st.altair_chart(
        # usermeta names the section in the spec (tests find each chart by it).
        build(section).properties(usermeta={"outcomes_section": section.key}),
        key=f"outcomes_chart_{section.key}",
        alt=section.title,
        width="stretch" if section.key not in ("retention", "team") else "content",
    )
    st.download_button(
        "Download the numbers (CSV)",
        data=outcomes.csv_bytes(section.frame),
        file_name=f"outcomes-{section.key}-{filters.entered_from}-{filters.entered_to}.csv",
        mime="text/csv",
        key=f"outcomes_csv_{section.key}",
        icon=":material/download:",
        on_click=telemetry.track,
        args=("outcomes_downloaded",),
        kwargs={"chart": section.key},
    )
    st.caption(outcomes.DEFINITIONS[section.key])


# --------------------------------------------------------------------- page


def choose_filters(data: OutcomesData) -> Filters:
    presets = outcomes.period_presets(data.as_of, data.first_entry)
    names = [*presets, CUSTOM_PERIOD]
    period, owners, reasons, plans = st.columns([1.2, 1, 1, 1])
    chosen = period.selectbox(
        "Customers who entered", names, index=names.index(DEFAULT_PERIOD), key="outcomes_period"
    )
    if chosen == CUSTOM_PERIOD:
        default_from = presets[DEFAULT_PERIOD].entered_from
        picked = period.date_input(
            "From - to",
            value=(default_from, data.as_of),
            max_value=data.as_of,
            key="outcomes_range",
        )
        if isinstance(picked, tuple) and len(picked) == 2:
            start, end = picked
        else:  # half-picked range: keep the default until the second date is chosen
            start, end = default_from, data.as_of
        base = Filters(start, end)
    else:
        base = presets[chosen]
    return Filters(
        entered_from=base.entered_from,
        entered_to=base.entered_to,
        owners=tuple(
            owners.multiselect(
                "Owner", data.choices("owner"), placeholder="All owners", key="outcomes_owners"
            )
        ),
        entry_reasons=tuple(
            reasons.multiselect(
                "Entry reason",
                data.choices("entry_reason"),
                format_func=lambda r: REASON_LABELS.get(r, r),
                placeholder="All reasons",
                key="outcomes_reasons",
            )
        ),
        plans=tuple(
            plans.multiselect(
                "Plan", data.choices("plan"), placeholder="All plans", key="outcomes_plans"
            )
        ),
    )


st.title("Program outcomes")
as_of = ui_data.as_of()
engine = ui_data.engine()
database = engine.url.render_as_string(hide_password=True)
data = _load(engine, database, as_of)
filters = choose_filters(data)
result = _compute(data, database, as_of, filters)
st.caption(
    f"Every chart covers the same customers: {filters.describe()}. As of {as_of.isoformat()}."
)

for column, (label, value) in zip(st.columns(len(result.headline)), result.headline, strict=True):
    column.metric(label, value)

draw(result.funnel, filters)
left, right = st.columns(2)
with left:
    draw(result.cohorts, filters)
with right:
    draw(result.speed, filters)
left, right = st.columns(2)
with left:
    draw(result.savings, filters)
with right:
    draw(result.refunds, filters)
draw(result.retention, filters)
draw(result.team, filters)
