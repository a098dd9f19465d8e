"""Book or log a customer's call where the owner is: the one form the Meetings page's
"Schedule a call", Today's call rows and the customer page's Calls tab share.

- `book_form`: a new call for one customer, booked (from now on) or logged as held at
  once, prefilled with the customer's actual next call (the first until it is held), the
  next working day at 10:00 in the user's zone (or the step's window when it opens later),
  the customer's contacts (lib.meetings.suggested_people: never the team's own
  addresses) and an agenda from the open findings.
- `call_panel`: the customer's booked call with its invite and its outcome form
  (ui.meeting_form), else the form that books one; with `list_calls`, every call of the
  customer, the one opened right under its row.

Each place draws it under a key prefix of its own, so the same customer or meeting open
on two pages keeps two forms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import streamlit as st

from lib import mail, meetings
from lib.meetings import KIND_LABELS, KIND_STEP, MeetingError, MeetingView, ScheduleRequest
from lib.program.report import CustomerReport
from lib.program.timeline import StepState
from ui import access, actions, data, labels, login, meeting_form, send_panel, telemetry
from ui.meeting_list import Clock, browser_zone, clock_for, status_text, when

BOOK, HELD = "book", "held"
MODES = {BOOK: "Book a call", HELD: "Log a call that took place"}
Notify = Callable[[str], None]
CLOSED = -1  # the list's meeting closed by hand: none is open
# How a call step reads beside the calls (due and overdue say by when).
STEP_WORDS = {
    "done": "held",
    "scheduled": "booked",
    "skipped": "skipped",
    "optional": "optional",
    "upcoming": "not open yet",
}


# ------------------------------------------------------------------ who and when


def contact_choices(customer_id: str) -> dict[str, str]:
    """The customer's contacts (primary first, the team's logins left out): email -> line."""
    return {
        mail.addresses_of([line])[0].lower(): line
        for line in send_panel.customer_recipients(customer_id)
    }


def team_addresses() -> set[str]:
    """Every address of the team: the logins' and the signed-in user's (also the address
    a login without one is invited under)."""
    team = send_panel.team_emails()
    user = login.current_user()
    if user is not None:
        team.add(organiser(user.username).email.lower())
    return team


def organiser(username: str) -> meetings.Attendee:
    """The team member booking the call, as the invite's organiser."""
    user = login.users().get(username)
    name = user.name if user and user.name else username
    email = user.email if user and user.email else f"{username}@example.invalid"
    return meetings.Attendee(name, email, "team")


def next_kind(rep: CustomerReport | None) -> str:
    """The customer's actual next call: the first until it is held."""
    first = rep.timeline.steps["first_meeting"].status if rep is not None else None
    return meetings.next_call_kind(first)


def _prefill(
    prefix: str,
    customer_id: str,
    kind: str,
    mode: str,
    rep: CustomerReport | None,
    clock: Clock,
) -> None:
    """Fill the form when the customer, the call or the mode changes; else keep what the
    user typed (the widgets keep their values for the session)."""
    prefill_for = f"{customer_id}/{kind}/{mode}"
    if st.session_state.get(f"{prefix}_prefill_for") == prefill_for:
        return
    with data.reading() as session:
        calls = meetings.for_customer(session, customer_id)
        goals = meetings.customer_goals(session, customer_id)
    known = contact_choices(customer_id)  # email -> `Name <email>`
    contacts = [a for line in known.values() for a in meetings.parse_attendees(line)]
    chosen, others = meetings.suggested_people(contacts, calls.last_people(), team_addresses())
    if mode == HELD:
        start = meetings.default_held_start(clock.local_now)
    else:
        window = rep.timeline.steps[KIND_STEP[kind]].window_start if rep else None
        start = meetings.default_start(clock.local_now.date(), window)
    st.session_state[f"{prefix}_date"] = start.date()
    st.session_state[f"{prefix}_time"] = start.time()
    st.session_state[f"{prefix}_contacts"] = [known[a.email.lower()] for a in chosen]
    st.session_state[f"{prefix}_people"] = meetings.attendees_text(others)
    st.session_state[f"{prefix}_agenda"] = meetings.agenda_from_findings(
        rep.findings if rep else [], kind, goals
    )
    st.session_state[f"{prefix}_duration"] = meetings.DEFAULT_DURATION_MIN[kind]
    st.session_state[f"{prefix}_notes"] = ""
    st.session_state[f"{prefix}_prefill_for"] = prefill_for


