"""Writes from a page: run the change as the signed-in user, then say so after the rerun.

    actions.apply("record a step", "Initial outreach recorded as sent.",
                  lambda session: step_store.record(session, ...))

A refused change (lib.errors.UserError) is shown where it happened and nothing
is written; anything else is a bug and reaches ui.errors.friendly.

Optimistic edits (docs/rules.md, "Concurrent edits"): `base(seen, current)` gives the
version the user's screen showed when they pressed save; `apply(..., seen=...)` keeps a
refused save's conflict on screen (`conflict(seen)`: the message and a reload button)
and the typed text in the form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st
from sqlalchemy.orm import Session

from lib.errors import Conflict, UserError
from ui import access, data, labels

_NOTICE_KEY = "_action_notice"
_SHOWN = "_shown_version_"  # what the last run showed of `seen`
_BASE = "_base_version_"  # what the run before showed: the base of a save in this run
_CONFLICT = "_conflict_"  # a refused save's message, until the user reloads
V = TypeVar("V")


def base(seen: str, current: V) -> V:
    """The version(s) of `seen` the user's screen showed when they pressed a button: what
    the previous run showed (a save reruns the page, which reads the new version first).
    Pinned while a conflict of theirs is on screen, so saving again is refused again
    until they reload."""
    shown: V = st.session_state.get(_SHOWN + seen, current)
    st.session_state[_BASE + seen] = shown
    if _CONFLICT + seen not in st.session_state:
        st.session_state[_SHOWN + seen] = current
    return shown


def conflict(seen: str) -> bool:
    """Show a refused save of `seen` (who changed it, what it is now) with a reload
    button; True while shown. Reloading keeps what the user typed in the form."""
    refused = st.session_state.get(_CONFLICT + seen)
    if refused is None:
        return False
    message, yours = refused
    st.warning(labels.md(message), icon=":material/sync_problem:")
    if yours:  # a field that may not show any more (a finding decided meanwhile)
        st.caption("What you typed, not saved:")
        st.code(yours, language=None, wrap_lines=True)
    if st.button("Reload what is saved now", key=f"reload_{seen}", icon=":material/refresh:"):
        reload(seen)
    return True


def reload(seen: str) -> None:
    """Forget the conflict and the version the form was based on; show what is stored."""
    st.session_state.pop(_CONFLICT + seen, None)
    st.session_state.pop(_SHOWN + seen, None)
    data.changed()
    st.rerun()


def apply(
    action: str,
    notice: str,
    change: Callable[[Session], object],
    roles: tuple[str, ...] = access.TEAM_WRITERS,
    seen: str | None = None,
    yours: str | None = None,
) -> bool:
    """Run `change` in one write transaction; on success keep `notice` for the next run
    and rerun. Returns False (after showing the error) when the change was refused. With
    `seen` (the key given to `base`), a conflict stays on screen until the user reloads,
    with `yours` (what they typed) when the field that held it may not show again."""
    try:
        with access.writing(action, roles) as session:
            change(session)
    except UserError as error:
        if seen is not None and isinstance(error, Conflict):
            st.session_state[_CONFLICT + seen] = (str(error), yours)
            st.session_state[_SHOWN + seen] = st.session_state.get(_BASE + seen)
            st.rerun()
        st.error(labels.md(error), icon=":material/error:")
        return False
    if seen is not None:
        st.session_state.pop(_SHOWN + seen, None)
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
