"""The customer page's Contacts tab: the people the program's emails greet and go to.

Team and admin logins add, edit, make primary and remove contacts; lib.contacts checks
every field on the server (a valid address, unique per customer, one primary) and a
refusal shows in the form, writing nothing. An edit names the version the form was
opened at: a save after someone else's change is refused and says who changed it.
Other roles see the list only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from lib import contacts, csv_safe
from lib.errors import Conflict, NotFound, UserError
from lib.program.report import CustomerReport
from lib.store import models
from lib.vocabulary import CONTACT_ROLES
from ui import access, actions, data, labels

ADD_FIELDS = ("contact_add_name", "contact_add_email", "contact_add_role", "contact_add_primary")
PICK = "contact_pick"
# Set after a save (or a refused stale one): the next run forgets what the forms held
# (every "contact_*" key: the typed values, the versions the forms were opened at).
_FORGET = "contacts_forget"


def _role(code: str) -> str:
    return contacts.ROLE_LABELS.get(code, code)


def _edit_keys(contact_id: int) -> list[str]:
    return [f"contact_{field}_{contact_id}" for field in ("name", "email", "role", "primary")]


def _seen_key(contact_id: int) -> str:
    return f"contact_seen_{contact_id}"


def _forget_next_run(pick_too: bool = False) -> None:
    st.session_state[_FORGET] = pick_too or bool(st.session_state.get(_FORGET))


def _forget() -> None:
    """What the forms held, forgotten before any widget of this run exists."""
    pick_too = st.session_state.pop(_FORGET, None)
    if pick_too is None:
        return
    for key in [k for k in st.session_state if str(k).startswith("contact_")]:
        if key != PICK or pick_too:
            st.session_state.pop(key, None)


def _act(action: str, change: Callable[[Session], str], pick_too: bool = False) -> None:
    """One change as the signed-in user, in one unit of work (team writers only). A
    refusal shows where it happened (a stale or vanished contact is read afresh on the
    next run); success keeps the notice for the next run and reruns."""
    try:
        with access.writing(action, access.TEAM_WRITERS) as session:
            notice = change(session)
    except UserError as error:
        if isinstance(error, Conflict | NotFound):
            _forget_next_run(pick_too=isinstance(error, NotFound))
        st.error(labels.md(str(error)), icon=":material/error:")
        return
    _forget_next_run(pick_too)
    actions.post(labels.md(notice))
    st.rerun()


def contacts_panel(rep: CustomerReport, can_write: bool) -> None:
    """The customer's contacts, the primary one first; the forms for team writers."""
    _forget()
    customer_id = rep.customer_id
    with data.reading() as session:
        people = contacts.for_customer(session, customer_id)
        export = contacts.export_frame(session, [customer_id]) if people else None
    st.caption(
        "Drafts greet the primary contact by first name (else the company's team) and "
        "suggest every contact as a recipient, the primary first."
    )
    if not people:
        st.info("No contacts yet: drafts greet the team by the company's name.")
    else:
        _table(people)
    if export is not None:
        st.download_button(
            "Download contacts (CSV)",
            data=csv_safe.to_safe_csv(export),
            file_name=f"contacts-{customer_id}.csv",
            mime="text/csv",
            key="customer_contacts_csv",
            icon=":material/download:",
            on_click="ignore",
        )
    if not can_write:
        return
    if people:
        _edit(customer_id, people)
    _add(customer_id, first=not people)


def _table(people: list[models.Contact]) -> None:
    st.dataframe(
        pd.DataFrame(
            [
                {"Name": c.name, "Email": c.email, "Role": _role(c.role), "Primary": c.is_primary}
                for c in people
            ]
        ),
        hide_index=True,
        width="stretch",
        key="customer_contacts_table",
    )


