"""The Outcomes page's Altair charts: one function a section, each drawn from the
section's frame alone (the CSV under the chart is that same frame)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import altair as alt

from lib import labels, outcomes
from lib.outcomes import Section
from lib.program import timeline

STEP_ORDER = [labels.label("step", step) for step in timeline.STEPS]
AnyChart = alt.Chart | alt.LayerChart | alt.HConcatChart
GOOD, LATE, NONE, BAD = "#1D4AFF", "#F9BD2B", "#C9CCD4", "#F54E00"


def _title(section: Section) -> alt.TitleParams:
    # Vega-Lite titles do not wrap; half-width charts fit about 60 characters a line.
    lines = textwrap.wrap(section.title, width=60) or [section.title]
    return alt.TitleParams(text=lines, anchor="start", fontSize=15, offset=12)


def funnel_chart(section: Section) -> alt.Chart:
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


def cohorts_chart(section: Section) -> alt.LayerChart:
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


def speed_chart(section: Section) -> alt.Chart:
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


def savings_chart(section: Section) -> alt.Chart:
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


def refunds_chart(section: Section) -> alt.Chart:
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


def retention_chart(section: Section) -> alt.HConcatChart:
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


def team_chart(section: Section) -> alt.HConcatChart:
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


def response_chart(section: Section) -> alt.LayerChart:
    base = alt.Chart(section.frame)
    tooltip = [
        alt.Tooltip("entry_month:O", title="Entry month"),
        alt.Tooltip("outreach_sent:Q", title="Initial outreach sent"),
        alt.Tooltip("replied:Q", title="Replied"),
        alt.Tooltip("response_pct:Q", title="Response rate", format=".0%"),
        alt.Tooltip("benchmark_pct:Q", title="Handbook benchmark", format=".0%"),
    ]
    bars = base.mark_bar().encode(
        x=alt.X("entry_month:O", title="Entry month", axis=alt.Axis(labelAngle=0)),
        y=alt.Y(
            "response_pct:Q",
            title="Replied to the initial outreach",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format=".0%"),
        ),
        color=alt.condition(
            "datum.response_pct >= datum.benchmark_pct", alt.value(GOOD), alt.value(BAD)
        ),
        tooltip=tooltip,
    )
    # The benchmark, drawn from the frame's own benchmark_pct column.
    benchmark = base.mark_rule(strokeDash=[6, 4], color="#151515", size=2).encode(
        y="max(benchmark_pct):Q"
    )
    label = base.mark_text(align="left", dx=4, dy=-8, fontWeight="bold").encode(
        y="max(benchmark_pct):Q",
        x=alt.value(0),
        text=alt.value("Handbook benchmark"),
    )
    return (bars + benchmark + label).properties(title=_title(section), height=260)


STAGE_COLOURS = ["#2F9E44", "#F9BD2B", "#1D4AFF", "#F54E00", NONE]


def stages_chart(section: Section) -> alt.Chart:
    order = list(outcomes.END_GROUPS.values())
    return (
        alt.Chart(section.frame, title=_title(section))
        .transform_calculate(stage_order=f"indexof({order!r}, datum.stage_label)")
        .mark_bar()
        .encode(
            y=alt.Y("entry_month:O", title="Entry month"),
            x=alt.X(
                "share_pct:Q",
                stack="zero",
                title="Share of the month's entrants",
                axis=alt.Axis(format=".0%"),
            ),
            color=alt.Color(
                "stage_label:N",
                scale=alt.Scale(domain=order, range=STAGE_COLOURS),
                legend=alt.Legend(title=None, orient="bottom", columns=3),
            ),
            order=alt.Order("stage_order:Q"),
            tooltip=[
                alt.Tooltip("entry_month:O", title="Entry month"),
                alt.Tooltip("stage_label:N", title="Stage"),
                alt.Tooltip("customers:Q", title="Customers"),
                alt.Tooltip("entrants:Q", title="Entrants"),
                alt.Tooltip("share_pct:Q", title="Share", format=".0%"),
            ],
        )
        .properties(height=alt.Step(28))
    )


# Each section's heading on the page and the function that draws its chart.
CHARTS: dict[str, tuple[str, Callable[[Section], AnyChart]]] = {
    "funnel": ("Program funnel", funnel_chart),
    "cohorts": ("Cohorts by entry month", cohorts_chart),
    "speed": ("Speed", speed_chart),
    "savings": ("Savings identified vs realised", savings_chart),
    "refunds": ("Refunds issued", refunds_chart),
    "retention": ("3-month retention and spend", retention_chart),
    "response": ("Response to the initial outreach", response_chart),
    "stages": ("End stages by cohort", stages_chart),
    "team": ("Team", team_chart),
}
