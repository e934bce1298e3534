"""The routing engine: IVR flows, queues, offers, recording and voicemail over ESL.

This is the imperative shell around the pure routing core (:mod:`routing.ivr`,
:class:`routing.acd.Router`). It is one service component (``start()``/``stop()``)
built over the live core (:class:`cti.core.LiveCore`):

* **Inputs**: bus events (``call.created`` of a managed inbound call, ``call.offer_failed``,
  ``agent.state_changed``, ``call.answered``/``abandoned``/``ended``) and raw channel
  events from the core's listener (``CHANNEL_PARK``, ``CHANNEL_EXECUTE_COMPLETE``,
  ``CHANNEL_BRIDGE``, ``CHANNEL_HANGUP``). Both arrive inside the core's dispatch, so
  they are only put on the engine's work queue there; one worker greenlet takes them
  in order. Everything that changes routing state happens in that greenlet (or in an
  API call, which never yields halfway), so there are no races between half-done
  decisions, and nothing re-enters the core's publishing.
* **Decisions**: made at once, event by event -- an agent who becomes available is
  offered the best waiting call in the same step (no polling). The clock-driven work
  is the router's timers (max wait, announcements, relaxed skills, callback offers):
  one greenlet sleeps until :meth:`routing.acd.Router.next_due` and queues a tick;
  the bounds of the waits for the switch (:mod:`routing.recovery`, swept every few
  seconds); and callbacks coming due (:mod:`routing.callbacks`).
* **Resilience**: after every resync (``system.resynced``) the engine lines its own
  state up with the switch (:mod:`routing.recovery`); nothing waits forever for an
  event that was lost.
* **Outputs**: live-state commands through :meth:`cti.core.LiveCore.command` (the
  timeline, queue visits, offers) and ESL commands from greenlets of their own
  (:mod:`routing.lanes`): the worker never waits for the switch.

Modules: :mod:`routing.sessions` (per-call record and its phase table),
:mod:`routing.arrivals` (taking calls, the caller's leg), :mod:`routing.ivr_runner`,
:mod:`routing.queue_runner`, :mod:`routing.offers` (ringing agents),
:mod:`routing.callbacks`, :mod:`routing.agent_feed` (agent states to the router),
:mod:`routing.queue_figures` (``queue.changed``), :mod:`routing.site` (configuration
and reloading), :mod:`routing.persistence` (statistics and durable rows),
:mod:`routing.lanes` (ESL commands), :mod:`routing.clock`, :mod:`routing.recovery`
(resyncs and bounds), :mod:`routing.queue_transfer` (an agent's transfer to a queue),
:mod:`routing.engine_api` (what the web calls), :class:`cti.recordings.RecordingService`,
:class:`cti.voicemail.VoicemailService`.
"""

from __future__ import annotations

import logging
import time
import uuid as uuidlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import gevent
import gevent.event
import gevent.queue
import psycopg2

from cti.bus import DomainEvent
from cti.core import COMMAND_REFUSALS, LiveCore
from cti.db import DatabaseUnavailable
from cti.latency import LatencyRecorder
from cti.recordings import RecordingError, RecordingService
from cti.services import Services
from cti.voicemail import VoicemailService
from esl import commands as cmd
from esl.client import ESLCommandError, ESLError
from esl.events import Event
from routing.acd import Router
from routing.agent_feed import AgentFeed
from routing.arrivals import Arrivals
from routing.callback_schedule import write_callbacks
from routing.callbacks import CallbackCall, CallbackDialer
from routing.clock import EngineClock
from routing.engine_api import EngineApi, EngineRequestError
from routing.errors import QueueConfigError, RouterStateError
from routing.ivr_runner import IvrRunner
from routing.lanes import SwitchCommands
from routing.offers import Offers, Ringer
from routing.persistence import RoutingStore, load_estimates
from routing.queue_figures import QueueFigures
from routing.queue_runner import QueueRunner
from routing.queue_transfer import QueueTransfers
from routing.recovery import SWEEP_SECONDS, Recovery
from routing.sessions import Pending, Phase, Session
from routing.site import CallerFacts, Site, SiteLoader

log = logging.getLogger(__name__)

