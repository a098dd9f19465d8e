"""The customer page's audit: finding cards (mark fixed, dismiss, reopen) and health."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib import audit
from lib.audit import finding_store, health_store
from lib.program import step_store
from lib.program.report import CustomerReport
from ui import actions, data, labels

SEVERITY_BADGES = {"high": "red", "medium": "orange", "low": "gray"}
STATE_BADGES = {"open": "blue", "fixed": "green", "dismissed": "gray"}


def finding_card(
    f: audit.Finding,
    customer_id: str,
    as_of: dt.date,
    can_write: bool,
    overlapping: tuple[str, ...] = (),
) -> None:
    with st.container(border=True):
        head, money = st.columns([3, 1], vertical_alignment="top")
        head.markdown(
            f":{SEVERITY_BADGES.get(f.severity, 'gray')}-badge[{f.severity}] "
            f"**{labels.md(f.title)}**"
            + (f" :{STATE_BADGES[f.state]}-badge[{f.state}]" if f.state != "open" else "")
        )
        if f.est_monthly_saving_usd > 0:
            money.markdown(f"**{labels.money_md(f.est_monthly_saving_usd)}** a month")
        elif f.one_off_usd > 0:
            money.markdown(f"**{labels.money_md(f.one_off_usd)}** once")
        st.markdown(f"**Evidence:** {labels.md(f.evidence)}")
        st.markdown(f"**Fix:** {labels.md(f.fix)}  \n**Effort:** {labels.md(f.effort)}")
        if overlapping:
            titles = ", ".join(audit.RULES_BY_ID[rule].title for rule in overlapping)
            st.caption(
                f"Overlaps with {labels.md(titles)}: fixed together they save less than their "
                "savings added up; the savings found above count them together."
            )
        if f.refund is not None:
            if f.refund_eligible:
                st.markdown(
                    f":green-badge[Refund eligible] about {labels.money_md(f.est_refund_usd)} "
                    f"({labels.md(f.refund.scenario.replace('_', ' '))})"
                )
            else:
                why = "; ".join(f.refund.reasons) or "the policy's conditions are not met"
                st.caption(f"Refund not eligible yet. Policy check: {labels.md(why)}")
        if f.note:
            st.caption(labels.md(f.note))
        links, buttons = st.columns([2, 3], vertical_alignment="center")
        if f.docs_url.startswith("https://"):
            links.link_button("Docs", f.docs_url, icon=":material/menu_book:")
        if not can_write:
            return
        key = f"finding_{customer_id}_{f.rule}"
        shown = actions.base(key, f.version)  # the decision the card showed (docs/rules.md)
        actions.conflict(key)
        with buttons:
            if f.state == "open":
                fix_col, dismiss_col = st.columns(2)
                if fix_col.button("Mark fixed", key=f"{key}_fixed", icon=":material/build:"):
                    actions.apply(
                        f"mark {f.title.lower()} fixed",
                        f"{f.title}: fixed on {as_of:%Y-%m-%d}.",
                        lambda session: finding_store.set_state(
                            session, customer_id, f.rule, "fixed", on=as_of, version=shown
                        ),
                        seen=key,
                    )
                with dismiss_col.popover("Dismiss", icon=":material/block:"):
                    reason = st.text_input("Why? (kept in the log)", key=f"{key}_reason")
                    if st.button("Dismiss finding", key=f"{key}_dismiss"):
                        actions.apply(
                            f"dismiss {f.title.lower()}",
                            f"{f.title}: dismissed.",
                            lambda session: finding_store.set_state(
                                session,
                                customer_id,
                                f.rule,
                                "dismissed",
                                on=as_of,
                                reason=reason,
                                version=shown,
                            ),
                            seen=key,
                            yours=reason,
                        )
            elif st.button("Reopen", key=f"{key}_reopen", icon=":material/restart_alt:"):
                actions.apply(
                    f"reopen {f.title.lower()}",
                    f"{f.title}: open again.",
                    lambda session: finding_store.set_state(
                        session, customer_id, f.rule, "open", on=as_of, version=shown
                    ),
                    seen=key,
                )


def findings_panel(rep: CustomerReport, as_of: dt.date, can_write: bool) -> None:
    found = data.findings_for(rep.customer_id, as_of)
    still_open = sorted(
        (f for f in found if f.state == "open"),
        key=lambda f: (-f.est_monthly_saving_usd, audit.SEVERITIES.index(f.severity)),
    )
    closed = [f for f in found if f.state != "open"]
    st.subheader(f"Findings ({len(still_open)} open)", anchor=False)
    if rep.est_monthly_saving_usd > 0:
        st.caption(
            f"Fixed together, the open findings save about "
            f"{labels.money_md(rep.est_monthly_saving_usd, cents=False)} a month (each card says "
            "what its fix alone saves)."
        )
    overlapping = data.overlaps_for(rep.customer_id, as_of)
    if not found:
        st.success(
            "The audit found nothing to fix in the last 30 days.", icon=":material/verified:"
        )
    for f in still_open:
        finding_card(f, rep.customer_id, as_of, can_write, overlapping.get(f.rule, ()))
    if closed:
        with st.expander(f"Fixed and dismissed ({len(closed)})", icon=":material/inventory:"):
            for f in closed:
                finding_card(f, rep.customer_id, as_of, can_write)


def health_panel(rep: CustomerReport, as_of: dt.date, can_write: bool) -> None:
    score = data.health_for(rep.customer_id, as_of)
    st.subheader("Health", anchor=False)
    st.metric("Health score", f"{score.score:.1f} / 10", border=True)
    for part in score.breakdown:
        share = part.points / part.max_points if part.max_points else 0.0
        st.progress(
            min(max(share, 0.0), 1.0),
            text=f"**{labels.md(part.name)}** {part.points:g} of {part.max_points:g}: "
            f"{labels.md(part.detail)}",
        )
    for risk in score.risks:
        st.markdown(f":red[:material/warning:] {labels.md(risk)}")
    rating = score.relationship_rating
    seen = f"rating_{rep.customer_id}"
    if can_write:
        with data.reading() as session:  # the score is cached; the version is read now
            edits = step_store.customer_edits(session, rep.customer_id)
        rating, shown = edits.relationship_rating, actions.base(seen, edits.version)
        actions.conflict(seen)
    if not can_write:
        st.caption(f"Relationship (owner's 1-5): {rating if rating else 'not rated'}")
        return
    chosen = st.segmented_control(
        "Relationship (your read, 1-5)",
        [1, 2, 3, 4, 5],
        default=rating,
        key=f"customer_rating_{rep.customer_id}",
        help="Beside the computed score; click the chosen value again to clear it.",
    )
    if chosen != rating and st.button("Save rating", key="customer_rating_save"):
        actions.apply(
            "rate the relationship",
            f"Relationship rated {chosen if chosen else 'none'}.",
            lambda session: health_store.set_relationship(
                session, rep.customer_id, chosen, version=shown
            ),
            seen=seen,
        )
