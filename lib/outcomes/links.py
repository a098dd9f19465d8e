"""From a chart to the customers behind it: the Customers page's URL filters (pure).

The contract (the Customers page reads it): customers?owner=NAME&stage=CODE&status=CODE
&health=CODE&overdue=1&q=TEXT, each optional, lists comma-separated. The Customers page
has no entry-date filter, so a link lists those customers whatever their entry date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pandas as pd

from lib import labels
from lib.outcomes.engagement import END_GROUPS, IN_PROGRAM
from lib.outcomes.section import Section
from lib.vocabulary import END_STAGES, STAGES

CUSTOMERS_PATH = "customers"  # the Customers page's address, relative to the app's root
IN_PROGRAM_STAGES: tuple[str, ...] = tuple(s for s in STAGES if s not in END_STAGES)


def customers_query(
    *,
    owner: Iterable[str] = (),
    stage: Iterable[str] = (),
    status: Iterable[str] = (),
    health: Iterable[str] = (),
    overdue: bool = False,
    q: str = "",
) -> dict[str, str]:
    """The Customers page's query parameters for these filters (empty ones left out)."""
    query: dict[str, str] = {}
    for name, values in (
        ("owner", owner),
        ("stage", stage),
        ("status", status),
        ("health", health),
    ):
        joined = ",".join(v for v in values if v)
        if joined:
            query[name] = joined
    if overdue:
        query["overdue"] = "1"
    if q:
        query["q"] = q
    return query


def customers_url(query: dict[str, str]) -> str:
    """A relative link to the Customers page with `query` ("customers?owner=dana")."""
    return (
        f"{CUSTOMERS_PATH}?{urlencode(query, safe=',', quote_via=quote)}"
        if query
        else CUSTOMERS_PATH
    )


@dataclass(frozen=True)
class Link:
    """One way from a chart to its customers: what it shows and the page's filters."""

    label: str
    query: dict[str, str]

    @property
    def url(self) -> str:
        return customers_url(self.query)


def stage_link(group: str) -> Link:
    """An end stage of the stages chart, or "still in the program" (every other stage)."""
    stages = IN_PROGRAM_STAGES if group == IN_PROGRAM else (group,)
    return Link(END_GROUPS[group], customers_query(stage=stages))


def owner_link(owner: str, overdue: bool = False) -> Link:
    text = f"{owner}: overdue customers" if overdue else f"{owner}: customers"
    return Link(text, customers_query(owner=(owner,), overdue=overdue))


def section_links(section: Section) -> list[Link]:
    """The customers behind a chart's bars, one link a bar group (none for a chart whose bars
    the Customers page cannot filter: speed, cohorts, money, retention, response)."""
    if section.is_empty:
        return []
    frame = section.frame
    if section.key == "funnel":
        return [
            Link(
                f"{labels.label('program_status', status)}",
                customers_query(status=(status,)),
            )
            for status in ("completed", "overdue", "churned")
        ]
    if section.key == "stages":
        shown = frame.groupby("stage")["customers"].sum()
        return [stage_link(group) for group in END_GROUPS if int(shown.get(group, 0))]
    if section.key == "team":
        return [owner_link(str(owner)) for owner in frame["owner"]]
    return []


def team_table(section: Section) -> pd.DataFrame:
    """The team chart's owners as rows, with links to each one's customers and overdue ones."""
    frame = section.frame
    return pd.DataFrame(
        {
            "Owner": frame["owner"],
            "Open": frame["open_customers"],
            "Overdue": frame["overdue_customers"],
            "On-time rate": frame["on_time_label"],
            "Customers": [owner_link(str(o)).url for o in frame["owner"]],
            "Overdue customers": [owner_link(str(o), overdue=True).url for o in frame["owner"]],
        }
    )
