"""One meeting: its invite, and the form that logs the outcome (the Meetings page, and the
call panel on Today and the customer page: ui/call_panel.py).

Each page draws it with a key prefix of its own ("mtg" on the Meetings page), so the same
meeting open on two pages keeps two forms. The form remembers the version it was opened
at; a save refused because someone saved first shows what they changed and offers: keep
mine, merge notes, load theirs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from lib import audit, mail, meetings
from lib.errors import UserError
from lib.meetings import (
    KIND_LABELS,
    STATUS_LABELS,
    STATUSES,
    MeetingConflict,
    MeetingError,
    MeetingUpdate,
    MeetingView,
    SaveResult,
    ics,
)
from ui import access, actions, data, labels, login, meeting_invite, send_panel, telemetry
from ui.meeting_list import Clock, status_text

MEETINGS = "mtg"  # the Meetings page's key prefix
AfterSave = Callable[[SaveResult], None]

FORM_FIELDS = (
    "date",
    "time",
    "tz",
    "duration",
    "people",
    "team",
    "agenda",
    "status",
    "resched_date",
    "resched_time",
    "notes",
    "fixed",
    "offered",
    "accepted",
    "goals",
)


def key(mid: int, name: str, prefix: str = MEETINGS) -> str:
    return f"{prefix}_f_{name}_{mid}"


def base_key(mid: int, prefix: str = MEETINGS) -> str:
    return f"{prefix}_base_{mid}"


def conflict_key(mid: int, prefix: str = MEETINGS) -> str:
    return f"{prefix}_conflict_{mid}"


def form_values(view: MeetingView) -> dict[str, Any]:
    local = view.local_start.replace(tzinfo=None)
    return {
        "date": local.date(),
        "time": local.time(),
        "tz": view.timezone,
        "duration": view.duration_min,
        "people": meetings.attendees_text(view.attendees, "customer"),
        "team": meetings.attendees_text(view.attendees, "team"),
        "agenda": view.agenda,
        "status": view.status,
        "resched_date": local.date() + dt.timedelta(days=7),
        "resched_time": local.time(),
        "notes": view.notes,
        "fixed": list(view.fixed_rules),
        "offered": bool(view.second_call_offered),
        "accepted": bool(view.second_call_accepted),
        "goals": meetings.goals_text(view.goals),
    }


def load_form(mid: int, view: MeetingView, prefix: str = MEETINGS) -> None:
    for name, value in form_values(view).items():
        st.session_state[key(mid, name, prefix)] = value
    st.session_state[base_key(mid, prefix)] = meetings.as_session_dict(view)


def typed(mid: int, base: MeetingView, prefix: str = MEETINGS) -> dict[str, Any]:
    # A field not drawn this run (say the new date, when the outcome is not
    # "rescheduled") has no widget value: it reads as the version opened.
    defaults = form_values(base)
    return {
        name: st.session_state.get(key(mid, name, prefix), defaults[name]) for name in FORM_FIELDS
    }


# ------------------------------------------------------------ after a conflict


def keep_mine(mid: int, prefix: str = MEETINGS) -> None:
    conflict = st.session_state.pop(conflict_key(mid, prefix), None)
    if conflict:
        st.session_state[base_key(mid, prefix)] = conflict["current"]


def merge_notes(mid: int, prefix: str = MEETINGS) -> None:
    conflict = st.session_state.pop(conflict_key(mid, prefix), None)
    if conflict:
        current = conflict["current"]
        st.session_state[key(mid, "notes", prefix)] = meetings.merge_notes(
            st.session_state.get(key(mid, "notes", prefix)) or "",
            current["notes"] or "",
            current["updated_by"],
        )
        st.session_state[base_key(mid, prefix)] = current


def load_theirs(mid: int, prefix: str = MEETINGS) -> None:
    conflict = st.session_state.pop(conflict_key(mid, prefix), None)
    if conflict:
        load_form(mid, meetings.from_session_dict(conflict["current"]), prefix)


def remember_conflict(mid: int, refused: MeetingConflict, prefix: str = MEETINGS) -> None:
    st.session_state[conflict_key(mid, prefix)] = {
        "message": str(refused),
        "changes": [c.__dict__ for c in refused.changes],
        "current": meetings.as_session_dict(refused.current),
    }


def conflict_panel(mid: int, conflict: dict[str, Any], prefix: str = MEETINGS) -> None:
    st.error(labels.md(conflict["message"]), icon=":material/sync_problem:")
    who = conflict["current"]["updated_by"] or "someone"
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Field": c["label"],
                    "When you opened it": c["before"],
                    f"Now (saved by {who})": c["now"],
                    "Yours (still in the form)": c["yours"],
                }
                for c in conflict["changes"]
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    b1, b2, b3 = st.columns(3)
    b1.button(
        "Keep mine (save over theirs next)",
        key=f"{prefix}_keep_{mid}",
        on_click=keep_mine,
        args=(mid, prefix),
    )
    b2.button(
        "Add their notes to mine",
        key=f"{prefix}_merge_{mid}",
        on_click=merge_notes,
        args=(mid, prefix),
    )
    b3.button(
        "Discard mine, load theirs",
        key=f"{prefix}_theirs_{mid}",
        on_click=load_theirs,
        args=(mid, prefix),
    )


# ------------------------------------------------------------ the meeting


def finding_label(known: dict[str, audit.Finding], rule: str) -> str:
    finding = known.get(rule)
    if finding is None:
        return rule
    return finding.title if finding.state == "open" else f"{finding.title} ({finding.state})"


def organiser_of(view: MeetingView) -> tuple[str, str]:
    owner = login.users().get(view.owner or "")
    if owner and owner.email:
        return owner.email, owner.name
    team = next((a for a in view.attendees if a.side == "team"), None)
    if team:
        return team.email, team.name
    return f"{view.owner or 'onboarding'}@example.invalid", view.owner or "Onboarding"


def header(
    current: MeetingView, clock: Clock, prefix: str = MEETINGS, customer_link: bool = True
) -> None:
    mid = current.id
    st.markdown(
        f"**{labels.md(current.customer_name)} · {KIND_LABELS.get(current.kind, current.kind)}**"
    )
    local = current.local_start
    st.markdown(
        f"{local:%A %d %B %Y, %H:%M} {local.tzname()} ({labels.md(current.timezone)}) · "
        f"{current.duration_min} min · owner **{labels.md(current.owner or '-')}** · "
        f"**{status_text(current, clock.ref_now)}** · version {current.version}"
    )
    top = st.columns([2, 2, 6])
    email, name = organiser_of(current)
    top[0].download_button(
        "Invite (.ics)",
        data=ics.invite(current, email, name),
        file_name=ics.filename(current),
        mime="text/calendar",
        icon=":material/calendar_add_on:",
        key=f"{prefix}_ics_{mid}",
        on_click="ignore",
    )
    if customer_link:
        top[1].page_link(
            "app_pages/customer.py",
            label="Customer page",
            icon=":material/person_search:",
            query_params={"id": current.customer_id, "tab": "Calls"},
        )
    if current.notes:
        with st.expander("Saved notes (Markdown, shown as text)"):
            st.text(current.notes)


def show_meeting(
    mid: int,
    clock: Clock,
    zones: list[str],
    as_of: dt.date,
    prefix: str = MEETINGS,
    after_save: AfterSave | None = None,
    customer_link: bool = True,
) -> bool:
    """The meeting `mid`, and for writers the form that logs it; False when it is gone.
    `after_save` runs after a save, before the rerun (say, to open the new date)."""
    try:
        with data.reading() as session:
            current = meetings.get(session, mid)
    except MeetingError:
        st.warning("That meeting no longer exists.", icon=":material/search_off:")
        return False
    stored = st.session_state.get(base_key(mid, prefix))
    base = meetings.from_session_dict(stored) if stored else None
    conflict = st.session_state.get(conflict_key(mid, prefix))
    if base is None or st.session_state.pop(f"{prefix}_reload_{mid}", False):
        load_form(mid, current, prefix)
        base = current
    elif base.version != current.version and not conflict:
        if typed(mid, base, prefix) == form_values(base):
            # Nothing typed yet: quietly show the newer version.
            load_form(mid, current, prefix)
            st.info(
                f"{labels.md(current.updated_by or 'Someone')} updated this meeting; "
                "showing their version.",
                icon=":material/sync:",
            )
            base = current

    header(current, clock, prefix, customer_link)
    meeting_invite.invite_panel(current, as_of, organiser_of(current))
    if not access.can(*access.TEAM_WRITERS):
        return True
    if conflict:
        conflict_panel(mid, conflict, prefix)
    st.markdown("**Log the outcome / edit**")
    form(current, zones, as_of, prefix)
    if st.button("Save", type="primary", key=f"{prefix}_save_{mid}", icon=":material/save:"):
        save(current, base, clock, prefix, after_save)
    return True


def form(current: MeetingView, zones: list[str], as_of: dt.date, prefix: str = MEETINGS) -> None:
    mid = current.id

    def k(name: str) -> str:
        return key(mid, name, prefix)

    known = {f.rule: f for f in data.findings_for(current.customer_id, as_of)}
    fixed_options = list(
        dict.fromkeys(
            [
                *[rule for rule, f in known.items() if f.state == "open"],
                *current.fixed_rules,
                *(st.session_state.get(k("fixed")) or []),
            ]
        )
    )
    outcome = st.selectbox(
        "Outcome",
        list(STATUSES),
        format_func=STATUS_LABELS.__getitem__,
        key=k("status"),
        persist_state="session",
        help="Held marks the step done on the meeting's day (set the date and time the "
        "call took place). No-show and cancelled leave the step to its window (due, then "
        "overdue). Rescheduled books a new meeting on the new date.",
    )
    c1, c2, c3, c4 = st.columns(4)
    c1.date_input("Date", key=k("date"), format="YYYY-MM-DD", persist_state="session")
    c2.time_input("Time", key=k("time"), step=900, persist_state="session")
    c3.selectbox("Time zone", zones, key=k("tz"), persist_state="session")
    c4.number_input(
        "Minutes",
        min_value=5,
        max_value=meetings.MAX_DURATION_MIN,
        step=5,
        key=k("duration"),
        persist_state="session",
    )
    if outcome == "rescheduled" and current.status != "rescheduled":
        r1, r2 = st.columns(2)
        r1.date_input(
            "New date", key=k("resched_date"), format="YYYY-MM-DD", persist_state="session"
        )
        r2.time_input("New time", key=k("resched_time"), step=900, persist_state="session")
    st.text_area(
        "Notes (Markdown)",
        key=k("notes"),
        persist_state="session",
        height=200,
        help="Kept as text: shown as written, never as HTML.",
    )
    st.multiselect(
        "Findings fixed during the call",
        fixed_options,
        format_func=lambda rule: finding_label(known, rule),
        key=k("fixed"),
        persist_state="session",
        help="Marks them fixed in the audit (the report's saving counts them as realised).",
    )
    if current.kind == "first":
        o1, o2 = st.columns(2)
        o1.checkbox("Second call offered", key=k("offered"), persist_state="session")
        o2.checkbox("Second call accepted", key=k("accepted"), persist_state="session")
    else:
        st.text_area(
            "Goals and KPIs (one per line: name | target | YYYY-MM-DD)",
            key=k("goals"),
            persist_state="session",
            placeholder="Activation rate | 40% | 2026-06-30",
            help="Kept on the customer; the homework builder ranks tasks by them.",
        )
    with st.expander("Attendees and agenda"):
        st.text_area("People from the customer", key=k("people"), persist_state="session")
        st.button(
            "Add the customer's contacts",
            key=f"{prefix}_add_contacts_{mid}",
            icon=":material/group_add:",
            on_click=add_contacts,
            args=(mid, current.customer_id, prefix),
            help="Adds the contacts not listed yet (never the team's own logins).",
        )
        st.text_area("Our team", key=k("team"), height=68, persist_state="session")
        st.text_area("Agenda", key=k("agenda"), height=150, persist_state="session")


def add_contacts(mid: int, customer_id: str, prefix: str = MEETINGS) -> None:
    """Add the customer's contacts who are not among the people yet."""
    people = st.session_state.get(key(mid, "people", prefix)) or ""
    listed = {a.lower() for a in mail.addresses_of(people.splitlines())}
    more = [
        line
        for line in send_panel.customer_recipients(customer_id)
        if mail.addresses_of([line])[0].lower() not in listed
    ]
    st.session_state[key(mid, "people", prefix)] = "\n".join([*people.splitlines(), *more]).strip()


