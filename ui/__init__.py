"""Shared Streamlit glue for the pages (Streamlit is allowed here, never in lib/).

What a page author uses:

- `ui.data.engine()`: the cached SQLAlchemy engine of the configured database.
- `ui.data.as_of()`: the date the pages show (the sidebar's "As of", today by default).
- `ui.data.reports(as_of)` / `ui.data.report(customer_id, as_of)`: cached lib.report results.
- `ui.data.changed()`: clear the data caches; `ui.access.writing` calls it for you.
- `ui.login.current_user()`: the signed-in lib.auth.User (role included) or None.
- `ui.access.can(*roles)`: may the current user do this? (to decide what to draw).
- `with ui.access.writing("what", roles) as user:` the server-side role check every
  write path goes through; yields the username to pass to lib as the audit-log user
  and clears the caches when the block succeeds.
- `ui.labels`: money text and status labels/colours shared by the pages.
"""
