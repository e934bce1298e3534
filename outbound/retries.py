"""What becomes of a contact after a call: retry later, or a final outcome.

Each non-final outcome has a rule -- wait this long, and give up after this many
attempts ending that way -- and a campaign-wide cap on attempts per contact. A UK
campaign adds a floor to some delays (72 h after an abandoned call, 24 h after an
answer machine; :func:`redial_floor`) so the retry is not scheduled into a period
in which :func:`outbound.compliance.evaluate_dial` would refuse it anyway. Calling
windows and the per-day cap are applied at dial time, not here: a retry due at
3 am is simply refused then and rescheduled to the window's next opening.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from outbound.compliance import ComplianceProfile


class CallOutcome(enum.Enum):
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"                  # network/congestion: not the contact's fault
    MACHINE = "machine"                # answer machine (AMD, or marked by the agent)
    ABANDONED = "abandoned"            # answered, no agent in time: message played
    CONNECTED = "connected"            # talked to an agent; the disposition is final
    CALLBACK = "callback"              # the contact asked to be called at a given time
    AGENTLESS_DONE = "agentless_done"  # the message was played to a person
    INVALID_NUMBER = "invalid_number"  # unallocated / not a number: never dial again
    DO_NOT_CALL = "do_not_call"        # the contact asked not to be called again


class NextStep(enum.Enum):
    RETRY = "retry"
    DONE = "done"
    DNC = "dnc"
    INVALID = "invalid"


_FINAL = {
    CallOutcome.CONNECTED: NextStep.DONE,
    CallOutcome.AGENTLESS_DONE: NextStep.DONE,
    CallOutcome.INVALID_NUMBER: NextStep.INVALID,
    CallOutcome.DO_NOT_CALL: NextStep.DNC,
}


@dataclass(frozen=True)
class RetryRule:
    delay: timedelta
    max_attempts: int   # attempts ending with this outcome before giving up

    def __post_init__(self) -> None:
        if self.delay < timedelta(0) or self.max_attempts < 1:
            raise ValueError("a retry rule needs a delay >= 0 and max_attempts >= 1")


DEFAULT_RULES: Mapping[CallOutcome, RetryRule] = {
    CallOutcome.NO_ANSWER: RetryRule(timedelta(hours=2), 4),
    CallOutcome.BUSY: RetryRule(timedelta(minutes=10), 5),
    CallOutcome.FAILED: RetryRule(timedelta(minutes=15), 3),
    CallOutcome.MACHINE: RetryRule(timedelta(hours=4), 3),
    CallOutcome.ABANDONED: RetryRule(timedelta(hours=1), 3),
    CallOutcome.CALLBACK: RetryRule(timedelta(hours=1), 5),
}


@dataclass(frozen=True)
class RetryPolicy:
    rules: Mapping[CallOutcome, RetryRule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    max_attempts: int = 6   # all outcomes together, per contact


@dataclass(frozen=True)
class RetryDecision:
    step: NextStep
    not_before: datetime | None
    outcome: CallOutcome
    reason: str


def redial_floor(profile: ComplianceProfile, outcome: CallOutcome) -> timedelta:
    """Minimum delay the rule set imposes on an automatic (no reserved agent) redial."""
    if outcome is CallOutcome.ABANDONED and profile.abandoned_redial_block:
        return profile.abandoned_redial_block
    if outcome is CallOutcome.MACHINE and profile.machine_redial_block:
        return profile.machine_redial_block
    return timedelta(0)


def after_call(
    policy: RetryPolicy,
    outcome: CallOutcome,
    *,
    attempts: int,
    attempts_with_outcome: int,
    now: datetime,
    floor: timedelta = timedelta(0),
    callback_at: datetime | None = None,
) -> RetryDecision:
    """Decide the contact's next step once a call has ended.

    Args:
        attempts: calls made to the contact so far, this one included.
        attempts_with_outcome: of those, how many ended with ``outcome``.
        floor: minimum delay from the rule set (:func:`redial_floor`).
        callback_at: for ``CALLBACK``, when the contact asked to be called.
    """
    final = _FINAL.get(outcome)
    if final is not None:
        return RetryDecision(final, None, outcome, f"final outcome: {outcome.value}")
    rule = policy.rules.get(outcome)
    if rule is None:
        return RetryDecision(NextStep.DONE, None, outcome, f"no retry rule for {outcome.value}")
    if outcome is not CallOutcome.CALLBACK:
        if attempts_with_outcome >= rule.max_attempts:
            return RetryDecision(NextStep.DONE, None, outcome,
                                 f"{attempts_with_outcome} attempts ended {outcome.value} (limit {rule.max_attempts})")
        if attempts >= policy.max_attempts:
            return RetryDecision(NextStep.DONE, None, outcome, f"{attempts} attempts made (limit {policy.max_attempts})")
    due = callback_at if outcome is CallOutcome.CALLBACK and callback_at is not None else now + rule.delay
    due = max(due, now + floor)
    return RetryDecision(NextStep.RETRY, due, outcome, f"retry after {outcome.value}")
