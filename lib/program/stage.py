"""A customer's engagement stage, the pipeline the team uses, from the recorded facts (pure;
docs/rules.md, "Stages").

`Facts` holds what a stage reads (the customer's status, the recorded steps, the emails
sent from the console, the customer's replies); `RULES` is the table: the first rule
that holds, read from the end of the pipeline back, is the stage. A stage set by hand
(`Override`, always with a reason) wins over the facts until it is cleared.
`handed_to_sales` is a decision, not a fact the data holds: only an override sets it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lib.vocabulary import END_STAGES

STAGE_LABELS: dict[str, str] = {
    "new_account": "New account",
    "onboarding_initiated": "Onboarding initiated",
    "engaged": "Engaged (replied or call booked)",
    "intro_call_done": "Intro call done",
    "second_call_done": "Second call done",
    "homework_offered": "Homework offered",
    "awaiting_final_outreach": "Awaiting final outreach",
    "onboarded_engaged": "Onboarded and engaged",
    "onboarded_no_engagement": "Onboarded without engagement",
    "handed_to_sales": "Handed to sales",
    "churned": "Churned",
}
# Only an override sets these (no recorded fact says a customer went to sales).
OVERRIDE_ONLY: frozenset[str] = frozenset({"handed_to_sales"})
MAX_REASON_CHARS = 2_000
MEETINGS: tuple[str, ...] = ("first_meeting", "second_meeting")


@dataclass(frozen=True)
class Override:
    """A stage set by hand over what the facts say, with why and by whom."""

    stage: str
    reason: str
    set_by: str | None = None
    set_at: dt.datetime | None = None


@dataclass(frozen=True)
class Facts:
    """What a stage follows from. `steps`: recorded steps, step -> (status, date);
    `sent`: the kinds of email sent from the console; replies: the customer's first and
    last answer (from the mailbox or recorded by hand) on or before as-of."""

    customer_status: str = "active"
    steps: Mapping[str, tuple[str, dt.date]] = field(default_factory=dict)
    sent: frozenset[str] = frozenset()
    first_reply_on: dt.date | None = None
    last_reply_on: dt.date | None = None
    as_of: dt.date | None = None
    final_opens_on: dt.date | None = None  # the final outreach's window start

    def status(self, step: str) -> str | None:
        recorded = self.steps.get(step)
        return recorded[0] if recorded else None

    def day(self, step: str) -> dt.date | None:
        recorded = self.steps.get(step)
        return recorded[1] if recorded else None

    def done(self, step: str) -> bool:
        return self.status(step) == "done"

    def closed(self, step: str) -> bool:
        return self.status(step) in ("done", "skipped")

    @property
    def replied(self) -> bool:
        return self.last_reply_on is not None

    @property
    def call_booked(self) -> bool:
        """A first or second call booked or held."""
        return any(self.status(step) in ("done", "scheduled") for step in MEETINGS)

    @property
    def engaged(self) -> bool:
        """Ever engaged: replied, or a call booked or held."""
        return self.replied or self.call_booked

    @property
    def outreach_sent(self) -> bool:
        return self.done("initial_outreach") or "initial_outreach" in self.sent

    @property
    def homework_sent(self) -> bool:
        return self.done("homework") or "homework" in self.sent

    @property
    def final_window_open(self) -> bool:
        if self.as_of is None or self.final_opens_on is None:
            return False
        return self.as_of >= self.final_opens_on

    @property
    def awaiting_final(self) -> bool:
        """Nothing before the final outreach is left open (the first call and homework done
        or skipped, no second call booked and waiting), and either homework was skipped
        (skipped to the final outreach) or the final outreach's window is open."""
        closed = (
            self.outreach_sent
            and self.closed("first_meeting")
            and self.closed("homework")
            and self.status("second_meeting") != "scheduled"
        )
        return closed and (self.status("homework") == "skipped" or self.final_window_open)


def _on(day: dt.date | None) -> str:
    return f" on {day.isoformat()}" if day else ""


def _engagement(facts: Facts) -> str:
    if facts.replied:
        return f"the customer replied{_on(facts.last_reply_on)}"
    for step in MEETINGS:
        if facts.status(step) in ("done", "scheduled"):
            what = "held" if facts.done(step) else "booked"
            call = "first" if step == "first_meeting" else "second"
            return f"a {call} call was {what}{_on(facts.day(step))}"
    return "no reply and no call"


@dataclass(frozen=True)
class Rule:
    stage: str
    holds: Callable[[Facts], bool]
    why: Callable[[Facts], str]


# First match wins, from the end of the pipeline back (docs/rules.md, "Stages").
RULES: tuple[Rule, ...] = (
    Rule("churned", lambda f: f.customer_status == "churned", lambda f: "the customer churned"),
    Rule(
        "onboarded_engaged",
        lambda f: f.done("final_outreach") and f.engaged,
        lambda f: f"final outreach done{_on(f.day('final_outreach'))}; {_engagement(f)}",
    ),
    Rule(
        "onboarded_no_engagement",
        lambda f: f.done("final_outreach"),
        lambda f: f"final outreach done{_on(f.day('final_outreach'))}; no reply and no call",
    ),
    Rule(
        "awaiting_final_outreach",
        lambda f: f.awaiting_final,
        lambda f: (
            "skipped to the final outreach"
            if f.status("homework") == "skipped"
            else "the first call and homework are done; the final outreach's window is open"
        ),
    ),
    Rule(
        "homework_offered",
        lambda f: f.homework_sent,
        lambda f: f"homework sent{_on(f.day('homework'))}",
    ),
    Rule(
        "second_call_done",
        lambda f: f.done("second_meeting"),
        lambda f: f"second call held{_on(f.day('second_meeting'))}",
    ),
    Rule(
        "intro_call_done",
        lambda f: f.done("first_meeting"),
        lambda f: f"first call held{_on(f.day('first_meeting'))}",
    ),
    Rule("engaged", lambda f: f.engaged, _engagement),
    Rule(
        "onboarding_initiated",
        lambda f: f.outreach_sent,
        lambda f: f"initial outreach sent{_on(f.day('initial_outreach'))}; no reply yet",
    ),
    Rule("new_account", lambda f: True, lambda f: "no initial outreach yet"),
)


@dataclass(frozen=True)
class Stage:
    """The customer's stage, what the facts alone say (when overridden), and why (worded
    on demand: a report of everyone never formats 10,000 reasons nobody reads)."""

    stage: str
    by_facts: str
    facts: Facts = field(default_factory=Facts, repr=False)
    override: Override | None = None

    @property
    def why(self) -> str:
        if self.override is not None:
            who = f" by {self.override.set_by}" if self.override.set_by else ""
            return f"set by hand{who}: {self.override.reason}"
        return _RULE_OF[self.by_facts].why(self.facts)

    @property
    def label(self) -> str:
        return STAGE_LABELS[self.stage]

    @property
    def is_end(self) -> bool:
        return self.stage in END_STAGES


_RULE_OF: dict[str, Rule] = {rule.stage: rule for rule in RULES}


def by_facts(facts: Facts) -> str:
    """The stage from the facts alone: the first rule of RULES that holds."""
    for rule in RULES:
        if rule.holds(facts):
            return rule.stage
    raise AssertionError("new_account always holds")  # pragma: no cover


def decide(facts: Facts, override: Override | None = None) -> Stage:
    """The stage: the override when one is set (its reason says why), else the facts'."""
    stage = by_facts(facts)
    return Stage(override.stage if override else stage, stage, facts, override)


NEW_ACCOUNT = decide(Facts())  # a report built without facts (tests, a new customer)
