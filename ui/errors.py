"""No raw tracebacks on screen: a friendly message saying what to do, details in the log."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.exc import InterfaceError, OperationalError

from ui import access, labels

logger = logging.getLogger("onboarding.ui")


def database_unreachable() -> str:
    """Log the exception being handled; the message that says what to check."""
    reference = secrets.token_hex(4)
    logger.exception("database unreachable [%s]", reference)
    return (
        "The database cannot be reached right now. Check that it is running and that "
        "ONBOARDING_DATABASE_URL (or --db) points at it, then reload the page. "
        f"Reference for the server log: {reference}."
    )


@contextmanager
def friendly() -> Iterator[None]:
    """Catch what a page raises; Streamlit's own control flow (rerun, stop,
    switch_page) passes through, as it derives from BaseException."""
    try:
        yield
    except access.Forbidden as error:
        st.error(labels.md(error), icon=":material/block:")
    except (OperationalError, InterfaceError):
        st.error(database_unreachable(), icon=":material/cloud_off:")
    except Exception:
        reference = secrets.token_hex(4)
        logger.exception("page failed [%s]", reference)
        st.error(
            "Something went wrong on this page. Reload it and try again; if it happens again, "
            f"give an admin this reference (the details are in the server log): {reference}.",
            icon=":material/error:",
        )
