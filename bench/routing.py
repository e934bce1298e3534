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
same run, and records them in this script's section of bench/RESULTS.md.

Then the same decision through the whole routing engine (``routing/engine.py``): the
real services (live core, store, engine) on an embedded PostgreSQL, connected over TCP
to the simulated switch in a process of its own, ``--engine-agents`` agents on one
queue and callers arriving at 1.2 times what they can take, so a caller is always
waiting when an agent frees up. Measured per offer: from the moment
``agent.state_changed`` (available) is published on the bus while a caller waits, to
the moment the switch process has read the ``bgapi originate`` of that agent's leg
(``time.monotonic()`` in both processes: one clock for the machine). Baseline in the
same run, on the same link and under the same load: the round trip of ``api status``.
Target: p99 well under 20 ms.

Run: ``.venv/bin/python bench/routing.py [--events N] [--seed S] [--engine-seconds S]``
(``--engine-seconds 0`` skips the engine part).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gevent import monkey  # noqa: E402

monkey.patch_all()

import gevent  # noqa: E402
import gevent.event  # noqa: E402

from bench import harness  # noqa: E402
from cti.db import make_psycopg2_cooperative  # noqa: E402
from routing.acd import Router  # noqa: E402
from routing.agent_index import Agent  # noqa: E402
from routing.decisions import Assignment  # noqa: E402
from routing.queues import QueueRules, parse_queue_rules  # noqa: E402
from routing.waiting import WaitingCall  # noqa: E402
from tests.routing.naive import NaiveRouter  # noqa: E402

make_psycopg2_cooperative()

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


def summarize(name: str, pair: Pair) -> list[str]:
    ours, theirs = pair.times["indexed"], pair.times["naive"]
    rows = []
    for label, values in (("indexed", ours), ("naive full scan", theirs)):
        rows.append(
            f"| {name} | {label} | {len(values)} | {statistics.median(values):.3f} | "
            f"{harness.percentile(values, 0.99):.3f} | {max(values):.3f} |"
        )
    ratio_p50 = statistics.median(theirs) / statistics.median(ours)
    ratio_p99 = harness.percentile(theirs, 0.99) / harness.percentile(ours, 0.99)
    rows.append(f"| {name} | naive / indexed | | {ratio_p50:.1f}x | {ratio_p99:.1f}x | |")
    return rows


# -- the whole engine ---------------------------------------------------------------------

ENGINE_PASSWORD = "bench-routing"
ENGINE_DID = "5550177"
ENGINE_TALK = 4.0
ENGINE_RING = 0.5
_AGENT_VAR = re.compile(r"cti_agent_id=(\d+)")


def switch_child(agents: int, seed: int) -> None:
    """The switch process. Prints ``port <n>``; on ``go <rate> <seconds>`` places callers
    at that rate and prints ``done``; prints ``originate <agent id> <monotonic>`` each
    time it reads an agent leg's originate; stops at EOF."""
    from esl.simulator import CallerBehaviour, FakeSwitch
    from esl.simulator import server as sim_server

    original = sim_server._COMMANDS["bgapi"]

    def spy(conn: Any, rest: str, command: Any) -> None:
        found = _AGENT_VAR.search(rest) if rest.startswith("originate") else None
        if found is not None:
            print(f"originate {found.group(1)} {time.monotonic()}", flush=True)
        original(conn, rest, command)

    sim_server._COMMANDS["bgapi"] = spy
    switch = FakeSwitch(password=ENGINE_PASSWORD, seed=seed, vanilla_directory=False)
    for n in range(agents):
        switch.register_phone(str(harness.FIRST_EXTENSION + n), answer_after=ENGINE_RING)
    harness.announce(switch)
    calls = 0
    for _go, rate, seconds in harness.commands():
        for _ in range(int(float(rate) * float(seconds))):
            calls += 1
            switch.place_inbound_call(did=ENGINE_DID, caller_number=f"+1555{calls:07d}",
                                      behaviour=CallerBehaviour(talk_time=ENGINE_TALK))
            gevent.sleep(1.0 / float(rate))
        print("done", flush=True)
    switch.stop()


def _engine_site(agents: int) -> dict[str, Any]:
    return {
        "queues": [{"name": "bench", "wrapup": 0, "ring_timeout": 20}],
        "flows": [{"name": "bench", "start": "q", "nodes": {"q": {"type": "queue", "queue": "bench"}}}],
        "dids": [{"number": ENGINE_DID, "flow": "bench"}],
        "agents": harness.agents("bench", agents, "bench"),
    }


