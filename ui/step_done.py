"""One click marks an email step done (Today's rows, the customer page's next step), with
Undo: the step recorded and what it replaced stay in the session until undone."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib.program import step_store, timeline, worklist
from ui import access, labels, telemetry


def record(key: str, customer_id: str, name: str, step: str, on: dt.date, source: str) -> None:
    """Record `step` done on `on`, remember it under `key` for Undo, and rerun."""
    label = timeline.STEP_LABELS[step]
    with access.writing(f"record {label.lower()} as done") as session:
        previous = step_store.record(session, customer_id, step, "done", on)
    telemetry.track(
        "step_recorded", customer_id=customer_id, step=step, status="done", source=source
    )
    st.session_state[key] = {
        "customer_id": customer_id,
        "name": name,
        "step": step,
        "label": worklist.ONE_CLICK_DONE[step],
        "on": on,
        "previous": previous,
    }
    st.rerun()


def undo_bar(key: str, button_key: str, customer_id: str | None = None) -> None:
    """What the last click recorded, with Undo (only for `customer_id` when given; the
    customer's name is said when it is not)."""
    last = st.session_state.get(key)
    if not last or (customer_id is not None and last["customer_id"] != customer_id):
        return
    note, undo = st.columns([6, 1], vertical_alignment="center")
    note.success(
        f"{labels.md(last['label'])} recorded on {labels.day(last['on'])}."
        if customer_id is not None
        else f"{labels.md(last['label'])} recorded for {labels.md(last['name'])} "
        f"on {labels.day(last['on'])}.",
        icon=":material/check_circle:",
    )
    if undo.button("Undo", key=button_key, icon=":material/undo:", width="stretch"):
        with access.writing("undo a recorded step") as session:
            step_store.restore(session, last["customer_id"], last["step"], last["previous"])
        del st.session_state[key]
        st.rerun()
