"""``cti simulate``: the whole middleware against a simulated switch, under load and
faults, ending with one JSON summary that says whether anything was lost.

What a run does (:func:`run_simulation`):

1. A PostgreSQL: the embedded one in a temporary folder, or ``CTI_DATABASE_URL``.
2. A :class:`~esl.simulator.FakeSwitch` with one phone per agent (they answer after
   0.5-3 s) and a generated site: N agents over 1-2 queues, each queue reached by its
   own DID through a one-node flow that queues the call.
3. The real services (:func:`cti.services.build_services`: store writer, live core,
   routing engine ...). ``router="direct"`` swaps the routing engine for
   :class:`cti.direct_router.DirectRouter` (plain first-come first-served offers), to
   tell a routing problem from one of the core, the client or the store. Every agent
   logs in, ready.
4. Poisson callers (:class:`esl.simulator.traffic.CallerGenerator`) for ``duration``;
   meanwhile the faults asked for: the switch drops every ESL connection every
   ``kill_esl_every`` seconds, the embedded PostgreSQL stops at ``restart_db_at`` and
   starts again ``db_down`` seconds later.
5. Drain: callers stop, the run waits for every call to end and every agent to
   finish wrap-up, and for the store to write everything.
6. Checks, then the summary (see :func:`run_simulation`).

Times in the options are simulated seconds (the switch's ``speed`` compresses them),
so ``duration=600, speed=10`` takes about a minute. The core, the routing engine
(``CTI_ROUTING_SPEED``) and the direct router stamp what they do with the switch's
clock, so the records of a sped-up run stay coherent. Wrap-up (``wrapup``, off by
default) is in real seconds: the core's wrap-up timers do not follow the speed factor.

With ``database_url`` set, the generated site (users ``sim*``, queues ``sim_a`` and
``sim_b``, DIDs 5550100-5550101) is provisioned into that database: point it at a
scratch database, never at a production site.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import gevent

from cti.bus import DomainEvent
from cti.config import load_settings
from cti.embedded_pg import EmbeddedPostgres
from cti.provision import provision
from cti.services import Services, build_services
from cti.users import hash_password
from esl.simulator import FakeSwitch
from esl.simulator.traffic import CallerGenerator, register_agent_phones

log = logging.getLogger(__name__)

ESL_PASSWORD = "simulate-secret"
FIRST_EXTENSION = 7000
DIDS = ("5550100", "5550101")
_BUSY = frozenset({"reserved", "on_call", "on_hold", "in_consult"})


class SimulationError(ValueError):
    """Options that cannot run; the message says what to change."""


@dataclass(frozen=True)
class SimulationOptions:
    """What to simulate; times are simulated seconds (see the module docstring)."""

    agents: int = 20
    rate: float = 0.2              # callers per simulated second
    duration: float = 120.0        # seconds of arrivals
    speed: float = 10.0
    talk: float = 60.0             # mean talk time (uniform over half to 1.5 times it)
    patience: float = 60.0         # mean patience of a waiting caller (same spread)
    kill_esl_every: float | None = None
    restart_db_at: float | None = None
    db_down: float = 2.0           # real seconds the database stays stopped
    wrapup: int = 0                # queues' after-call work, real seconds
    seed: int | None = 1
    router: str = "engine"         # engine: the routing engine; direct: cti.direct_router
    database_url: str | None = None
    drain_timeout: float = 120.0   # real seconds to wait for calls to end

    def check(self) -> None:
        """Raises SimulationError naming the option to change."""
        problems = []
        if not 1 <= self.agents <= 5000:
            problems.append(f"--agents must be 1-5000, got {self.agents}")
        for name in ("rate", "duration", "speed", "talk", "patience"):
            if getattr(self, name) <= 0:
                problems.append(f"--{name} must be positive, got {getattr(self, name)}")
        if self.kill_esl_every is not None and self.kill_esl_every <= 0:
            problems.append(f"--kill-esl-every must be positive, got {self.kill_esl_every}")
        if self.restart_db_at is not None:
            if not 0 <= self.restart_db_at < self.duration:
                problems.append(f"--restart-db-at must be within the run (0 to {self.duration}), got {self.restart_db_at}")
            if self.database_url:
                problems.append("--restart-db-at needs the embedded PostgreSQL: unset CTI_DATABASE_URL")
        if self.router not in ("engine", "direct"):
            problems.append(f"--router must be engine or direct, got {self.router!r}")
        if self.wrapup < 0 or self.db_down < 0:
            problems.append("--wrapup and --db-down must not be negative")
        if problems:
            raise SimulationError("; ".join(problems))


def options_from(values: SimulationOptions | Mapping[str, Any]) -> SimulationOptions:
    """Options from a mapping (the CLI's keyword arguments); unknown keys are refused."""
    if isinstance(values, SimulationOptions):
        return values
    known = {f.name for f in fields(SimulationOptions)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SimulationError(f"unknown simulation option(s): {', '.join(unknown)}")
    return SimulationOptions(**{k: v for k, v in values.items() if v is not None})


def generated_site(opts: SimulationOptions, password_hash: str) -> dict[str, Any]:
    """N agents (users ``sim0000``...; nobody signs in as them) in one queue per DID,
    two queues when there are two or more agents."""
    queues = ["sim_a", "sim_b"] if opts.agents >= 2 else ["sim_a"]
    return {
        "queues": [{"name": q, "wrapup": opts.wrapup, "ring_timeout": 20} for q in queues],
        "flows": [{"name": f"flow_{q}", "start": "queue", "nodes": {"queue": {"type": "queue", "queue": q}}}
                  for q in queues],
        "dids": [{"number": did, "flow": f"flow_{q}"} for did, q in zip(DIDS, queues, strict=False)],
        "agents": [
            {"username": f"sim{n:04d}", "password_hash": password_hash, "code": str(FIRST_EXTENSION + n),
             "extension": str(FIRST_EXTENSION + n), "queues": [queues[n % len(queues)]]}
            for n in range(opts.agents)
        ],
    }


@dataclass
class Tally:
    """What the bus published, by interaction (a bus subscriber: constant work)."""

    created: set[str] = field(default_factory=set)
    offered: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)
    abandoned: set[str] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)
    outcomes: Counter[str] = field(default_factory=Counter)
    domain_events: int = 0

    def __call__(self, event: DomainEvent) -> None:
        self.domain_events += 1
        iid = event.interaction_id
        if iid is None:
            return
        kind = event.type
        if kind == "call.created":
            self.created.add(iid)
        elif kind == "call.offered":
            self.offered.add(iid)
        elif kind == "call.answered":
            self.answered.add(iid)
        elif kind == "call.abandoned":
            self.abandoned.add(iid)
        elif kind == "call.ended" and iid not in self.ended:
            self.ended.add(iid)
            self.outcomes[str(event.data.get("outcome"))] += 1


