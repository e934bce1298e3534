"""Overload: how many callers reach an agent when far more call than the agents can take.

The reference is FreeSWITCH's own mod_callcenter, measured on a real switch with 18
agents (phones answer after 1 s) and callers who give up after 5 s: as the offered
rate rose from 5 to 20 calls per second it connected 150, 217, 137 and then only 18 of
600 callers -- the queue fills with callers who are about to give up, agents ring for
callers who are gone, and throughput collapses.

The same scenario through our engine: the simulated switch in its own process (18
phones answering after ``--ring`` s; callers arriving evenly at each rate for
``--window`` s, hanging up after ``--patience`` s unless bridged, talking ``--talk`` s
once bridged), the real services (live core, store, routing engine) on an embedded
PostgreSQL. The queue is configured as a site would for such peaks: ``max_length``
(``--max-length``) and ``max_wait`` overflow to a short "all agents are busy" flow, a
callback offer, no wrap-up. Each rate runs on its own and the calls drain before the
next.

Printed per rate: offered, connected (bridged to an agent), abandoned, overflowed,
agent occupancy during the window (ringing or talking), and connected within the
window as a fraction of what the agents can carry in it (``agents * window /
(ring + talk)``) -- the baseline of this run. Target: >= 90 % from 2x to 6x overload.
The reference run's talk time is not known, so its figures are shown for the shape
of the collapse, not as a like-for-like comparison.

Times are simulated seconds; ``--speed`` compresses them (the engine runs at the same
speed through ``CTI_ROUTING_SPEED``). It multiplies the events per second the one
middleware process must take; on a 2-core machine shared with the switch process,
above about 1.5 the middleware falls behind the events and the figures measure that,
not routing, so the default is real time (about three minutes).

Run: ``.venv/bin/python bench/overload.py`` (``--speed 1 --rates 5,10,15,20``).
Results go to stdout and to this script's section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gevent import monkey  # noqa: E402

monkey.patch_all()

import gevent  # noqa: E402

from bench import harness  # noqa: E402
from cti.db import make_psycopg2_cooperative  # noqa: E402

make_psycopg2_cooperative()

PASSWORD = "bench-overload"
DID = "5550188"
#: mod_callcenter on a real switch (the brief's measurement): rate -> (connected, offered).
REFERENCE = {5: (150, 150), 10: (217, 300), 15: (137, 450), 20: (18, 600)}
BUSY = {"reserved", "on_call", "on_hold", "in_consult"}


def switch_child(args: argparse.Namespace) -> None:
    """Prints ``port <n>``; ``phones <n> <ring>``; ``go <rate> <window> <patience> <talk> <tag>``
    places the callers of one rate and prints ``done``; EOF stops."""
    from esl.simulator import CallerBehaviour, FakeSwitch

    switch = FakeSwitch(password=PASSWORD, speed=args.speed, seed=args.seed, vanilla_directory=False)
    harness.announce(switch)
    for words in harness.commands():
        if words[0] == "phones":
            harness.register_phones(switch, int(words[1]), lambda ring=float(words[2]): ring)
        elif words[0] == "go":
            rate, window, patience, talk, tag = float(words[1]), float(words[2]), float(words[3]), float(words[4]), int(words[5])
            behaviour = CallerBehaviour(patience=patience, talk_time=talk)
            for n in range(int(rate * window)):
                switch.place_inbound_call(did=DID, caller_number=f"+1{tag:02d}{n:07d}", behaviour=behaviour)
                switch.engine.core.sleep(1.0 / rate)
            print("done", flush=True)
    switch.stop()


# --- the middleware ------------------------------------------------------------------------


def site(agents: int, max_length: int) -> dict[str, Any]:
    return {
        "queues": [{
            "name": "overload", "strategy": "longest_idle", "ring_timeout": 5, "wrapup": 0, "max_wait": 5,
            "max_length": max_length, "overflow": "flow:busy",
            "callback": {"after": 5, "digit": "1", "prompt": "callback_offer.wav"},
        }],
        "flows": [
            {"name": "overload", "start": "q", "nodes": {"q": {"type": "queue", "queue": "overload"}}},
            {"name": "busy", "start": "sorry", "nodes": {"sorry": {"type": "hangup", "prompt": "all_busy.wav"}}},
        ],
        "dids": [{"number": DID, "flow": "overload"}],
        "agents": harness.agents("ovl", agents, "overload"),
    }


@dataclass
class Tally:
    """Domain events of the run, by interaction and agent (a bus subscriber)."""

    tag_of: dict[str, int] = field(default_factory=dict)
    created_at: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    answered: dict[str, float] = field(default_factory=dict)
    abandoned: set[str] = field(default_factory=set)
    overflowed: set[str] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)
    busy: dict[int, list[tuple[float, bool]]] = field(default_factory=lambda: defaultdict(list))

    def __call__(self, event: Any) -> None:
        iid = event.interaction_id
        if event.type == "agent.state_changed" and event.agent_id is not None:
            self.busy[event.agent_id].append((event.at, event.data.get("state") in BUSY))
        elif event.type == "call.created" and iid:
            number = str(event.data.get("caller_number", ""))
            if len(number) == 11 and number.startswith("+1"):
                tag = int(number[2:4])
                self.tag_of[iid] = tag
                self.created_at[tag].append(event.at)
        elif event.type == "call.answered" and iid:
            self.answered.setdefault(iid, event.at)
        elif event.type == "call.abandoned" and iid:
            self.abandoned.add(iid)
        elif event.type == "call.ended" and iid:
            self.ended.add(iid)
            if any(v.get("outcome") == "overflowed" for v in event.data.get("queue_visits") or []):
                self.overflowed.add(iid)


def occupancy(tally: Tally, agents: list[int], start: float, end: float) -> float:
    busy_time = 0.0
    for agent in agents:
        since, busy = start, False
        for at, now_busy in sorted(tally.busy[agent]):
            if at >= end:
                break
            if busy and at > start:
                busy_time += at - max(since, start)
            since, busy = at, now_busy
        if busy:
            busy_time += end - max(since, start)
    return busy_time / (len(agents) * (end - start))


def run(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    from cti.embedded_pg import EmbeddedPostgres
    from cti.provision import provision
    from cti.services import build_services

    pg = EmbeddedPostgres(workdir)
    url = pg.start()
    switch = harness.Child(__file__, "--switch-child", "--speed", str(args.speed), "--seed", str(args.seed))
    services = build_services(harness.site_settings(workdir / "data", url, PASSWORD, switch.port(),
                                                    CTI_ROUTING_SPEED=str(args.speed)))
    tally = Tally()
    rows = []
    try:
        provision(services.db, site(args.agents, args.max_length))
        switch.ask(f"phones {args.agents} {args.ring}")
        services.bus.subscribe("*", tally)
        services.start()
        assert services.core.switches.wait_connected(30), "no connection to the simulated switch"
        clock = services.routing.clock
        agents = harness.agent_rows(services.db)
        agent_ids = [int(r["id"]) for r in agents]
        harness.log_in(services.core, agents, clock.now())
        for tag, rate in enumerate(args.rates, start=1):
            offered = int(rate * args.window)
            switch.ask(f"go {rate} {args.window} {args.patience} {args.talk} {tag}", "done",
                       timeout=args.window / args.speed + 300)
            deadline = time.monotonic() + (args.patience + args.talk + 30) / args.speed + 30
            while time.monotonic() < deadline:
                mine = [iid for iid, t in tally.tag_of.items() if t == tag]
                if len(mine) >= offered and all(iid in tally.ended for iid in mine):
                    break
                gevent.sleep(0.2)
            rows.append(step_row(tally, tag, rate, offered, agent_ids, args))
        return rows
    finally:
        services.stop()
        switch.close()
        pg.close()


def step_row(tally: Tally, tag: int, rate: float, offered: int, agents: list[int], args: argparse.Namespace) -> dict[str, Any]:
    mine = {iid for iid, t in tally.tag_of.items() if t == tag}
    start = min(tally.created_at[tag])
    end = start + args.window
    cycle = args.ring + args.talk
    carry = min(offered, len(agents) * args.window / cycle)
    in_window = sum(1 for iid in mine if iid in tally.answered and tally.answered[iid] <= end)
    return {
        "rate": rate, "overload": rate * cycle / len(agents), "offered": offered, "seen": len(mine),
        "connected": sum(1 for iid in mine if iid in tally.answered), "in_window": in_window,
        "abandoned": len(mine & tally.abandoned), "overflowed": len(mine & tally.overflowed),
        "occupancy": occupancy(tally, agents, start, end), "carry": carry, "fraction": in_window / carry,
    }


def report(args: argparse.Namespace, rows: list[dict[str, Any]], seconds: float) -> str:
    lines = [
        f"`bench/overload.py --agents {args.agents} --ring {args.ring} --patience {args.patience} --talk {args.talk} "
        f"--window {args.window} --max-length {args.max_length} --speed {args.speed} --seed {args.seed}`, "
        f"{harness.machine()}; switch and middleware in two processes on a machine shared with other work "
        f"(load average at the end {harness.load_average()}); {seconds:.0f} s.",
        "",
        "| rate /s | overload | offered | connected | connected in window | abandoned | overflowed | occupancy | "
        "can carry | connected / can carry | mod_callcenter connected |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ref = REFERENCE.get(int(r["rate"]))
        lines.append(
            f"| {r['rate']:g} | {r['overload']:.1f}x | {r['offered']} | {r['connected']} | {r['in_window']} | "
            f"{r['abandoned']} | {r['overflowed']} | {r['occupancy']:.0%} | {r['carry']:.0f} | {r['fraction']:.0%} | "
            f"{f'{ref[0]} of {ref[1]}' if ref else '-'} |"
        )
    target_rows = [r for r in rows if 2.0 <= r["overload"] <= 6.0]
    met = bool(target_rows) and all(r["fraction"] >= 0.9 for r in target_rows)
    lines += [
        "",
        f"Target (connected >= 90 % of what the agents can carry, from 2x to 6x overload): **{'MET' if met else 'NOT MET'}**.",
        "Overload = offered rate x (ring + talk) / agents. Occupancy = share of agent time ringing or talking "
        "during the window. Calls answered after the window (the queue draining) count as connected but not in "
        "the fraction.",
        f"The queue: longest idle, ring timeout 5 s, no wrap-up, max_length {args.max_length} and max_wait 5 s "
        "overflowing to a short \"all agents are busy\" flow, a callback offer after 5 s. Keeping the line short "
        "is what keeps the agents talking: a caller who reaches an agent has not yet given up, so no ring is "
        "wasted on a caller who left.",
        "The reference run's talk time is not known (its 217 connected at 10/s is more than 18 agents can carry "
        f"with a {args.talk:g} s talk time), so its column shows the shape of the collapse, not a like-for-like "
        "comparison.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=18)
    parser.add_argument("--ring", type=float, default=1.0)
    parser.add_argument("--patience", type=float, default=5.0)
    parser.add_argument("--talk", type=float, default=4.0)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")], default=[5.0, 10.0, 15.0, 20.0])
    parser.add_argument("--max-length", type=int, default=10)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    parser.add_argument("--switch-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.switch_child:
        switch_child(args)
        return
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-overload-") as folder:
        rows = run(args, Path(folder))
    text = report(args, rows, time.monotonic() - started)
    print(text)
    if not args.no_write:
        harness.write_section("overload", "Overload (bench/overload.py)", text)


if __name__ == "__main__":
    main()
