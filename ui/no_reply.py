"""Today's "skip to final outreach": the owner's customers who have not answered the initial
outreach after data/program.toml's days (lib.program.worklist.no_reply_of), with one click
that records the calls and homework skipped (lib.program.stage_store), and its undo."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar

import streamlit as st

from lib.errors import UserError
from lib.program import stage_store, step_store, worklist
from ui import access, labels

T = TypeVar("T")
LAST_SKIP = "today_last_skip"
CAP = 10  # rows drawn until "Show all": the longest waiting, a morning's worth of skips


def no_reply_section(
    work: worklist.Worklist, owner: str | None, on: dt.date, can_write: bool
) -> None:
    waiting = work.no_reply
    last = st.session_state.get(LAST_SKIP)
    title = f"No reply: skip to final outreach ({len(waiting)})"
    with st.expander(title, icon=":material/fast_forward:", expanded=bool(waiting or last)):
        if last:
            undo_row(last)
        if not waiting:
            st.caption(
                f"Every customer whose initial outreach went out {work.no_reply_days}+ days ago "
                "has replied or moved on."
            )
            return
        st.caption(
            f"No reply {work.no_reply_days}+ days after the initial outreach and no later step: "
            "record the calls and homework skipped, so the final outreach is next."
        )
        shown = capped(waiting, "today_noreply_all", "longest waiting first")
        clicked: worklist.NoReply | None = None
        for item in shown:
            row = st.columns([2.6, 3.2, 2.2], vertical_alignment="center")
            row[0].page_link(
                "app_pages/customer.py",
                label=labels.md(item.name),
                icon=":material/open_in_new:",
                query_params={"id": item.customer_id, "tab": "Emails"},
            )
            if owner is None or item.owner != owner:
                row[0].caption(f"owner: {labels.md(item.owner or 'nobody')}")
            row[1].markdown(
                f"Week {item.program_week} · outreach {labels.short_day(item.outreach_on, work.as_of)}"
                f", {item.days} days without a reply"
            )
            if can_write and row[2].button(
                "Skip to final outreach",
                key=f"today_skip_{item.customer_id}",
                icon=":material/fast_forward:",
                width="stretch",
            ):
                clicked = item
        if clicked is not None:
            skip(clicked, on)


def capped(rows: Sequence[T], key: str, order: str, cap: int = CAP) -> Sequence[T]:
    """The first `cap` rows, or all of them once the "Show all" toggle `key` is on; says
    how many are shown (the heading has the total)."""
    if len(rows) <= cap:
        return rows
    every = st.toggle(f"Show all {len(rows)}", key=key)
    if not every:
        st.caption(f"Showing {cap:d} of {len(rows)}, {labels.md(order)}.")
    return rows if every else rows[:cap]


def skip(item: worklist.NoReply, on: dt.date) -> None:
    try:
        with access.writing("skip to the final outreach") as session:
            before = stage_store.skip_to_final(session, item.customer_id, on)
    except UserError as error:
        st.error(labels.md(error), icon=":material/error:")
        return
    st.session_state[LAST_SKIP] = {
        "customer_id": item.customer_id,
        "name": item.name,
        "on": on,
        "before": before,
    }
    st.rerun()


def undo_row(last: dict[str, object]) -> None:
    note, undo = st.columns([6, 1], vertical_alignment="center")
    day = last["on"]
    note.success(
        f"Skipped to the final outreach for {labels.md(last['name'])} "
        f"on {labels.day(day if isinstance(day, dt.date) else None)}.",
        icon=":material/check_circle:",
    )
    if undo.button("Undo", key="today_skip_undo", icon=":material/undo:", width="stretch"):
        before = last["before"]
        assert isinstance(before, dict)
        with access.writing("undo a skip to the final outreach") as session:
            for step, previous in before.items():
                step_store.restore(session, str(last["customer_id"]), step, previous)
        del st.session_state[LAST_SKIP]
        st.rerun()
