"""The Users page's "Morning digest" section: each login's channels (email, Slack), hour
and time zone, and Slack member ID (lib.accounts.digest_prefs, kept in the login file)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lib.accounts import digest_prefs
from lib.errors import UserError
from ui import access, labels

CHANNEL_LABELS = {"email": "Email", "slack": "Slack"}


def digest_section(path: Path) -> None:
    st.subheader(":material/mark_email_unread: Morning digest", anchor=False)
    st.caption(
        "`onboarding digest --send`, run every hour, sends each owner their digest once a day "
        "at the hour they choose, in their own time zone (README, Morning digest)."
    )
    readers = digest_prefs.recipients(path)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Username": name,
                    "Channels": ", ".join(r.prefs.channels) or "off",
                    "Hour": f"{r.prefs.hour:02d}:00",
                    "Time zone": r.prefs.timezone,
                    "Slack member": r.prefs.slack_user or "",
                }
                for name, r in readers.items()
            ],
            columns=["Username", "Channels", "Hour", "Time zone", "Slack member"],
        ),
        hide_index=True,
        width="stretch",
    )
    if not readers:
        return
    who = st.selectbox("Digest of", sorted(readers), key="users_digest_user")
    now = readers[who].prefs
    zones = list(digest_prefs.zones())
    with st.form(f"users_digest_{who}"):
        cols = st.columns([2, 1, 2, 2])
        channels = cols[0].multiselect(
            "Channels",
            list(digest_prefs.CHANNELS),
            default=list(now.channels),
            format_func=lambda c: CHANNEL_LABELS.get(c, c),
            key=f"users_digest_channels_{who}",
            help="None: no digest for this login.",
        )
        hour = cols[1].number_input("Hour", 0, 23, now.hour, step=1, key=f"users_digest_hour_{who}")
        zone = cols[2].selectbox(
            "Time zone", zones, index=zones.index(now.timezone), key=f"users_digest_zone_{who}"
        )
        member = cols[3].text_input(
            "Slack member ID",
            value=now.slack_user or "",
            key=f"users_digest_slack_{who}",
            help="For direct messages from the bot (ONBOARDING_SLACK_BOT_TOKEN); without one "
            "Slack digests go to the team's webhook.",
        )
        if st.form_submit_button("Save digest settings", icon=":material/save:"):
            try:
                access.require("change a login's digest", access.ADMINS)
                saved = digest_prefs.set_prefs(
                    path, who, channels or ["none"], int(hour), zone, member
                )
            except UserError as error:
                st.error(labels.md(str(error)), icon=":material/error:")
            else:
                st.success(
                    f"Saved: {labels.md(who)}'s digest comes by {labels.md(saved.describe)}.",
                    icon=":material/check_circle:",
                )