def forget(prefix: str) -> None:
    """Prefill the form afresh next time (after a booking)."""
    st.session_state.pop(f"{prefix}_prefill_for", None)


# ------------------------------------------------------------------ the form


def book_form(
    prefix: str,
    customer_id: str,
    rep: CustomerReport | None,
    clock: Clock,
    zones: list[str],
    on_booked: Callable[[int], None] | None = None,
    notify: Notify = actions.post,
) -> None:
    """Book (or log as held) a call with `customer_id`; `on_booked(meeting_id)` runs
    before the rerun, `notify` keeps the notice for it."""
    user = login.current_user()
    username = user.username if user else ""
    # The call follows the customer: their next one whenever the customer (or their next
    # call, once the first is held) changes; else what the user picked.
    upcoming = next_kind(rep)
    if st.session_state.get(f"{prefix}_kind_for") != f"{customer_id}/{upcoming}":
        st.session_state[f"{prefix}_kind"] = upcoming
        st.session_state[f"{prefix}_kind_for"] = f"{customer_id}/{upcoming}"
    top = st.columns([3, 4], vertical_alignment="bottom")
    kind = top[0].radio(
        "Call",
        list(KIND_LABELS),
        format_func=KIND_LABELS.__getitem__,
        horizontal=True,
        key=f"{prefix}_kind",
        persist_state="session",
        help="The customer's next call is picked: the first until it is held.",
    )
    mode = (
        top[1].segmented_control(
            "What",
            list(MODES),
            format_func=MODES.__getitem__,
            default=BOOK,
            key=f"{prefix}_mode",
            label_visibility="collapsed",
        )
        or BOOK
    )
    _prefill(prefix, customer_id, kind, mode, rep, clock)
    c1, c2, c3, c4 = st.columns(4)
    day = c1.date_input("Date", key=f"{prefix}_date", format="YYYY-MM-DD", persist_state="session")
    time = c2.time_input("Time", step=900, key=f"{prefix}_time", persist_state="session")
    st.session_state.setdefault(f"{prefix}_tz", clock.tz)
    tz = c3.selectbox("Time zone", zones, key=f"{prefix}_tz", persist_state="session")
    duration = c4.number_input(
        "Minutes",
        min_value=5,
        max_value=meetings.MAX_DURATION_MIN,
        step=5,
        key=f"{prefix}_duration",
        persist_state="session",
    )
    invited = st.multiselect(
        "The customer's contacts (invited with the people below)",
        list(contact_choices(customer_id).values()),
        key=f"{prefix}_contacts",
        placeholder="No contacts yet: add them on the customer page, or below",
        persist_state="session",
    )
    people_text = st.text_area(
        "People from the customer (one per line: Name <email>)",
        key=f"{prefix}_people",
        placeholder="Ann Lee <ann@acme.com>\nBo Chen <bo@acme.com>",
        persist_state="session",
    )
    team_text = st.text_area(
        "Others from our team (optional; you are added as the organiser)",
        key=f"{prefix}_team",
        height=68,
        persist_state="session",
    )
    agenda = st.text_area(
        "Agenda (from the open findings; edit freely)",
        key=f"{prefix}_agenda",
        height=180,
        persist_state="session",
    )
    notes = ""
    if mode == HELD:
        notes = st.text_area(
            "Notes (Markdown)",
            key=f"{prefix}_notes",
            height=120,
            persist_state="session",
            help="What was covered. Findings fixed on the call, and the goals of a second "
            "call, are logged on the call once saved.",
        )
    label, icon = (
        ("Log as held", ":material/task_alt:")
        if mode == HELD
        else ("Schedule", ":material/event_available:")
    )
    if not st.button(label, type="primary", key=f"{prefix}_submit", icon=icon):
        return
    try:
        typed = meetings.parse_attendees(people_text, "customer")
        listed = {a.email.lower() for a in typed}
        attendees = typed + [
            a
            for a in meetings.parse_attendees("\n".join(invited), "customer")
            if a.email.lower() not in listed
        ]
        attendees += meetings.parse_attendees(team_text, "team")
        me = organiser(username)
        if all(a.email != me.email for a in attendees):
            attendees.append(me)
        request = ScheduleRequest(
            customer_id=customer_id,
            kind=kind,
            local_start=dt.datetime.combine(day, time),
            timezone=tz,
            duration_min=int(duration),
            attendees=tuple(attendees),
            agenda=agenda,
            status="held" if mode == HELD else "scheduled",
            notes=notes,
        )
        with access.writing("schedule a meeting") as session:
            new_id = meetings.schedule(session, request, now=clock.write_now)
    except MeetingError as error:
        st.error(labels.md(error), icon=":material/error:")
        return
    telemetry.track("meeting_scheduled", customer_id=customer_id, kind=kind)
    forget(prefix)
    if on_booked is not None:
        on_booked(new_id)
    name = labels.md(rep.customer.name if rep else customer_id)
    when_text = f"{day:%a %d %b} {time:%H:%M} {labels.md(tz)}"
    if mode == HELD:
        notify(
            f"{KIND_LABELS[kind]} with {name} logged as held on {when_text}: "
            f"{labels.step(KIND_STEP[kind]).lower()} is done."
        )
    else:
        notify(
            f"{KIND_LABELS[kind]} with {name} scheduled for {when_text}. "
            "Download the invite or send it by email below."
        )
    st.rerun()


