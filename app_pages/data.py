"""Data (admin): import the contract's CSV files; every problem is shown by file, row and column."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from lib import ingest
from lib.csv_safe import to_safe_csv
from lib.ingest import (
    ImportRejected,
    Source,
    limits,
    posthog_client,
    posthog_store,
    posthog_sync,
)
from ui import access, data, labels, telemetry

RESULT = "data_import_result"
UPLOADS = "data_uploads"

st.title(":material/upload_file: Data", anchor=False)
engine = data.engine()

customers = data.customer_count()
st.caption(f"Database: `{engine.url.render_as_string(hide_password=True)}` · {customers} customers")

st.markdown(
    "Upload any of `customers.csv`, `subscriptions.csv`, `config.csv`, `usage.csv`, "
    "`steps.csv`, `refunds.csv`, `contacts.csv` (UTF-8, header row). The import is "
    "all-or-nothing: any problem in any file and nothing is written. Re-importing the same "
    "files changes nothing."
)
st.caption(
    f"Limits: {limits.MAX_FILE_MB} MB a file (usage.csv of 10,000 customers over 120 days "
    f"is about 640 MB), {limits.MAX_SMALL_FILE_MB} MB for the other files, "
    f"{limits.MAX_COLUMNS} columns, {limits.MAX_LINE_BYTES // 1024} KB a line."
)
files = st.file_uploader(
    "CSV files",
    type=["csv"],
    accept_multiple_files=True,
    key=UPLOADS,
    help=f"Up to {limits.MAX_FILE_MB} MB each",
)
if st.button(
    "Import",
    type="primary",
    icon=":material/database_upload:",
    disabled=not files,
    key="data_import",
):
    access.require("import data", access.ADMINS)
    sources = [Source(f.name, f.getvalue()) for f in files or []]
    try:
        with st.spinner("Checking and importing..."):
            loaded, warnings = ingest.validate_sources(sources)  # no transaction open yet
            with access.writing("import data", access.ADMINS) as session:
                result = ingest.write(session, loaded, dt.date.today(), warnings)
        st.session_state[RESULT] = ("ok", result)
        telemetry.track(
            "import_completed",
            source="csv",
            files=len(sources),
            rows=result.changed,
            added=sum(k.added for k in result.kinds.values()),
            updated=sum(k.updated for k in result.kinds.values()),
        )
    except ImportRejected as rejected:
        # A fresh copy: the raised one's traceback holds the files' frames in memory.
        kept = ImportRejected(rejected.problems, rejected.total)
        st.session_state[RESULT] = ("rejected", kept)
        telemetry.track(
            "import_failed",
            source="csv",
            files=len(sources),
            problems=rejected.total,
            reason="rejected",
        )

outcome = st.session_state.get(RESULT)
if outcome is not None:
    kind, detail = outcome
    if kind == "ok":
        imported: ingest.ImportResult = detail
        if imported.changed:
            st.success(
                f"Imported: {imported.changed:,} rows added or updated.", icon=":material/done_all:"
            )
        else:
            st.info("Nothing changed: the database already had these rows.", icon=":material/info:")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "File": ", ".join(r.files),
                        "Added": r.added,
                        "Updated": r.updated,
                        "Unchanged": r.unchanged,
                    }
                    for r in imported.kinds.values()
                ]
            ),
            hide_index=True,
        )
        for warning in imported.warnings:
            st.warning(labels.md(warning), icon=":material/warning:")
    else:
        refused: ImportRejected = detail
        shown = (
            f" (the first {len(refused.problems)} below)"
            if refused.total > len(refused.problems)
            else ""
        )
        st.error(
            f"Import refused, nothing was written: {refused.total:,} problem(s){shown}. "
            "Fix them in the files and upload again.",
            icon=":material/block:",
        )
        problems = pd.DataFrame(
            [
                {
                    "File": p.file,
                    "Row": p.row,
                    "Column": p.column or "",
                    "Value": p.value if p.value is not None else "",
                    "Expected": p.expected,
                }
                for p in refused.problems
            ]
        )
        st.dataframe(
            problems,
            hide_index=True,
            width="stretch",
            column_config={"Row": st.column_config.NumberColumn(format="%d")},
        )
        st.download_button(
            "Download the problems (CSV)",
            to_safe_csv(problems),  # the values are the user's cells: never formulas
            file_name="import-problems.csv",
            mime="text/csv",
            icon=":material/download:",
            key="data_problems_download",
        )

# ------------------------------------------------------------ PostHog sync
SYNC_RESULT = "posthog_sync_result"
st.divider()
st.subheader(":material/sync: Sync from PostHog", anchor=False)
try:
    connection: posthog_client.Connection | None = posthog_client.Connection.from_env()
except posthog_client.ConfigError as error:
    connection = None
    st.info(
        f"{labels.md(error)}. Put them in the server's environment or at the top of "
        "`.streamlit/secrets.toml`.",
        icon=":material/key:",
    )
if connection is not None:
    with data.reading() as session:
        synced = posthog_store.last_synced(session, connection)
    st.caption(
        f"{labels.md(connection.describe())} · "
        + (f"usage synced through {min(synced.values())}" if synced else "never synced")
        + ". Queries: `data/posthog_queries/*.sql`."
    )
    since = st.date_input(
        "Re-fetch from (optional)",
        value=None,
        key="posthog_sync_since",
        help="Empty: each customer from the day after its last sync (new customers: 120 days).",
    )
    dry_run = st.toggle(
        "Dry run: show what would change, write nothing", key="posthog_sync_dry_run"
    )
    if st.button("Sync from PostHog", icon=":material/sync:", key="posthog_sync_button"):
        access.require("sync from PostHog", access.ADMINS)
        bar = st.progress(0.0, text="Starting...")

        def show(progress: posthog_sync.Progress) -> None:
            bar.progress(min(progress.fraction, 1.0), text=labels.md(progress.message))

        try:
            with data.reading() as session:
                state = posthog_store.read_state(session, connection)
            # PostHog is asked with no transaction open; then one write transaction.
            fetched = posthog_sync.fetch(
                connection, state, posthog_sync.yesterday(), since, progress=show
            )
            with access.writing("sync from PostHog", access.ADMINS) as session:
                outcome_ = posthog_store.write(session, fetched, dt.date.today(), dry_run, show)
            st.session_state[SYNC_RESULT] = ("ok", outcome_)
            if not outcome_.dry_run:
                telemetry.track(
                    "import_completed",
                    source="posthog",
                    rows=outcome_.changed,
                    added=sum(k.added for k in outcome_.imported.kinds.values()),
                    updated=sum(k.updated for k in outcome_.imported.kinds.values()),
                )
        except (posthog_client.SyncError, ImportRejected) as error:
            st.session_state[SYNC_RESULT] = ("failed", error)
            telemetry.track(
                "import_failed",
                source="posthog",
                reason="rejected"
                if isinstance(error, ImportRejected)
                else "config"
                if isinstance(error, posthog_client.ConfigError)
                else "sync",
            )
        bar.empty()

sync_outcome = st.session_state.get(SYNC_RESULT)
if sync_outcome is not None:
    status, detail_ = sync_outcome
    if status == "ok":
        synced_result: posthog_sync.SyncResult = detail_
        if synced_result.dry_run:
            st.info("Dry run: nothing was written.", icon=":material/visibility:")
        elif synced_result.changed:
            st.success(
                f"Synced: {synced_result.changed:,} rows added or updated.",
                icon=":material/done_all:",
            )
        else:
            st.info("Synced: nothing changed.", icon=":material/info:")
        st.code(synced_result.summary(), language=None)
    else:
        st.error("The sync stopped; nothing was written.", icon=":material/block:")
        failure = detail_.summary() if isinstance(detail_, ImportRejected) else str(detail_)
        st.code(failure, language=None)

if customers == 0:
    st.divider()
    st.subheader("No data yet?", anchor=False)
    st.markdown(
        "Load the demo data set from the command line: `onboarding demo` "
        "(deterministic: 300 customers over every program week and status)."
    )
