"""Screen-pop push latency: from the ESL event after which a call is offered to the
Socket.IO message received by the agent's own client, with 500 agents connected.

Three processes on this machine, as in production the browsers are elsewhere:

* the simulated switch (its own process): one phone per agent; callers arrive at
  ``--rate`` per second on a DID whose flow queues the call at once, talk for a few
  seconds once an agent answers, then hang up (so agents keep freeing up);
* the middleware (this process): the services exactly as ``cti serve`` builds them
  (live core, store writer, routing engine ...) and the web app (Flask-SocketIO under
  gevent's WSGI server), on an embedded PostgreSQL;
* the clients (their own process): ``--agents`` python-socketio clients, one per agent,
  each signed in with the agent's own session, each recording when ``call.offered``
  for its agent arrives.

Measured, per call: from the moment the middleware read the caller's ``CHANNEL_PARK``
(the event on which routing queues the call and, with an agent free, offers it) to the
moment that agent's client received ``call.offered``. Both stamps are
``time.monotonic()``, one clock for every process of the machine. Baseline in the same
run, under the same load: a bare Socket.IO round trip (each client in turn sends
``ping`` and waits for the acknowledgement). Target: p99 under 100 ms.

Run: ``.venv/bin/python bench/screen_pop.py`` (``--agents 500 --rate 20 --duration 30``).
Results go to stdout and to this script's section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gevent import monkey  # noqa: E402

monkey.patch_all()

import gevent  # noqa: E402
import gevent.pool  # noqa: E402

from bench import harness  # noqa: E402
from cti.db import make_psycopg2_cooperative  # noqa: E402

make_psycopg2_cooperative()

PASSWORD = "bench-screen-pop"
DID = "5550199"


def progress(message: str) -> None:
    print(f"[screen_pop {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the switch process --------------------------------------------------------------------


def switch_child(args: argparse.Namespace) -> None:
    """Prints ``port <n>``; ``phones <n>`` registers phones; ``go`` places the callers and
    prints ``done`` once the last has arrived; EOF stops."""
    from esl.simulator import CallerBehaviour, FakeSwitch

    switch = FakeSwitch(password=PASSWORD, seed=args.seed, vanilla_directory=False)
    harness.announce(switch)
    rng = random.Random(args.seed)
    for words in harness.commands():
        if words[0] == "phones":
            harness.register_phones(switch, int(words[1]), lambda: rng.uniform(0.3, 1.0))
        elif words[0] == "go":
            calls = int(args.rate * args.duration)
            for n in range(calls):
                gevent.sleep(rng.expovariate(args.rate))
                switch.place_inbound_call(did=DID, caller_number=f"+8613{n:09d}",
                                          behaviour=CallerBehaviour(talk_time=rng.uniform(3.0, 6.0), patience=None))
            print("done", flush=True)
    switch.stop()


# --- the clients process -------------------------------------------------------------------


def clients_child(args: argparse.Namespace) -> None:
    """Reads ``<url>`` then one ``<agent id> <session cookie>`` per line and an empty
    line; connects every client, prints ``ready``; on EOF prints one JSON line:
    ``{"offered": [[interaction, agent, monotonic], ...], "rtt": [seconds, ...]}``."""
    import socketio

    url = sys.stdin.readline().strip()
    sessions = []
    for line in iter(sys.stdin.readline, "\n"):
        agent, cookie = line.split()
        sessions.append((int(agent), cookie))
    offered: list[tuple[str, int, float]] = []
    rtt: list[float] = []
    clients: list[Any] = []

    def connect(agent_id: int, cookie: str) -> None:
        client = socketio.Client(reconnection=False)

        @client.on("call.offered")
        def _offered(event: dict[str, Any]) -> None:
            offered.append((event["interaction_id"], agent_id, time.monotonic()))

        client.connect(url, headers={"Cookie": f"session={cookie}"}, transports=["websocket"], wait_timeout=30)
        clients.append(client)

    pool = gevent.pool.Pool(20)
    for agent_id, cookie in sessions:
        pool.spawn(connect, agent_id, cookie)
    pool.join()
    print(f"ready {len(clients)}", flush=True)

    def ping_forever() -> None:
        while True:
            for client in clients:
                started = time.monotonic()
                try:
                    client.call("ping", {}, timeout=10)
                    rtt.append(time.monotonic() - started)
                except Exception:  # noqa: BLE001 - a lost ping is left out of the baseline, not fatal
                    pass
                gevent.sleep(0.01)

    pinger = gevent.spawn(ping_forever)
    gevent.get_hub().threadpool.apply(sys.stdin.read)
    pinger.kill()
    print(json.dumps({"offered": offered, "rtt": rtt}), flush=True)
    os._exit(0)   # the connections simply drop; closing 500 of them one by one proves nothing


# --- the middleware ------------------------------------------------------------------------


def provision_site(db: Any, agents: int) -> list[dict[str, Any]]:
    """The agent rows of ``agents`` agents in one queue answered by a one-node flow;
    nobody signs in with a password (sessions are minted below)."""
    from cti.provision import provision

    provision(db, {
        "queues": [{"name": "bench", "wrapup": 0, "ring_timeout": 30}],
        "flows": [{"name": "bench", "start": "queue", "nodes": {"queue": {"type": "queue", "queue": "bench"}}}],
        "dids": [{"number": DID, "flow": "bench"}],
        "agents": harness.agents("pop", agents, "bench"),
    })
    return harness.agent_rows(db)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from gevent.pywsgi import WSGIServer

    from cti.embedded_pg import EmbeddedPostgres
    from cti.services import build_services
    from webapp import create_app

    progress("starting PostgreSQL and the switch")
    pg = EmbeddedPostgres(workdir)
    url = pg.start()
    switch = harness.Child(__file__, "--switch-child", "--seed", str(args.seed), "--rate", str(args.rate),
                           "--duration", str(args.duration))
    services = build_services(harness.site_settings(workdir / "data", url, PASSWORD, switch.port()))
    clients: harness.Child | None = None
    try:
        progress("provisioning")
        agents = provision_site(services.db, args.agents)
        switch.ask(f"phones {args.agents}")
        services.start()
        assert services.core.switches.wait_connected(30), "no connection to the simulator"
        app, _socketio = create_app(services)
        server = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
        server.start()
        parked: dict[str, float] = {}
        published: dict[str, float] = {}
        services.core.add_channel_listener(
            lambda e: parked.setdefault(e.uuid, e.received_at) if e.name == "CHANNEL_PARK" and e.received_at else None)
        services.bus.subscribe("call.offered", lambda e: published.setdefault(e.interaction_id, time.monotonic()))
        serializer = app.session_interface.get_signing_serializer(app)
        progress(f"connecting {args.agents} clients")
        clients = harness.Child(__file__, "--clients-child")
        clients.send(f"http://127.0.0.1:{server.server_port}")
        for agent in agents:
            clients.send(f"{agent['id']} {serializer.dumps({'user_id': agent['user_id'], '_permanent': True})}")
        clients.send("")
        connected = int(clients.line().split()[1])
        progress(f"{connected} clients connected; logging the agents in")
        harness.log_in(services.core, agents, time.time())
        gevent.sleep(2.0)
        started = time.monotonic()
        progress("calls arriving")
        switch.ask("go", "done", timeout=args.duration * 10 + 60)
        progress("last call placed; draining")
        gevent.sleep(8.0)   # the last offers, answers and hang-ups
        seconds = time.monotonic() - started
        clients.proc.stdin.close()  # type: ignore[union-attr]
        measured = json.loads(clients.line())
        progress(f"{len(measured['offered'])} offers received by the clients")
        clients.proc.wait(timeout=60)
        clients = None
        server.stop()
        engine = getattr(services, "routing", None)
        return {
            "connected": connected, "seconds": seconds, "parked": parked, "published": published, "measured": measured,
            "dropped": sum(s.events_dropped for s in services.core.switches.stats().values()),
            "routing": engine.snapshot_stats() if engine is not None else {},
        }
    finally:
        if clients is not None:
            clients.close()
        services.stop()
        switch.close()
        pg.close()


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Per call, its first offer: park -> received, split at the bus publish into the
    routing part and the push part (publish -> received by the client)."""
    parked, published, measured = result["parked"], result["published"], result["measured"]
    first: dict[str, float] = {}
    for iid, _agent, received in measured["offered"]:
        if iid in parked and iid in published and iid not in first:
            first[iid] = received
    return {
        "offer": harness.percentiles([received - parked[iid] for iid, received in first.items()]),
        "routing": harness.percentiles([published[iid] - parked[iid] for iid in first]),
        "push": harness.percentiles([received - published[iid] for iid, received in first.items()]),
        "calls_offered": len(first), "rtt": harness.percentiles(measured["rtt"]),
    }


