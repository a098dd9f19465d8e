"""Meetings: the owner's first and second calls, by day and by week; schedule a
call with an .ics invite; log what happened.

Reads lib.meetings, draws. Every write goes through ui.access.writing (role
checked on the server, caches cleared, the audit log records the user).

Two people editing one meeting: the form remembers the version it was opened
at. A save refused because someone else saved first shows what they changed;
the form keeps everything typed, and offers to keep it, merge the notes, or
load the other version.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pandas as pd
import streamlit as st

from lib import audit, db, ics, meetings
from lib.meetings import (
    KIND_LABELS,
    STATUS_LABELS,
    STATUSES,
    MeetingConflict,
    MeetingError,
    MeetingFilter,
    MeetingUpdate,
    MeetingView,
    ScheduleRequest,
)
from ui import access, data, labels, login, telemetry

NOTICE = "mtg_notice"
OPEN = "mtg_open"  # the meeting shown in the detail panel
EVERYONE = "(everyone)"

engine = data.engine()
as_of = data.as_of()
user = login.current_user()
username = user.username if user else ""
can_write = access.can(*access.TEAM_WRITERS)
real_now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
# The pages show the sidebar's "as of" day; upcoming/past is judged at this time of that day.
ref_now = dt.datetime.combine(as_of, real_now.time())


def browser_zone() -> str:
    name = st.context.timezone
    try:
        if name:
            zoneinfo.ZoneInfo(name)
            return name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    return "UTC"


ZONES = meetings.timezones()


def when(view: MeetingView, tz: str) -> str:
    local = meetings.to_local(view.starts_at, tz)
    return f"{local:%H:%M} {local.tzname()}"


def status_text(view: MeetingView) -> str:
    if view.needs_outcome(ref_now):
        return "Outcome missing"
    return STATUS_LABELS.get(view.status, view.status)


# ------------------------------------------------------------------ header

st.title(":material/event: Meetings", anchor=False)
notice = st.session_state.pop(NOTICE, None)
if notice:
    st.success(notice, icon=":material/check_circle:")

with db.read_session(engine) as session:
    owner_names = meetings.owners(session)

if username and username not in owner_names:
    owner_names = sorted([*owner_names, username])
owner_options = [EVERYONE, *owner_names]
cols = st.columns([2, 2, 3, 3])
owner_choice = cols[0].selectbox(
    "Owner",
    owner_options,
    index=owner_options.index(username) if username in owner_options else 0,
    key="mtg_owner",
    help="Your meetings by default; switch to see a colleague's or everyone's.",
)
kinds = cols[1].multiselect(
    "Call", list(KIND_LABELS), format_func=KIND_LABELS.__getitem__, key="mtg_kinds"
)
statuses = cols[2].multiselect(
    "Status", list(STATUSES), format_func=STATUS_LABELS.__getitem__, key="mtg_statuses"
)
st.session_state.setdefault("mtg_tz", browser_zone())
view_tz = cols[3].selectbox(
    "Show times in", ZONES, key="mtg_tz", help="Each meeting keeps its own zone in the invite."
)

flt = MeetingFilter(
    owner=None if owner_choice == EVERYONE else owner_choice,
    kinds=tuple(kinds),
    statuses=tuple(statuses),
)
with db.read_session(engine) as session:
    listed = meetings.list_meetings(session, flt)
upcoming, past = meetings.split_upcoming(listed, now=ref_now)


def open_button(view: MeetingView, where: str) -> None:
    if st.button(
        "Open",
        key=f"mtg_openbtn_{where}_{view.id}",
        icon=":material/open_in_new:",
        type="tertiary",
    ):
        st.session_state[OPEN] = view.id


def day_table(views: list[MeetingView], where: str) -> None:
    for day, group in meetings.group_by_day(views, view_tz):
        st.markdown(f"**{labels.day(day)}**")
        for view in group:
            cells = st.columns([2, 4, 2, 2, 2, 1], vertical_alignment="center")
            cells[0].write(when(view, view_tz))
            cells[1].markdown(
                f"{labels.md(view.customer_name)} · {KIND_LABELS.get(view.kind, view.kind)}"
            )
            cells[2].write(status_text(view))
            cells[3].write(view.owner or "-")
            cells[4].write(f"{len(view.attendees)} attendee(s)")
            with cells[5]:
                open_button(view, where)


tab_list, tab_week, tab_new = st.tabs(["By day", "Week", "Schedule a call"])

with tab_list:
    st.subheader(f"Upcoming ({len(upcoming)})", anchor=False)
    if upcoming:
        day_table(upcoming, "up")
    else:
        st.caption("No upcoming meetings for this selection.")
    st.subheader(f"Past ({len(past)})", anchor=False)
    missing = [v for v in past if v.needs_outcome(ref_now)]
    if missing:
        st.warning(
            f"{len(missing)} past meeting(s) have no outcome yet: the timeline counts them "
            "as overdue until you log what happened.",
            icon=":material/pending_actions:",
        )
    show_past = st.number_input(
        "Past days shown", min_value=7, max_value=365, value=60, step=7, key="mtg_past_days"
    )
    cutoff = ref_now - dt.timedelta(days=int(show_past))
    recent = [v for v in past if v.starts_at >= cutoff]
    if recent:
        day_table(recent, "past")
    else:
        st.caption("No past meetings in that period.")

with tab_week:
    picked = st.date_input("Week of", value=as_of, key="mtg_week_of", format="YYYY-MM-DD")
    monday = meetings.week_start(picked if isinstance(picked, dt.date) else as_of)
    start, end = meetings.week_range_utc(monday, view_tz)
    with db.read_session(engine) as session:
        week_meetings = meetings.list_meetings(
            session,
            MeetingFilter(
                owner=flt.owner, kinds=flt.kinds, statuses=flt.statuses, start=start, end=end
            ),
        )
    grid = meetings.week_view(week_meetings, monday, view_tz)
    columns = st.columns(7)
    for column, (day, views) in zip(columns, grid.items(), strict=True):
        with column:
            st.markdown(f"**{day:%a %d %b}**")
            if not views:
                st.caption("-")
            for view in views:
                with st.container(border=True):
                    st.markdown(
                        f"{when(view, view_tz)}  \n**{labels.md(view.customer_name)}**  \n"
                        f"{KIND_LABELS.get(view.kind, view.kind)} · {status_text(view)}"
                    )
                    open_button(view, "week")


# ------------------------------------------------------------------ schedule


def customer_choices() -> dict[str, str]:
    everyone = data.reports(as_of)
    mine = [r for r in everyone if r.customer.owner == username]
    others = [r for r in everyone if r.customer.owner != username]
    return {
        r.customer_id: f"{r.customer.name} ({r.customer_id})"
        + ("" if r.customer.owner == username else f" · {r.customer.owner or 'no owner'}")
        for r in [*mine, *others]
        if r.customer.status != "churned"
    }


with tab_new:
    if not can_write:
        st.info("Your role can look at meetings but not schedule them.", icon=":material/lock:")
    else:
        choices = customer_choices()
        if not choices:
            st.info("No customers yet: import them on the Data page.", icon=":material/inbox:")
        else:
            wanted = st.query_params.get("customer")
            if wanted in choices and "mtg_new_customer" not in st.session_state:
                st.session_state["mtg_new_customer"] = wanted
            customer_id = st.selectbox(
                "Customer",
                list(choices),
                format_func=choices.__getitem__,
                key="mtg_new_customer",
            )
            rep = data.report_for(customer_id, as_of)
            first_done = rep is not None and rep.timeline.steps["first_meeting"].status == "done"
            kind = st.radio(
                "Call",
                list(KIND_LABELS),
                index=1 if first_done else 0,
                format_func=KIND_LABELS.__getitem__,
                horizontal=True,
                key="mtg_new_kind",
            )
            # Prefill the agenda and the people when the customer or the call changes.
            prefill_for = f"{customer_id}/{kind}"
            if st.session_state.get("mtg_new_prefill_for") != prefill_for:
                with db.read_session(engine) as session:
                    history = meetings.for_customer(session, customer_id).meetings
                    goals = meetings.customer_goals(session, customer_id)
                people = next(
                    (
                        meetings.attendees_text(v.attendees)
                        for v in reversed(history)
                        if any(a.side == "customer" for a in v.attendees)
                    ),
                    "",
                )
                st.session_state["mtg_new_people"] = people
                st.session_state["mtg_new_agenda"] = meetings.agenda_from_findings(
                    rep.findings if rep else [], kind, goals
                )
                st.session_state["mtg_new_duration"] = meetings.DEFAULT_DURATION_MIN[kind]
                st.session_state["mtg_new_prefill_for"] = prefill_for
            c1, c2, c3, c4 = st.columns(4)
            day = c1.date_input("Date", value=as_of, key="mtg_new_date", format="YYYY-MM-DD")
            time = c2.time_input("Time", value=dt.time(15, 0), step=900, key="mtg_new_time")
            st.session_state.setdefault("mtg_new_tz", view_tz)
            tz = c3.selectbox("Time zone", ZONES, key="mtg_new_tz")
            duration = c4.number_input(
                "Minutes",
                min_value=5,
                max_value=meetings.MAX_DURATION_MIN,
                step=5,
                key="mtg_new_duration",
            )
            people_text = st.text_area(
                "People from the customer (one per line: Name <email>)",
                key="mtg_new_people",
                placeholder="Ann Lee <ann@acme.com>\nBo Chen <bo@acme.com>",
            )
            team_text = st.text_area(
                "Others from our team (optional; you are added as the organiser)",
                key="mtg_new_team",
                height=68,
            )
            agenda = st.text_area(
                "Agenda (from the open findings; edit freely)", key="mtg_new_agenda", height=180
            )
            if st.button(
                "Schedule", type="primary", key="mtg_new_submit", icon=":material/event_available:"
            ):
                try:
                    attendees = meetings.parse_attendees(people_text, "customer")
                    attendees += meetings.parse_attendees(team_text, "team")
                    organiser = meetings.Attendee(
                        user.name if user else username,
                        (user.email if user and user.email else f"{username}@example.invalid"),
                        "team",
                    )
                    if all(a.email != organiser.email for a in attendees):
                        attendees.append(organiser)
                    request = ScheduleRequest(
                        customer_id=customer_id,
                        kind=kind,
                        local_start=dt.datetime.combine(day, time),
                        timezone=tz,
                        duration_min=int(duration),
                        attendees=tuple(attendees),
                        agenda=agenda,
                    )
                    with access.writing("schedule a meeting") as writer:
                        new_id = meetings.schedule(engine, writer, request)
                except MeetingError as error:
                    st.error(str(error), icon=":material/error:")
                else:
                    telemetry.track("meeting_scheduled", customer_id=customer_id, kind=kind)
                    st.session_state[OPEN] = new_id
                    st.session_state.pop("mtg_new_prefill_for", None)
                    st.session_state[NOTICE] = (
                        f"{KIND_LABELS[kind]} with {choices[customer_id].split(' (')[0]} "
                        f"scheduled for {day:%a %d %b} {time:%H:%M} {tz}. "
                        "Download the invite below."
                    )
                    st.rerun()


# ------------------------------------------------------------------ one meeting

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


def key(mid: int, name: str) -> str:
    return f"mtg_f_{name}_{mid}"


def base_key(mid: int) -> str:
    return f"mtg_base_{mid}"


def conflict_key(mid: int) -> str:
    return f"mtg_conflict_{mid}"


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


def load_form(mid: int, view: MeetingView) -> None:
    for name, value in form_values(view).items():
        st.session_state[key(mid, name)] = value
    st.session_state[base_key(mid)] = meetings.as_session_dict(view)


def typed(mid: int, base: MeetingView) -> dict[str, Any]:
    # A field not drawn this run (say the new date, when the outcome is not
    # "rescheduled") has no widget value: it reads as the version opened.
    defaults = form_values(base)
    return {name: st.session_state.get(key(mid, name), defaults[name]) for name in FORM_FIELDS}


def keep_mine(mid: int) -> None:
    conflict = st.session_state.pop(conflict_key(mid), None)
    if conflict:
        st.session_state[base_key(mid)] = conflict["current"]


def merge_notes(mid: int) -> None:
    conflict = st.session_state.pop(conflict_key(mid), None)
    if conflict:
        theirs = conflict["current"]["notes"] or ""
        mine = st.session_state.get(key(mid, "notes")) or ""
        if theirs.strip() and theirs.strip() not in mine:
            who = conflict["current"]["updated_by"] or "the other person"
            st.session_state[key(mid, "notes")] = f"{mine.rstrip()}\n\n--- from {who} ---\n{theirs}"
        st.session_state[base_key(mid)] = conflict["current"]


def load_theirs(mid: int) -> None:
    conflict = st.session_state.pop(conflict_key(mid), None)
    if conflict:
        load_form(mid, meetings.from_session_dict(conflict["current"]))


def tick(checked: Any, before: bool | None) -> bool | None:
    """A checkbox's answer; unticked stays "not recorded" when it was never recorded."""
    if checked:
        return True
    return None if before is None else False


