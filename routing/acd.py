"""The ACD decider: which agent gets which call, decided event by event.

The engine (the shell) reports what happens -- an agent became free, a call entered
a queue, a ring was answered or failed, time passed -- and each method returns the
decisions to carry out (see :mod:`routing.decisions`). A free agent is offered a
waiting call, or a new call a free agent, within the same method call: nothing waits
for a polling loop. Time only enters through the ``now`` arguments (epoch seconds),
so the whole router is deterministic and replayable.

Rules, in the order they apply:

- **Eligibility**: an agent may take a call only if they are free (logged in,
  available, not ringing), a member of the call's queue, and meet every required
  skill at the level in force: the queue's levels relax with the call's wait
  (``SkillRequirement.level_after``); levels the IVR added for this call do not.
- **Sticky agent**: if the caller's last agent served them within the queue's
  window, is staffed and eligible, the call is kept for them for ``wait`` seconds.
- **Call side** (a call is queued or becomes offerable): the first eligible agent in
  the queue's strategy order (:mod:`routing.agent_index`); ring_all offers every
  eligible free agent of the best tier at once.
- **Agent side** (an agent becomes free): in each of their queues, the first
  eligible call in service order (:mod:`routing.waiting`); among those, the highest
  score now (priority plus aging, comparable across queues), then the agent's lower
  tier, then the longest wait, then arrival order. Aging grows without bound, so no
  call starves, whatever its queue.
- **Exclusivity**: an offered call leaves the queue and its agents leave the free
  index until the shell reports the outcome, so no call goes to two agents (except
  ring_all's simultaneous ring, settled by the first answer) and no agent gets two
  calls.
- **RONA**: a ring that fails puts the call back in its place and tries the next
  agent; the missed agent goes not-ready (an :class:`AgentNotReady` effect).
- **Limits**: a closed calendar or a full queue overflow the call at entry; a call
  that waited ``max_wait`` overflows from :meth:`Router.on_tick`.

Cost per decision: O(log n) index updates plus the eligible-candidate walk, which
stops at the first fit; never a scan of all agents or all calls.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from routing.agent_index import Agent, AgentIndex
from routing.announcements import agent_steps, callback_offer_step, comfort_steps, position_steps
from routing.calendars import Calendar, is_open
from routing.decisions import (
    AgentNotReady,
    Announce,
    Assignment,
    CancelRing,
    Decision,
    OfferCallback,
    Overflow,
)
from routing.errors import QueueConfigError, RouterStateError
from routing.ewt import Estimate, WaitEstimator
from routing.queues import QueueRules, Strategy
from routing.timers import Timer, TimerHeap, next_period, schedule
from routing.waiting import CallQueue, Entry, WaitingCall, make_entry

#: Ring outcomes the shell reports, and the not-ready reason each one implies.
RING_OUTCOMES: Mapping[str, str] = {
    "no_answer": "missed",
    "rejected": "missed",
    "unregistered": "unregistered",
    "failed": "failed",
}


@dataclass(slots=True)
class _Offer:
    entry: Entry
    agents: set[int]


@dataclass(frozen=True, slots=True)
class QueueStatus:
    waiting: int
    longest_wait: float
    free_agents: int
    staffed_agents: int


class Router:
    """All queues of a site: waiting calls, free agents, rings in progress, timers."""

    def __init__(self, rules: Mapping[str, QueueRules], calendars: Mapping[str, Calendar] | None = None) -> None:
        self._calendars = dict(calendars or {})
        _check_calendars(rules, self._calendars)
        self._rules = dict(rules)
        self.agents = AgentIndex(rules)
        self._queues = {name: CallQueue(r) for name, r in rules.items()}
        self._estimators = {name: WaitEstimator() for name in rules}
        self._where: dict[str, str] = {}
        self._offers: dict[str, _Offer] = {}
        self._ringing: dict[int, str] = {}
        self._timers = TimerHeap()
        self._arrivals = itertools.count()

    # -- agents ---------------------------------------------------------------------

    def add_agent(self, agent: Agent) -> None:
        """Add an agent or change their skills/queues (their state is kept)."""
        self.agents.put(agent)

    def remove_agent(self, agent_id: int) -> None:
        if agent_id in self._ringing:
            raise RouterStateError(f"agent {agent_id} is ringing for call {self._ringing[agent_id]}; end that ring first")
        self.agents.remove(agent_id)

    def on_agent_free(self, agent_id: int, now: float, talk_today: float = 0.0) -> Assignment | None:
        """The agent is available (ready, or wrap-up over). ``talk_today`` is their talk
        time so far today (least_talk_time). Returns the call to offer them, if any."""
        if agent_id in self._ringing:
            raise RouterStateError(
                f"agent {agent_id} is ringing for call {self._ringing[agent_id]}; report that ring's end first"
            )
        self.agents.mark_free(agent_id, now, talk_today)
        return self._offer_to_agent(agent_id, now)

    def on_agent_busy(self, agent_id: int) -> None:
        """On a call or in wrap-up (not through an offer of ours, e.g. a direct call)."""
        self.agents.mark_busy(agent_id)

    def on_agent_away(self, agent_id: int) -> None:
        """Not ready or logged out."""
        self.agents.mark_away(agent_id)

    # -- calls ----------------------------------------------------------------------

    def on_call_queued(self, call: WaitingCall, now: float) -> Assignment | Overflow | None:
        """A call enters its queue: offered at once, overflowed, or left waiting (None)."""
        rules = self._rules_of(call.queue)
        if call.id in self._where or call.id in self._offers:
            raise RouterStateError(f"call {call.id} is already in queue {call.queue}")
        if rules.calendar is not None and not is_open(self._calendars[rules.calendar], _utc(now)):
            assert rules.closed is not None  # guaranteed by parse_queue_rules
            return Overflow(call.id, call.queue, rules.closed, "closed")
        if rules.max_length is not None and len(self._queues[call.queue]) >= rules.max_length:
            assert rules.overflow is not None
            return Overflow(call.id, call.queue, rules.overflow, "max_length")
        return self._enqueue(make_entry(call, rules, next(self._arrivals)), now)

    def on_call_left(self, call_id: str) -> list[Decision]:
        """The caller hung up or the call was taken out of the queue."""
        queue = self._where.pop(call_id, None)
        if queue is not None:
            self._queues[queue].remove(call_id)
            return []
        offer = self._offers.pop(call_id, None)
        if offer is None:
            raise RouterStateError(f"call {call_id} is neither waiting nor ringing")
        for agent_id in offer.agents:
            del self._ringing[agent_id]
        return [CancelRing(call_id, tuple(sorted(offer.agents)))]

    def on_callback_accepted(self, call_id: str, number: str, now: float) -> None:
        """The caller pressed the callback digit: keep their place as a callback to
        ``number``; the caller's leg can be hung up."""
        entry = self._waiting_entry(call_id)
        entry.call = replace(entry.call, callback_number=number)
        entry.generation += 1
        self._schedule(entry, now)

    def on_offer_answered(self, call_id: str, agent_id: int, now: float) -> list[Decision]:
        """``agent_id`` answered: other ring_all legs are cancelled, the agent id may
        be announced to the caller."""
        offer = self._offer_of(call_id, agent_id)
        del self._offers[call_id]
        for ringing in offer.agents:
            del self._ringing[ringing]
        entry = offer.entry
        self._estimators[entry.call.queue].observe_wait(now - entry.call.enqueued_at, entry.predicted_wait)
        decisions: list[Decision] = []
        others = tuple(sorted(offer.agents - {agent_id}))
        if others:
            decisions.append(CancelRing(call_id, others))
        rules = self._rules[entry.call.queue]
        steps = agent_steps(rules, entry.call.language, self.agents.agent(agent_id).code)
        if steps:
            decisions.append(Announce(call_id, rules.name, "agent", steps))
        return decisions

    def on_offer_failed(self, call_id: str, agent_id: int, outcome: str, now: float) -> list[Decision]:
        """A ring ended unanswered (``outcome`` in :data:`RING_OUTCOMES`). The agent may
        go not-ready; once no leg is ringing, the call takes its place back and the
        next agent is tried. An agent not sent to not-ready stays busy until the shell
        reports them free again."""
        if outcome not in RING_OUTCOMES:
            raise RouterStateError(f"unknown ring outcome {outcome!r}; expected one of {', '.join(RING_OUTCOMES)}")
        offer = self._offer_of(call_id, agent_id)
        offer.agents.discard(agent_id)
        del self._ringing[agent_id]
        rules = self._rules[offer.entry.call.queue]
        reason = RING_OUTCOMES[outcome]
        decisions: list[Decision] = []
        if reason != "missed" or rules.rona_not_ready:
            decisions.append(AgentNotReady(agent_id, reason, call_id))
        if offer.agents:
            return decisions
        del self._offers[call_id]
        offer.entry.generation += 1
        assignment = self._enqueue(offer.entry, now)
        if assignment is not None:
            decisions.append(assignment)
        return decisions

    # -- time -----------------------------------------------------------------------

    def next_due(self) -> float | None:
        """When :meth:`on_tick` next has something to do (may be early, never late)."""
        return self._timers.next_due()

    def on_tick(self, now: float) -> list[Decision]:
        """Run every timer due by ``now``: overflows, relaxed skills and sticky holds
        ending (new offers), comfort and position announcements, callback offers."""
        decisions: list[Decision] = []
        for due, call_id, generation, kind in self._timers.pop_due(now):
            queue_name = self._where.get(call_id)
            entry = self._queues[queue_name].get(call_id) if queue_name is not None else None
            if entry is None or entry.generation != generation:
                continue
            decision = self._fire(kind, entry, due, now)
            if decision is not None:
                decisions.append(decision)
        return decisions

    # -- rules and queries ----------------------------------------------------------

    def set_rules(self, rules: Mapping[str, QueueRules], calendars: Mapping[str, Calendar], now: float) -> list[Decision]:
        """Adopt edited rules without losing waiting calls; returns offers they allow."""
        _check_calendars(rules, calendars)
        for name, queue in self._queues.items():
            ringing = sum(1 for offer in self._offers.values() if offer.entry.call.queue == name)
            if name not in rules and (len(queue) or ringing):
                raise RouterStateError(
                    f"queue {name} still has {len(queue)} waiting and {ringing} ringing calls; move them before removing it"
                )
        self._calendars = dict(calendars)
        self._rules = dict(rules)
        self.agents.set_rules(rules)
        queues = {}
        for name, queue_rules in rules.items():
            queue = self._queues.get(name) or CallQueue(queue_rules)
            queue.set_rules(queue_rules)
            queues[name] = queue
            self._estimators.setdefault(name, WaitEstimator())
        self._queues = queues
        for queue in self._queues.values():
            for entry in queue.in_order():
                entry.generation += 1
                self._schedule(entry, now)
        return self.rebalance(now)

    def rebalance(self, now: float) -> list[Decision]:
        """Try every waiting call, best first across queues (after a resync or a
        change of rules; the event-driven methods keep things balanced otherwise)."""
        entries = [e for q in self._queues.values() for e in q.in_order()]
        entries.sort(key=lambda e: (-e.score(self._rules[e.call.queue].aging_per_minute, now), e.call.ranked_from, e.seq))
        decisions: list[Decision] = []
        for entry in entries:
            assignment = self._offer_if_possible(entry, now)
            if assignment is not None:
                decisions.append(assignment)
        return decisions

    def position(self, call_id: str) -> int:
        entry = self._waiting_entry(call_id)
        return self._queues[entry.call.queue].position(call_id)

    def estimate(self, call_id: str) -> Estimate:
        entry = self._waiting_entry(call_id)
        queue = entry.call.queue
        return self._estimators[queue].estimate(self.position(call_id), self.agents.staffed_count(queue))

    def wait_estimator(self, queue: str) -> WaitEstimator:
        """The queue's EWT estimator, for the shell to save and restore its state."""
        self._rules_of(queue)
        return self._estimators[queue]

    def observe_handle_time(self, queue: str, seconds: float) -> None:
        """A finished interaction's handle time, for the queue's EWT."""
        self._rules_of(queue)
        self._estimators[queue].observe_handle(seconds)

    def queue_status(self, queue: str, now: float) -> QueueStatus:
        self._rules_of(queue)
        oldest = self._queues[queue].oldest_enqueued_at()
        return QueueStatus(
            waiting=len(self._queues[queue]),
            longest_wait=0.0 if oldest is None else now - oldest,
            free_agents=self.agents.free_count(queue),
            staffed_agents=self.agents.staffed_count(queue),
        )

    def waiting_calls(self) -> int:
        return len(self._where)

    def ringing_call(self, agent_id: int) -> str | None:
        return self._ringing.get(agent_id)

    # -- internals ------------------------------------------------------------------

    def _rules_of(self, queue: str) -> QueueRules:
        try:
            return self._rules[queue]
        except KeyError:
            raise RouterStateError(f"unknown queue {queue!r}") from None

    def _waiting_entry(self, call_id: str) -> Entry:
        queue = self._where.get(call_id)
        entry = self._queues[queue].get(call_id) if queue is not None else None
        if entry is None:
            raise RouterStateError(f"call {call_id} is not waiting in any queue")
        return entry

    def _offer_of(self, call_id: str, agent_id: int) -> _Offer:
        offer = self._offers.get(call_id)
        if offer is None or agent_id not in offer.agents:
            raise RouterStateError(f"call {call_id} is not ringing agent {agent_id}")
        return offer

    def _enqueue(self, entry: Entry, now: float) -> Assignment | None:
        """Offer the entry at once if an agent fits, else put it in line."""
        agents, sticky = self._agents_for(entry, now)
        if agents:
            return self._offer(entry, agents, now, sticky)
        queue = self._queues[entry.call.queue]
        queue.add(entry)
        self._where[entry.call.id] = entry.call.queue
        estimator = self._estimators[entry.call.queue]
        entry.predicted_wait = estimator.estimate(queue.position(entry.call.id), self.agents.staffed_count(entry.call.queue)).seconds
        self._schedule(entry, now)
        return None

    def _offer_if_possible(self, entry: Entry, now: float) -> Assignment | None:
        agents, sticky = self._agents_for(entry, now)
        if not agents:
            return None
        del self._where[entry.call.id]
        self._queues[entry.call.queue].remove(entry.call.id)
        return self._offer(entry, agents, now, sticky)

    def _offer(self, entry: Entry, agents: tuple[int, ...], now: float, sticky: bool) -> Assignment:
        queue = entry.call.queue
        for agent_id in agents:
            self.agents.mark_busy(agent_id)
            self.agents.mark_offered(agent_id, queue)
            self._ringing[agent_id] = entry.call.id
        self._offers[entry.call.id] = _Offer(entry, set(agents))
        return Assignment(
            call_id=entry.call.id,
            queue=queue,
            agent_ids=agents,
            ring_timeout=self._rules[queue].ring_timeout,
            waited=now - entry.call.enqueued_at,
            callback_number=entry.call.callback_number,
            sticky=sticky,
        )

    def _agents_for(self, entry: Entry, now: float) -> tuple[tuple[int, ...], bool]:
        """Call side: the agent(s) to offer ``entry`` to now, and whether by stickiness."""
        rules = self._rules[entry.call.queue]
        sticky = self._sticky_agent(entry, rules, now)
        if sticky is not None:
            if self.agents.is_free(sticky):
                return (sticky,), True
            assert rules.sticky is not None
            if now < entry.call.enqueued_at + rules.sticky.wait:
                return (), False
        chosen: list[int] = []
        best_tier: int | None = None
        for tier, agent_id in self.agents.free_in(entry.call.queue):
            if best_tier is not None and tier != best_tier:
                break
            if not self._eligible(agent_id, entry, rules, now):
                continue
            if rules.strategy is not Strategy.RING_ALL:
                return (agent_id,), False
            best_tier = tier
            chosen.append(agent_id)
        return tuple(chosen), False

    def _offer_to_agent(self, agent_id: int, now: float) -> Assignment | None:
        """Agent side: the best call, across the agent's queues, they may take now."""
        best: Entry | None = None
        best_rank: tuple[float, int, float, int] | None = None
        for queue_name, tier in self.agents.agent(agent_id).queues.items():
            queue = self._queues.get(queue_name)
            if queue is None or not len(queue):
                continue
            rules = queue.rules
            for entry in queue.in_order():
                if self._held_for_other(entry, rules, agent_id, now) or not self._eligible(agent_id, entry, rules, now):
                    continue
                rank = (-entry.score(rules.aging_per_minute, now), tier, entry.call.ranked_from, entry.seq)
                if best_rank is None or rank < best_rank:
                    best, best_rank = entry, rank
                break
        if best is None:
            return None
        sticky = self._sticky_agent(best, self._rules[best.call.queue], now) == agent_id
        del self._where[best.call.id]
        self._queues[best.call.queue].remove(best.call.id)
        return self._offer(best, (agent_id,), now, sticky)

    def _eligible(self, agent_id: int, entry: Entry, rules: QueueRules, now: float) -> bool:
        skills = self.agents.agent(agent_id).skills
        waited = now - entry.call.enqueued_at
        for requirement in rules.skills:
            if skills.get(requirement.skill, 0) < requirement.level_after(waited):
                return False
        return all(skills.get(skill, 0) >= level for skill, level in entry.call.skills.items())

    def _sticky_agent(self, entry: Entry, rules: QueueRules, now: float) -> int | None:
        """The caller's last agent, if the sticky rule applies to them right now."""
        last = entry.call.last_agent
        if rules.sticky is None or last is None:
            return None
        agent_id, served_at = last
        if now - served_at > rules.sticky.window or agent_id not in self.agents:
            return None
        if rules.name not in self.agents.agent(agent_id).queues or not self.agents.is_staffed(agent_id):
            return None
        return agent_id if self._eligible(agent_id, entry, rules, now) else None

    def _held_for_other(self, entry: Entry, rules: QueueRules, agent_id: int, now: float) -> bool:
        if rules.sticky is None or now >= entry.call.enqueued_at + rules.sticky.wait:
            return False
        sticky = self._sticky_agent(entry, rules, now)
        return sticky is not None and sticky != agent_id

    def _schedule(self, entry: Entry, now: float) -> None:
        """Queue the timers of a call (re)entering the line, tagged with its generation
        so the timers of an earlier stay are ignored."""
        for when, kind in schedule(self._rules[entry.call.queue], entry.call, now):
            self._timers.push(when, entry.call.id, entry.generation, kind)

    def _fire(self, kind: Timer, entry: Entry, due: float, now: float) -> Decision | None:
        call = entry.call
        rules = self._rules[call.queue]
        if kind is Timer.OVERFLOW:
            assert rules.overflow is not None
            self.on_call_left(call.id)
            return Overflow(call.id, call.queue, rules.overflow, "max_wait")
        if kind is Timer.RETRY:
            return self._offer_if_possible(entry, now)
        if kind is Timer.CALLBACK:
            step = callback_offer_step(rules)
            assert step is not None and rules.callback is not None
            return OfferCallback(call.id, call.queue, step, rules.callback.digit)
        periodic = rules.comfort if kind is Timer.COMFORT else rules.announce
        assert periodic is not None
        self._timers.push(next_period(due, periodic.every, now + 1e-9), call.id, entry.generation, kind)
        if kind is Timer.COMFORT:
            return Announce(call.id, call.queue, "comfort", comfort_steps(rules))
        steps = position_steps(rules, call.language, self.position(call.id), self.estimate(call.id))
        return Announce(call.id, call.queue, "position", steps) if steps else None


def _utc(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def _check_calendars(rules: Mapping[str, QueueRules], calendars: Mapping[str, Calendar]) -> None:
    for name, queue_rules in rules.items():
        if queue_rules.calendar is not None and queue_rules.calendar not in calendars:
            raise QueueConfigError(name, "calendar", f"unknown calendar {queue_rules.calendar!r}")
