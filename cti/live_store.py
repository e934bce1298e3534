"""The live state's indexes and the transaction that changes them.

:class:`LiveStore` holds the dicts every lookup goes through (interactions by id, leg
uuid -> interaction, agents, extension -> agent, the last Event-Sequence per leg, the
bounded memory of finished legs). Nothing writes to it but :meth:`Transaction.commit`:
a :class:`Transaction` applies call facts and agent inputs to immutable values, lets
the agents follow the calls (:func:`cti.agent_sync.agent_inputs`) and keeps wrap-up
periods in step with the agents' wrap-up state; if anything raises before the commit,
the store is exactly as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from cti import agents as ag
from cti.agent_states import AgentState, IllegalAgentTransition
from cti.agent_sync import agent_inputs
from cti.bus import DomainEvent
from cti.call_facts import WrapupEnded, WrapupStarted
from cti.calls import CallFact
from cti.calls import apply as apply_fact
from cti.interaction import Interaction, Leg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackerSettings:
    """Site rules the live state needs (built from the site's queues and reason codes)."""

    reason_codes: frozenset[str] = ag.DEFAULT_REASON_CODES
    #: after-call work per queue: seconds, 0 = none, None = until the agent ends it
    wrapup_seconds: Mapping[str, float | None] = field(default_factory=dict)
    default_wrapup_seconds: float | None = 30.0
    #: resync leaves alone legs younger than this (``show channels`` lags up to ~1 s)
    resync_grace: float = 3.0
    #: how many finished legs and interactions are remembered to drop late replays
    remembered: int = 100_000

    def wrapup_limit(self, queue: str) -> float | None:
        return self.wrapup_seconds.get(queue, self.default_wrapup_seconds)


@dataclass
class TrackerStats:
    events: int = 0
    duplicates: int = 0
    ignored_late: int = 0
    adopted_legs: int = 0
    agent_conflicts: int = 0
    unknown_originate_failures: int = 0


@dataclass
class LiveStore:
    calls: dict[str, Interaction] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)              # leg uuid -> interaction id
    leg_seq: dict[str, int] = field(default_factory=dict)            # leg uuid -> last Event-Sequence
    transfer_source: dict[str, str] = field(default_factory=dict)    # leg uuid -> variable_transfer_source
    agents: dict[int, ag.Agent] = field(default_factory=dict)
    by_extension: dict[str, int] = field(default_factory=dict)
    done: dict[str, None] = field(default_factory=dict)              # finished legs/interactions, oldest first
    timers: list[ag.StartWrapupTimer] = field(default_factory=list)

    def remember(self, key: str, limit: int) -> None:
        self.done[key] = None
        while len(self.done) > limit:
            del self.done[next(iter(self.done))]