# --- the run ------------------------------------------------------------------------------


def run_simulation(options: SimulationOptions | Mapping[str, Any]) -> dict[str, Any]:
    """Run one simulation (see the module docstring) and return its summary.

    The summary's ``ok`` is False when events were lost, an agent was left
    inconsistent, a call never ended, or an ended call is missing from the database;
    ``cti simulate`` then exits non-zero (:func:`exit_status`).

    Raises:
        SimulationError: options that cannot run.
    """
    opts = options_from(options)
    opts.check()
    workdir = Path(tempfile.mkdtemp(prefix="cti-simulate-"))
    embedded: EmbeddedPostgres | None = None
    switch = FakeSwitch(password=ESL_PASSWORD, speed=opts.speed, seed=opts.seed)
    try:
        url = opts.database_url
        if url is None:
            embedded = EmbeddedPostgres(workdir)
            url = embedded.start()
        extensions = [str(FIRST_EXTENSION + n) for n in range(opts.agents)]
        register_agent_phones(switch, extensions, seed=opts.seed)
        switch.start()
        return _Run(opts, switch, url, workdir, embedded).run()
    finally:
        switch.stop()
        if embedded is not None:
            embedded.close()
        shutil.rmtree(workdir, ignore_errors=True)


def exit_status(summary: Mapping[str, Any]) -> int:
    """0 when the run lost nothing and left nothing inconsistent, else 1."""
    return 0 if summary.get("ok") else 1


