"""Not ready after this call: what becomes of the request an agent queues on a call.

The agent state table (:mod:`cti.agent_states`) refuses ``not_ready`` while a call
rings or is up: the call has to end first. Agents want to say it while talking and
have it happen once they are done, so the desktop queues the request (the shell is
:mod:`webapp.after_call_requests`), shows it on the state bar, and it is carried out
with the live state's own command (``agent_set_state``) when the agent leaves the
call's after-call work.

:data:`STEPS` is the one table: for each live agent state, what a queued request
does. Nothing here does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass

from cti.agent_states import AgentState
from cti.call_errors import BadRequest


class Step(enum.Enum):
    WAIT = "wait"     # the call or its wrap-up goes on: keep the request
    APPLY = "apply"   # the agent is done and available: make them not ready now
    DROP = "drop"     # they are not ready or logged out anyway: nothing left to do


A = AgentState

#: Live agent state -> what a queued request does. Every state is listed.
STEPS: dict[AgentState, Step] = {
    A.RESERVED: Step.WAIT,
    A.ON_CALL: Step.WAIT,
    A.ON_HOLD: Step.WAIT,
    A.IN_CONSULT: Step.WAIT,
    A.WRAP_UP: Step.WAIT,
    A.AVAILABLE: Step.APPLY,
    A.NOT_READY: Step.DROP,     # a supervisor, a missed call, or Not ready pressed in wrap-up
    A.LOGGED_OUT: Step.DROP,
}

#: States in which a ``not_ready`` request is queued instead of refused: the phone
#: rings or the call is up. (In wrap-up the agent may go not ready at once.)
QUEUED_IN: frozenset[AgentState] = frozenset({A.RESERVED, A.ON_CALL, A.ON_HOLD, A.IN_CONSULT})


@dataclass(frozen=True, slots=True)
class AfterCall:
    """A queued request: the reason the agent chose and when (epoch seconds)."""

    reason: str
    asked_at: float

    def to_dict(self) -> dict[str, object]:
        return {"state": AgentState.NOT_READY.value, "reason": self.reason, "asked_at": self.asked_at}


def step_for(state: str) -> Step:
    """What a queued request does while the agent is in ``state`` (a state's value);
    a state this site does not know ends the request."""
    try:
        return STEPS[AgentState(state)]
    except ValueError:
        return Step.DROP


def is_queued_in(state: str) -> bool:
    """Whether a ``not_ready`` request made in ``state`` waits for the call to end."""
    return state in {s.value for s in QUEUED_IN}


def check_reason(reason: str, codes: Collection[str]) -> str:
    """The reason, if agents may choose it; raises :class:`BadRequest` naming the field."""
    chosen = reason.strip()
    if chosen not in codes:
        choices = ", ".join(sorted(codes)) or "none configured"
        raise BadRequest(f"{chosen!r} is not a not-ready reason; choose one of: {choices}.",
                         error_id="bad-reason", field="reason")
    return chosen


__all__ = ["AfterCall", "QUEUED_IN", "STEPS", "Step", "check_reason", "is_queued_in", "step_for"]
