"""Outcomes: what leadership asks of the program, one chart per question.

Read the filters -> lib.outcomes.compute -> draw (ui.charts). Each chart is drawn
from its section's frame, and the CSV offered under it is that same frame.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
from typing import Any

import pandas as pd
import streamlit as st

from lib import csv_safe, labels, outcomes
from lib.outcomes import Filters, Outcomes, OutcomesData, Section
from lib.refunds import store as refund_store
from ui import charts, outcomes_view, telemetry
from ui import data as ui_data

CUSTOM_PERIOD = "Custom range"
VIEWS = ("Progress", "Money", "Retention and team")  # the page's tabs (?view=...)
DEFAULT_PERIOD = "Last 6 months"


# Shared read-only objects (ui.data.shared): a rerun neither unpickles the data
# nor recomputes the outcomes; any write in the app drops them (ui.data.changed).
@ui_data.shared(ttl=300, max_entries=4, show_spinner="Reading the program's history...")
def _load(database: str, as_of: dt.date) -> OutcomesData:
    # `database` keys the cache: the app's database, which ui.data.reading() opens.
    with ui_data.reading() as session:
        return outcomes.load(session, as_of)


@ui_data.shared(ttl=300, max_entries=16)
def _compute(_data: OutcomesData, database: str, as_of: dt.date, filters: Filters) -> Outcomes:
    # The same data (database, as-of) and filters give the same outcomes: a rerun
    # does not recompute every customer's timeline (~0.6 s at 10,000 customers).
    result = outcomes.compute(_data, filters)
    # The per customer x step frame behind the charts (~30 MB at 10,000 customers)
    # is not drawn: the cache keeps the sections only.
    return dataclasses.replace(result, progress=result.progress.iloc[:0].copy())


@ui_data.shared(ttl=300, max_entries=4)
def _refunds(database: str) -> pd.DataFrame:
    # Every refund as refunds.csv rows (the import's format): few rows, read once.
    with ui_data.reading() as session:
        return refund_store.export_frame(session)


def refunds_download(data: OutcomesData, filters: Filters, database: str) -> None:
    """Every refund of the selected customers, one row each, in refunds.csv's format."""
    every = _refunds(database)
    chosen = every[every["customer_id"].isin(set(filters.select(data.customers)["customer_id"]))]
    if chosen.empty:
        return
    st.download_button(
        f"Download every refund ({len(chosen)}, CSV)",
        data=csv_safe.to_safe_csv(chosen),
        file_name=f"refunds-{filters.entered_from}-{filters.entered_to}.csv",
        mime="text/csv",
        key="outcomes_refunds_every",
        icon=":material/download:",
        on_click=telemetry.track,
        args=("outcomes_downloaded",),
        kwargs={"chart": "refunds_every"},
        help="One row per refund, any status, with its dates, people, reasons and "
        "reference: the columns refunds.csv imports.",
    )


# Each drawn section's charts as Vega-Lite specs (ui.charts.specs), keyed like _compute
# whose section it is: a rerun neither builds the Altair charts nor validates their specs
# again (~0.6 s a rerun at 300 customers). Any write drops them (ui.data.changed).
@ui_data.shared(ttl=300, max_entries=16 * len(charts.CHARTS))
def _specs(
    _section: Section, database: str, as_of: dt.date, filters: Filters, key: str
) -> list[dict[str, Any]]:
    return charts.specs(_section)


def draw(section: Section, filters: Filters, database: str, as_of: dt.date) -> None:
    heading = charts.CHARTS[section.key][0]
    st.subheader(heading)
    if section.is_empty:
        st.info(section.empty_message or "Nothing to show.", icon=":material/info:")
        return
    # The finding in words, above the chart: HTML wraps it at any width.
    st.markdown(f"**{labels.md(section.title)}**")
    for part, spec in enumerate(_specs(section, database, as_of, filters, section.key)):
        clickable = section.key in charts.CLICKABLE and part == 0
        event = st.vega_lite_chart(
            # A copy: Streamlit edits the spec it is given (legend titles), the cache's stays.
            spec=copy.deepcopy(spec),
            key=f"outcomes_chart_{section.key}_{part}",
            alt=section.title,
            width="stretch",
            on_select="rerun" if clickable else "ignore",
            selection_mode=charts.PICK if clickable else None,
        )
        if clickable:
            outcomes_view.picked(section, event)
    if section.key == "team":
        outcomes_view.team_table(section)
    else:
        outcomes_view.links(section)
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
                format_func=lambda r: labels.label("entry_reason", r),
                placeholder="All reasons",
                key="outcomes_reasons",
            )
        ),
        plans=tuple(
            plans.multiselect(
                "Plan",
                data.choices("plan"),
                format_func=lambda p: labels.label("plan", p),
                placeholder="All plans",
                key="outcomes_plans",
            )
        ),
    )


st.title("Program outcomes")
as_of = ui_data.as_of()
database = ui_data.engine().url.render_as_string(hide_password=True)
data = _load(database, as_of)
filters = choose_filters(data)
result = _compute(data, database, as_of, filters)
before = _compute(data, database, as_of, filters.previous())
st.caption(
    f"Every chart covers the same customers: {labels.md(filters.describe())}. "
    f"As of {as_of.isoformat()}. Beside each number: the change since the previous period "
    f"(entered {before.filters.entered_from.isoformat()} to "
    f"{before.filters.entered_to.isoformat()}, the same length just before)."
)
outcomes_view.headline(outcomes.headline(result, before))

# Three tabs, the open one drawn (and in the URL: /outcomes?view=Money): a view holds
# three or four charts, so a click waits for those only. Wide charts (long axis labels,
# many bars, legends of long names) get the full width; compact ones share a row, so
# each reads at 1024 px as at 1440 px.
show = functools.partial(draw, filters=filters, database=database, as_of=as_of)
tabs = dict(
    zip(VIEWS, st.tabs(VIEWS, key="view", bind="query-params", default=VIEWS[0]), strict=True)
)
with tabs["Progress"]:
    if tabs["Progress"].open:
        show(result.funnel)
        show(result.cohorts)
        left, right = st.columns(2)
        with left:
            show(result.speed)
        with right:
            show(result.response)
with tabs["Money"]:
    if tabs["Money"].open:
        left, right = st.columns(2)
        with left:
            show(result.savings)
        with right:
            show(result.refunds)
            refunds_download(data, filters, database)
with tabs["Retention and team"]:
    if tabs["Retention and team"].open:
        show(result.retention)
        show(result.stages)
        show(result.team)