class _Run:
    def __init__(self, opts: SimulationOptions, switch: FakeSwitch, url: str, workdir: Path,
                 embedded: EmbeddedPostgres | None) -> None:
        self.opts, self.switch, self.embedded = opts, switch, embedded
        self.settings = load_settings({
            "CTI_DATA_DIR": str(workdir / "data"), "CTI_DATABASE_URL": url, "CTI_HTTP": "127.0.0.1:0",
            "CTI_ESL": f"esl://sim:{ESL_PASSWORD}@127.0.0.1:{switch.port}", "CTI_LOG_LEVEL": "WARNING",
            "CTI_ROUTING_SPEED": str(opts.speed),
        })
        self.tally = Tally()
        self.faults: Counter[str] = Counter()
        self.agent_ids: dict[int, str] = {}

    def clock(self) -> float:
        """The switch's time: commands share the clock of the channel events."""
        return self.switch.engine.core.now_us() / 1_000_000

    def run(self) -> dict[str, Any]:
        services = build_services(self.settings)
        try:
            provision(services.db, generated_site(self.opts, hash_password(secrets.token_urlsafe(24))))
            return self._with_services(services)
        finally:
            services.stop()

    def _with_services(self, services: Services) -> dict[str, Any]:
        opts = self.opts
        services.bus.subscribe("*", self.tally)
        services.core.clock = self.clock
        if opts.router == "direct":
            self._use_direct_router(services)
        router = getattr(services, "routing", None)
        if router is None:
            raise SimulationError("this build has no routing engine; use router 'direct'")
        services.start()
        core = services.core
        if not core.switches.wait_connected(30):
            raise RuntimeError("the middleware did not connect to the simulated switch")
        self._log_agents_in(services)
        generator = CallerGenerator(
            self.switch, rate_per_second=opts.rate, dids=DIDS[: 2 if opts.agents >= 2 else 1],
            patience=(opts.patience / 2, opts.patience * 1.5), talk_time=(opts.talk / 2, opts.talk * 1.5),
            seed=opts.seed,
        )
        started = time.monotonic()
        faults = [gevent.spawn(f) for f in self._fault_plans()]
        generator.start()
        gevent.sleep(opts.duration / opts.speed)
        generator.stop()
        gevent.joinall(faults, timeout=opts.db_down + 30)
        gevent.killall(faults)
        drained = self._drain(services)
        return self._summary(services, router, generator, drained, time.monotonic() - started)

    def _use_direct_router(self, services: Services) -> None:
        """Swap the routing engine (and what depends on it) for the direct router."""
        from cti.direct_router import DirectRouter

        dropped = {"routing", "supervision"}
        services.components = [(name, c) for name, c in services.components if name not in dropped]
        for name in dropped & set(vars(services)):
            delattr(services, name)
        queue_of = {did: f"sim_{'ab'[i]}" for i, did in enumerate(DIDS)}
        services.add("routing", DirectRouter(services.core, queue_for=lambda did: queue_of.get(did, "sim_a"),
                                             clock=self.clock))

    def _log_agents_in(self, services: Services) -> None:
        core = services.core
        rows = services.db.fetchall(
            """SELECT a.id, a.default_extension FROM agents a JOIN users u ON u.id = a.user_id
                WHERE u.username LIKE 'sim%%' ORDER BY a.id""")
        for row in rows:
            self.agent_ids[int(row["id"])] = row["default_extension"]
            core.command(core.state.agent_login, int(row["id"]), row["default_extension"], now=self.clock(),
                         ready=True)

    # -- faults -------------------------------------------------------------------------

    def _fault_plans(self) -> list[Callable[[], None]]:
        plans: list[Callable[[], None]] = []
        if self.opts.kill_esl_every is not None:
            plans.append(self._kill_esl)
        if self.opts.restart_db_at is not None and self.embedded is not None:
            plans.append(self._restart_db)
        return plans

    def _kill_esl(self) -> None:
        every = self.opts.kill_esl_every
        assert every is not None
        elapsed = every
        while elapsed < self.opts.duration:
            gevent.sleep(every / self.opts.speed)
            self.switch.drop_connections()
            self.faults["esl_drops"] += 1
            elapsed += every

    def _restart_db(self) -> None:
        assert self.opts.restart_db_at is not None and self.embedded is not None
        gevent.sleep(self.opts.restart_db_at / self.opts.speed)
        self.embedded.stop()
        self.faults["db_restarts"] += 1
        gevent.sleep(self.opts.db_down)
        self.embedded.restart()

    # -- drain ----------------------------------------------------------------------------

    def _drain(self, services: Services) -> bool:
        """Wait for the calls to end, then for wrap-ups, then for the store."""
        core = services.core
        deadline = time.monotonic() + self.opts.drain_timeout

        def calls_over() -> bool:
            return not self.switch.channels() and not core.state.live_calls()

        def agents_settled() -> bool:
            return all(core.state.agent(a).state.value not in (*_BUSY, "wrap_up") for a in self.agent_ids)

        drained = _wait(calls_over, deadline) and _wait(agents_settled, deadline)
        drained = bool(services.store.flush(max(5.0, deadline - time.monotonic()))) and drained
        # a pool that lived through a database restart drops its dead connections here
        return _wait(services.db.ping, time.monotonic() + 30) and drained

    # -- the summary ----------------------------------------------------------------------

    def _summary(self, services: Services, router: Any, generator: CallerGenerator, drained: bool,
                 seconds: float) -> dict[str, Any]:
        core = services.core
        clients = core.switches.stats()
        received = sum(s.events_received for s in clients.values())
        lost = sum(s.events_dropped + s.events_undecodable for s in clients.values())
        inconsistent = self._inconsistent_agents(services)
        stuck = [{"id": c["id"], "state": c["state"], "legs": [(leg["role"], leg["uuid"], leg["ended_at"])
                                                             for leg in c["legs"]]}
                 for c in core.state.live_calls()]
        stored, missing = self._stored(services)
        store = services.store.stats()
        tally = self.tally
        summary = {
            "options": asdict(replace(self.opts, database_url=None)),   # a URL may hold a password
            "real_seconds": round(seconds, 3),
            "drained": drained,
            "calls": {
                "placed": len(generator.placed), "created": len(tally.created), "offered": len(tally.offered),
                "answered": len(tally.answered), "abandoned": len(tally.abandoned), "ended": len(tally.ended),
                "outcomes": dict(tally.outcomes), "still_live": len(stuck), "still_live_detail": stuck[:10],
            },
            "store": {"interactions_stored": stored, "ended_not_stored": len(missing), **store},
            "events": {"received": received, "lost": lost, "applied": core.stats.events,
                       "domain_events": tally.domain_events},
            "agents": {"logged_in": len(self.agent_ids), "inconsistent": len(inconsistent),
                       "inconsistent_detail": inconsistent[:20]},
            "latency": core.latency.summary_ms(),
            "faults": {
                "esl_drops": self.faults["esl_drops"], "db_restarts": self.faults["db_restarts"],
                "reconnects": sum(s.reconnects for s in clients.values()), "resyncs": core.stats.resyncs,
                "illegal_transitions": core.stats.illegal_transitions,
                "agent_conflicts": core.state.stats.agent_conflicts, "listener_errors": core.stats.listener_errors,
                "bus_subscriber_errors": services.bus.subscriber_errors, "store_outages": store.get("outages", 0),
                "router": _router_stats(router),
            },
        }
        summary["ok"] = bool(drained and lost == 0 and not inconsistent and not stuck and not missing)
        return summary

    def _inconsistent_agents(self, services: Services) -> list[dict[str, Any]]:
        """Agents whose state disagrees with the switch or with the store.

        Inconsistent: busy (reserved, on a call, held, consulting) without a live leg on
        the switch; not busy while the switch has a live leg of theirs; logged out
        (nobody logged them out); or their last ``agent_state_history`` row saying
        another state than the live one.
        """
        channels = self.switch.channels()
        live_legs = {c["uuid"] for c in channels}
        on_switch: dict[str, list[str]] = {}
        for c in channels:
            if c["variables"].get("cti_role") == "agent":
                on_switch.setdefault(str(c["variables"].get("cti_agent_id")), []).append(c["uuid"])
        stored = {
            int(r["agent_id"]): r["state"]
            for r in services.db.fetchall(
                """SELECT DISTINCT ON (agent_id) agent_id, state FROM agent_state_history
                    WHERE agent_id = ANY(%s) ORDER BY agent_id, at DESC""", (list(self.agent_ids),))
        }
        out = []
        for agent_id in self.agent_ids:
            agent = services.core.state.agent_snapshot(agent_id)
            state = agent["state"]
            reasons = []
            if state in _BUSY and agent["leg_uuid"] not in live_legs:
                reasons.append("busy without a live leg")
            if state not in _BUSY and str(agent_id) in on_switch:
                reasons.append(f"live legs on the switch but not busy: {', '.join(on_switch[str(agent_id)])}")
            if state == "logged_out":
                reasons.append("logged out")
            if stored.get(agent_id) != state:
                reasons.append(f"store says {stored.get(agent_id)}")
            if reasons:
                out.append({"agent_id": agent_id, "state": state, "why": reasons})
        return out

    def _stored(self, services: Services) -> tuple[int, list[str]]:
        ended = sorted(self.tally.ended)
        rows = services.db.fetchall(
            "SELECT id::text AS id FROM interactions WHERE id = ANY(%s::uuid[]) AND ended_at IS NOT NULL", (ended,))
        have = {r["id"] for r in rows}
        count = services.db.fetchone("SELECT count(*) AS n FROM interactions WHERE id = ANY(%s::uuid[])",
                                     (sorted(self.tally.created | self.tally.ended),))
        return int(count["n"] if count else 0), [i for i in ended if i not in have]


def _wait(predicate: Callable[[], bool], deadline: float) -> bool:
    while not predicate():
        if time.monotonic() > deadline:
            return False
        gevent.sleep(0.1)
    return True


def _router_stats(router: Any) -> dict[str, Any]:
    stats = getattr(router, "stats", None)
    if callable(stats):
        stats = stats()
    if is_dataclass(stats) and not isinstance(stats, type):
        return asdict(stats)
    return dict(stats) if isinstance(stats, Mapping) else {}


__all__ = ["SimulationError", "SimulationOptions", "exit_status", "generated_site", "options_from", "run_simulation"]