# ------------------------------------------------------------------ the panel


def _notice_key(prefix: str) -> str:
    return f"{prefix}_notice"


def notifier(prefix: str) -> Notify:
    """Keep a notice for the panel `prefix` (shown at its top after the rerun)."""

    def notify(text: str) -> None:
        st.session_state[_notice_key(prefix)] = text

    return notify


def opened_key(prefix: str) -> str:
    return f"{prefix}_open"


def call_steps(rep: CustomerReport, as_of: dt.date) -> None:
    """Where the customer's calls stand in the program: one line per call step."""
    parts = [
        f"{KIND_LABELS[kind]}: {step_badge(rep.timeline.steps[step], as_of)}"
        for kind, step in KIND_STEP.items()
    ]
    st.markdown(" · ".join(parts))


def step_badge(state: StepState, as_of: dt.date) -> str:
    """A step's status as a badge: by when for a step due or overdue, else what it is and
    on which day ("held Mon 16 Mar 2026", "booked ...")."""
    if state.status in ("due", "overdue") and state.date is None:
        text = labels.due_text(state.status, state.window_end, as_of)
    else:
        words = "booked, no outcome yet" if state.status == "overdue" else None
        text = words or STEP_WORDS.get(state.status, state.status)
        if state.date:
            text += f" {labels.day(state.date)}"
    return labels.badge(state.status, text)


