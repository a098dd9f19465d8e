"""The customer page's Emails tab: the customer's conversation (every email of the program,
sent and received, newest first; text only, never HTML), checking the team's mailbox
for replies, "Customer replied" by hand, and the engagement stage with its override."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import streamlit as st

from lib import replies
from lib.errors import UserError
from lib.program import stage_store
from lib.program.report import CustomerReport
from lib.program.stage import STAGE_LABELS
from lib.replies.mailbox import SECRETS_SECTION
from lib.replies.matching import KIND_LABELS
from lib.vocabulary import STAGES
from ui import actions, data, labels, login

MAX_SHOWN = 50  # messages drawn; older ones stay in the database


def imap_settings() -> replies.ImapSettings | None:
    """The mailbox from the environment, else the secrets' [imap] (None: not configured);
    MailboxSettingsError when a value is unusable."""
    section: dict[str, Any]
    try:
        section = dict(st.secrets[SECRETS_SECTION])
    except (KeyError, FileNotFoundError):
        section = {}
    return replies.load(os.environ, section)


def mail_panel(rep: CustomerReport, as_of: dt.date, can_write: bool) -> None:
    """The stage, the reply actions, then the conversation."""
    stage_col, reply_col = st.columns(2, gap="large")
    with stage_col:
        stage_panel(rep, can_write)
    with reply_col:
        reply_actions(rep, as_of, can_write)
    st.divider()
    conversation(rep, can_write)


# ------------------------------------------------------------------ the stage


def stage_panel(rep: CustomerReport, can_write: bool) -> None:
    stage = rep.stage
    st.markdown(f"**Stage:** {labels.md(stage.label)}")
    st.caption(labels.md(stage.why))
    if stage.override is not None and stage.by_facts != stage.stage:
        st.caption(f"The recorded facts alone say: {labels.md(STAGE_LABELS[stage.by_facts])}")
    last = rep.last_customer_reply_on
    st.caption(f"Last reply from the customer: {labels.day(last) if last else 'none recorded'}")
    if not can_write:
        return
    with st.expander("Set the stage by hand", icon=":material/edit:"):
        with st.form("mail_stage", border=False):
            chosen = st.selectbox(
                "Stage",
                STAGES,
                index=STAGES.index(stage.stage),
                format_func=STAGE_LABELS.__getitem__,
                key="mail_stage_pick",
            )
            reason = st.text_input("Reason (required, kept in the log)", key="mail_stage_reason")
            if st.form_submit_button("Set the stage", icon=":material/flag:"):
                actions.apply(
                    "set a customer's stage",
                    f"Stage set to {STAGE_LABELS[chosen]}.",
                    lambda session: stage_store.set_override(
                        session, rep.customer_id, chosen, reason
                    ),
                )
        if stage.override is not None and st.button(
            "Let the facts decide again", key="mail_stage_clear", icon=":material/undo:"
        ):
            actions.apply(
                "clear a customer's stage",
                "The stage follows the recorded facts again.",
                lambda session: stage_store.clear_override(session, rep.customer_id),
            )


# ------------------------------------------------------------------ replies


def reply_actions(rep: CustomerReport, as_of: dt.date, can_write: bool) -> None:
    try:
        mailbox = imap_settings()
    except replies.MailboxSettingsError as error:
        st.warning(labels.md(error), icon=":material/mail_lock:")
        mailbox = None
    if mailbox is not None:
        st.caption(f"Replies arrive in {labels.md(mailbox.describe())}.")
        if can_write and st.button(
            "Check mailbox now", key="mail_check", icon=":material/move_to_inbox:"
        ):
            check_mailbox(mailbox, rep)
    else:
        st.caption(
            'No mailbox is connected (README, "Replies from a mailbox"): record a reply by hand.'
        )
    if not can_write:
        return
    today = max(as_of, dt.date.today())
    with st.form("mail_manual_reply", border=True, clear_on_submit=True):
        st.markdown("**Customer replied** (by phone, or no mailbox)")
        on = st.date_input(
            "They replied on", value=as_of, max_value=today, format="YYYY-MM-DD", key="mail_on"
        )
        note = st.text_area("What they said (optional)", key="mail_note")
        if st.form_submit_button("Customer replied", icon=":material/reply:"):
            actions.apply(
                "record a customer's reply",
                f"Reply recorded for {labels.md(rep.customer.name)} on {on}.",
                lambda session: replies.record_manual(session, rep.customer_id, on, today, note),
            )


def check_mailbox(mailbox: replies.ImapSettings, rep: CustomerReport) -> None:
    """Read the mailbox (nothing written if it cannot be read), then record what is new."""
    today = dt.date.today()
    logins = [user.email for user in login.users().values()]
    try:
        with st.spinner("Reading the mailbox..."):
            with data.reading() as session:
                known = replies.known(session, replies.team_addresses(mailbox, logins))
            found = replies.collect(mailbox, known, replies.default_since(today))
    except UserError as error:
        st.error(f"{labels.md(error)}; nothing was recorded.", icon=":material/error:")
        return
    mine = sum(1 for reply in found.new if reply.customer_id == rep.customer_id)
    actions.apply(
        "record customers' replies",
        f"Checked {found.checked} message(s) since {found.since}: {len(found.new)} new "
        f"repl{'y' if len(found.new) == 1 else 'ies'} recorded ({mine} from this customer).",
        lambda session: replies.record(session, found.new, today),
    )


# ------------------------------------------------------------------ the conversation


def conversation(rep: CustomerReport, can_write: bool) -> None:
    """Every email with this customer, newest first: who, when, what, the first lines; the
    full text on demand, as plain text."""
    with data.reading() as session:
        messages = replies.conversation(session, rep.customer_id)
    if not messages:
        st.info("No emails with this customer yet.", icon=":material/mail:")
        return
    st.caption(f"{len(messages)} email(s), newest first.")
    for message in messages[:MAX_SHOWN]:
        received = message.direction == "in"
        with st.container(border=True):
            icon = ":material/call_received:" if received else ":material/send:"
            kind = KIND_LABELS.get(message.kind, message.kind)
            st.markdown(
                f"{icon} **{labels.md(message.sender or '-')}** · {labels.day(message.on)} · "
                f"{labels.md(kind)}"
            )
            if message.subject:
                st.markdown(f"**{labels.md(message.subject)}**")
            if message.opening:
                st.text(message.opening)
            if message.text and message.text.strip() != message.opening:
                with st.expander("Full text"):
                    st.code(message.text, language=None, wrap_lines=True)
            if can_write and message.kind == "manual_reply":
                remove_button(rep.customer_id, message.id)
    if len(messages) > MAX_SHOWN:
        st.caption(f"The {len(messages) - MAX_SHOWN} older email(s) are not shown.")


def remove_button(customer_id: str, row_id: int) -> None:
    if st.button("Remove", key=f"mail_remove_{row_id}", icon=":material/delete:"):
        actions.apply(
            "remove a reply recorded by hand",
            "The reply recorded by hand was removed.",
            lambda session: replies.remove_manual(session, customer_id, row_id),
        )