#: Channel events the engine acts on; the rest never reach its work queue.
CHANNEL_EVENTS = frozenset({"CHANNEL_PARK", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_BRIDGE", "CHANNEL_HANGUP"})
#: Events of legs we cancelled that show they exist after all (hang them up again).
_ALIVE = frozenset({"CHANNEL_CREATE", "CHANNEL_PROGRESS", "CHANNEL_ANSWER", "CHANNEL_PARK"})
BUS_EVENTS = (
    "call.created", "call.offer_failed", "call.answered", "call.abandoned", "call.ended",
    "agent.state_changed", "system.resynced",
)

SITE_CHECK_SECONDS = 10.0
_CANCELLED_KEPT = 10_000


@dataclass
class EngineStats:
    calls: int = 0
    unrouted: int = 0
    offers: int = 0
    offers_refused: int = 0
    rona: int = 0
    bridged: int = 0
    overflows: int = 0
    callbacks: int = 0
    recoveries: int = 0
    resyncs: int = 0          # resyncs the engine lined itself up after
    overdue: int = 0          # waits for the switch that ended at their bound
    lookups_late: int = 0     # calls that started without their directory lookups
    ivr_errors: int = 0
    router_errors: int = 0
    refusals: int = 0
    errors: int = 0


def _speed(services: Services) -> float:
    raw = services.settings.extra.get("CTI_ROUTING_SPEED", "1")
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"CTI_ROUTING_SPEED: expected a positive number, got {raw!r}") from None


class RoutingEngine(EngineApi):
    """See the module docstring. ``services`` must have the live core."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        core: LiveCore | None = getattr(services, "core", None)
        if core is None:
            raise ValueError("the routing engine needs the live core: configure a switch with CTI_ESL")
        self.core = core
        self.bus = services.bus
        self.db = services.db
        self.zone = settings.site_timezone
        self.clock = EngineClock(_speed(services))
        self.loader = SiteLoader(self.db)
        self.site = Site()
        self.router = Router({})
        self.store = RoutingStore(self.db, settings.data_dir / "routing-journal")
        self.store.register("callback", write_callbacks)
        self.commands = SwitchCommands(self.core.switches, self.post)
        self.recordings = RecordingService(self.core, settings.recordings_dir, store=self.store,
                                           policy=self._recording_policy, clock=self.clock.now)
        self.voicemail = VoicemailService(self.db, self.bus, store=self.store, clock=self.clock.now)
        self.figures = QueueFigures(self, timezone=self.zone)
        self.ivr = IvrRunner(self, voicemail_dir=str(settings.recordings_dir / "voicemail"), timezone=self.zone)
        self.queues = QueueRunner(self)
        self.offers = Offers(self)
        self.callbacks = CallbackDialer(self, gateway=settings.extra.get("CTI_GATEWAY", "cti_gateway"))
        self.arrivals = Arrivals(self)
        self.agents = AgentFeed(self, timezone=self.zone)
        self.transfers = QueueTransfers(self)
        self.recovery = Recovery(self)
        self.sessions: dict[str, Session] = {}
        self.by_leg: dict[str, Session] = {}
        self.agent_legs: dict[str, Ringer] = {}
        self.cancelled: OrderedDict[str, str] = OrderedDict()
        #: kills that could not reach the switch: sent again after its resync
        self.kill_later: dict[str, tuple[str, str]] = {}
        self.stats = EngineStats()
        #: "agent became available -> originate accepted by the switch" (seconds)
        self.latency = LatencyRecorder()
        self.free_started: float | None = None
        self.requests: dict[str, tuple[float, dict[str, int]]] = {}
        self._work: gevent.queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = gevent.queue.Queue()
        self._wake = gevent.event.Event()
        self._ticked = gevent.event.Event()
        self._greenlets: list[gevent.Greenlet] = []
        self._running = False

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        self.apply_site(self.loader.load())
        for queue, (aht, correction, handles, waits) in load_estimates(self.db).items():
            if queue in self.site.rules:
                estimator = self.router.wait_estimator(queue)
                estimator.aht, estimator.correction = aht, correction
                estimator.handle_samples, estimator.wait_samples = handles, waits
        self.store.start()
        self.figures.load_today(self.db)
        self._running = True
        for pattern in BUS_EVENTS:
            self.bus.subscribe(pattern, self._on_bus)
        self.recordings.attach(self.bus)
        self.core.add_channel_listener(self._on_channel)
        self._greenlets = [gevent.spawn(self._work_loop), gevent.spawn(self._timer_loop),
                           gevent.spawn(self._watch_site), gevent.spawn(self._sweep_loop)]
        self.figures.start()
        self.post(self.arrivals.adopt_live_calls)
        self.callbacks.start()
        self.kick()

    def stop(self) -> None:
        self._running = False
        self.bus.unsubscribe(self._on_bus)
        self.recordings.detach(self.bus)
        self.figures.stop()
        self.callbacks.stop()
        gevent.killall(self._greenlets)
        self._greenlets = []
        self.store.stop()

    # -- the work queue -----------------------------------------------------------------

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` in the engine's worker, after what is already queued."""
        self._work.put((fn, args))

    def _work_loop(self) -> None:
        while True:
            fn, args = self._work.get()
            try:
                fn(*args)
            except Exception:
                self.stats.errors += 1
                log.exception("routing: work item failed", extra={"work": getattr(fn, "__qualname__", repr(fn))})
            # Let the greenlets this item spawned (an originate, a call's commands) write
            # to the switch now rather than after the whole backlog of work.
            gevent.sleep(0)

    def _on_bus(self, event: DomainEvent) -> None:
        """Bus subscriber: constant work only (the core is publishing)."""
        if self._running:
            self.post(self._bus_event, event, time.perf_counter())

    def _on_channel(self, event: Event) -> None:
        """Channel listener (the core's dispatch greenlet): constant work only."""
        if not self._running:
            return
        self.clock.observe(event)
        name = event.name
        if name in CHANNEL_EVENTS or (name in _ALIVE and event.uuid in self.cancelled):
            self.post(self._channel_event, event)

    # -- bus events ---------------------------------------------------------------------

    def _bus_event(self, event: DomainEvent, received: float) -> None:
        kind = event.type
        if kind == "agent.state_changed":
            self.agents.on_state(event, received)
        elif kind == "call.created":
            self.arrivals.on_created(event)
        elif kind == "call.offer_failed":
            ringer = self.agent_legs.get(str(event.data.get("leg_uuid", "")))
            if ringer is not None:
                self.offers.on_offer_failed(ringer, str(event.data["leg_uuid"]), str(event.data.get("outcome", "")))
        elif kind == "call.answered":
            self.figures.answered(event.queue or "", event.data.get("wait_seconds"))
        elif kind == "call.abandoned":
            self.figures.abandoned(event.queue or str(event.data.get("queue", "")))
        elif kind == "call.ended":
            self._call_ended(event)
        elif kind == "system.resynced":
            self.recovery.after_resync(str(event.data.get("node") or event.node or ""))

    def _call_ended(self, event: DomainEvent) -> None:
        iid = event.interaction_id or ""
        record = event.data
        s = self.sessions.get(iid)
        if s is not None:  # its hangup was not seen (lost while the link was down)
            self.arrivals.caller_gone(s, self.clock.now())
        self.callbacks.on_ended(iid)
        self.agents.call_ended(record)
        queue = record.get("queue") or ""
        rules = self.site.rules.get(queue)
        if rules is not None and record.get("answered_at"):
            handled = float(record.get("talk_seconds") or 0) + float(record.get("hold_seconds") or 0) + rules.wrapup
            self.router.observe_handle_time(queue, handled)
            self.store.wait_estimate(queue, self.router.wait_estimator(queue))

    # -- channel events -----------------------------------------------------------------

    def _channel_event(self, event: Event) -> None:
        name, uuid = event.name, event.uuid
        if name in _ALIVE and uuid in self.cancelled:
            self.commands.api(self.cancelled.pop(uuid), cmd.uuid_kill(uuid, "ORIGINATOR_CANCEL"))
            return
        s = self.by_leg.get(uuid)
        if s is not None:
            self.arrivals.on_caller_event(s, event)
            return
        ringer = self.agent_legs.get(uuid)
        if ringer is not None:
            if name == "CHANNEL_PARK":
                self.agent_parked(ringer, uuid)
            return
        call = self.callbacks.by_customer_leg.get(uuid)
        if call is not None:
            if name == "CHANNEL_PARK":
                self.callbacks.on_customer_parked(call)
            elif name == "CHANNEL_BRIDGE":
                self.callbacks.on_customer_bridged(call)
            elif name == "CHANNEL_HANGUP":
                self.callbacks.on_customer_gone(call)

    def agent_parked(self, ringer: Ringer, leg: str) -> None:
        """An agent leg answered and parked (seen, or found so after a resync)."""
        self.offers.deadlines.pop(leg, None)
        if isinstance(ringer, CallbackCall):
            self.callbacks.on_agent_parked(ringer, leg)
        elif isinstance(ringer, Session):
            self.queues.on_agent_parked(ringer, leg)

    def end_session(self, s: Session) -> None:
        if s.phase is not Phase.ENDED and s.phase is not Phase.CALLBACK:
            s.move("end")
        self.sessions.pop(s.iid, None)
        self.by_leg.pop(s.leg, None)
        for leg in s.offers:
            self.agent_legs.pop(leg, None)
        s.pending.clear()
        self.figures.dirty(s.queue)

    # -- timers and site changes --------------------------------------------------------

    def kick(self) -> None:
        """The router may have an earlier timer now: let the timer greenlet look again."""
        self._wake.set()

    def run_due_timers(self) -> None:
        decisions = self.router.on_tick(self.clock.now())
        if decisions:
            self.queues.execute(decisions)

    def _tick(self) -> None:
        try:
            self.run_due_timers()
        finally:
            self._ticked.set()

    def _timer_loop(self) -> None:
        while True:
            due = self.router.next_due()
            now = self.clock.now()
            if due is not None and due <= now:
                self._ticked.clear()
                self.post(self._tick)
                self._ticked.wait()
                continue
            self._wake.wait(None if due is None else self.clock.real(due - now) + 0.001)
            self._wake.clear()

    def _sweep_loop(self) -> None:
        while True:
            gevent.sleep(SWEEP_SECONDS)
            self.post(self.recovery.sweep)

    def _watch_site(self) -> None:
        while True:
            gevent.sleep(SITE_CHECK_SECONDS)
            try:
                if self.loader.fingerprint() != self.site.fingerprint:
                    self.post(self.apply_site, self.loader.load(self.site))
            except (DatabaseUnavailable, psycopg2.Error) as exc:
                log.warning("routing: site check failed; will retry", extra={"error": str(exc)})

    def apply_site(self, site: Site) -> None:
        """Adopt a new snapshot of the site without losing waiting calls."""
        old, now = self.site, self.clock.now()
        try:
            decisions = self.router.set_rules(site.rules, site.calendars, now)
        except (RouterStateError, QueueConfigError) as exc:
            site = replace(site, rules=old.rules, calendars=old.calendars, problems=(*site.problems, str(exc)))
            decisions = []
        self.site = site
        for agent in site.agents.values():
            self.router.add_agent(agent)
        for agent_id in set(old.agents) - set(site.agents):
            try:
                self.router.remove_agent(agent_id)
            except RouterStateError as exc:
                log.warning("routing: agent kept until their ring ends", extra={"agent": agent_id, "why": str(exc)})
        for agent_id in set(site.agents) - set(old.agents):
            self.agents.sync(agent_id)
        for problem in site.problems:
            log.error("routing: site definition problem (previous version kept)", extra={"problem": problem})
        self.queues.execute([*decisions, *self.router.rebalance(now)])
        self.kick()

    # -- helpers for the runners ----------------------------------------------------------

    def command(self, method: Callable[..., list[DomainEvent]], *args: Any, **kwargs: Any) -> bool:
        """A live-state command; a refusal is logged and counted (False)."""
        try:
            self.core.command(method, *args, **kwargs)
        except COMMAND_REFUSALS as exc:
            self.stats.refusals += 1
            log.info("routing: live state refused a command", extra={"command": method.__name__, "why": str(exc)})
            return False
        return True

    def track(self, s: Session, pending: Pending) -> str:
        """An ``Event-UUID`` for an application whose completion we wait for (until
        ``pending.deadline``: see :mod:`routing.recovery`)."""
        event_uuid = str(uuidlib.uuid4())
        s.pending[event_uuid] = pending
        return event_uuid

    def bound(self, seconds: float) -> float:
        """The deadline (engine time) of a wait of ``seconds`` engine seconds from now."""
        return self.clock.now() + seconds

    def ringer(self, call_id: str) -> Ringer | None:
        return self.sessions.get(call_id) or self.callbacks.calls.get(call_id)

    def cancel_leg(self, node: str, leg: str, cause: str) -> None:
        """Hang up one of our legs, now, again if it shows up later (an originate still
        on its way), and once more after a reconnection if the switch was unreachable."""
        self.cancelled[leg] = node
        while len(self.cancelled) > _CANCELLED_KEPT:
            self.cancelled.popitem(last=False)

        def failed(error: ESLError) -> None:
            if not isinstance(error, ESLCommandError):  # -ERR: the leg does not exist (any more)
                self.kill_later[leg] = (node, cause)

        self.commands.api(node, cmd.uuid_kill(leg, cause), on_error=failed)

    def record_call(self, interaction_id: str, queue: str | None = None) -> None:
        gevent.spawn(self._record, interaction_id)

    def _record(self, interaction_id: str) -> None:
        try:
            self.recordings.start(interaction_id)
        except RecordingError as exc:
            log.warning("routing: call not recorded", extra={"call": interaction_id, "why": str(exc)})

    def _recording_policy(self, queue: str) -> str:
        rules = self.site.rules.get(queue)
        return rules.recording.value if rules is not None else "agent_choice"

    def service_requests(self, flow: str) -> Mapping[str, int]:
        return self.requests.get(flow, (0.0, {}))[1]

    def online(self, node: str) -> bool:
        try:
            return self.core.switches[node].connected
        except ESLError:
            return False

    def default_node(self) -> str:
        return self.core.switches.names[0]

    # -- reloading, and the outbound dialer's hand-over ----------------------------------

    def reload(self) -> dict[str, Any]:
        """Re-read queues, flows, calendars, agents and caller lists now (after an edit).
        Returns what is in force and the problems found (their previous versions stay)."""
        self.apply_site(self.loader.load(self.site))
        site = self.site
        return {
            "queues": sorted(site.rules), "flows": {name: flow.version for name, flow in sorted(site.flows.items())},
            "agents": len(site.agents), "dids": len(site.dids), "problems": list(site.problems),
        }

    # Outbound campaign calls (added for outbound/dialer.py): a customer who answered a
    # campaign call waits in the campaign's queue like an inbound caller, so one router
    # shares the agents between inbound and outbound under the same rules.

    def take_outbound(self, interaction_id: str, leg: str, node: str, queue: str, *, priority: int,
                      skills: Mapping[str, int], caller_number: str) -> None:
        """Queue an answered (parked) outbound customer leg for an agent of ``queue``."""
        self.post(self._take_outbound, interaction_id, leg, node, queue, priority, dict(skills), caller_number)

    def _take_outbound(self, iid: str, leg: str, node: str, queue: str, priority: int, skills: dict[str, int],
                       caller_number: str) -> None:
        if iid in self.sessions:
            return
        s = Session(iid, leg, node, self.commands.lane(node), caller_number=caller_number, parked=True,
                    facts=CallerFacts())
        self.sessions[iid] = s
        self.by_leg[leg] = s
        self.stats.calls += 1
        self.queues.enqueue(s, queue, priority=priority, skills=skills)

    def release_outbound(self, interaction_id: str, outcome: str) -> None:
        """The dialer takes its call back (``outcome``: abandon_message, machine): stop
        looking for an agent and cancel any ring; the dialer handles the leg."""
        self.post(self._release_outbound, interaction_id, outcome)

    def _release_outbound(self, iid: str, outcome: str) -> None:
        s = self.sessions.get(iid)
        if s is None:
            return
        queued = s.phase is Phase.QUEUED
        self.queues.on_caller_gone(s)
        self.end_session(s)
        if queued:
            self.command(self.core.state.queue_left, iid, outcome, now=self.clock.now())


__all__ = ["EngineRequestError", "EngineStats", "RoutingEngine"]
