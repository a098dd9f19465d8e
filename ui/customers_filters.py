"""The Customers page's filters, kept in the URL so a view can be bookmarked and shared
(lib.program.views: /customers?owner=NAME&stage=CODE&status=CODE&health=CODE&overdue=1&q=).

The widgets start from the URL (a widget not on screen yet takes the URL's value) and write
their values back on every run; other query parameters are left alone."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import streamlit as st

from lib.program import portfolio, timeline, views
from lib.program.stage import STAGE_LABELS
from ui import labels

# view field -> the widget's key (the page tests set these)
KEYS: dict[str, str] = {
    "q": "customers_search",
    "owner": "customers_owner",
    "status": "customers_status",
    "stage": "customers_stage",
    "health": "customers_health",
    "next": "customers_next",
    "overdue": "customers_overdue",
    "findings": "customers_findings",
}


def _from_url(owners: list[str]) -> views.View:
    params = {name: st.query_params.get_all(name) for name in views.PARAMS}
    return views.parse(params, owners)


def _seed(owners: list[str]) -> None:
    """Give each filter not on screen yet the URL's value (a bookmark, a shared link)."""
    missing = [field for field, key in KEYS.items() if key not in st.session_state]
    if not missing:
        return
    wanted = _from_url(owners)
    for field in missing:
        value = getattr(wanted, field)
        st.session_state[KEYS[field]] = list(value) if isinstance(value, tuple) else value


def _to_url(view: views.View) -> None:
    """Write the view's parameters into the URL, dropping the ones it no longer has."""
    wanted = view.params()
    for name in views.PARAMS:
        value = wanted.get(name)
        current = st.query_params.get_all(name)
        if value is None:
            if current:
                del st.query_params[name]
        elif current != (value if isinstance(value, list) else [value]):
            st.query_params[name] = value


def filters(owners: list[str]) -> views.View:
    """Draw the filters (their values from the URL at first) and keep the URL in step."""
    _seed(owners)
    with st.container(border=True):
        first = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
        query = first[0].text_input(
            "Search", placeholder="Name, id or owner", key=KEYS["q"], icon=":material/search:"
        )
        owner = first[1].multiselect("Owner", owners, key=KEYS["owner"], placeholder="All")
        status = first[2].multiselect(
            "Program status",
            list(timeline.PROGRAM_STATUSES),
            format_func=lambda s: labels.label("program_status", s),
            key=KEYS["status"],
            placeholder="All",
        )
        stage = first[3].multiselect(
            "Stage",
            list(STAGE_LABELS),
            format_func=lambda s: labels.label("stage", s),
            key=KEYS["stage"],
            placeholder="All",
        )
        second = st.columns([2, 2, 1.5, 1.5], vertical_alignment="bottom")
        health = second[0].multiselect(
            "Health",
            list(portfolio.HEALTH_BANDS),
            format_func=lambda s: labels.label("health", s),
            key=KEYS["health"],
            placeholder="Any",
            help="Healthy: a score of 7-10; watch: 4 to under 7; at risk: under 4",
        )
        nxt = second[1].multiselect(
            "Next action",
            list(timeline.STEPS),
            format_func=labels.step,
            key=KEYS["next"],
            placeholder="Any",
        )
        overdue = second[2].toggle("Overdue only", key=KEYS["overdue"])
        findings = second[3].toggle("With findings only", key=KEYS["findings"])
    view = views.View(
        owner=tuple(owner),
        stage=tuple(stage),
        status=tuple(status),
        health=tuple(health),
        next=tuple(nxt),
        overdue=bool(overdue),
        findings=bool(findings),
        q=(query or "")[: views.MAX_QUERY_CHARS],
    )
    _to_url(view)
    return view


def link(view: views.View) -> str:
    """This view's address, to bookmark or share (relative when the browser's is unknown)."""
    query = urlencode(view.params(), doseq=True)
    here = st.context.url
    base = urlsplit(here)._replace(query="", fragment="").geturl() if here else "customers"
    return f"{base}?{query}" if query else base


def share(view: views.View) -> None:
    """The saved view: this page's URL, with a copy button."""
    with st.popover("Link to this view", icon=":material/link:"):
        st.caption(
            "The filters are in the address: bookmark it to save this view, or copy the "
            "link to share it (the copy button is at the right of the link)."
        )
        st.code(link(view), language=None, wrap_lines=True)