def call_panel(
    rep: CustomerReport,
    as_of: dt.date,
    clock: Clock,
    zones: list[str],
    prefix: str,
    list_calls: bool = False,
    after_save: meeting_form.AfterSave | None = None,
    customer_link: bool = True,
) -> None:
    """The customer's call to act on: the booked one (the meeting opened in the list, else
    the earliest still scheduled) with its invite and outcome form, else the form that
    books one. `after_save` runs after the outcome is saved (before the rerun)."""
    customer_id = rep.customer_id
    notice = st.session_state.pop(_notice_key(prefix), None)
    if notice:
        st.success(labels.markdown(notice), icon=":material/check_circle:")
    can_write = access.can(*access.TEAM_WRITERS)
    with data.reading() as session:
        calls = meetings.for_customer(session, customer_id)
    pending = calls.pending()
    chosen = st.session_state.get(opened_key(prefix))
    if chosen == CLOSED:
        opened = None
    elif chosen in {m.id for m in calls.meetings}:
        opened = chosen
    else:  # nothing chosen (or gone): the booked call
        opened = pending.id if pending else None

    def draw(view: MeetingView) -> None:
        meeting_form.show_meeting(
            view.id,
            clock,
            zones,
            as_of,
            prefix=prefix,
            after_save=after_save,
            customer_link=customer_link,
        )

    if list_calls:
        calls_list(calls.meetings, clock, prefix, opened, draw)
    elif opened is not None:
        draw(next(m for m in calls.meetings if m.id == opened))
    if not can_write:
        if not calls.meetings:
            st.caption("No calls yet.")
        return
    book_prefix = f"{prefix}_new"

    def booked(meeting_id: int) -> None:
        st.session_state[opened_key(prefix)] = meeting_id

    if pending is None:
        with st.container(border=True):
            st.markdown(f"**Book the {KIND_LABELS[next_kind(rep)].lower()}**")
            book_form(book_prefix, customer_id, rep, clock, zones, booked, notifier(prefix))
    else:
        with st.expander("Book another call", icon=":material/add_call:"):
            book_form(book_prefix, customer_id, rep, clock, zones, booked, notifier(prefix))


def calls_list(
    views: list[MeetingView],
    clock: Clock,
    prefix: str,
    opened: int | None,
    draw: Callable[[MeetingView], None],
) -> None:
    """Every call of the customer, latest first; the one opened drawn under its row."""
    if not views:
        st.caption("No calls yet.")
        return
    for view in sorted(views, key=lambda m: (m.starts_at, m.id), reverse=True):
        cells = st.columns([3, 2, 2, 2, 1], vertical_alignment="center")
        local = meetings.to_local(view.starts_at, clock.tz)
        cells[0].markdown(f"{labels.day(local.date())}, {when(view, clock.tz)}")
        cells[1].markdown(KIND_LABELS.get(view.kind, view.kind))
        cells[2].markdown(status_text(view, clock.ref_now))
        cells[3].markdown(labels.md(view.owner or "-"))
        is_open = view.id == opened
        with cells[4]:
            if is_open:
                st.button(
                    "Close",
                    key=f"{prefix}_close_{view.id}",
                    icon=":material/close:",
                    type="tertiary",
                    on_click=_choose,
                    args=(prefix, CLOSED),
                )
            else:
                st.button(
                    "Open",
                    key=f"{prefix}_openbtn_{view.id}",
                    icon=":material/open_in_new:",
                    type="tertiary",
                    on_click=_choose,
                    args=(prefix, view.id),
                )
        if is_open:
            with st.container(border=True):
                draw(view)


def _choose(prefix: str, meeting_id: int) -> None:
    st.session_state[opened_key(prefix)] = meeting_id


# ------------------------------------------------------------------ the customer page


def calls_tab(rep: CustomerReport, as_of: dt.date) -> None:
    """The customer page's Calls tab: where the calls stand, every call with the one
    opened under its row (the booked one by default), and the form that books the next."""
    call_steps(rep, as_of)
    st.session_state.setdefault("cust_call_tz", browser_zone())
    zones = meetings.timezones()
    tz = st.columns([2, 5])[0].selectbox(
        "Show times in",
        zones,
        key="cust_call_tz",
        help="Each call keeps its own zone in the invite.",
    )
    clock = clock_for(as_of, tz)
    call_panel(rep, as_of, clock, zones, "cust_call", list_calls=True, customer_link=False)
