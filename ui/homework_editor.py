"""The homework builder's Build tab: ranked suggestions, the whole library, a task of the
owner's own, and the draft list (reorder, reword, remove).

Its expanders keep their state (a key, on_change="rerun"): one opened stays open after
each change, however the page moved (a notice above, a task moved up)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from lib import homework
from lib.vocabulary import PRODUCT_LABELS
from ui import actions, labels

ACTION = "build homework"


def draw(
    customer_id: str,
    items: Sequence[homework.AssignmentView],
    suggestions: Sequence[homework.Suggestion],
    library: homework.Library,
    can_write: bool,
) -> None:
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.subheader("Suggested", anchor=False)
        st.caption(
            "Ranked by the open findings, the goals from the second call and the products "
            "in use. Tasks the data already shows done are at the bottom."
        )
        for suggestion in suggestions:
            _suggestion(customer_id, suggestion, library, can_write)
        _library(customer_id, {i.task_id for i in items}, library, can_write)
        if can_write:
            _own_task(customer_id)
    with right:
        st.subheader("This customer's homework", anchor=False)
        drafts = [i for i in items if i.status == "draft"]
        if not drafts:
            st.caption("Nothing in the draft yet: add suggestions on the left.")
        for number, item in enumerate(drafts, start=1):
            _draft(number, item, can_write)


def _add(customer_id: str, task: homework.Task, library: homework.Library) -> None:
    actions.apply(
        ACTION,
        f"Added: {labels.md(task.title)}",
        lambda session: homework.add(session, customer_id, task.id, library=library),
    )


def _suggestion(
    customer_id: str,
    suggestion: homework.Suggestion,
    library: homework.Library,
    can_write: bool,
) -> None:
    task = suggestion.task
    with st.container(border=True):
        st.markdown(f"**{labels.md(task.title)}**")
        st.caption(labels.md("; ".join(suggestion.reasons) or "general good practice"))
        if suggestion.already_true:
            st.caption(f":green[Already true: {labels.md(suggestion.already_true)}]")
        if can_write and st.button(
            "Add", key=f"hw_add_{task.id}", icon=":material/add:", type="tertiary"
        ):
            _add(customer_id, task, library)


def _library(customer_id: str, taken: set[str], library: homework.Library, can_write: bool) -> None:
    with st.expander("The whole library", key="hw_open_library", on_change="rerun"):
        products = st.multiselect(
            "Product",
            list(PRODUCT_LABELS),
            format_func=PRODUCT_LABELS.__getitem__,
            key="hw_lib_products",
        )
        cases = st.multiselect("Use case", list(library.use_cases), key="hw_lib_cases")
        titles = {t.id: t.title for t in library.browse(products, cases, exclude=taken)}
        pick = st.selectbox(
            "Task", list(titles), format_func=titles.__getitem__, index=None, key="hw_lib_pick"
        )
        task = library.get(pick) if pick else None
        if task is None:
            return
        st.markdown(labels.markdown(task.body()))
        st.caption(f"Shows in the data: {task.shows_in}")
        if can_write and st.button("Add this task", key="hw_lib_add"):
            _add(customer_id, task, library)


def _own_task(customer_id: str) -> None:
    with st.expander("A task of your own", key="hw_open_custom", on_change="rerun"):
        title = st.text_input("Title", key="hw_custom_title")
        body = st.text_area("What to do (Markdown)", key="hw_custom_body")
        if st.button("Add my task", key="hw_custom_add"):
            actions.apply(
                ACTION,
                f"Added: {labels.md(title)}",
                lambda session: homework.add(
                    session, customer_id, homework.CUSTOM_TASK, title=title, body=body
                ),
            )


def _draft(number: int, item: homework.AssignmentView, can_write: bool) -> None:
    with st.container(border=True):
        cells = st.columns([6, 1, 1, 1], vertical_alignment="center")
        cells[0].markdown(f"**{number}. {labels.md(item.title)}**")
        if not can_write:
            return
        seen = f"hw_{item.id}"
        shown = actions.base(seen, item.version)  # the item as the page showed it
        actions.conflict(seen)
        if cells[1].button("", key=f"hw_up_{item.id}", icon=":material/arrow_upward:", help="Up"):
            actions.apply(
                ACTION,
                "Moved up.",
                lambda session: homework.move(session, item.id, -1, version=shown),
                seen=seen,
            )
        if cells[2].button(
            "", key=f"hw_down_{item.id}", icon=":material/arrow_downward:", help="Down"
        ):
            actions.apply(
                ACTION,
                "Moved down.",
                lambda session: homework.move(session, item.id, 1, version=shown),
                seen=seen,
            )
        if cells[3].button("", key=f"hw_del_{item.id}", icon=":material/delete:", help="Remove"):
            actions.apply(
                ACTION,
                f"Removed: {labels.md(item.title)}",
                lambda session: homework.remove(session, item.id, version=shown),
                seen=seen,
            )
        with st.expander("Edit the wording", key=f"hw_open_{item.id}", on_change="rerun"):
            title = st.text_input(
                "Title", value=item.title, key=f"hw_title_{item.id}", persist_state="session"
            )
            body = st.text_area(
                "Text (Markdown)",
                value=item.body,
                height=180,
                key=f"hw_body_{item.id}",
                persist_state="session",
            )
            if st.button("Save wording", key=f"hw_save_{item.id}"):
                actions.apply(
                    ACTION,
                    "Wording saved.",
                    lambda session: homework.edit(session, item.id, title, body, version=shown),
                    seen=seen,
                )
