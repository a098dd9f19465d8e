"""Homework: build a customer's homework from ranked suggestions, write the
follow-up email, mark it sent, and follow completion (checked against the data
after every import, or ticked by hand).

Reads lib.homework, draws. Every write goes through ui.access.writing (role
checked on the server, caches cleared, the audit log records the user).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from lib import audit, db, homework, meetings
from lib.homework import HomeworkError
from lib.vocabulary import PRODUCT_LABELS
from ui import access, data, labels, login, telemetry

NOTICE = "hw_notice"
CUSTOMER = "hw_customer"

engine = data.engine()
as_of = data.as_of()
user = login.current_user()
username = user.username if user else ""
can_write = access.can(*access.TEAM_WRITERS)
library = homework.load_library()

st.title(":material/assignment: Homework", anchor=False)
notice = st.session_state.pop(NOTICE, None)
if notice:
    st.success(notice, icon=":material/check_circle:")

everyone = data.reports(as_of)
if not everyone:
    st.info("No customers yet: import them on the Data page.", icon=":material/inbox:")
    st.stop()
mine = [r for r in everyone if r.customer.owner == username]
others = [r for r in everyone if r.customer.owner != username]
names = {
    r.customer_id: f"{r.customer.name} ({r.customer_id})"
    + ("" if r.customer.owner == username else f" · {r.customer.owner or 'no owner'}")
    for r in [*mine, *others]
}


def _pick_to_address(picker: str) -> None:
    # The address follows the pick, so it can be shared and a rerun keeps it.
    picked = st.session_state.get(picker)
    if picked:
        st.query_params["customer"] = picked
    else:
        st.query_params.pop("customer", None)


# The address names the customer (a shared link, or the last pick), and the picker's
# key carries it: a new address makes a new picker that shows its customer from its
# first render. (One long-lived picker whose state the page set now and then stayed
# empty in the browser after a sign-in while the server had the customer.)
wanted = st.query_params.get("customer")
if wanted is not None and wanted not in names:
    st.warning(
        f"No customer has the id {labels.md(wanted)}: pick one below.", icon=":material/search_off:"
    )
    wanted = None
options = list(names)
picker = f"{CUSTOMER}:{wanted or ''}"
customer_id = st.selectbox(
    "Customer",
    options,
    format_func=names.__getitem__,
    index=options.index(wanted) if wanted else None,
    placeholder="Pick a customer (yours are listed first)",
    key=picker,
    on_change=_pick_to_address,
    args=(picker,),
)
if customer_id is None:
    st.stop()

rep = data.report_for(customer_id, as_of)
if rep is None:
    st.warning("That customer no longer exists.", icon=":material/search_off:")
    st.stop()
customer = rep.customer
step = rep.timeline.steps["homework"]

with db.read_session(engine) as session:
    items = homework.assignments(session, customer_id, library)
    suggestions = homework.suggest_for(session, customer_id, rep.findings, library)
    history = meetings.for_customer(session, customer_id)
    goals = meetings.customer_goals(session, customer_id)
    summary = homework.completion_summary(session, customer_id)
drafts = [i for i in items if i.status == "draft"]
sent = [i for i in items if i.status != "draft"]
last_call = history.last_held()

st.markdown(
    f"**{labels.md(customer.name)}** · week {rep.timeline.program_week} · homework step "
    f"{labels.badge(step.status)} (window {step.window_start:%d %b} - {step.window_end:%d %b})"
    + (f" · last call held {labels.day(last_call.day)}" if last_call else " · no call held yet")
)
if goals:
    st.caption("Goals from the second call: " + "; ".join(labels.md(g.line()) for g in goals))


def write(action: str, notice_text: str, change: object) -> None:
    """One homework write as the signed-in user; refusals show where they happened."""
    try:
        with access.writing(action) as writer:
            change(writer)  # type: ignore[operator]
    except HomeworkError as error:
        st.error(str(error), icon=":material/error:")
        return
    st.session_state[NOTICE] = notice_text
    st.rerun()


tab_build, tab_email, tab_progress = st.tabs(
    [
        f"Build ({len(drafts)} draft)",
        "Follow-up email",
        f"Progress ({summary.done}/{summary.total})",
    ]
)

# ------------------------------------------------------------------ build

with tab_build:
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.subheader("Suggested", anchor=False)
        st.caption(
            "Ranked by the open findings, the goals from the second call and the products "
            "in use. Tasks the data already shows done are at the bottom."
        )
        for suggestion in suggestions:
            task = suggestion.task
            with st.container(border=True):
                st.markdown(f"**{labels.md(task.title)}**")
                why = "; ".join(suggestion.reasons) or "general good practice"
                st.caption(labels.md(why))
                if suggestion.already_true:
                    st.caption(f":green[Already true: {labels.md(suggestion.already_true)}]")
                if can_write and st.button(
                    "Add", key=f"hw_add_{task.id}", icon=":material/add:", type="tertiary"
                ):
                    write(
                        "build homework",
                        f"Added: {task.title}",
                        lambda w, t=task.id: homework.add(
                            engine, w, customer_id, t, library=library
                        ),
                    )
        with st.expander("The whole library"):
            taken = {i.task_id for i in items}
            products = st.multiselect(
                "Product",
                list(PRODUCT_LABELS),
                format_func=PRODUCT_LABELS.__getitem__,
                key="hw_lib_products",
            )
            cases = st.multiselect("Use case", list(library.use_cases), key="hw_lib_cases")
            shown = [
                t
                for t in library.tasks
                if t.id not in taken
                and (not products or set(products) & set(t.products))
                and (not cases or set(cases) & set(t.use_cases))
            ]
            pick = st.selectbox(
                "Task",
                [t.id for t in shown],
                format_func=lambda tid: library.get(tid).title,  # type: ignore[union-attr]
                index=None,
                key="hw_lib_pick",
            )
            if pick:
                task = library.get(pick)
                assert task is not None
                st.markdown(task.body())
                st.caption(f"Shows in the data: {task.shows_in}")
                if can_write and st.button("Add this task", key="hw_lib_add"):
                    write(
                        "build homework",
                        f"Added: {task.title}",
                        lambda w: homework.add(engine, w, customer_id, pick, library=library),
                    )
        if can_write:
            with st.expander("A task of your own"):
                title = st.text_input("Title", key="hw_custom_title")
                body = st.text_area("What to do (Markdown)", key="hw_custom_body")
                if st.button("Add my task", key="hw_custom_add"):
                    write(
                        "build homework",
                        f"Added: {title}",
                        lambda w: homework.add(
                            engine, w, customer_id, homework.CUSTOM_TASK, title=title, body=body
                        ),
                    )

    with right:
        st.subheader("This customer's homework", anchor=False)
        if not drafts:
            st.caption("Nothing in the draft yet: add suggestions on the left.")
        for number, item in enumerate(drafts, start=1):
            with st.container(border=True):
                cells = st.columns([6, 1, 1, 1], vertical_alignment="center")
                cells[0].markdown(f"**{number}. {labels.md(item.title)}**")
                if not can_write:
                    continue
                if cells[1].button(
                    "", key=f"hw_up_{item.id}", icon=":material/arrow_upward:", help="Up"
                ):
                    write(
                        "build homework",
                        "Moved up.",
                        lambda w, i=item.id: homework.move(engine, w, i, -1),
                    )
                if cells[2].button(
                    "", key=f"hw_down_{item.id}", icon=":material/arrow_downward:", help="Down"
                ):
                    write(
                        "build homework",
                        "Moved down.",
                        lambda w, i=item.id: homework.move(engine, w, i, 1),
                    )
                if cells[3].button(
                    "", key=f"hw_del_{item.id}", icon=":material/delete:", help="Remove"
                ):
                    write(
                        "build homework",
                        f"Removed: {item.title}",
                        lambda w, i=item.id: homework.remove(engine, w, i),
                    )
                with st.expander("Edit the wording"):
                    new_title = st.text_input(
                        "Title",
                        value=item.title,
                        key=f"hw_title_{item.id}",
                        persist_state="session",
                    )
                    new_body = st.text_area(
                        "Text (Markdown)",
                        value=item.body,
                        height=180,
                        key=f"hw_body_{item.id}",
                        persist_state="session",
                    )
                    if st.button("Save wording", key=f"hw_save_{item.id}"):
                        write(
                            "build homework",
                            "Wording saved.",
                            lambda w, i=item.id, t=new_title, b=new_body: homework.edit(
                                engine, w, i, t, b
                            ),
                        )

# ------------------------------------------------------------------ email

with tab_email:
    batch = drafts or sent
    if not batch:
        st.info("Build the homework first.", icon=":material/edit_note:")
    else:
        if not drafts:
            st.caption("Everything is sent; this is the email as it went out.")
        known = {
            f.rule: f.title
            for f in audit.for_customer(engine, customer_id, as_of, include_closed=True)
        }
        fixed_titles = [known.get(r, r) for r in (last_call.fixed_rules if last_call else ())]
        recap_key = f"hw_recap_{customer_id}"
        if recap_key not in st.session_state:
            st.session_state[recap_key] = homework.default_recap(
                last_call.kind if last_call else None,
                last_call.day if last_call else None,
                fixed_titles,
                goals if (last_call and last_call.kind == "second") else [],
            )
        to_key = f"hw_to_{customer_id}"
        if to_key not in st.session_state:
            people = last_call.attendees if last_call else ()
            st.session_state[to_key] = ", ".join(
                a.name.split(" ")[0] for a in people if a.side == "customer" and a.name
            )
        recap = st.text_area(
            "Recap of the call (Markdown)", key=recap_key, height=150, persist_state="session"
        )
        c1, c2 = st.columns(2)
        greeting = c1.text_input(
            "Greeting names", key=to_key, help="Comma separated", persist_state="session"
        )
        check_in = c2.date_input(
            "Next check-in",
            value=as_of + dt.timedelta(days=14),
            key=f"hw_checkin_{customer_id}",
            format="YYYY-MM-DD",
        )
        email = homework.render_email(
            customer.name,
            [n.strip() for n in greeting.split(",")],
            user.name if user else username,
            recap,
            homework.email_items(batch),
            check_in if isinstance(check_in, dt.date) else None,
        )
        st.text_input(
            "Subject", value=email.subject, disabled=True, key=f"hw_subject_{customer_id}"
        )
        md_tab, text_tab = st.tabs(["Markdown", "Plain text"])
        stem = f"homework-{customer_id}-{as_of.isoformat()}"
        with md_tab:
            st.code(email.markdown, language="markdown", wrap_lines=True)
            st.download_button(
                "Download .md",
                email.markdown,
                file_name=f"{stem}.md",
                mime="text/markdown",
                key="hw_dl_md",
                on_click="ignore",
            )
        with text_tab:
            st.code(email.text, language=None, wrap_lines=True)
            st.download_button(
                "Download .txt",
                email.text,
                file_name=f"{stem}.txt",
                mime="text/plain",
                key="hw_dl_txt",
                on_click="ignore",
            )
        if drafts and can_write:
            s1, s2 = st.columns([1, 2], vertical_alignment="bottom")
            sent_on = s1.date_input("Sent on", value=as_of, key="hw_sent_on", format="YYYY-MM-DD")
            if s2.button(
                "Mark as sent", type="primary", key="hw_mark_sent", icon=":material/send:"
            ):
                write(
                    "send homework",
                    f"Homework sent ({len(drafts)} task(s)); the homework step is done on "
                    f"{sent_on:%d %b}. Tasks with a condition are checked after every import.",
                    telemetry.after(
                        lambda w: homework.mark_sent(
                            engine,
                            w,
                            customer_id,
                            sent_on,
                            check_in if isinstance(check_in, dt.date) else None,
                        ),
                        "homework_sent",
                        customer_id=customer_id,
                        tasks=len(drafts),
                    ),
                )

# ------------------------------------------------------------------ progress

with tab_progress:
    if not sent:
        st.info("Nothing sent yet.", icon=":material/schedule_send:")
    else:
        st.markdown(f"**{labels.md(summary.line())}**")
        frame = pd.DataFrame(
            [
                {
                    "Task": i.title,
                    "Status": "Done" if i.done else "Not yet",
                    "Checked by": {"data": "data", "hand": "hand"}.get(i.verified_by or "", "")
                    or ("data, after each import" if i.verifiable else "tick by hand"),
                    "Evidence": i.evidence or "",
                    "Sent": i.sent_on,
                    "Done on": i.done_on,
                }
                for i in sent
            ]
        )
        st.dataframe(frame, hide_index=True, width="stretch", key="hw_progress_table")
        if can_write:
            st.caption("Tick a task by hand when the data cannot show it.")
            for item in sent:
                cells = st.columns([6, 2], vertical_alignment="center")
                cells[0].markdown(labels.md(item.title))
                if item.done:
                    if cells[1].button("Not done", key=f"hw_untick_{item.id}"):
                        write(
                            "tick homework",
                            f"Marked not done: {item.title}",
                            lambda w, i=item.id: homework.tick(engine, w, i, False),
                        )
                elif cells[1].button("Done", key=f"hw_tick_{item.id}", icon=":material/check:"):
                    write(
                        "tick homework",
                        f"Ticked: {item.title}",
                        lambda w, i=item.id: homework.tick(engine, w, i, True, on=as_of),
                    )
            if st.button(
                "Check against the data now", key="hw_verify", icon=":material/fact_check:"
            ):
                write(
                    "check homework",
                    "Checked against the latest imported data.",
                    lambda w: homework.verify_customer(engine, w, customer_id),
                )
