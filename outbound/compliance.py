"""Compliance rules for outbound calls: the rule sets and the check before each dial.

Rule sets (:data:`PROFILES`), selectable per campaign:

``default`` (modelled on the US FTC Telemarketing Sales Rule safe harbour)
    abandoned calls at most 3 % of live-answered calls, per campaign, measured per
    day and over a rolling 30 days; ring at least 15 s before giving up; the
    abandon message starts within 2 s of the live answer.
``uk_ofcom`` (Ofcom persistent misuse policy, 2016, and the 2010 statement on
abandoned and silent calls)
    abandoned calls at most 3 % per campaign per 24 hours *midnight to midnight*
    (UK time), computed with Ofcom's formula including the AMD false-positive
    estimate (:mod:`outbound.abandon`); ring at least 15 s; message within 2 s; no
    new call within 72 hours to a number whose call was abandoned unless an agent is
    reserved for it; after an answer machine was detected, no repeat call within 24
    hours unless an agent is reserved (read as a rolling 24 h, the cautious reading
    of "the same 24 hour period").

:func:`evaluate_dial` is the check the dialer runs right before every originate:
DNC (global and campaign lists), the calling window in the contact's local time,
the per-contact daily cap, and the UK redial rules. Answering-machine handling is
:func:`on_answer`; :func:`abandon_deadline` and :func:`ring_timeout` expose the two
timing rules the dialer enforces on the call.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from outbound.errors import CampaignSettingsError
from outbound.windows import CallingWindow, is_open, next_local_midnight, next_open


@dataclass(frozen=True)
class ComplianceProfile:
    """One selectable rule set."""

    name: str
    abandon_limit: float = 0.03
    rolling_days: int | None = 30          # second measuring period besides the day
    day_zone: str | None = None            # zone of "midnight to midnight"; None: the campaign's
    ofcom_formula: bool = False
    min_ring_seconds: int = 15
    abandon_message_within: float = 2.0
    abandoned_redial_block: timedelta | None = None   # without a reserved agent
    machine_redial_block: timedelta | None = None     # without a reserved agent


PROFILES: dict[str, ComplianceProfile] = {
    "default": ComplianceProfile("default"),
    "uk_ofcom": ComplianceProfile(
        "uk_ofcom",
        rolling_days=None,
        day_zone="Europe/London",
        ofcom_formula=True,
        abandoned_redial_block=timedelta(hours=72),
        machine_redial_block=timedelta(hours=24),
    ),
}


def get_profile(name: str) -> ComplianceProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise CampaignSettingsError(
            "compliance_profile", f"unknown rule set {name!r}; choose one of {', '.join(sorted(PROFILES))}"
        ) from None


# -- timing rules ------------------------------------------------------------------


def ring_timeout(requested_seconds: int, profile: ComplianceProfile) -> int:
    """Seconds to let a call ring: the campaign's value, never below the profile minimum."""
    return max(requested_seconds, profile.min_ring_seconds)


def abandon_deadline(answered_at: float, profile: ComplianceProfile) -> float:
    """When the abandon message must have started if no agent has been connected.

    The dialer connects a live answer to a free agent or, at this instant at the
    latest, plays the abandon message and counts the call abandoned.
    """
    return answered_at + profile.abandon_message_within


# -- answering machines ------------------------------------------------------------


class AmdResult(enum.Enum):
    """What answering-machine detection concluded (mod_amd's ``amd_result`` variable)."""

    HUMAN = "HUMAN"
    MACHINE = "MACHINE"
    NOTSURE = "NOTSURE"

    @classmethod
    def parse(cls, value: str | None) -> AmdResult:
        """Read the channel variable; anything unrecognised is NOTSURE (treated as a person)."""
        text = (value or "").strip().upper()
        if text in ("HUMAN", "PERSON"):
            return cls.HUMAN
        if text == "MACHINE":
            return cls.MACHINE
        return cls.NOTSURE


class MachineAction(enum.Enum):
    """The campaign's choice for calls AMD classifies as machines."""

    HANG_UP = "hang_up"
    LEAVE_MESSAGE = "leave_message"
    PASS_TO_AGENT = "pass_to_agent"


class AnswerAction(enum.Enum):
    CONNECT_AGENT = "connect_agent"
    PLAY_MESSAGE = "play_message"        # agentless campaigns: the message (and digit) to a person
    LEAVE_MESSAGE = "leave_message"      # wait for the beep, then play the machine message
    HANG_UP = "hang_up"


