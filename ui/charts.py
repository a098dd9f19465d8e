"""The Outcomes page's Altair charts: one function a section, each drawing one or two
charts from the section's frame alone (the CSV under the chart is that same frame).

The finding in words is written above the chart by the page (HTML wraps it at any width);
every chart fills its container's width, so it reads the same at 1440 px and at 1024 px.
Charts whose bars lead to customers carry a point selection named PICK.

specs() turns a section's charts into the Vega-Lite specs st.altair_chart would send, so
the page can keep them (building and validating them is most of a rerun's time) and draw
them again with st.vega_lite_chart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import altair as alt

# st.altair_chart's own conversion (its data as Arrow datasets, Altair's default theme
# off, under Streamlit's lock on Altair's global settings): the specs are what it sends.
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from lib import labels, outcomes
from lib.outcomes import Section
from lib.program import timeline

STEP_ORDER = [labels.label("step", step) for step in timeline.STEPS]
GOOD, LATE, NONE, BAD = "#1D4AFF", "#F9BD2B", "#C9CCD4", "#F54E00"
PICK = "pick"  # the selection a click on a bar makes (st.altair_chart on_select)
LABEL_LIMIT = 260  # px of an axis label before it is cut with an ellipsis
MONTH_AXIS = alt.Axis(labelAngle=-40, labelOverlap=False)


def _legend(columns: int = 2) -> alt.Legend:
    # Below the chart, in columns: long labels wrap to rows instead of widening the chart.
    return alt.Legend(title=None, orient="bottom", columns=columns, labelLimit=LABEL_LIMIT)


def _bar_labels(base: alt.Chart, x: str, text: str, y: alt.Y, tooltip: list) -> alt.LayerChart:
    """A horizontal bar's text at its end: inside in white on a long bar, outside in black
    on a short one (a share on a 0-100% axis)."""
    inside = (
        base.transform_filter(f"datum.{x} >= 0.45")
        .mark_text(align="right", dx=-6, color="white", fontWeight="bold")
        .encode(y=y, x=f"{x}:Q", text=f"{text}:N", tooltip=tooltip)
    )
    outside = (
        base.transform_filter(f"datum.{x} < 0.45")
        .mark_text(align="left", dx=6, color="#151515", fontWeight="bold")
        .encode(y=y, x=f"{x}:Q", text=f"{text}:N", tooltip=tooltip)
    )
    return inside + outside


def funnel_chart(section: Section) -> list[alt.Chart]:
    chart = (
        alt.Chart(section.frame)
        .transform_fold(["on_time", "late", "not_reached"], as_=["timing", "customers"])
        .transform_calculate(
            timing_label="{'on_time': 'On time', 'late': 'Late', 'not_reached': 'Not reached'}"
            "[datum.timing]",
            timing_order="indexof(['on_time', 'late', 'not_reached'], datum.timing)",
        )
        .mark_bar()
        .encode(
            y=alt.Y(
                "step_label:N", sort=STEP_ORDER, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)
            ),
            x=alt.X("customers:Q", stack="zero", title="Customers who entered in the period"),
            color=alt.Color(
                "timing_label:N",
                scale=alt.Scale(
                    domain=["On time", "Late", "Not reached"], range=[GOOD, LATE, NONE]
                ),
                legend=_legend(3),
            ),
            order=alt.Order("timing_order:Q"),
            tooltip=[
                alt.Tooltip("step_label:N", title="Step"),
                alt.Tooltip("timing_label:N", title="Timing"),
                alt.Tooltip("customers:Q", title="Customers"),
                alt.Tooltip("entrants:Q", title="Entrants (n)"),
                alt.Tooltip("reached_pct:Q", title="Reached", format=".0%"),
                alt.Tooltip("on_time_pct:Q", title="On time", format=".0%"),
            ],
        )
        .properties(height=alt.Step(34))
    )
    return [chart]


def cohorts_chart(section: Section) -> list[alt.LayerChart]:
    base = alt.Chart(section.frame).encode(
        x=alt.X(
            "step_label:N",
            sort=STEP_ORDER,
            title=None,
            axis=alt.Axis(labelAngle=-30, labelOverlap=False, labelLimit=120),
        ),
        y=alt.Y(
            "month_label:O", title="Entry month (entrants)", axis=alt.Axis(labelLimit=LABEL_LIMIT)
        ),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "reached_pct:Q",
            scale=alt.Scale(domain=[0, 1], scheme="blues"),
            legend=alt.Legend(title="Reached", format=".0%", orient="bottom"),
        ),
        tooltip=[
            alt.Tooltip("entry_month:O", title="Entry month"),
            alt.Tooltip("step_label:N", title="Step"),
            alt.Tooltip("entrants:Q", title="Entrants (n)"),
            alt.Tooltip("reached:Q", title="Reached"),
            alt.Tooltip("on_time:Q", title="On time"),
            alt.Tooltip("reached_pct:Q", title="Reached %", format=".0%"),
            alt.Tooltip("on_time_pct:Q", title="On time %", format=".0%"),
        ],
    )
    text = (
        base.transform_calculate(
            label="format(datum.reached_pct, '.0%') + ' / ' + format(datum.on_time_pct, '.0%')"
        )
        .mark_text(fontSize=11)
        .encode(
            text="label:N",
            color=alt.condition("datum.reached_pct > 0.55", alt.value("white"), alt.value("black")),
        )
    )
    return [(cells + text).properties(height=alt.Step(32))]


def speed_chart(section: Section) -> list[alt.Chart]:
    chart = (
        alt.Chart(section.frame)
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
                axis=alt.Axis(labelLimit=LABEL_LIMIT),
            ),
            yOffset=alt.YOffset("measure_label:N", sort=["Median", "80th percentile"]),
            x=alt.X("days:Q", title="Days from entry"),
            color=alt.Color(
                "measure_label:N",
                scale=alt.Scale(domain=["Median", "80th percentile"], range=[GOOD, "#9AA7FF"]),
                legend=_legend(1),
            ),
            tooltip=[
                alt.Tooltip("milestone_label:N", title="Milestone"),
                alt.Tooltip("measure_label:N", title="Measure"),
                alt.Tooltip("days:Q", title="Days"),
                alt.Tooltip("customers:Q", title="Customers who reached it (n)"),
            ],
        )
        .properties(height=alt.Step(16))
    )
    return [chart]


def savings_chart(section: Section) -> list[alt.Chart]:
    chart = (
        alt.Chart(section.frame)
        .transform_fold(["identified_usd", "realised_usd"], as_=["measure", "usd"])
        .transform_calculate(
            measure_label="datum.measure == 'identified_usd' ? 'Identified' : 'Realised (fixed)'"
        )
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Month", axis=MONTH_AXIS),
            xOffset=alt.XOffset("measure_label:N", sort=["Identified", "Realised (fixed)"]),
            y=alt.Y("usd:Q", title="Monthly saving (USD)", axis=alt.Axis(format="$,.0f")),
            color=alt.Color(
                "measure_label:N",
                scale=alt.Scale(domain=["Identified", "Realised (fixed)"], range=[NONE, GOOD]),
                legend=_legend(1),
            ),
            tooltip=[
                alt.Tooltip("month:O", title="Month"),
                alt.Tooltip("measure_label:N", title="Measure"),
                alt.Tooltip("usd:Q", title="USD per month", format="$,.2f"),
                alt.Tooltip("findings_identified:Q", title="Findings identified"),
                alt.Tooltip("findings_fixed:Q", title="Findings fixed"),
            ],
        )
        .properties(height=300)
    )
    return [chart]


def refunds_chart(section: Section) -> list[alt.Chart]:
    chart = (
        alt.Chart(section.frame)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Month", axis=MONTH_AXIS),
            y=alt.Y(
                "amount_usd:Q", stack="zero", title="Refunded (USD)", axis=alt.Axis(format="$,.0f")
            ),
            color=alt.Color("scenario_label:N", title=None, legend=_legend(1)),
            tooltip=[
                alt.Tooltip("month:O", title="Month"),
                alt.Tooltip("scenario_label:N", title="Scenario"),
                alt.Tooltip("refunds:Q", title="Refunds"),
                alt.Tooltip("amount_usd:Q", title="Amount", format="$,.2f"),
            ],
        )
        .properties(height=300)
    )
    return [chart]


def _group_y() -> alt.Y:
    order = list(outcomes.RETENTION_GROUPS.values())
    return alt.Y("group_label:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))


def retention_chart(section: Section) -> list[alt.LayerChart | alt.Chart]:
    base = alt.Chart(section.frame)
    tooltip = [
        alt.Tooltip("group_label:N", title="Group"),
        alt.Tooltip("customers:Q", title="Customers 90+ days in (n)"),
        alt.Tooltip("retained:Q", title="Retained"),
        alt.Tooltip("retention_label:N", title="Retention"),
        alt.Tooltip("first_month_spend_usd:Q", title="First-month spend", format="$,.2f"),
        alt.Tooltip("latest_spend_usd:Q", title="Last-30-days spend", format="$,.2f"),
        alt.Tooltip("spend_change_pct:Q", title="Spend change", format="+.0%"),
    ]
    x = alt.X(
        "retention_pct:Q",
        title="3-month logo retention",
        scale=alt.Scale(domain=[0, 1]),
        axis=alt.Axis(format=".0%"),
    )
    bars = base.mark_bar().encode(
        y=_group_y(),
        x=x,
        color=alt.condition(
            "datum.retention_pct >= datum.target_pct", alt.value(GOOD), alt.value(BAD)
        ),
        tooltip=tooltip,
    )
    # The rate and its group size ("72% (n=25)", small groups marked) at the bar's end.
    sizes = _bar_labels(base, "retention_pct", "retention_label", _group_y(), tooltip)
    # The target, drawn from the frame's own target_pct column.
    target = base.mark_rule(strokeDash=[6, 4], color="#151515", size=2).encode(
        x="max(target_pct):Q"
    )
    target_label = base.mark_text(align="right", dx=-4, dy=-8, fontWeight="bold").encode(
        x="max(target_pct):Q",
        y=alt.value(0),
        text=alt.value(f"Target {outcomes.RETENTION_TARGET:.0%}"),
    )
    spend = base.mark_bar().encode(
        y=_group_y(),
        x=alt.X(
            "spend_change_pct:Q",
            title="Spend change since the first month",
            axis=alt.Axis(format="+.0%"),
        ),
        color=alt.condition("datum.spend_change_pct < 0", alt.value(BAD), alt.value(GOOD)),
        tooltip=tooltip,
    )
    return [
        (bars + sizes + target + target_label).properties(height=alt.Step(34)),
        spend.properties(height=alt.Step(26)),
    ]


def _owner_y() -> alt.Y:
    return alt.Y("owner:N", title=None, sort="ascending", axis=alt.Axis(labelLimit=LABEL_LIMIT))


def team_chart(section: Section) -> list[alt.Chart | alt.LayerChart]:
    base = alt.Chart(section.frame)
    pick = alt.selection_point(name=PICK, fields=["owner"])
    tooltip = [
        alt.Tooltip("owner:N", title="Owner"),
        alt.Tooltip("open_customers:Q", title="Open customers"),
        alt.Tooltip("overdue_customers:Q", title="Overdue"),
        alt.Tooltip("steps_due:Q", title="Steps due (n)"),
        alt.Tooltip("steps_on_time:Q", title="Steps on time"),
        alt.Tooltip("on_time_label:N", title="On-time rate"),
    ]
    load = (
        base.transform_fold(["open_customers", "overdue_customers"], as_=["measure", "customers"])
        .transform_calculate(measure_label="datum.measure == 'open_customers' ? 'Open' : 'Overdue'")
        .mark_bar(cursor="pointer")
        .encode(
            y=_owner_y(),
            yOffset=alt.YOffset("measure_label:N", sort=["Open", "Overdue"]),
            x=alt.X("customers:Q", title="Customers (click a bar to list them)"),
            color=alt.Color(
                "measure_label:N",
                scale=alt.Scale(domain=["Open", "Overdue"], range=[GOOD, BAD]),
                legend=_legend(),
            ),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
            tooltip=tooltip,
        )
        .add_params(pick)
    )
    x = alt.X(
        "on_time_pct:Q",
        title="On-time rate (n = steps that came due)",
        scale=alt.Scale(domain=[0, 1]),
        axis=alt.Axis(format=".0%"),
    )
    on_time = base.mark_bar(color=GOOD).encode(y=_owner_y(), x=x, tooltip=tooltip)
    rates = _bar_labels(base, "on_time_pct", "on_time_label", _owner_y(), tooltip)
    return [
        load.properties(height=alt.Step(12)),
        (on_time + rates).properties(height=alt.Step(26)),
    ]


def response_chart(section: Section) -> list[alt.LayerChart]:
    base = alt.Chart(section.frame)
    tooltip = [
        alt.Tooltip("entry_month:O", title="Entry month"),
        alt.Tooltip("outreach_sent:Q", title="Initial outreach sent (n)"),
        alt.Tooltip("replied:Q", title="Replied"),
        alt.Tooltip("response_label:N", title="Response rate"),
        alt.Tooltip("benchmark_pct:Q", title="Handbook benchmark", format=".0%"),
    ]
    y = alt.Y(
        "response_pct:Q",
        title="Replied to the initial outreach",
        scale=alt.Scale(domain=[0, 1]),
        axis=alt.Axis(format=".0%"),
    )
    bars = base.mark_bar().encode(
        x=alt.X("entry_month:O", title="Entry month", axis=MONTH_AXIS),
        y=y,
        color=alt.condition(
            "datum.response_pct >= datum.benchmark_pct", alt.value(GOOD), alt.value(BAD)
        ),
        tooltip=tooltip,
    )
    # Each month's group size inside the bar's foot: "n=11", "n=5, small group".
    sizes = (
        base.mark_text(angle=270, align="left", dx=4, color="white", fontSize=11)
        .encode(
            x=alt.X("entry_month:O"),
            y=alt.datum(0),
            text=alt.Text("size_label:N"),
            tooltip=tooltip,
        )
        .transform_calculate(
            size_label="'n=' + datum.outreach_sent + (datum.small_group ? ', small' : '')"
        )
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
    return [(bars + sizes + benchmark + label).properties(height=300)]


STAGE_COLOURS = ["#2F9E44", "#F9BD2B", "#1D4AFF", "#F54E00", NONE]


def stages_chart(section: Section) -> list[alt.Chart]:
    order = list(outcomes.END_GROUPS.values())
    pick = alt.selection_point(name=PICK, fields=["stage"])
    chart = (
        alt.Chart(section.frame)
        .transform_calculate(stage_order=f"indexof({order!r}, datum.stage_label)")
        .mark_bar(cursor="pointer")
        .encode(
            y=alt.Y(
                "month_label:O",
                title="Entry month (entrants)",
                axis=alt.Axis(labelLimit=LABEL_LIMIT),
            ),
            x=alt.X(
                "share_pct:Q",
                stack="zero",
                title="Share of the month's entrants (click a bar to list them)",
                axis=alt.Axis(format=".0%"),
            ),
            color=alt.Color(
                "stage_label:N",
                scale=alt.Scale(domain=order, range=STAGE_COLOURS),
                legend=_legend(1),
            ),
            order=alt.Order("stage_order:Q"),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
            tooltip=[
                alt.Tooltip("entry_month:O", title="Entry month"),
                alt.Tooltip("stage_label:N", title="Stage"),
                alt.Tooltip("customers:Q", title="Customers"),
                alt.Tooltip("entrants:Q", title="Entrants (n)"),
                alt.Tooltip("share_pct:Q", title="Share", format=".0%"),
            ],
        )
        .add_params(pick)
        .properties(height=alt.Step(28))
    )
    return [chart]


AnyChart = alt.Chart | alt.LayerChart
Build = Callable[[Section], Sequence[AnyChart]]

# Each section's heading on the page and the function that draws its charts.
CHARTS: dict[str, tuple[str, Build]] = {
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
# The sections a click on a bar leads from (their charts carry the PICK selection).
CLICKABLE: frozenset[str] = frozenset({"stages", "team"})


def specs(section: Section) -> list[dict[str, Any]]:
    """The section's charts as Vega-Lite spec dicts, each with its data as an Arrow dataset
    (exactly what st.altair_chart sends), for st.vega_lite_chart to draw."""
    _, build = CHARTS[section.key]
    return [
        # usermeta names the section in the spec (tests find each chart by it).
        _convert_altair_to_vega_lite_spec(
            chart.properties(usermeta={"outcomes_section": section.key, "outcomes_part": part})
        )
        for part, chart in enumerate(build(section))
    ]
