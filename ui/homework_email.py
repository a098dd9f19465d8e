"""The homework builder's follow-up email tab: recap, greeting and check-in day, the email
in Markdown beside its rendered preview, and plain text, to copy or download, sending it from the console (when SMTP is
configured; ui/send_panel.py), and "Mark as sent" for an email sent another way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import streamlit as st

from lib import contacts, homework, mail
from lib.meetings import GoalInput, MeetingView
from ui import actions, data, labels, send_panel, telemetry

PREVIEW_HEIGHT = 420  # the Markdown and its preview, side by side, scroll alike


def draw(
    customer_id: str,
    customer_name: str,
    sender: str,
    items: Sequence[homework.AssignmentView],
    last_call: MeetingView | None,
    goals: Sequence[GoalInput],
    as_of: dt.date,
    can_write: bool,
) -> None:
    drafts = [i for i in items if i.status == "draft"]
    batch = drafts or [i for i in items if i.status != "draft"]
    if not batch:
        st.info("Build the homework first.", icon=":material/edit_note:")
        return
    if not drafts:
        st.caption("Everything is sent; this is the email as it went out.")
    recap_key, to_key = f"hw_recap_{customer_id}", f"hw_to_{customer_id}"
    if recap_key not in st.session_state:
        titles = {f.rule: f.title for f in data.findings_for(customer_id, as_of)}
        st.session_state[recap_key] = homework.recap_for(last_call, titles, goals)
    if to_key not in st.session_state:
        with data.reading() as session:
            people = contacts.for_customer(session, customer_id)
        st.session_state[to_key] = homework.greeting_for(last_call, people)
    recap = st.text_area(
        "Recap of the call (Markdown)", key=recap_key, height=150, persist_state="session"
    )
    c1, c2 = st.columns(2)
    greeting = c1.text_input(
        "Greeting names", key=to_key, help="Comma separated", persist_state="session"
    )
    picked = c2.date_input(
        "Next check-in",
        value=as_of + dt.timedelta(days=14),
        key=f"hw_checkin_{customer_id}",
        format="YYYY-MM-DD",
    )
    check_in = picked if isinstance(picked, dt.date) else None
    email = homework.render_email(
        customer_name,
        [n.strip() for n in greeting.split(",")],
        sender,
        recap,
        homework.email_items(batch),
        check_in,
    )
    st.text_input("Subject", value=email.subject, disabled=True, key=f"hw_subject_{customer_id}")
    stem = f"homework-{customer_id}-{as_of.isoformat()}"
    source_col, preview_col = st.columns(2, gap="medium")
    with source_col:
        st.caption("Markdown (copy with the icon at the top right)")
        st.code(email.markdown, language="markdown", wrap_lines=True, height=PREVIEW_HEIGHT)
    with preview_col:
        st.caption("Preview (as the customer reads it)")
        with st.container(border=True, height=PREVIEW_HEIGHT):
            st.markdown(labels.markdown(email.markdown))
    with st.expander("Plain text", key=f"hw_open_text_{customer_id}", on_change="rerun"):
        st.code(email.text, language=None, wrap_lines=True)
    md_col, text_col = st.columns(2)
    md_col.download_button(
        "Download .md",
        email.markdown,
        file_name=f"{stem}.md",
        mime="text/markdown",
        key="hw_dl_md",
        on_click="ignore",
        icon=":material/download:",
    )
    text_col.download_button(
        "Download .txt",
        email.text,
        file_name=f"{stem}.txt",
        mime="text/plain",
        key="hw_dl_txt",
        on_click="ignore",
        icon=":material/download:",
    )
    send_panel.send_panel(
        send_panel.SendDraft(
            customer_id=customer_id,
            kind="homework",
            send_key=mail.program_key("homework", customer_id),
            subject=email.subject,
            body=email.markdown,
            on=as_of,
            label="the homework",
            check_in_on=check_in,
            event=("homework_sent", {"customer_id": customer_id, "tasks": len(drafts)}),
        ),
        can_write,
        offer=bool(drafts),
    )
    if drafts and can_write:
        _mark_sent(customer_id, homework.draft_versions(drafts), check_in, as_of)


def _mark_sent(
    customer_id: str, drafts: dict[int, int], check_in: dt.date | None, as_of: dt.date
) -> None:
    seen, count = f"hw_drafts_{customer_id}", len(drafts)
    shown = actions.base(seen, drafts)  # the drafts the email above was showing
    actions.conflict(seen)
    s1, s2 = st.columns([1, 2], vertical_alignment="bottom")
    sent_on = s1.date_input("Sent on", value=as_of, key="hw_sent_on", format="YYYY-MM-DD")
    if s2.button("Mark as sent", type="primary", key="hw_mark_sent", icon=":material/send:"):
        actions.apply(
            "send homework",
            f"Homework sent ({count} task(s)); the homework step is done on "
            f"{sent_on:%d %b}. Tasks with a condition are checked after every import.",
            telemetry.after(
                lambda session: homework.mark_sent(
                    session, customer_id, sent_on, check_in, seen=shown
                ),
                "homework_sent",
                customer_id=customer_id,
                tasks=count,
            ),
            seen=seen,
        )
