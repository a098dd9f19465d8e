"""The Outcomes page's widgets around the charts: the headline numbers beside the previous
period's, and the ways from a chart to the customers behind it (links to the Customers
page with its URL filters: lib.outcomes.links)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from lib import labels, outcomes
from lib.outcomes import Link, Metric, Section
from lib.outcomes.links import owner_link, stage_link

CUSTOMERS_PAGE = "app_pages/customers.py"
PER_ROW = 3  # headline numbers a row: their labels name the group, so they need the room


def headline(metrics: Sequence[Metric]) -> None:
    """Each number with its change since the previous period ("+5 pts vs 35% last period")."""
    for start in range(0, len(metrics), PER_ROW):
        row = metrics[start : start + PER_ROW]
        for column, metric in zip(st.columns(PER_ROW), row, strict=False):
            column.metric(
                metric.label,
                metric.value,
                delta=metric.delta,
                delta_color="off" if metric.key == "entrants" else "normal",
                delta_description=(
                    f"vs {labels.md(metric.previous)} last period" if metric.previous else None
                ),
                help=labels.md(metric.help),
                border=True,
            )
            if metric.group:  # whom the rate counts, in words that wrap at any width
                column.caption(labels.md(metric.group))


def link(item: Link) -> None:
    st.page_link(
        CUSTOMERS_PAGE,
        label=labels.md(item.label),
        icon=":material/groups:",
        query_params=item.query,
        help="Opens the Customers page filtered to them (every entry date).",
    )


def links(section: Section) -> None:
    """The customers behind the chart's bars, one link a group (none when the Customers
    page cannot filter them)."""
    found = outcomes.section_links(section)
    if not found:
        return
    with st.expander("The customers behind this chart", icon=":material/groups:"):
        for item in found:
            link(item)


def picked(section: Section, event: Any) -> None:
    """A bar clicked in a chart (its PICK selection): a link to the customers behind it."""
    points = (getattr(event, "selection", None) or {}).get("pick") or []
    if not points:
        return
    point = points[0]
    if section.key == "stages" and point.get("stage") in outcomes.END_GROUPS:
        link(stage_link(str(point["stage"])))
    elif section.key == "team" and point.get("owner"):
        link(owner_link(str(point["owner"])))


def team_table(section: Section) -> None:
    """Each owner's row with links to their customers and to their overdue ones."""
    st.dataframe(
        outcomes.team_table(section),
        hide_index=True,
        width="stretch",
        key="outcomes_team_table",
        column_config={
            "Customers": st.column_config.LinkColumn(
                "Customers", display_text="Open list", help="The owner's customers"
            ),
            "Overdue customers": st.column_config.LinkColumn(
                "Overdue customers",
                display_text="Open overdue",
                help="The owner's customers with an overdue next action",
            ),
            "On-time rate": st.column_config.TextColumn(
                "On-time rate", help="Steps done inside their window (n = steps that came due)"
            ),
        },
    )
