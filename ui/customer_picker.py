"""A customer picker whose pick lives in the address (`?customer=`): a link shows its
customer, and the signed-in owner's customers are listed first."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from lib.program import portfolio
from lib.program.report import CustomerReport
from ui import labels

ADDRESS_KEY = "customer"


def _pick_to_address(picker: str) -> None:
    # The address follows the pick, so it can be shared and a rerun keeps it.
    picked = st.session_state.get(picker)
    if picked:
        st.query_params[ADDRESS_KEY] = picked
    else:
        st.query_params.pop(ADDRESS_KEY, None)


def pick(reports: Sequence[CustomerReport], username: str, key: str) -> str | None:
    """The picked customer id (None until one is picked). The widget's key is
    `f"{key}:{the address's customer or ''}"`."""
    names = portfolio.picker_labels(reports, username)
    # The address names the customer (a shared link, or the last pick), and the picker's
    # key carries it: a new address makes a new picker that shows its customer from its
    # first render. (One long-lived picker whose state the page set now and then stayed
    # empty in the browser after a sign-in while the server had the customer.)
    wanted = st.query_params.get(ADDRESS_KEY)
    if wanted is not None and wanted not in names:
        st.warning(
            f"No customer has the id {labels.md(wanted)}: pick one below.",
            icon=":material/search_off:",
        )
        wanted = None
    options = list(names)
    picker = f"{key}:{wanted or ''}"
    picked: str | None = st.selectbox(
        "Customer",
        options,
        format_func=names.__getitem__,
        index=options.index(wanted) if wanted else None,
        placeholder="Pick a customer (yours are listed first)",
        key=picker,
        on_change=_pick_to_address,
        args=(picker,),
    )
    return picked