class Transaction:
    """One atomic change of the live state: work on values, store them on commit.

    ``strict_agents``: an agent input given directly (a command) that the agent's state
    does not allow raises; one that follows from a call fact is logged and counted.
    """

    def __init__(
        self, store: LiveStore, settings: TrackerSettings, stats: TrackerStats, *, strict_agents: bool = False,
    ) -> None:
        self.store, self.settings, self.stats = store, settings, stats
        self.strict = strict_agents
        self.calls: dict[str, Interaction] = {}
        self.agents: dict[int, ag.Agent] = {}
        self.events: list[DomainEvent] = []
        self.timers: list[ag.StartWrapupTimer] = []
        self.transfer_sources: dict[str, str] = {}
        self.seqs: dict[str, int] = {}

    def call(self, iid: str) -> Interaction | None:
        return self.calls[iid] if iid in self.calls else self.store.calls.get(iid)

    def leg(self, iid: str, uuid: str) -> Leg:
        ix = self.call(iid)
        assert ix is not None
        return ix.legs[uuid]

    def owner(self, uuid: str) -> str | None:
        for iid, ix in self.calls.items():
            if uuid in ix.legs:
                return iid
        return self.store.owner.get(uuid)

    def agent(self, agent_id: int) -> ag.Agent | None:
        return self.agents.get(agent_id) or self.store.agents.get(agent_id)

    def seen(self, uuid: str, seq: int) -> None:
        if seq:
            self.seqs[uuid] = seq

    def create(self, ix: Interaction) -> None:
        self.calls[ix.id] = ix
        self.events.append(DomainEvent(
            type="call.created", interaction_id=ix.id, queue=ix.queue or None, node=ix.node or None,
            at=ix.started_at, data={
                "direction": ix.direction.value, "did": ix.did, "caller_number": ix.caller_number,
                "caller_name": ix.caller_name, "callee_number": ix.callee_number,
                "campaign_id": ix.campaign_id, "contact_id": ix.contact_id, "state": ix.state.value,
            },
        ))

    def apply(self, iid: str, fact: CallFact, *, agents_follow: bool = True) -> None:
        """Apply a call fact; the agents follow unless the fact only renames things."""
        before = self.call(iid)
        assert before is not None
        after, events = apply_fact(before, fact)
        if after is before:
            return
        self.calls[iid] = after
        self.events.extend(events)
        if not agents_follow:
            return
        for agent_id, event in agent_inputs(before, after, fact.at, self.settings.wrapup_limit):
            self.apply_agent(agent_id, event, from_call=True)

    def apply_agent(
        self, agent_id: int, event: ag.AgentInput, *, from_call: bool = False, disposition: str = "", notes: str = "",
    ) -> None:
        before = self.agent(agent_id)
        if before is None:
            return
        try:
            after, effects = ag.apply(before, event, reason_codes=self.settings.reason_codes)
        except IllegalAgentTransition as exc:
            if self.strict and not from_call:
                raise
            self.stats.agent_conflicts += 1
            log.warning("agent state conflict", extra={"agent": agent_id, "error": str(exc)})
            return
        self.agents[agent_id] = after
        for effect in effects:
            if isinstance(effect, ag.StartWrapupTimer):
                self.timers.append(effect)
            else:
                self.events.append(effect)
        self._wrapups(before, after, event.at, disposition, notes)

    def _wrapups(self, before: ag.Agent, after: ag.Agent, at: float, disposition: str, notes: str) -> None:
        """Keep the interactions' wrap-up periods in step with the agent's wrap-up state."""
        was = before.wrapup_interaction if before.state is AgentState.WRAP_UP else None
        now = after.wrapup_interaction if after.state is AgentState.WRAP_UP else None
        if was == now:
            return
        if was is not None and self.call(was) is not None:
            self.apply(was, WrapupEnded(after.id, at, disposition, notes))
        if now is not None and self.call(now) is not None:
            self.apply(now, WrapupStarted(after.id, at))

    def commit(self) -> list[DomainEvent]:
        """Store every value changed; forget finished interactions; return the events."""
        store, limit = self.store, self.settings.remembered
        for iid, ix in self.calls.items():
            if not ix.finished:
                store.calls[iid] = ix
                for uuid in ix.legs:
                    store.owner[uuid] = iid
                continue
            store.calls.pop(iid, None)
            for uuid in ix.legs:
                for index in (store.owner, store.leg_seq, store.transfer_source, self.seqs, self.transfer_sources):
                    index.pop(uuid, None)
                store.remember(uuid, limit)
            store.remember(iid, limit)
        for agent_id, agent in self.agents.items():
            old = store.agents.get(agent_id)
            if old is not None and old.extension and old.extension != agent.extension:
                if store.by_extension.get(old.extension) == agent_id:
                    del store.by_extension[old.extension]
            if agent.extension:
                store.by_extension[agent.extension] = agent_id
            store.agents[agent_id] = agent
        store.leg_seq.update(self.seqs)
        store.transfer_source.update(self.transfer_sources)
        store.timers.extend(self.timers)
        return self.events