def on_answer(amd: AmdResult | None, machine_action: MachineAction, *, agentless: bool = False) -> AnswerAction:
    """What to do with an answered call.

    Without AMD (``None``) and when AMD is not sure, the answer is treated as a
    person: dropping a possible person is a silent call, the worst outcome.
    """
    person = AnswerAction.PLAY_MESSAGE if agentless else AnswerAction.CONNECT_AGENT
    if amd is not AmdResult.MACHINE:
        return person
    if machine_action is MachineAction.HANG_UP:
        return AnswerAction.HANG_UP
    if machine_action is MachineAction.LEAVE_MESSAGE:
        return AnswerAction.LEAVE_MESSAGE
    return person


# -- the check before each dial ----------------------------------------------------


class Refusal(enum.Enum):
    GLOBAL_DNC = "on the global do-not-call list"
    CAMPAIGN_DNC = "on this campaign's do-not-call list"
    OUTSIDE_WINDOW = "outside the calling window in the contact's local time"
    NO_WINDOW = "the calling window never opens in all of the contact's time zones"
    DAILY_CAP = "daily call limit for this contact reached"
    ABANDONED_RECENTLY = "a call to this number was abandoned recently; needs a reserved agent"
    MACHINE_RECENTLY = "an answer machine was detected on this number recently; needs a reserved agent"


FINAL_REFUSALS = frozenset({Refusal.GLOBAL_DNC, Refusal.CAMPAIGN_DNC, Refusal.NO_WINDOW})


@dataclass(frozen=True)
class DialRules:
    """The campaign rules the dial check applies."""

    profile: ComplianceProfile
    window: CallingWindow
    max_attempts_per_day: int


@dataclass(frozen=True)
class DialContext:
    """Everything known about one contact right before dialling it."""

    e164: str
    zones: Sequence[str]
    now: datetime
    on_global_dnc: bool = False
    on_campaign_dnc: bool = False
    last_abandoned_at: datetime | None = None   # latest abandoned call to this number (any campaign)
    last_machine_at: datetime | None = None     # latest AMD machine detection on this number
    attempts_today: int = 0                     # calls to this contact today (its local day)
    agent_reserved: bool = False                # an agent is held for this very call


@dataclass(frozen=True)
class DialVerdict:
    """May we dial now? If not, why, and when to try again (``None``: never)."""

    refusals: tuple[Refusal, ...]
    not_before: datetime | None
    needs_reserved_agent: bool = False

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def final(self) -> bool:
        return any(r in FINAL_REFUSALS for r in self.refusals)

    @property
    def reason(self) -> str:
        return "; ".join(r.value for r in self.refusals) or "allowed"


def evaluate_dial(ctx: DialContext, rules: DialRules) -> DialVerdict:
    """Check a contact right before originating; pure, so it is cheap to test exhaustively."""
    refusals: list[Refusal] = []
    if ctx.on_global_dnc:
        refusals.append(Refusal.GLOBAL_DNC)
    if ctx.on_campaign_dnc:
        refusals.append(Refusal.CAMPAIGN_DNC)
    earliest = ctx.now
    if ctx.attempts_today >= rules.max_attempts_per_day:
        refusals.append(Refusal.DAILY_CAP)
        earliest = max(earliest, next_local_midnight(ctx.zones, ctx.now))
    needs_agent = False
    for refusal, last, block in (
        (Refusal.ABANDONED_RECENTLY, ctx.last_abandoned_at, rules.profile.abandoned_redial_block),
        (Refusal.MACHINE_RECENTLY, ctx.last_machine_at, rules.profile.machine_redial_block),
    ):
        if block is not None and last is not None and ctx.now < last + block:
            needs_agent = True
            if not ctx.agent_reserved:
                refusals.append(refusal)
                earliest = max(earliest, last + block)
    if not is_open(rules.window, ctx.zones, ctx.now):
        refusals.append(Refusal.OUTSIDE_WINDOW)
    opens = next_open(rules.window, ctx.zones, earliest) if refusals else None
    if refusals and opens is None:
        refusals.append(Refusal.NO_WINDOW)
    if any(r in FINAL_REFUSALS for r in refusals):
        return DialVerdict(tuple(refusals), None, needs_agent)
    return DialVerdict(tuple(refusals), opens, needs_agent)
