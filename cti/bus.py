"""The in-process domain event bus and the one schema of domain events.

The core turns channel events into domain events (``call.offered``,
``agent.state_changed`` ...) and publishes them here; the Socket.IO pusher, the
router, the store writer and the webhook outbox subscribe. The same JSON is what
integrators receive, so its shape is a public contract (documented in README.md):

.. code-block:: json

    {"id": "<uuid4>", "type": "call.answered", "time": "2026-11-22T10:00:00.120000+00:00",
     "interaction_id": "<uuid>", "agent_id": 7, "queue": "sales", "node": "fs1",
     "data": {...}}

Delivery is synchronous and in publish order; a subscriber must only enqueue or do
constant work, never block on I/O. A subscriber that raises is logged and counted and
never stops delivery to the others.
"""

from __future__ import annotations

import fnmatch
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

#: Every domain event type the core publishes, with what ``data`` carries.
EVENT_TYPES: dict[str, str] = {
    "call.created": "a new interaction: direction, did, caller number and name",
    "call.ivr_step": "an IVR node was entered or left: flow, node, digits",
    "call.queued": "entered a queue: queue, priority, position",
    "call.offered": "an agent's phone rings for it: agent_id, extension, leg_uuid, screen-pop",
    "call.offer_failed": "the ring ended without answer: agent_id, outcome",
    "call.answered": "an agent answered: agent_id, wait seconds",
    "call.held": "put on hold by the agent",
    "call.resumed": "taken off hold",
    "call.transferred": "transferred: kind (blind, attended), target",
    "call.consult_started": "the agent called a colleague for a consultation",
    "call.consult_ended": "the consultation ended: outcome (completed, cancelled)",
    "call.recording_started": "recording started: recording id, path",
    "call.recording_stopped": "recording stopped or paused",
    "call.abandoned": "the caller hung up before an agent answered: wait seconds",
    "call.ended": "all legs gone: the full interaction record",
    "call.wrapup_ended": "after-call work finished: disposition, notes",
    "call.supervisor_joined": "a supervisor listens, whispers or barges: mode, supervisor",
    "call.supervisor_left": "the supervisor leg ended",
    "agent.state_changed": "state, reason, previous state, extension",
    "queue.changed": "live queue figures: waiting, longest wait, agents by state",
    "voicemail.created": "a voicemail was left: box, caller, event code, recording",
    "campaign.changed": "campaign state or live figures",
    "campaign.finished": "every contact of a campaign reached a final state",
    "system.resynced": "a switch reconnected and the live picture was rebuilt: node",
}


def _now_iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Something that happened to a call, an agent, a queue or a campaign."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    interaction_id: str | None = None
    agent_id: int | None = None
    queue: str | None = None
    node: str | None = None
    at: float = field(default_factory=time.time)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown domain event type {self.type!r}")

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape (see the module docstring)."""
        return {
            "id": self.id,
            "type": self.type,
            "time": _now_iso(self.at),
            "interaction_id": self.interaction_id,
            "agent_id": self.agent_id,
            "queue": self.queue,
            "node": self.node,
            "data": self.data,
        }


Subscriber = Callable[[DomainEvent], None]


class EventBus:
    """Publish/subscribe by type pattern (``call.*``, ``agent.state_changed``, ``*``)."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[str, Subscriber]] = []
        self.published = 0
        self.subscriber_errors = 0

    def subscribe(self, pattern: str, subscriber: Subscriber) -> None:
        self._subscribers.append((pattern, subscriber))

    def unsubscribe(self, subscriber: Subscriber) -> None:
        # ``!=`` not ``is not``: a bound method is a new object each time it is named.
        self._subscribers = [(p, s) for p, s in self._subscribers if s != subscriber]

    def publish(self, event: DomainEvent) -> None:
        self.published += 1
        for pattern, subscriber in list(self._subscribers):
            if pattern == "*" or pattern == event.type or fnmatch.fnmatchcase(event.type, pattern):
                try:
                    subscriber(event)
                except Exception:
                    self.subscriber_errors += 1
                    log.exception(
                        "domain event subscriber failed",
                        extra={"event_type": event.type, "call": event.interaction_id, "agent": event.agent_id},
                    )
