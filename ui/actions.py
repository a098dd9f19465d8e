"""Writes from a page: run the change as the signed-in user, then say so after the rerun.

    actions.apply("record a step", "Initial outreach recorded as sent.",
                  lambda session: step_store.record(session, ...))

A refused change (lib.errors.UserError) is shown where it happened and nothing
is written; anything else is a bug and reaches ui.errors.friendly.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy.orm import Session

from lib.errors import UserError
from ui import access, labels

_NOTICE_KEY = "_action_notice"


def apply(
    action: str,
    notice: str,
    change: Callable[[Session], object],
    roles: tuple[str, ...] = access.TEAM_WRITERS,
) -> bool:
    """Run `change` in one write transaction; on success keep `notice` for the next run
    and rerun. Returns False (after showing the error) when the change was refused."""
    try:
        with access.writing(action, roles) as session:
            change(session)
    except UserError as error:
        st.error(labels.markdown(error), icon=":material/error:")
        return False
    post(notice)
    st.rerun()


def post(notice: str) -> None:
    """Keep a notice to show on the next run (after st.rerun)."""
    st.session_state[_NOTICE_KEY] = notice


def show_notice() -> None:
    """Show (once) the notice the last change left, if any."""
    notice = st.session_state.pop(_NOTICE_KEY, None)
    if notice:
        st.success(labels.markdown(notice), icon=":material/check_circle:")
