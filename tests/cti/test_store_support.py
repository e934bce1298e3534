"""Helpers for the store tests (this module holds no tests itself).

:class:`Calls` runs whole calls through the real :class:`cti.tracker.LiveState` with
synthetic legs shaped like the real switch's (tests.cti.test_tracker_support.Channel),
using uuids everywhere as the switch does, and collects the domain events the store
receives. :func:`make_agents` adds agents to a database (the store resolves agent ids
against the ``agents`` table).
"""

from __future__ import annotations

import uuid
from typing import Any

from cti.bus import DomainEvent
from cti.db import Database
from cti.tracker import LiveState, TrackerSettings
from tests.cti.test_tracker_support import Channel, Clock


def make_agents(db: Database, count: int, prefix: str = "st") -> list[int]:
    """``count`` agents (with their users) in ``db``; returns their ids."""
    ids = []
    with db.transaction() as cur:
        for n in range(count):
            name = f"{prefix}{uuid.uuid4().hex[:8]}{n}"
            cur.execute("INSERT INTO users (username, password_hash, roles) VALUES (%s, 'x', '{agent}') RETURNING id",
                        (name,))
            user_id = cur.fetchone()["id"]
            cur.execute("INSERT INTO agents (user_id, code, default_extension) VALUES (%s, %s, %s) RETURNING id",
                        (user_id, name, name))
            ids.append(int(cur.fetchone()["id"]))
    return ids


class Calls:
    """A live state whose calls end the usual ways; ``events`` is what it published."""

    def __init__(self, *agents: int, wrapup: float | None = 20.0, start: float = 1_800_000_000.0) -> None:
        self.clock = Clock(start)
        self.live = LiveState(TrackerSettings(default_wrapup_seconds=wrapup))
        self.events: list[DomainEvent] = []
        for agent in agents:
            self.events += self.live.agent_login(agent, f"ext{agent}", now=self.clock.now, ready=True)

    def _feed(self, *events: Any) -> None:
        for event in events:
            self.events += self.live.apply_event(event)

    def customer(self, caller: str = "+15550100") -> Channel:
        iid = str(uuid.uuid4())
        chan = Channel(self.clock, iid, name=f"sofia/external/{caller}@10.0.0.1", direction="inbound",
                       caller=caller, destination="8000", variables={"cti_managed": "true", "cti_did": "8000"})
        self._feed(chan.create(), chan.answer())
        return chan

    def answered(self, agent: int, *, caller: str = "+15550100", talk: float = 30.0, queue: str = "support",
                 wait: float = 5.0) -> str:
        """Queued, offered to ``agent``, answered, talked, the caller hangs up; returns
        the interaction id. The agent is left in wrap-up."""
        cust = self.customer(caller)
        iid = cust.uuid
        self.events += self.live.queue_entered(iid, queue, now=self.clock.tick(1))
        leg_uuid = str(uuid.uuid4())
        self.clock.tick(wait)
        self.events += self.live.offer(iid, agent, leg_uuid, now=self.clock.now, queue=queue)
        leg = Channel(self.clock, leg_uuid, name=f"sofia/internal/ext{agent}@10.0.0.2", destination=f"ext{agent}",
                      variables={"cti_interaction_id": iid, "cti_role": "agent", "cti_agent_id": str(agent)})
        self._feed(leg.create())
        self.clock.tick(2)
        self._feed(leg.answer(), cust.bridge(leg))
        self.clock.tick(talk)
        self._feed(*cust.end(disposition="recv_bye"), *leg.end(disposition="send_bye"))
        return iid

    def abandoned(self, *, caller: str = "+15550100", queue: str = "support", wait: float = 12.0) -> str:
        cust = self.customer(caller)
        self.events += self.live.queue_entered(cust.uuid, queue, now=self.clock.tick(1))
        self.clock.tick(wait)
        self._feed(*cust.end(disposition="recv_bye"))
        return cust.uuid

    def live_call(self, *, caller: str = "+15550100") -> str:
        """A call still in the IVR (nothing ended)."""
        return self.customer(caller).uuid

    def wrapup_done(self, agent: int, disposition: str = "resolved", notes: str = "") -> None:
        self.events += self.live.wrapup_done(agent, disposition, notes, now=self.clock.tick(3))

    def of(self, type_: str, interaction_id: str | None = None) -> list[DomainEvent]:
        return [e for e in self.events
                if e.type == type_ and (interaction_id is None or e.interaction_id == interaction_id)]
