"""Streamlit glue the pages share (Streamlit is allowed here, never in lib/).

`data` (the engine, cached reads, `reading()`), `access` (role checks; `writing()` opens
the unit of work), `actions` (write, notice, rerun), `labels` (safe Markdown, badges),
`login`, `frame` (the sidebar), `errors`, and the panels and charts pages draw.
"""
