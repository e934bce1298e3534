"""The live core: the shell around :class:`cti.tracker.LiveState`.

It owns the switch connections (:class:`esl.client.SwitchSet`), feeds every channel
event to the live state, publishes the domain events that come back on the bus, and
runs their effects (wrap-up timers). Routing, the dialer and the web app change calls
and agents only through :meth:`LiveCore.command`, which applies a live-state command
and publishes its events in the same step, so every subscriber sees one ordered
stream.

Other parts that must react to raw channel events (the IVR waits for
CHANNEL_EXECUTE_COMPLETE, routing bridges on the agent's CHANNEL_PARK) register with
:meth:`LiveCore.add_channel_listener`; they are called after the event was applied.
Listeners and bus subscribers run inside the dispatcher greenlet: they must not block
(spawn a greenlet for ESL commands).

It also keeps FreeSWITCH's "middleware up" lease: our dialplan parks a caller only
while the global variable ``cti_middleware_up_until`` (epoch seconds on the switch's
clock) lies in the future, and sends callers to the fallback otherwise
(freeswitch-conf/README.md). The lease is renewed every :data:`LEASE_RENEW_SECONDS` and
cleared on a clean stop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent

from cti import agents as ag
from cti.agent_states import IllegalAgentTransition
from cti.bus import DomainEvent, EventBus
from cti.call_states import IllegalTransition
from cti.config import Settings
from cti.db import Database, DatabaseUnavailable
from cti.latency import LatencyRecorder
from cti.tracker import LiveState, TrackerSettings, UnknownAgent, UnknownInteraction
from esl.client import ESLError, SwitchSet
from esl.events import Event

log = logging.getLogger(__name__)

LEASE_RENEW_SECONDS = 10.0
LEASE_LENGTH_SECONDS = 30.0

ChannelListener = Callable[[Event], None]

#: Errors a command may raise that mean "refused", with a message for the user.
COMMAND_REFUSALS: tuple[type[Exception], ...] = (
    IllegalAgentTransition, IllegalTransition, UnknownAgent, UnknownInteraction, ag.AgentRequestError,
)


@dataclass
class CoreStats:
    events: int = 0
    illegal_transitions: int = 0
    listener_errors: int = 0
    resyncs: int = 0
    clock_offsets: dict[str, float] = field(default_factory=dict)


def load_tracker_settings(db: Database) -> TrackerSettings:
    """Reason codes and per-queue wrap-up limits of the site, as provisioned."""
    from routing.queues import QueueConfigError, parse_queue_rules

    reasons = {row["code"] for row in db.fetchall("SELECT code FROM reason_codes")}
    wrapup: dict[str, float | None] = {}
    for row in db.fetchall("SELECT name, settings FROM queues"):
        try:
            wrapup[row["name"]] = float(parse_queue_rules(row["name"], row["settings"]).wrapup)
        except QueueConfigError:
            log.exception("queue rules invalid; default wrap-up used", extra={"queue": row["name"]})
    return TrackerSettings(
        reason_codes=frozenset(reasons) or ag.DEFAULT_REASON_CODES,
        wrapup_seconds=wrapup,
    )


class LiveCore:
    """ESL events in, live state kept, domain events out (see the module docstring)."""

    def __init__(self, settings: Settings, db: Database, bus: EventBus) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.state = LiveState()
        self.stats = CoreStats()
        self.latency = LatencyRecorder()
        #: What restores, resyncs and wrap-up timeouts are stamped with. A simulation
        #: whose switch runs faster than real time sets the switch's clock here.
        self.clock: Callable[[], float] = time.time
        self._listeners: list[ChannelListener] = []
        self._timers: dict[tuple[int, str], gevent.Greenlet] = {}
        self._lease: gevent.Greenlet | None = None
        self.switches = SwitchSet(
            settings.esl_nodes,
            on_event=self._on_event,
            on_resync=self._on_resync,
            command_timeout=settings.esl_command_timeout,
        )

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        self.state.settings = load_tracker_settings(self.db)
        self._load_agents()
        self.switches.start()
        self._lease = gevent.spawn(self._keep_lease)

    def stop(self) -> None:
        if self._lease is not None:
            self._lease.kill()
        self._release_lease()
        for timer in self._timers.values():
            timer.kill()
        self._timers.clear()
        self.switches.stop()

    def _load_agents(self) -> None:
        """Every agent of the site is known (logged out) from the start; agents who
        were logged in when the middleware stopped are logged in again with their phone."""
        for row in self.db.fetchall("SELECT id FROM agents"):
            self.state.add_agent(row["id"])
        rows = self.db.fetchall(
            """SELECT DISTINCT ON (agent_id) agent_id, state, reason, extension
               FROM agent_state_history ORDER BY agent_id, at DESC"""
        )
        now = self.clock()
        for row in rows:
            if row["state"] == "logged_out" or not row["extension"]:
                continue
            ready = row["state"] == "available"
            try:
                self.command(self.state.agent_login, row["agent_id"], row["extension"], now=now,
                             ready=ready, reason="restored" if not ready else "login")
            except COMMAND_REFUSALS as exc:
                log.warning("agent not restored", extra={"agent": row["agent_id"], "why": str(exc)})

    # -- events in -------------------------------------------------------------------

    def add_channel_listener(self, listener: ChannelListener) -> None:
        self._listeners.append(listener)

    def _on_event(self, event: Event) -> None:
        self.stats.events += 1
        if event.name == "HEARTBEAT" and event.timestamp:
            self.stats.clock_offsets[event.node] = event.timestamp - time.time()
        try:
            published = self.state.apply_event(event)
        except IllegalTransition as exc:
            self.stats.illegal_transitions += 1
            log.warning("event refused by the call model", extra={"event": event.name, "leg": event.uuid,
                                                                  "node": event.node, "why": str(exc)})
            published = []
        self._publish(published)
        if event.received_at:
            self.latency.record(time.monotonic() - event.received_at)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                self.stats.listener_errors += 1
                log.exception("channel listener failed", extra={"event": event.name, "leg": event.uuid})

    def _on_resync(self, node: str, channels: list[dict[str, Any]]) -> None:
        self.stats.resyncs += 1
        self._publish(self.state.reconcile(node, channels, self.clock()))
        log.info("resynced", extra={"node": node, "channels": len(channels)})

    # -- commands --------------------------------------------------------------------

    def command(self, method: Callable[..., list[DomainEvent]], *args: Any, **kwargs: Any) -> list[DomainEvent]:
        """Run a :class:`LiveState` command and publish what it caused.

        Raises what the command raises (see :data:`COMMAND_REFUSALS`); nothing changed
        in that case.
        """
        events = method(*args, **kwargs)
        self._publish(events)
        return events

    def _publish(self, events: list[DomainEvent]) -> None:
        for event in events:
            self.bus.publish(event)
        for timer in self.state.take_timers():
            self._schedule_wrapup(timer)

    def _schedule_wrapup(self, timer: ag.StartWrapupTimer) -> None:
        key = (timer.agent_id, timer.interaction_id)
        previous = self._timers.pop(key, None)
        if previous is not None:
            previous.kill()
        self._timers[key] = gevent.spawn_later(timer.seconds, self._wrapup_expired, timer)

    def _wrapup_expired(self, timer: ag.StartWrapupTimer) -> None:
        self._timers.pop((timer.agent_id, timer.interaction_id), None)
        try:
            self.command(self.state.wrapup_timeout, timer.agent_id, timer.interaction_id, now=self.clock())
        except COMMAND_REFUSALS as exc:
            log.info("wrap-up timer ignored", extra={"agent": timer.agent_id, "why": str(exc)})

    # -- the "middleware up" lease ---------------------------------------------------

    def _switch_now(self, node: str) -> float:
        return time.time() + self.stats.clock_offsets.get(node, 0.0)

    def _keep_lease(self) -> None:
        while True:
            for client in self.switches:
                if not client.connected:
                    continue
                until = int(self._switch_now(client.node.name) + LEASE_LENGTH_SECONDS)
                try:
                    client.bgapi_async(f"global_setvar cti_middleware_up_until={until}")
                except ESLError as exc:
                    log.warning("lease not renewed", extra={"node": client.node.name, "why": str(exc)})
            gevent.sleep(LEASE_RENEW_SECONDS)

    def _release_lease(self) -> None:
        for client in self.switches:
            if client.connected:
                try:
                    client.api("global_setvar cti_middleware_up_until=0", timeout=2)
                except ESLError:
                    pass


def record_error(exc: BaseException) -> str:
    """A refused command as one sentence for the user (the exception's own message)."""
    if isinstance(exc, DatabaseUnavailable):
        return "the database is not reachable right now; try again in a moment"
    return str(exc)
