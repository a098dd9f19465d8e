"""The customer page's outreach drafts: subject, text and preview, downloads, and sending
(ui/send_panel.py: to the customer's contacts, when an SMTP server is configured)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib import mail
from lib.program.report import CustomerReport
from ui import access, data, labels, login, send_panel, telemetry

DRAFT_KINDS = {"initial": "Initial outreach (week 1)", "final": "Final outreach (weeks 7-8)"}
STEPS = {"initial": "initial_outreach", "final": "final_outreach"}


def outreach_panel(rep: CustomerReport, as_of: dt.date) -> None:
    """The initial (week 1) or final (weeks 7-8) draft, to copy, download or send."""
    default = "final" if rep.timeline.program_week >= 7 else "initial"
    kind = (
        st.segmented_control(
            "Draft",
            list(DRAFT_KINDS),
            default=default,
            format_func=DRAFT_KINDS.__getitem__,
            key="customer_draft_kind",
        )
        or default
    )
    me = login.current_user()
    sender = me.name if me else "The onboarding team"
    draft = data.draft(kind, rep.customer_id, sender, as_of)
    for step in draft.before_sending:
        st.warning(labels.markdown(step), icon=":material/approval:")
    st.caption("Subject")
    st.code(draft.subject, language=None, wrap_lines=True)
    text_col, preview_col = st.columns(2)
    with text_col:
        st.caption("Plain text (copy with the icon at the top right)")
        st.code(draft.text, language=None, wrap_lines=True, height=420)
    with preview_col:
        st.caption("Preview")
        with st.container(border=True, height=420):
            st.markdown(labels.markdown(draft.markdown))
    name = f"{rep.customer_id}-{kind}-outreach-{as_of:%Y-%m-%d}"
    left, right = st.columns(2)
    left.download_button(
        "Download as Markdown",
        f"Subject: {draft.subject}\n\n{draft.markdown}".encode(),
        file_name=f"{name}.md",
        mime="text/markdown",
        icon=":material/download:",
        key="customer_draft_md",
        on_click=telemetry.track,
        args=("outreach_drafted",),
        kwargs={"customer_id": rep.customer_id, "kind": kind},
    )
    right.download_button(
        "Download as text",
        f"Subject: {draft.subject}\n\n{draft.text}".encode(),
        file_name=f"{name}.txt",
        mime="text/plain",
        icon=":material/download:",
        key="customer_draft_txt",
        on_click=telemetry.track,
        args=("outreach_drafted",),
        kwargs={"customer_id": rep.customer_id, "kind": kind},
    )
    step = STEPS[kind]
    send_panel.send_panel(
        send_panel.SendDraft(
            customer_id=rep.customer_id,
            kind=step,
            send_key=mail.program_key(step, rep.customer_id),
            subject=draft.subject,
            body=draft.markdown,
            on=as_of,
            label=f"the {DRAFT_KINDS[kind].split(' (')[0].lower()}",
            event=("outreach_sent", {"customer_id": rep.customer_id, "kind": kind}),
        ),
        access.can(*access.TEAM_WRITERS),
    )
