"""A deliberately naive reference ACD: every decision scans every agent or every call.

It follows the rules documented in ``routing.acd`` with plain lists and dicts, so it
serves two purposes: the oracle the property tests compare :class:`routing.acd.Router`
against (same events in, same decisions out), and the full-scan baseline that
``bench/routing.py`` measures the indexed router against. Sticky agents, calendars
and timers are left out (they are covered by table tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routing.acd import RING_OUTCOMES
from routing.agent_index import Agent
from routing.decisions import AgentNotReady, Assignment, CancelRing, Decision, Overflow
from routing.queues import QueueRules, Strategy
from routing.waiting import WaitingCall


@dataclass
class _Waiting:
    call: WaitingCall
    seq: int
    base: int


class NaiveRouter:
    def __init__(self, rules: Mapping[str, QueueRules]) -> None:
        self.rules = dict(rules)
        self.agents: dict[int, Agent] = {}
        self.free: dict[int, tuple[float, float]] = {}  # agent -> (free since, talk today)
        self.last_offered: dict[tuple[str, int], int] = {}
        self.offer_count = 0
        self.waiting: dict[str, _Waiting] = {}
        self.ringing: dict[str, tuple[_Waiting, set[int]]] = {}
        self.arrivals = 0

    def add_agent(self, agent: Agent) -> None:
        self.agents[agent.id] = agent

    def on_agent_free(self, agent_id: int, now: float, talk_today: float = 0.0) -> Assignment | None:
        self.free.setdefault(agent_id, (now, talk_today))
        best: tuple[tuple[float, int, float, int], _Waiting] | None = None
        agent = self.agents[agent_id]
        for queue, tier in agent.queues.items():
            rules = self.rules.get(queue)
            if rules is None:
                continue
            in_queue = sorted(
                (w for w in self.waiting.values() if w.call.queue == queue),
                key=lambda w: (rules.aging_per_minute * w.call.ranked_from / 60.0 - w.base, w.call.ranked_from, w.seq),
            )
            for waiting in in_queue:
                if self._eligible(agent, waiting, rules, now):
                    score = waiting.base + rules.aging_per_minute * (now - waiting.call.ranked_from) / 60.0
                    rank = (-score, tier, waiting.call.ranked_from, waiting.seq)
                    if best is None or rank < best[0]:
                        best = (rank, waiting)
                    break
        if best is None:
            return None
        del self.waiting[best[1].call.id]
        return self._offer(best[1], (agent_id,), now)

    def on_agent_busy(self, agent_id: int) -> None:
        self.free.pop(agent_id, None)

    def on_agent_away(self, agent_id: int) -> None:
        self.free.pop(agent_id, None)

    def on_call_queued(self, call: WaitingCall, now: float) -> Assignment | Overflow | None:
        rules = self.rules[call.queue]
        queued = sum(1 for w in self.waiting.values() if w.call.queue == call.queue)
        if rules.max_length is not None and queued >= rules.max_length:
            assert rules.overflow is not None
            return Overflow(call.id, call.queue, rules.overflow, "max_length")
        base = (rules.priority if call.priority is None else call.priority) + call.priority_boost
        waiting = _Waiting(call, self.arrivals, base)
        self.arrivals += 1
        return self._place(waiting, now)

    def on_call_left(self, call_id: str) -> list[Decision]:
        if self.waiting.pop(call_id, None) is not None:
            return []
        _, agents = self.ringing.pop(call_id)
        return [CancelRing(call_id, tuple(sorted(agents)))]

    def on_offer_answered(self, call_id: str, agent_id: int, now: float) -> list[Decision]:
        _, agents = self.ringing.pop(call_id)
        others = tuple(sorted(agents - {agent_id}))
        return [CancelRing(call_id, others)] if others else []

    def on_offer_failed(self, call_id: str, agent_id: int, outcome: str, now: float) -> list[Decision]:
        waiting, agents = self.ringing[call_id]
        agents.discard(agent_id)
        rules = self.rules[waiting.call.queue]
        reason = RING_OUTCOMES[outcome]
        decisions: list[Decision] = []
        if reason != "missed" or rules.rona_not_ready:
            decisions.append(AgentNotReady(agent_id, reason, call_id))
        if agents:
            return decisions
        del self.ringing[call_id]
        assignment = self._place(waiting, now)
        if assignment is not None:
            decisions.append(assignment)
        return decisions

    # -- internals ------------------------------------------------------------------

    def _place(self, waiting: _Waiting, now: float) -> Assignment | None:
        rules = self.rules[waiting.call.queue]
        candidates = sorted(
            (self._agent_key(rules, agent_id), agent_id)
            for agent_id in self.free
            if waiting.call.queue in self.agents[agent_id].queues
            and self._eligible(self.agents[agent_id], waiting, rules, now)
        )
        if not candidates:
            self.waiting[waiting.call.id] = waiting
            return None
        if rules.strategy is Strategy.RING_ALL:
            best_tier = candidates[0][0][0]
            chosen = tuple(agent_id for key, agent_id in candidates if key[0] == best_tier)
        else:
            chosen = (candidates[0][1],)
        return self._offer(waiting, chosen, now)

    def _agent_key(self, rules: QueueRules, agent_id: int) -> tuple[float, ...]:
        agent = self.agents[agent_id]
        tier = agent.queues[rules.name]
        since, talk = self.free[agent_id]
        if rules.strategy is Strategy.LONGEST_IDLE:
            return (tier, since, agent_id)
        if rules.strategy is Strategy.LEAST_TALK_TIME:
            return (tier, talk, since, agent_id)
        if rules.strategy is Strategy.ROUND_ROBIN:
            return (tier, self.last_offered.get((rules.name, agent_id), 0), agent_id)
        if rules.strategy is Strategy.SKILLS_BEST_MATCH:
            return (tier, -sum(agent.skills.get(s.skill, 0) for s in rules.skills), since, agent_id)
        return (tier, agent_id)

    @staticmethod
    def _eligible(agent: Agent, waiting: _Waiting, rules: QueueRules, now: float) -> bool:
        waited = now - waiting.call.enqueued_at
        if any(agent.skills.get(s.skill, 0) < s.level_after(waited) for s in rules.skills):
            return False
        return all(agent.skills.get(skill, 0) >= level for skill, level in waiting.call.skills.items())

    def _offer(self, waiting: _Waiting, agents: tuple[int, ...], now: float) -> Assignment:
        for agent_id in agents:
            self.free.pop(agent_id)
            self.offer_count += 1
            self.last_offered[(waiting.call.queue, agent_id)] = self.offer_count
        self.ringing[waiting.call.id] = (waiting, set(agents))
        return Assignment(
            call_id=waiting.call.id,
            queue=waiting.call.queue,
            agent_ids=agents,
            ring_timeout=self.rules[waiting.call.queue].ring_timeout,
            waited=now - waiting.call.enqueued_at,
            callback_number=waiting.call.callback_number,
        )