def report(args: argparse.Namespace, result: dict[str, Any], summary: dict[str, Any]) -> str:
    offer, rtt = summary["offer"], summary["rtt"]
    ratio = offer["p99_ms"] / rtt["p99_ms"] if rtt["p99_ms"] else float("nan")
    push_ratio = summary["push"]["p99_ms"] / rtt["p99_ms"] if rtt["p99_ms"] else float("nan")
    target = "MET" if offer["p99_ms"] < 100.0 else "NOT MET"
    push_target = "MET" if summary["push"]["p99_ms"] < 100.0 else "NOT MET"
    return "\n".join([
        f"`bench/screen_pop.py --agents {args.agents} --rate {args.rate} --duration {args.duration} --seed {args.seed}`, "
        f"{harness.machine()} shared by the switch, the middleware and the clients (three processes); "
        "embedded PostgreSQL.",
        "",
        f"{result['connected']} agent clients connected over WebSocket; {summary['calls_offered']} calls offered "
        f"in {result['seconds']:.0f} s; ESL events dropped: {result['dropped']}.",
        "",
        "| measurement | samples | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
        f"| caller's CHANNEL_PARK read -> `call.offered` received by the agent's client | {offer['n']} | "
        f"{offer['p50_ms']} | {offer['p95_ms']} | {offer['p99_ms']} | {offer['max_ms']} |",
        *(f"| &nbsp;&nbsp;of which {label} | {part['n']} | {part['p50_ms']} | {part['p95_ms']} | {part['p99_ms']} | "
          f"{part['max_ms']} |" for label, part in (("routing: park read -> `call.offered` published", summary["routing"]),
                                                     ("push: published -> received", summary["push"]))),
        f"| bare Socket.IO round trip, same run (baseline) | {rtt['n']} | {rtt['p50_ms']} | {rtt['p95_ms']} | "
        f"{rtt['p99_ms']} | {rtt['max_ms']} |",
        "",
        f"p99 park -> received / p99 round trip: **{ratio:.2f}x**; p99 push alone / p99 round trip: "
        f"**{push_ratio:.2f}x**. Target p99 < 100 ms: whole path **{target}**, push alone **{push_target}** "
        f"(load average at the end: {harness.load_average()}; the machine's 2 cores are shared with other work, so compare the "
        "ratios, not the absolutes).",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0, help="calls arriving per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of arrivals")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--switch-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clients-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.switch_child:
        switch_child(args)
        return 0
    if args.clients_child:
        clients_child(args)
        return 0
    harness.quiet_logging()
    result = run(args, Path(tempfile.mkdtemp(prefix="bench-screen-pop-")))
    summary = summarise(result)
    body = report(args, result, summary)
    print(body)
    if not args.no_write:
        harness.write_section("screen_pop", "Screen-pop push latency (bench/screen_pop.py)", body)
    return 0 if summary["offer"]["n"] and result["dropped"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