def _edit(customer_id: str, people: list[models.Contact]) -> None:
    by_id = {c.id: c for c in people}
    st.markdown("**Edit a contact**")
    picked = st.selectbox(
        "Contact",
        list(by_id),
        format_func=lambda i: contacts.address(by_id[i].name, by_id[i].email),
        key=PICK,
    )
    contact = by_id.get(picked) if picked is not None else None
    if contact is None:
        return
    cid = contact.id
    seen: dt.datetime = st.session_state.setdefault(_seen_key(cid), contact.updated_at)
    if seen != contact.updated_at:
        st.warning(
            labels.md(
                f"{contact.updated_by or 'Someone'} changed this contact after you opened it: "
                "saving your version is refused."
            ),
            icon=":material/sync_problem:",
        )
        if st.button("Show the current version", key=f"contact_reload_{cid}"):
            _forget_next_run()
            st.rerun()
    name_key, email_key, role_key, primary_key = _edit_keys(cid)
    with st.form(f"contact_edit_{cid}", border=False):
        cols = st.columns(2)
        name = cols[0].text_input("Name", value=contact.name, key=name_key)
        email = cols[1].text_input("Email", value=contact.email, key=email_key)
        cols = st.columns(2, vertical_alignment="bottom")
        role = cols[0].selectbox(
            "Role",
            CONTACT_ROLES,
            index=CONTACT_ROLES.index(contact.role) if contact.role in CONTACT_ROLES else None,
            format_func=_role,
            key=role_key,
        )
        primary = cols[1].checkbox("Primary contact", value=contact.is_primary, key=primary_key)
        if st.form_submit_button("Save changes", icon=":material/save:"):
            _act(
                "edit a contact",
                lambda session: _saved(
                    contacts.update(
                        session, customer_id, cid, name, email, role, primary, seen_at=seen
                    )
                ),
            )
    if not contact.is_primary and st.button(
        f"Make {labels.md(contact.name)} the primary contact",  # a label is Markdown
        key=f"contact_make_primary_{cid}",
        icon=":material/star:",
    ):
        _act(
            "change the primary contact",
            lambda session: (
                f"{contacts.make_primary(session, customer_id, cid, seen_at=seen).name} "
                "is now the primary contact."
            ),
        )
    with st.form(f"contact_remove_{cid}", border=False):
        sure = st.checkbox(
            f"Yes, remove {labels.md(contact.name)}", key=f"contact_remove_sure_{cid}"
        )
        if st.form_submit_button("Remove contact", icon=":material/person_remove:"):
            if not sure:
                st.warning("Tick the box to confirm.", icon=":material/warning:")
            else:
                _act(
                    "remove a contact",
                    lambda session: (
                        f"{contacts.remove(session, customer_id, cid, seen_at=seen)} removed."
                    ),
                    pick_too=True,
                )


def _saved(contact: models.Contact) -> str:
    return f"{contact.name} ({contact.email}) saved."


def _add(customer_id: str, first: bool) -> None:
    st.markdown("**Add a contact**")
    name_key, email_key, role_key, primary_key = ADD_FIELDS
    with st.form("contact_add", border=False):
        cols = st.columns(2)
        name = cols[0].text_input("Name", key=name_key, placeholder="Ada Lovelace")
        email = cols[1].text_input("Email", key=email_key, placeholder="ada@company.com")
        cols = st.columns(2, vertical_alignment="bottom")
        role = cols[0].selectbox(
            "Role",
            CONTACT_ROLES,
            index=CONTACT_ROLES.index(contacts.DEFAULT_ROLE),
            format_func=_role,
            key=role_key,
        )
        primary = cols[1].checkbox(
            "Primary contact",
            value=first,
            key=primary_key,
            help="The one the drafts greet; the customer's previous primary contact no longer is.",
        )
        if st.form_submit_button("Add contact", icon=":material/person_add:"):
            _act(
                "add a contact",
                lambda session: (
                    f"{contacts.add(session, customer_id, name, email, role, primary).name} added."
                ),
            )