def findings_for(customer_id: str) -> dict[str, audit.Finding]:
    """rule -> finding, open and closed, as of the page's date."""
    return {f.rule: f for f in audit.for_customer(engine, customer_id, as_of, include_closed=True)}


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


def show_meeting(mid: int) -> None:
    try:
        current = meetings.get(engine, mid)
    except MeetingError:
        st.session_state.pop(OPEN, None)
        st.warning("That meeting no longer exists.", icon=":material/search_off:")
        return
    stored = st.session_state.get(base_key(mid))
    base = meetings.from_session_dict(stored) if stored else None
    conflict = st.session_state.get(conflict_key(mid))
    if base is None or st.session_state.pop(f"mtg_reload_{mid}", False):
        load_form(mid, current)
        base = current
    elif base.version != current.version and not conflict:
        if typed(mid, base) == form_values(base):
            # Nothing typed yet: quietly show the newer version.
            load_form(mid, current)
            st.info(
                f"{current.updated_by or 'Someone'} updated this meeting; showing their version.",
                icon=":material/sync:",
            )
            base = current

    st.divider()
    st.subheader(
        f"{labels.md(current.customer_name)} · {KIND_LABELS.get(current.kind, current.kind)}",
        anchor=False,
    )
    local = current.local_start
    st.markdown(
        f"{local:%A %d %B %Y, %H:%M} {local.tzname()} ({labels.md(current.timezone)}) · "
        f"{current.duration_min} min · owner **{labels.md(current.owner or '-')}** · "
        f"**{status_text(current)}** · version {current.version}"
    )
    top = st.columns([2, 2, 6])
    email, name = organiser_of(current)
    top[0].download_button(
        "Invite (.ics)",
        data=ics.invite(current, email, name),
        file_name=ics.filename(current),
        mime="text/calendar",
        icon=":material/calendar_add_on:",
        key=f"mtg_ics_{mid}",
        on_click="ignore",
    )
    top[1].page_link(
        "app_pages/customer.py",
        label="Customer page",
        icon=":material/person_search:",
        query_params={"id": current.customer_id},
    )
    if current.notes:
        with st.expander("Saved notes (Markdown, shown as text)"):
            st.text(current.notes)

    if not can_write:
        return

    if conflict:
        st.error(conflict["message"], icon=":material/sync_problem:")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Field": c["label"],
                        "When you opened it": c["before"],
                        f"Now (saved by {conflict['current']['updated_by'] or 'someone'})": c[
                            "now"
                        ],
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
            key=f"mtg_keep_{mid}",
            on_click=keep_mine,
            args=(mid,),
        )
        b2.button(
            "Add their notes to mine",
            key=f"mtg_merge_{mid}",
            on_click=merge_notes,
            args=(mid,),
        )
        b3.button(
            "Discard mine, load theirs",
            key=f"mtg_theirs_{mid}",
            on_click=load_theirs,
            args=(mid,),
        )

    st.markdown("**Log the outcome / edit**")
    known = findings_for(current.customer_id)
    fixed_options = list(
        dict.fromkeys(
            [
                *[rule for rule, f in known.items() if f.state == "open"],
                *current.fixed_rules,
                *(st.session_state.get(key(mid, "fixed")) or []),
            ]
        )
    )
    c1, c2, c3, c4 = st.columns(4)
    c1.date_input("Date", key=key(mid, "date"), format="YYYY-MM-DD", persist_state="session")
    c2.time_input("Time", key=key(mid, "time"), step=900, persist_state="session")
    c3.selectbox("Time zone", ZONES, key=key(mid, "tz"), persist_state="session")
    c4.number_input(
        "Minutes",
        min_value=5,
        max_value=meetings.MAX_DURATION_MIN,
        step=5,
        key=key(mid, "duration"),
        persist_state="session",
    )
    outcome = st.selectbox(
        "Outcome",
        list(STATUSES),
        format_func=STATUS_LABELS.__getitem__,
        key=key(mid, "status"),
        persist_state="session",
        help="Held marks the step done on the meeting's day. No-show and cancelled "
        "leave the step to its window (due, then overdue). Rescheduled books a new "
        "meeting on the new date.",
    )
    if outcome == "rescheduled" and current.status != "rescheduled":
        r1, r2 = st.columns(2)
        r1.date_input(
            "New date", key=key(mid, "resched_date"), format="YYYY-MM-DD", persist_state="session"
        )
        r2.time_input("New time", key=key(mid, "resched_time"), step=900, persist_state="session")
    st.text_area(
        "Notes (Markdown)",
        key=key(mid, "notes"),
        persist_state="session",
        height=200,
        help="Kept as text: shown as written, never as HTML.",
    )
    st.multiselect(
        "Findings fixed during the call",
        fixed_options,
        format_func=lambda rule: finding_label(known, rule),
        key=key(mid, "fixed"),
        persist_state="session",
        help="Marks them fixed in the audit (the report's saving counts them as realised).",
    )
    if current.kind == "first":
        o1, o2 = st.columns(2)
        o1.checkbox("Second call offered", key=key(mid, "offered"), persist_state="session")
        o2.checkbox("Second call accepted", key=key(mid, "accepted"), persist_state="session")
    else:
        st.text_area(
            "Goals and KPIs (one per line: name | target | YYYY-MM-DD)",
            key=key(mid, "goals"),
            persist_state="session",
            placeholder="Activation rate | 40% | 2026-06-30",
            help="Kept on the customer; the homework builder ranks tasks by them.",
        )
    with st.expander("Attendees and agenda"):
        st.text_area("People from the customer", key=key(mid, "people"), persist_state="session")
        st.text_area("Our team", key=key(mid, "team"), height=68, persist_state="session")
        st.text_area("Agenda", key=key(mid, "agenda"), height=150, persist_state="session")

    if st.button("Save", type="primary", key=f"mtg_save_{mid}", icon=":material/save:"):
        values = typed(mid, base)
        try:
            attendees = meetings.parse_attendees(values["people"] or "", "customer")
            attendees += meetings.parse_attendees(values["team"] or "", "team")
            update = MeetingUpdate(
                local_start=dt.datetime.combine(values["date"], values["time"]),
                timezone=values["tz"],
                duration_min=int(values["duration"]),
                attendees=tuple(attendees),
                agenda=values["agenda"] or "",
                status=values["status"],
                notes=values["notes"] or "",
                fixed_rules=tuple(values["fixed"] or ()),
                second_call_offered=tick(values["offered"], base.second_call_offered)
                if current.kind == "first"
                else None,
                second_call_accepted=tick(values["accepted"], base.second_call_accepted)
                if current.kind == "first"
                else None,
                goals=tuple(meetings.parse_goals(values["goals"] or ""))
                if current.kind == "second"
                else None,
                rescheduled_to=dt.datetime.combine(values["resched_date"], values["resched_time"])
                if values["status"] == "rescheduled"
                else None,
            )
            with access.writing("log a meeting") as writer:
                result = meetings.save(engine, writer, mid, base, update, now=real_now)
        except MeetingConflict as refused:
            st.session_state[conflict_key(mid)] = {
                "message": str(refused),
                "changes": [c.__dict__ for c in refused.changes],
                "current": meetings.as_session_dict(refused.current),
            }
            st.rerun()
        except MeetingError as error:
            st.error(str(error), icon=":material/error:")
        else:
            st.session_state.pop(conflict_key(mid), None)
            st.session_state[f"mtg_reload_{mid}"] = True
            saved = result.meeting
            telemetry.track(
                "meeting_logged",
                customer_id=saved.customer_id,
                kind=saved.kind,
                status=saved.status,
            )
            parts = [f"Saved: {STATUS_LABELS[saved.status].lower()}"]
            if saved.status == "held":
                parts.append(
                    f"{labels.step(meetings.KIND_STEP[saved.kind])} done on {saved.day:%d %b}"
                )
            if result.fixed:
                parts.append(f"{len(result.fixed)} finding(s) marked fixed")
            if result.reopened:
                parts.append(f"{len(result.reopened)} finding(s) reopened")
            if result.new_meeting_id:
                st.session_state[OPEN] = result.new_meeting_id
                parts.append("the new date is booked (download its invite)")
            st.session_state[NOTICE] = "; ".join(parts) + "."
            st.rerun()


choices_open = {v.id: v.label(view_tz) for v in [*upcoming, *past]}
wanted_meeting = st.query_params.get("meeting")
if wanted_meeting and wanted_meeting.isdigit() and OPEN not in st.session_state:
    st.session_state[OPEN] = int(wanted_meeting)
opened = st.session_state.get(OPEN)
if opened is not None and opened not in choices_open:
    try:
        choices_open[opened] = meetings.get(engine, opened).label(view_tz)
    except MeetingError:
        st.session_state.pop(OPEN, None)
        opened = None
if choices_open:
    st.selectbox(
        "Open a meeting",
        list(choices_open),
        format_func=choices_open.__getitem__,
        index=None,
        placeholder="Pick a meeting to log its outcome or download its invite",
        key=OPEN,
        persist_state="session",
    )
if st.session_state.get(OPEN) is not None:
    show_meeting(int(st.session_state[OPEN]))
