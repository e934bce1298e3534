"""What the ACD decider returns: decisions for calls and effects on agents.

The shell carries each one out: an :class:`Assignment` becomes an originate to the
agent(s) (and, for a callback, then to the customer); an :class:`Overflow` sends the
call to its target; an :class:`Announce` or :class:`OfferCallback` plays to the
waiting caller; an :class:`AgentNotReady` goes through the agent state machine
(``cti.agents``); a :class:`CancelRing` hangs up agent legs that are no longer needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.queues import OverflowTarget
from routing.steps import Execute


@dataclass(frozen=True, slots=True)
class Assignment:
    """Offer ``call_id`` to ``agent_ids`` (several only for ring_all) for
    ``ring_timeout`` seconds. ``callback_number`` set: call the agent first, then
    that number. ``sticky``: chosen as the caller's last agent."""

    call_id: str
    queue: str
    agent_ids: tuple[int, ...]
    ring_timeout: int
    waited: float
    callback_number: str = ""
    sticky: bool = False


@dataclass(frozen=True, slots=True)
class Overflow:
    """The call leaves the queue for ``target``; ``reason`` is ``max_wait``,
    ``max_length`` or ``closed``."""

    call_id: str
    queue: str
    target: OverflowTarget
    reason: str


@dataclass(frozen=True, slots=True)
class Announce:
    """Play ``steps`` to a waiting caller; ``kind`` is ``comfort`` or ``position``."""

    call_id: str
    queue: str
    kind: str
    steps: tuple[Execute, ...]


@dataclass(frozen=True, slots=True)
class OfferCallback:
    """Ask the waiting caller whether they want a callback: run ``step`` and, if the
    digits equal ``digit``, tell the router with ``on_callback_accepted``."""

    call_id: str
    queue: str
    step: Execute
    digit: str


@dataclass(frozen=True, slots=True)
class AgentNotReady:
    """Put the agent in not-ready with ``reason`` (``missed`` after RONA)."""

    agent_id: int
    reason: str
    call_id: str


@dataclass(frozen=True, slots=True)
class CancelRing:
    """Hang up the ringing legs of these agents for this call; the agents become
    free again (the shell reports it with ``on_agent_free``)."""

    call_id: str
    agent_ids: tuple[int, ...]


Decision = Assignment | Overflow | Announce | OfferCallback | AgentNotReady | CancelRing
