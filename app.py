"""Entry point: page config, the login gate, pages built from the user's role, pg.run().

Nothing but the sign-in form exists before login (every URL shows it); the
pages are registered only for a signed-in user, those of their role, so a page
the role may not see does not exist for them (its URL opens the role's default
page). Every page runs inside ui.errors.friendly:
no traceback ever reaches the screen.
"""

from __future__ import annotations

import streamlit as st

from ui import errors, frame, labels, login, sessions, telemetry

st.set_page_config(
    page_title="Onboarding console",
    page_icon=":material/rocket_launch:",
    layout="wide",
    initial_sidebar_state="expanded",
)

# Every page: file, title, icon, section. The customer page is reached by link
# (/customer?id=...), so it is not listed in the sidebar.
PAGES: dict[str, dict[str, str]] = {
    "today": {"file": "app_pages/today.py", "title": "Today", "icon": ":material/today:"},
    "customers": {
        "file": "app_pages/customers.py",
        "title": "Customers",
        "icon": ":material/groups:",
    },
    "customer": {
        "file": "app_pages/customer.py",
        "title": "Customer",
        "icon": ":material/person_search:",
        "visibility": "hidden",
    },
    "meetings": {"file": "app_pages/meetings.py", "title": "Meetings", "icon": ":material/event:"},
    "homework": {
        "file": "app_pages/homework.py",
        "title": "Homework",
        "icon": ":material/assignment:",
    },
    "outcomes": {
        "file": "app_pages/outcomes.py",
        "title": "Outcomes",
        "icon": ":material/insights:",
    },
    "data": {"file": "app_pages/data.py", "title": "Data", "icon": ":material/upload_file:"},
    "users": {"file": "app_pages/users.py", "title": "Users", "icon": ":material/manage_accounts:"},
}

# The role table: which pages each role has, the first being its default page.
ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "team": ("today", "customers", "customer", "meetings", "homework", "outcomes"),
    "leadership": ("outcomes", "customers", "customer"),
    "admin": (
        "today",
        "customers",
        "customer",
        "meetings",
        "homework",
        "outcomes",
        "data",
        "users",
    ),
}

SECTIONS: dict[str, tuple[str, ...]] = {
    "Work": ("today", "customers", "customer", "meetings", "homework"),
    "Program": ("outcomes",),
    "Admin": ("data", "users"),
}


def pages_for(role: str) -> dict[str, list[st.Page]]:
    allowed = ROLE_PAGES.get(role, ())
    sections: dict[str, list[st.Page]] = {}
    for section, names in SECTIONS.items():
        pages = [
            st.Page(
                PAGES[name]["file"],
                title=PAGES[name]["title"],
                icon=PAGES[name]["icon"],
                default=name == allowed[0],
                visibility="hidden" if PAGES[name].get("visibility") == "hidden" else "visible",
            )
            for name in names
            if name in allowed
        ]
        if pages:
            sections[section] = pages
    return sections


def main() -> None:
    authenticator = login.authenticator()
    user = login.settle(authenticator)
    if user is None:
        # Not signed in: every URL shows the sign-in form and no page exists.
        st.navigation(login.sign_in_pages(authenticator, PAGES), position="hidden").run()
        return
    if user.role not in ROLE_PAGES:
        st.error(
            f"Your login has an unknown role ({labels.md(repr(user.role))}); ask an admin to fix it."
        )
        return
    login.restore_deep_link()
    page = st.navigation(pages_for(user.role))
    frame.sidebar(user)
    with st.sidebar:
        sessions.write_cookies()  # the cookie of a sign-in just made (nothing visible)
    # Once per visit to a page (not per rerun); a no-op unless PostHog is configured.
    telemetry.page_viewed(page.url_path or ROLE_PAGES[user.role][0])
    with errors.friendly():
        page.run()


with errors.friendly():
    main()
