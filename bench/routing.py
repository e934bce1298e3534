"""Assignment latency of the ACD decider against a naive full-scan baseline.

1,000 agents (each in 3 of 20 queues, with skill levels), 500 calls kept waiting
across the queues, 4 strategies and skill requirements with relaxation (ring_all is
left out: it rings every eligible free agent at once, so its cost is the number of
agents rung, by design). Two workloads, each replayed through the indexed :class:`routing.acd.Router` and the
full-scan ``tests.routing.naive.NaiveRouter`` in lockstep (their decisions are
asserted identical, so both do the same work):

- ``backlog``: every agent busy and 500 calls waiting; an agent frees up, takes a
  call, a new call arrives (keeping 500 waiting). Decisions: on_agent_free and
  on_call_queued.
- ``idle agents``: most agents free, few calls; calls arrive and are placed at once,
  agents come back. Decisions: on_call_queued and on_agent_free.

Prints p50/p99/max per decision for both and the ratio naive/indexed measured in the
same run, and records them in bench/RESULTS.md (section "routing").

Run: ``.venv/bin/python bench/routing.py [--events N] [--seed S]``
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from routing.acd import Router  # noqa: E402
from routing.agent_index import Agent  # noqa: E402
from routing.decisions import Assignment  # noqa: E402
from routing.queues import QueueRules, parse_queue_rules  # noqa: E402
from routing.waiting import WaitingCall  # noqa: E402
from tests.routing.naive import NaiveRouter  # noqa: E402

QUEUES = 20
AGENTS = 1000
WAITING = 500
SKILLS = [f"skill{i}" for i in range(10)]
STRATEGIES = ["longest_idle", "least_talk_time", "round_robin", "skills_best_match"]


def build_site(rng: random.Random) -> tuple[dict[str, QueueRules], list[Agent]]:
    rules = {}
    for q in range(QUEUES):
        name = f"q{q:02d}"
        skill = SKILLS[q % len(SKILLS)]
        rules[name] = parse_queue_rules(
            name,
            {
                "strategy": STRATEGIES[q % len(STRATEGIES)],
                "skills": {skill: {"min_level": 5, "relax": [{"after": 60, "min_level": 3}]}},
                "priority": rng.randint(0, 3),
                "aging_per_minute": 1.0,
            },
        )
    agents = []
    names = list(rules)
    for agent_id in range(1, AGENTS + 1):
        queues = rng.sample(names, 3)
        skills = {rules[q].skills[0].skill: rng.randint(3, 10) for q in queues}
        skills |= {s: rng.randint(1, 10) for s in rng.sample(SKILLS, 2)}
        agents.append(Agent(agent_id, str(1000 + agent_id), skills, {q: tier for tier, q in enumerate(queues, 1)}))
    return rules, agents


class Pair:
    """Both routers, fed the same events; times each decision of each."""

    def __init__(self, rules: dict[str, QueueRules], agents: list[Agent]) -> None:
        self.indexed = Router(rules)
        self.naive = NaiveRouter(rules)
        for agent in agents:
            self.indexed.add_agent(agent)
            self.naive.add_agent(agent)
        self.times: dict[str, list[float]] = {"indexed": [], "naive": []}

    def untimed(self, method: str, *args: Any) -> Any:
        ours = getattr(self.indexed, method)(*args)
        assert ours == getattr(self.naive, method)(*args), (method, args)
        return ours

    def decide(self, method: str, *args: Any) -> Any:
        results = []
        for name, router in (("indexed", self.indexed), ("naive", self.naive)):
            call: Callable[..., Any] = getattr(router, method)
            start = time.perf_counter_ns()
            results.append(call(*args))
            self.times[name].append((time.perf_counter_ns() - start) / 1e6)
        assert results[0] == results[1], (method, args, results)
        return results[0]


def new_call(rng: random.Random, names: list[str], n: int, now: float) -> WaitingCall:
    return WaitingCall(f"c{n}", rng.choice(names), now, priority=rng.choice([None, None, 0, 2, 5]))


def answer(pair: Pair, decision: Assignment, now: float) -> int:
    chosen = decision.agent_ids[0]
    pair.untimed("on_offer_answered", decision.call_id, chosen, now)
    return chosen


def backlog(rules: dict[str, QueueRules], agents: list[Agent], events: int, rng: random.Random) -> Pair:
    pair = Pair(rules, agents)
    names = list(rules)
    now = 0.0
    for agent in agents:
        pair.untimed("on_agent_busy", agent.id)
    for n in range(WAITING):
        now += 0.05
        pair.untimed("on_call_queued", new_call(rng, names, n, now), now)
    busy = [a.id for a in agents]
    made = WAITING
    for _ in range(events):
        now += 0.2
        agent_id = busy.pop(rng.randrange(len(busy)))
        decision = pair.decide("on_agent_free", agent_id, now, rng.uniform(0, 3600))
        if isinstance(decision, Assignment):
            busy.append(answer(pair, decision, now))
            made += 1
            decision = pair.decide("on_call_queued", new_call(rng, names, made, now), now)
            if isinstance(decision, Assignment):
                busy.append(answer(pair, decision, now))
        else:
            pair.untimed("on_agent_busy", agent_id)
            busy.append(agent_id)
    return pair


def idle_agents(rules: dict[str, QueueRules], agents: list[Agent], events: int, rng: random.Random) -> Pair:
    pair = Pair(rules, agents)
    names = list(rules)
    now = 0.0
    for agent in agents:
        now += 0.01
        pair.untimed("on_agent_free", agent.id, now, rng.uniform(0, 3600))
    busy: list[int] = []
    for n in range(events):
        now += 0.2
        decision = pair.decide("on_call_queued", new_call(rng, names, n, now), now)
        if isinstance(decision, Assignment):
            busy.append(answer(pair, decision, now))
        if len(busy) > 100:
            agent_id = busy.pop(rng.randrange(len(busy)))
            decision = pair.decide("on_agent_free", agent_id, now, rng.uniform(0, 3600))
            if isinstance(decision, Assignment):
                busy.append(answer(pair, decision, now))
    return pair


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarize(name: str, pair: Pair) -> list[str]:
    ours, theirs = pair.times["indexed"], pair.times["naive"]
    rows = []
    for label, values in (("indexed", ours), ("naive full scan", theirs)):
        rows.append(
            f"| {name} | {label} | {len(values)} | {statistics.median(values):.3f} | "
            f"{percentile(values, 0.99):.3f} | {max(values):.3f} |"
        )
    ratio_p50 = statistics.median(theirs) / statistics.median(ours)
    ratio_p99 = percentile(theirs, 0.99) / percentile(ours, 0.99)
    rows.append(f"| {name} | naive / indexed | | {ratio_p50:.1f}x | {ratio_p99:.1f}x | |")
    return rows


def write_results(lines: list[str]) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\nEach script replaces its own section.\n"
    start = text.find("\n## routing\n")
    if start != -1:
        end = text.find("\n## ", start + 1)
        text = text[:start] + (text[end:] if end != -1 else "\n")
    section = "\n".join(["", "## routing", "", *lines, ""])
    path.write_text(text.rstrip("\n") + "\n" + section, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rules, agents = build_site(rng)
    rows = ["| workload | router | decisions | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|---|"]
    rows += summarize("backlog (500 waiting, agents freeing)", backlog(rules, agents, args.events, rng))
    rows += summarize("idle agents (calls arriving)", idle_agents(rules, agents, args.events, rng))
    header = [
        f"`bench/routing.py --events {args.events} --seed {args.seed}`, {datetime.now(UTC):%Y-%m-%d}, "
        f"Python {platform.python_version()}, {AGENTS} agents in 3 of {QUEUES} queues each, {WAITING} waiting calls.",
        "Both routers get the same events and must return identical decisions; each decision is timed alone.",
        "",
    ]
    print("\n".join(header + rows))
    if not args.no_write:
        write_results(header + rows)


if __name__ == "__main__":
    main()