def engine_latency(agents: int, seconds: float, seed: int) -> dict[str, Any]:
    """Run the engine under a steady backlog (see the module docstring)."""
    from cti.embedded_pg import EmbeddedPostgres
    from cti.provision import provision
    from cti.services import build_services

    freed: dict[int, float] = {}
    offers: list[float] = []
    rtt: list[float] = []
    child = harness.Child(__file__, "--switch-child", "--engine-agents", str(agents), "--seed", str(seed))
    port = child.port()
    done = gevent.event.Event()

    def read_child() -> None:
        assert child.proc.stdout is not None
        for line in child.proc.stdout:
            words = line.split()
            if words[0] == "originate":
                started = freed.pop(int(words[1]), None)
                if started is not None:
                    offers.append(float(words[2]) - started)
            elif words[0] == "done":
                done.set()

    def on_state(event: Any) -> None:
        # Only agents who free up while a caller waits: their offer is the agent-side decision.
        if event.data.get("state") == "available" and event.agent_id and services.routing.router.waiting_calls():
            freed[event.agent_id] = time.monotonic()

    workdir = Path(tempfile.mkdtemp(prefix="bench-routing-"))
    pg = EmbeddedPostgres(workdir)
    url = pg.start()
    services = build_services(harness.site_settings(workdir / "data", url, ENGINE_PASSWORD, port))
    try:
        provision(services.db, _engine_site(agents))
        services.bus.subscribe("agent.state_changed", on_state)
        services.start()
        assert services.core.switches.wait_connected(30), "no connection to the simulated switch"
        reader = gevent.spawn(read_child)
        harness.log_in(services.core, harness.agent_rows(services.db), time.time())
        capacity = agents / (ENGINE_TALK + ENGINE_RING)
        child.send(f"go {capacity * 1.2} {seconds}")
        client = services.core.switches["fs1"]
        while not done.is_set():
            started = time.monotonic()
            client.api("status")
            rtt.append(time.monotonic() - started)
            gevent.sleep(0.05)
        reader.kill()
        return {"offers": offers, "rtt": rtt, "engine": services.routing.latency.summary_ms(),
                "events": services.core.stats.events, "calls": int(capacity * 1.2 * seconds),
                "load": harness.load_average()}
    finally:
        services.stop()
        child.close()
        pg.close()


def _ms(values: list[float], q: float) -> float:
    return round(harness.percentile(values, q) * 1000, 3) if values else float("nan")


def engine_rows(agents: int, seconds: float, seed: int) -> list[str]:
    result = engine_latency(agents, seconds, seed)
    offers, rtt = result["offers"], result["rtt"]
    ratio = harness.percentile(offers, 0.99) / harness.percentile(rtt, 0.99) if offers and rtt else float("nan")
    target = "MET" if offers and harness.percentile(offers, 0.99) < 0.020 else "NOT MET"
    return [
        "",
        f"Through the engine: {agents} agents on one queue, callers arriving at 1.2x what they can take for "
        f"{seconds:.0f} s ({result['calls']} calls, {result['events']} channel events); the switch in its own "
        f"process; load average at the end {result['load']} (cores shared with other work).",
        "",
        "| measurement | samples | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
        f"| agent.state_changed (available) published -> its originate read by the switch | {len(offers)} | "
        f"{_ms(offers, 0.5)} | {_ms(offers, 0.99)} | {_ms(offers, 1.0)} |",
        f"| `api status` round trip on the same link (baseline) | {len(rtt)} | {_ms(rtt, 0.5)} | {_ms(rtt, 0.99)} | "
        f"{_ms(rtt, 1.0)} |",
        f"| engine's own count: available -> bgapi accepted | {result['engine']['count']} | "
        f"{result['engine']['p50_ms']} | {result['engine']['p99_ms']} | {result['engine']['max_ms']} |",
        "",
        f"p99 free -> originate / p99 baseline = {ratio:.2f}x. Target (p99 under 20 ms): **{target}**.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine-agents", type=int, default=50)
    parser.add_argument("--engine-seconds", type=float, default=20.0)
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    parser.add_argument("--switch-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.switch_child:
        switch_child(args.engine_agents, args.seed)
        return
    rng = random.Random(args.seed)
    rules, agents = build_site(rng)
    rows = ["| workload | router | decisions | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|---|"]
    rows += summarize("backlog (500 waiting, agents freeing)", backlog(rules, agents, args.events, rng))
    rows += summarize("idle agents (calls arriving)", idle_agents(rules, agents, args.events, rng))
    header = [
        f"`bench/routing.py --events {args.events} --seed {args.seed}`, {harness.machine()}, "
        f"{AGENTS} agents in 3 of {QUEUES} queues each, {WAITING} waiting calls.",
        "Both routers get the same events and must return identical decisions; each decision is timed alone.",
        "",
    ]
    if args.engine_seconds > 0:
        rows += engine_rows(args.engine_agents, args.engine_seconds, args.seed)
    print("\n".join(header + rows))
    if not args.no_write:
        harness.write_section("routing", "Routing (bench/routing.py)", "\n".join(header + rows))


if __name__ == "__main__":
    main()
