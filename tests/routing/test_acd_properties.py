"""Property tests of the ACD decider.

Random queues, agents and event streams are fed, as the engine would, to both the
indexed :class:`routing.acd.Router` and the full-scan :class:`NaiveRouter`: every
decision must be identical, and the shell-side model checks that no call is ever
offered while already ringing and no agent is offered a call unless free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.acd import RING_OUTCOMES, Router
from routing.decisions import AgentNotReady, Assignment, CancelRing, Decision, Overflow
from routing.queues import QueueRules, parse_queue_rules
from tests.routing.helpers import agent, call
from tests.routing.naive import NaiveRouter

SKILLS = ("a", "b")


@st.composite
def queue_rules(draw: st.DrawFn, name: str) -> QueueRules:
    settings: dict[str, Any] = {
        "strategy": draw(st.sampled_from(["longest_idle", "least_talk_time", "round_robin", "skills_best_match", "ring_all"])),
        "priority": draw(st.integers(0, 5)),
        "aging_per_minute": draw(st.sampled_from([0.5, 1.0, 4.0])),
        "rona_not_ready": draw(st.booleans()),
    }
    skill = draw(st.sampled_from([None, *SKILLS]))
    if skill is not None:
        level = draw(st.integers(2, 8))
        relax = [{"after": 30, "min_level": level - 1}] if draw(st.booleans()) else []
        settings["skills"] = {skill: {"min_level": level, "relax": relax}}
    if draw(st.booleans()):
        settings |= {"max_length": draw(st.integers(1, 4)), "overflow": "voicemail:queue:" + name}
    return parse_queue_rules(name, settings)


@dataclass
class World:
    """What the shell knows: agent states and rings in progress."""

    free: set[int] = field(default_factory=set)
    busy: set[int] = field(default_factory=set)
    away: set[int] = field(default_factory=set)
    ringing: dict[str, set[int]] = field(default_factory=dict)
    waiting: set[str] = field(default_factory=set)
    calls: int = 0


OPS = st.lists(
    st.tuples(
        st.sampled_from(["free", "free", "away", "queue", "queue", "answer", "fail", "end", "left"]),
        st.integers(0, 1000),
        st.integers(0, 1000),
        st.integers(0, 30),
    ),
    min_size=30,
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), ops=OPS)
def test_router_matches_full_scan_and_keeps_exclusivity(data: st.DataObject, ops: list[tuple[str, int, int, int]]) -> None:
    names = [f"q{i}" for i in range(data.draw(st.integers(1, 3)))]
    rules = {name: data.draw(queue_rules(name)) for name in names}
    router, naive = Router(rules), NaiveRouter(rules)
    agent_ids = list(range(1, data.draw(st.integers(1, 6)) + 1))
    for agent_id in agent_ids:
        memberships = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        tiers = {q: data.draw(st.integers(1, 2)) for q in memberships}
        skills = {s: data.draw(st.integers(1, 9)) for s in SKILLS if data.draw(st.booleans())}
        for r in (router, naive):
            r.add_agent(agent(agent_id, tiers, skills))
    world = World(away=set(agent_ids))
    now = 0.0

    def both(method: str, *args: Any) -> Any:
        ours = getattr(router, method)(*args)
        theirs = getattr(naive, method)(*args)
        assert ours == theirs, (method, args)
        return ours

    def handle(decisions: list[Decision | None]) -> None:
        for decision in decisions:
            if isinstance(decision, Assignment):
                assert decision.call_id not in world.ringing, "a call offered twice"
                assert decision.call_id in world.waiting
                for agent_id in decision.agent_ids:
                    assert agent_id in world.free, f"agent {agent_id} offered a call while not free"
                    world.free.discard(agent_id)
                world.waiting.discard(decision.call_id)
                world.ringing[decision.call_id] = set(decision.agent_ids)
            elif isinstance(decision, Overflow):
                world.waiting.discard(decision.call_id)
            elif isinstance(decision, AgentNotReady):
                world.away.add(decision.agent_id)
                world.busy.discard(decision.agent_id)
                both("on_agent_away", decision.agent_id)
            elif isinstance(decision, CancelRing):
                for agent_id in decision.agent_ids:
                    world.free.add(agent_id)
                    handle([both("on_agent_free", agent_id, now, 0.0)])

    for op, x, y, dt in ops:
        now += dt
        idle = sorted(world.free | world.away | world.busy)
        ringing = sorted(world.ringing)
        if op == "free" and (candidates := sorted(world.away | world.busy)):
            agent_id = candidates[x % len(candidates)]
            world.away.discard(agent_id)
            world.busy.discard(agent_id)
            world.free.add(agent_id)
            handle([both("on_agent_free", agent_id, now, float(y))])
        elif op == "away" and idle:
            agent_id = idle[x % len(idle)]
            world.free.discard(agent_id)
            world.busy.discard(agent_id)
            world.away.add(agent_id)
            both("on_agent_away", agent_id)
        elif op == "queue":
            world.calls += 1
            call_id = f"c{world.calls}"
            world.waiting.add(call_id)
            extra = {SKILLS[y % 2]: y % 5} if y % 3 == 0 and y % 5 else {}
            arrived = now - 60.0 * (y % 7) if y % 2 else None   # some were transferred in, keeping their wait
            handle([both("on_call_queued", call(call_id, names[x % len(names)], now, priority=(y % 4) or None,
                                                 skills=extra, arrived_at=arrived), now)])
        elif op == "answer" and ringing:
            call_id = ringing[x % len(ringing)]
            agents = sorted(world.ringing.pop(call_id))
            answering = agents[y % len(agents)]
            world.busy.add(answering)
            handle(both("on_offer_answered", call_id, answering, now))
        elif op == "fail" and ringing:
            call_id = ringing[x % len(ringing)]
            agents = sorted(world.ringing[call_id])
            failing = agents[y % len(agents)]
            world.ringing[call_id].discard(failing)
            if not world.ringing[call_id]:
                del world.ringing[call_id]
                world.waiting.add(call_id)
            world.busy.add(failing)
            handle(both("on_offer_failed", call_id, failing, sorted(RING_OUTCOMES)[y % len(RING_OUTCOMES)], now))
        elif op == "end" and world.busy:
            agent_id = sorted(world.busy)[x % len(world.busy)]
            world.busy.discard(agent_id)
            world.free.add(agent_id)
            handle([both("on_agent_free", agent_id, now, float(y))])
        elif op == "left" and (live := sorted(world.waiting | set(world.ringing))):
            call_id = live[x % len(live)]
            world.waiting.discard(call_id)
            world.ringing.pop(call_id, None)
            handle(both("on_call_left", call_id))
        # The router's own view agrees with the shell's.
        assert router.waiting_calls() == len(world.waiting)
        assert set(router.agents.free_agents()) == world.free
        for call_id, rung in world.ringing.items():
            for agent_id in rung:
                assert router.ringing_call(agent_id) == call_id


def run_overload(aging_per_minute: float) -> tuple[float, float, int]:
    """One agent handling 10 s calls; priority-5 calls every 12 s, priority-0 calls every
    30 s: 117 % load for an hour, then the queue drains. Returns the longest wait of
    each class and how many low-priority calls were answered before arrivals stopped."""
    r = Router({"q": parse_queue_rules("q", {"aging_per_minute": aging_per_minute})})
    r.add_agent(agent(1, ["q"]))
    arrivals = sorted([(t, f"high{t}", 5) for t in range(0, 3600, 12)] + [(t, f"low{t}", 0) for t in range(5, 3600, 30)])
    enqueued: dict[str, float] = {}
    waits: dict[str, float] = {}
    low_before_end = 0
    next_free = 0.0
    pending = list(arrivals)

    def take(decision: Assignment | Overflow | None, now: float) -> float | None:
        if isinstance(decision, Assignment):
            waits[decision.call_id] = now - enqueued[decision.call_id]
            r.on_offer_answered(decision.call_id, 1, now)
            return now + 10.0
        return None

    busy_until: float | None = None
    r.on_agent_free(1, 0.0)
    while pending or r.waiting_calls() or busy_until is not None:
        if pending and (busy_until is None or pending[0][0] <= busy_until):
            at, call_id, priority = pending.pop(0)
            enqueued[call_id] = at
            done = take(r.on_call_queued(call(call_id, "q", float(at), priority=priority), float(at)), float(at))
            busy_until = done if done is not None else busy_until
        else:
            assert busy_until is not None
            next_free = busy_until
            busy_until = take(r.on_agent_free(1, next_free), next_free)
        low_before_end = sum(1 for c in waits if c.startswith("low") and enqueued[c] + waits[c] < 3600)
    high = max(w for c, w in waits.items() if c.startswith("high"))
    low = max(w for c, w in waits.items() if c.startswith("low"))
    assert len(waits) == len(arrivals)
    return high, low, low_before_end


def test_aging_prevents_starvation_over_a_long_overload() -> None:
    high, low, served = run_overload(aging_per_minute=1.0)
    # A 5-point priority gap is worth 5 minutes of waiting: low-priority callers wait at
    # most that much (plus one handle time) longer than the high-priority ones.
    assert low <= high + 5 * 60 + 10
    assert served >= 90  # of 120: served all along, not only once arrivals stop
    # With (almost) no aging the same load starves them: the bound above breaks.
    starved_high, starved_low, starved_served = run_overload(aging_per_minute=0.01)
    assert starved_low > starved_high + 5 * 60 + 10
    assert starved_served < served
