"""The index of free agents per queue, kept in each queue's strategy order.

A decision must not scan every agent: with 1,000 agents and a call to place, the
router walks only the free members of the call's queue, best first, and stops at the
first one whose skills fit. For that, each queue keeps a sorted list of its *free*
members keyed by its strategy:

================== ==========================================================
strategy           key (smallest first; ``tier`` is ``queue_agents.tier``)
================== ==========================================================
longest_idle       (tier, free_since, agent_id)
least_talk_time    (tier, talk_seconds_today, free_since, agent_id)
round_robin        (tier, last_offered_from_this_queue, agent_id)
skills_best_match  (tier, -sum of levels in the queue's skills, free_since, agent_id)
ring_all           (tier, agent_id)
================== ==========================================================

Every key ends with the agent id, so ties are broken the same way every time. A key
only depends on facts that cannot change while the agent is free (when they became
free, their talk time so far today, when this queue last offered them a call, their
skills), so an entry never needs re-sorting while it sits in the list; skill or
membership changes re-insert it. Marking an agent free, busy or away costs
O(k log n) for an agent in k queues.

"Staffed" agents (logged in and not in not-ready: free, ringing, talking or in
wrap-up) are counted per queue for the EWT.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sortedcontainers import SortedList

from routing.errors import RouterStateError
from routing.queues import QueueRules, Strategy

Key = tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Agent:
    """What routing knows of an agent: skill levels and queue memberships.

    ``queues`` maps queue name to tier (1 is served first). ``code`` is the agent id
    spoken to callers.
    """

    id: int
    code: str
    skills: Mapping[str, int]
    queues: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class _Free:
    since: float
    talk_today: float


class AgentIndex:
    """Free and staffed agents per queue. Pure bookkeeping: no clocks, no I/O."""

    def __init__(self, rules: Mapping[str, QueueRules]) -> None:
        self._rules = dict(rules)
        self._agents: dict[int, Agent] = {}
        self._free: dict[int, _Free] = {}
        self._staffed: set[int] = set()
        self._lists: dict[str, SortedList[Key]] = {name: SortedList() for name in self._rules}
        self._keys: dict[tuple[str, int], Key] = {}
        self._last_offered: dict[tuple[str, int], int] = {}
        self._offers = 0
        self._staffed_count: dict[str, int] = dict.fromkeys(self._rules, 0)

    # -- membership ----------------------------------------------------------------

    def agent(self, agent_id: int) -> Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise RouterStateError(f"agent {agent_id} is not known to the router") from None

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def put(self, agent: Agent) -> None:
        """Add an agent, or replace their skills and memberships (state is kept)."""
        free = self._free.get(agent.id)
        staffed = agent.id in self._staffed
        if agent.id in self._agents:
            self.remove(agent.id)
        self._agents[agent.id] = agent
        if staffed:
            self._set_staffed(agent.id, True)
        if free is not None:
            self.mark_free(agent.id, free.since, free.talk_today)

    def remove(self, agent_id: int) -> None:
        self.mark_away(agent_id)
        del self._agents[agent_id]

    def set_rules(self, rules: Mapping[str, QueueRules]) -> None:
        """Adopt new queue rules: strategies may differ, so every free list is rebuilt."""
        free = dict(self._free)
        staffed = set(self._staffed)
        for agent_id in list(self._agents):
            self.mark_away(agent_id)
        self._rules = dict(rules)
        self._lists = {name: SortedList() for name in self._rules}
        self._staffed_count = dict.fromkeys(self._rules, 0)
        for agent_id in staffed:
            self._set_staffed(agent_id, True)
        for agent_id, facts in free.items():
            self.mark_free(agent_id, facts.since, facts.talk_today)

    # -- state -----------------------------------------------------------------------

    def mark_free(self, agent_id: int, since: float, talk_today: float) -> None:
        """The agent can take a call. Idempotent: a free agent keeps their place."""
        agent = self.agent(agent_id)
        if agent_id in self._free:
            return
        self._set_staffed(agent_id, True)
        self._free[agent_id] = _Free(since, talk_today)
        for queue, tier in agent.queues.items():
            rules = self._rules.get(queue)
            if rules is None:
                continue
            key = self._key(rules, agent, tier)
            self._keys[(queue, agent_id)] = key
            self._lists[queue].add(key)

    def mark_busy(self, agent_id: int) -> None:
        """Staffed but not free: ringing, talking or in wrap-up."""
        self.agent(agent_id)
        self._unlist(agent_id)
        self._set_staffed(agent_id, True)

    def mark_away(self, agent_id: int) -> None:
        """Not ready or logged out: neither free nor counted as staffed."""
        self.agent(agent_id)
        self._unlist(agent_id)
        self._set_staffed(agent_id, False)

    def mark_offered(self, agent_id: int, queue: str) -> None:
        """Remember that ``queue`` just offered a call to the agent (round robin)."""
        self._offers += 1
        self._last_offered[(queue, agent_id)] = self._offers

    def is_free(self, agent_id: int) -> bool:
        return agent_id in self._free

    def is_staffed(self, agent_id: int) -> bool:
        return agent_id in self._staffed

    # -- queries ---------------------------------------------------------------------

    def free_in(self, queue: str) -> Iterator[tuple[int, int]]:
        """``(tier, agent_id)`` of the queue's free members, best first."""
        for key in self._lists.get(queue, ()):
            yield int(key[0]), int(key[-1])

    def free_count(self, queue: str) -> int:
        return len(self._lists.get(queue, ()))

    def staffed_count(self, queue: str) -> int:
        return self._staffed_count.get(queue, 0)

    def free_agents(self) -> Iterator[int]:
        return iter(self._free)

    # -- internals -------------------------------------------------------------------

    def _key(self, rules: QueueRules, agent: Agent, tier: int) -> Key:
        free = self._free[agent.id]
        strategy = rules.strategy
        if strategy is Strategy.LONGEST_IDLE:
            return (tier, free.since, agent.id)
        if strategy is Strategy.LEAST_TALK_TIME:
            return (tier, free.talk_today, free.since, agent.id)
        if strategy is Strategy.ROUND_ROBIN:
            return (tier, self._last_offered.get((rules.name, agent.id), 0), agent.id)
        if strategy is Strategy.SKILLS_BEST_MATCH:
            score = sum(agent.skills.get(s.skill, 0) for s in rules.skills)
            return (tier, -score, free.since, agent.id)
        return (tier, agent.id)

    def _unlist(self, agent_id: int) -> None:
        if self._free.pop(agent_id, None) is None:
            return
        for queue in self._agents[agent_id].queues:
            key = self._keys.pop((queue, agent_id), None)
            if key is not None:
                self._lists[queue].remove(key)

    def _set_staffed(self, agent_id: int, staffed: bool) -> None:
        if (agent_id in self._staffed) == staffed:
            return
        if staffed:
            self._staffed.add(agent_id)
        else:
            self._staffed.discard(agent_id)
        for queue in self._agents[agent_id].queues:
            if queue in self._staffed_count:
                self._staffed_count[queue] += 1 if staffed else -1