def update_from(values: dict[str, Any], kind: str, base: MeetingView) -> MeetingUpdate:
    """The form's values as a save; MeetingError when a line does not parse."""
    attendees = meetings.parse_attendees(values["people"] or "", "customer")
    attendees += meetings.parse_attendees(values["team"] or "", "team")
    first, second = kind == "first", kind == "second"
    return MeetingUpdate(
        local_start=dt.datetime.combine(values["date"], values["time"]),
        timezone=values["tz"],
        duration_min=int(values["duration"]),
        attendees=tuple(attendees),
        agenda=values["agenda"] or "",
        status=values["status"],
        notes=values["notes"] or "",
        fixed_rules=tuple(values["fixed"] or ()),
        second_call_offered=meetings.ticked(values["offered"], base.second_call_offered)
        if first
        else None,
        second_call_accepted=meetings.ticked(values["accepted"], base.second_call_accepted)
        if first
        else None,
        goals=tuple(meetings.parse_goals(values["goals"] or "")) if second else None,
        rescheduled_to=dt.datetime.combine(values["resched_date"], values["resched_time"])
        if values["status"] == "rescheduled"
        else None,
    )


def save(
    current: MeetingView,
    base: MeetingView,
    clock: Clock,
    prefix: str = MEETINGS,
    after_save: AfterSave | None = None,
) -> None:
    """Save the form as the signed-in user; a refusal stays on the form."""
    mid = current.id
    try:
        update = update_from(typed(mid, base, prefix), current.kind, base)
        with access.writing("log a meeting") as session:
            result = meetings.save(session, mid, base, update, now=clock.write_now)
    except MeetingConflict as refused:
        remember_conflict(mid, refused, prefix)
        st.rerun()
    except UserError as error:
        st.error(labels.md(error), icon=":material/error:")
        return
    st.session_state.pop(conflict_key(mid, prefix), None)
    st.session_state[f"{prefix}_reload_{mid}"] = True
    saved = result.meeting
    telemetry.track(
        "meeting_logged", customer_id=saved.customer_id, kind=saved.kind, status=saved.status
    )
    if after_save is not None:
        after_save(result)
    actions.post(saved_notice(result))
    st.rerun()


def saved_notice(result: SaveResult) -> str:
    saved = result.meeting
    parts = [f"Saved: {STATUS_LABELS[saved.status].lower()}"]
    if saved.status == "held":
        parts.append(f"{labels.step(meetings.KIND_STEP[saved.kind])} done on {saved.day:%d %b}")
    if result.fixed:
        parts.append(f"{len(result.fixed)} finding(s) marked fixed")
    if result.reopened:
        parts.append(f"{len(result.reopened)} finding(s) reopened")
    if result.new_meeting_id:
        parts.append("the new date is booked (download its invite)")
    return "; ".join(parts) + "."
