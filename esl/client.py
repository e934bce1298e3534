"""The gevent ESL client the middleware talks to FreeSWITCH through.

One :class:`ESLClient` per switch keeps one connection up forever: connect, ``auth``,
``event json <the events we use>``, then a resync (``show channels as json`` plus
``uuid_dump`` of each channel, handed to ``on_resync``), and again after every drop
with capped exponential backoff and jitter. Events are decoded in the reading greenlet
and put on a bounded queue; a dispatcher greenlet calls ``on_event``. The reader never
waits on handlers because FreeSWITCH drops a listener that falls ~500 events behind; if
the queue is full the event is dropped, counted, logged, and a resync follows once the
queue drains, so the core's picture is rebuilt rather than silently wrong.

Every command has a timeout; a missing reply drops the connection (see
:mod:`esl.transport`), and every pending command ends at once with
:class:`ESLNotConnected`. ``on_resync`` runs in the dispatcher greenlet, in order with
the events, so the core never sees the two concurrently. Remember (fixtures README):
``show`` output lags the events by up to ~1 s, an originate's BACKGROUND_JOB comes only
once the callee answered, and an originate to an unregistered user creates no channel.
"""

from __future__ import annotations

import logging
import random
import time
import uuid as uuidlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gevent
import gevent.event
import orjson

from cti.config import ESLNode
from esl.commands import AppCall, show_channels, uuid_dump
from esl.events import Event
from esl.protocol import (
    CommandArgumentError,
    DecodeStats,
    ESLProtocolError,
    Frame,
    decode_event,
    encode_command,
    encode_sendmsg,
)
from esl.transport import (
    ESLAuthError,
    ESLCommandError,
    ESLError,
    ESLNotConnected,
    ESLTimeout,
    ESLTransport,
)

__all__ = [
    "DEFAULT_EVENTS",
    "ClientStats",
    "ESLAuthError",
    "ESLClient",
    "ESLCommandError",
    "ESLError",
    "ESLNotConnected",
    "ESLTimeout",
    "SwitchSet",
    "backoff_delay",
]

log = logging.getLogger(__name__)

#: Seconds after a (re)connect before the second channel snapshot (see _connect_once).
SECOND_RESYNC_AFTER = 1.5
#: The dispatcher lets other greenlets run after this many events in a row.
YIELD_EVERY = 64

#: The events the middleware uses; CUSTOM subclasses follow ``CUSTOM``. mod_avmd fires
#: ``avmd::start``/``avmd::beep``/``avmd::stop`` (answering-machine beep detection).
DEFAULT_EVENTS: tuple[str, ...] = (
    "CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY",
    "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_PARK", "CHANNEL_UNPARK", "CHANNEL_EXECUTE",
    "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_ORIGINATE", "CHANNEL_OUTGOING", "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA", "CHANNEL_UUID", "CHANNEL_HOLD", "CHANNEL_UNHOLD", "CALL_UPDATE", "DTMF",
    "RECORD_START", "RECORD_STOP", "PLAYBACK_START", "PLAYBACK_STOP", "MEDIA_BUG_START", "MEDIA_BUG_STOP",
    "BACKGROUND_JOB", "HEARTBEAT",
    "CUSTOM", "sofia::register", "sofia::unregister", "sofia::expire", "avmd::start", "avmd::beep", "avmd::stop",
)

_DROP_LOG_EVERY = 1000


@dataclass(slots=True)
class ClientStats:
    """Counters for one switch link (read them through ``ESLClient.stats``)."""

    events_received: int = 0
    queue_depth: int = 0
    queue_high_water: int = 0
    events_dropped: int = 0
    events_undecodable: int = 0
    values_replaced: int = 0
    reconnects: int = 0
    resyncs: int = 0
    commands_timed_out: int = 0
    protocol_errors: int = 0


def backoff_delay(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before reconnect ``attempt`` (0-based): exponential, capped,
    half of it random ("equal jitter") so many clients do not reconnect in step."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    return ceiling / 2 + rand() * ceiling / 2


@dataclass(frozen=True, slots=True)
class _Resync:
    channels: list[dict[str, Any]]
    delivered: gevent.event.Event


class ESLClient:
    """A self-healing link to one FreeSWITCH (see the module docstring)."""

    def __init__(
        self,
        node: ESLNode,
        *,
        on_event: Callable[[Event], None],
        on_resync: Callable[[str, list[dict[str, Any]]], None] | None = None,
        events: Sequence[str] = DEFAULT_EVENTS,
        command_timeout: float = 10.0,
        queue_size: int = 100_000,
        backoff: tuple[float, float] = (0.5, 30.0),
        liveness_interval: float = 30.0,
    ) -> None:
        """``liveness_interval``: after that long without a byte from the switch (it
        sends HEARTBEAT every 20 s by default) a probe ``api status`` is sent; no reply
        within ``command_timeout`` drops the connection (a half-open TCP link would
        otherwise go unnoticed for hours)."""
        for name in events:
            if not name or any(c.isspace() for c in name):
                raise ValueError(f"event name {name!r} must be one word")
        self.node = node
        self._on_event = on_event
        self._on_resync = on_resync
        self._events = tuple(events)
        self._command_timeout = command_timeout
        self._backoff = backoff
        self._liveness_interval = liveness_interval
        # A deque and a wake-up flag rather than gevent.queue.Queue: the reader only
        # appends (never blocks; the bound is checked in _accept) and the dispatcher
        # waits only when it is empty, so this is all a queue needs to do here, at a
        # fraction of the cost per event.
        self._queue: deque[Event | _Resync] = deque()
        self._queued = gevent.event.Event()
        self._queue_size = queue_size
        self._warn_depths = frozenset({queue_size // 2, queue_size * 9 // 10})
        self._stats = ClientStats()
        self._decode_stats = DecodeStats()
        self._jobs: dict[str, tuple[gevent.event.AsyncResult, str]] = {}
        self._transport: ESLTransport | None = None
        self._handshaking: ESLTransport | None = None
        self._ready = gevent.event.Event()
        self._stopping = False
        self._resync_after_drain = False
        self._supervisor: gevent.Greenlet | None = None
        self._dispatcher: gevent.Greenlet | None = None
        self._connections = 0

    # --- lifecycle ----------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a connection is up, subscribed and resynced."""
        return self._ready.is_set()

    @property
    def stats(self) -> ClientStats:
        self._stats.queue_depth = len(self._queue)
        self._stats.values_replaced = self._decode_stats.replaced_values
        return self._stats

    def start(self) -> None:
        """Connect in the background and keep reconnecting until :meth:`stop`."""
        if self._supervisor is not None:
            return
        self._stopping = False
        self._dispatcher = gevent.spawn(self._dispatch_loop)
        self._supervisor = gevent.spawn(self._run)

    def wait_connected(self, timeout: float) -> bool:
        """Wait until connected, subscribed and resynced; False on timeout."""
        return bool(self._ready.wait(timeout))

    def stop(self) -> None:
        """Send ``exit``, close, fail pending commands and jobs, end the greenlets."""
        self._stopping = True
        self._ready.clear()
        if self._supervisor is not None:
            self._supervisor.kill(block=True)
            self._supervisor = None
        for transport in (self._handshaking, self._transport):
            if transport is not None:
                transport.stop()
        self._fail_jobs(ESLNotConnected(f"client for {self.node.name} stopped"))
        if self._dispatcher is not None:
            undelivered = len(self._queue)
            self._dispatcher.kill(block=True)
            self._dispatcher = None
            if undelivered:
                log.warning("esl: events not delivered at stop", extra={"node": self.node.name, "count": undelivered})
            self._queue.clear()

    def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                transport = self._connect_once()
                attempt = 0
                self._watch(transport)
            except ESLError as exc:
                log.warning("esl: connection failed", extra={"node": self.node.name, "error": str(exc)})
            except Exception:
                log.exception("esl: unexpected error in the connection loop", extra={"node": self.node.name})
            self._ready.clear()
            if self._stopping:
                break
            delay = backoff_delay(attempt, *self._backoff)
            attempt += 1
            log.info("esl: reconnecting", extra={"node": self.node.name, "in_seconds": round(delay, 2)})
            gevent.sleep(delay)

    def _connect_once(self) -> ESLTransport:
        """Connect, authenticate and subscribe on a private transport; only then make
        it the one commands use (so nothing is sent before ``auth``), then resync."""
        node = self.node
        transport = self._new_transport()
        self._handshaking = transport
        try:
            transport.connect()
            subscribe = encode_command("event json " + " ".join(self._events))
            reply = self._command(subscribe, None, "event json", transport).headers.get("Reply-Text", "")
            if not reply.startswith("+OK"):
                transport.close("subscription refused")
                raise ESLCommandError("event json", reply, node.name)
        finally:
            self._handshaking = None
        self._transport = transport
        self._connections += 1
        if self._connections > 1:
            self._stats.reconnects += 1
        log.info("esl: connected", extra={"node": node.name, "address": node.address})
        self._resync()
        self._ready.set()
        # ``show channels`` reads the switch's core database, which lags the events by
        # up to ~1 s: a call created in that second is missing from the first snapshot
        # and would be known only from its next event. A second look closes the gap.
        gevent.spawn_later(SECOND_RESYNC_AFTER, self._second_resync, transport)
        return transport

    def _second_resync(self, transport: ESLTransport) -> None:
        if transport is self._transport and not transport.closed.is_set() and not self._stopping:
            self._resync_quietly()

    def _new_transport(self) -> ESLTransport:
        """An unconnected transport wired to this client: events the parser decodes
        go to :meth:`_accept`, other event frames to :meth:`_on_frame`."""
        node = self.node
        return ESLTransport(
            node.host, node.port, node.password, name=node.name, on_event=self._on_frame,
            on_decoded=self._accept, on_close=self._on_transport_close,
            connect_timeout=min(self._command_timeout, 10.0),
        )

    def _watch(self, transport: ESLTransport) -> None:
        """Wait for the connection to end, probing it when it has been silent."""
        while not transport.closed.wait(self._liveness_interval / 2):
            if time.monotonic() - transport.last_received > self._liveness_interval:
                try:
                    self.api("status")
                except ESLError as exc:
                    log.warning("esl: liveness probe failed", extra={"node": self.node.name, "error": str(exc)})

    def _on_transport_close(self, reason: str) -> None:
        self._ready.clear()
        self._fail_jobs(ESLNotConnected(f"connection to {self.node.name} ended: {reason}"))
        if not self._stopping:
            log.warning("esl: disconnected", extra={"node": self.node.name, "reason": reason})
        if reason.startswith("protocol error"):
            self._stats.protocol_errors += 1

    # --- events -------------------------------------------------------------------

    def _on_frame(self, frame: Frame, received_at: float) -> None:
        """Reader greenlet: decode an event frame the parser left alone, then
        :meth:`_accept` it."""
        try:
            event = decode_event(frame, node=self.node.name, received_at=received_at, stats=self._decode_stats)
        except ESLProtocolError as exc:
            self._stats.events_undecodable += 1
            log.error("esl: undecodable event", extra={"node": self.node.name, "error": str(exc)})
            return
        self._accept(event)

    def _accept(self, event: Event) -> None:
        """Reader greenlet: count, settle a bgapi job, enqueue. Never blocks."""
        stats = self._stats
        stats.events_received += 1
        if event.headers.get("Event-Name") == "BACKGROUND_JOB":
            self._settle_job(event)
        queue = self._queue
        if len(queue) >= self._queue_size:
            stats.events_dropped += 1
            self._resync_after_drain = True
            if stats.events_dropped % _DROP_LOG_EVERY == 1:
                log.error(
                    "esl: event queue full, dropping events (a resync follows)",
                    extra={"node": self.node.name, "dropped": stats.events_dropped, "queue": self._queue_size},
                )
            return
        queue.append(event)
        depth = len(queue)
        if depth == 1:
            self._queued.set()  # the dispatcher waits only on an empty queue
        if depth > stats.queue_high_water:
            stats.queue_high_water = depth
            if depth in self._warn_depths:
                log.warning("esl: event queue filling up (handlers too slow?)",
                            extra={"node": self.node.name, "depth": depth, "bound": self._queue_size})

    def _dispatch_loop(self) -> None:
        """The dispatcher greenlet: hand each queued item to its callback, in order.
        A handler's exception is logged and the loop goes on."""
        queue, queued, on_event = self._queue, self._queued, self._on_event
        handled = 0
        while True:
            if not queue:
                queued.clear()
                queued.wait()
                continue
            handled += 1
            if handled % YIELD_EVERY == 0:
                gevent.sleep(0)  # a burst must not starve the web, routing's commands, timers
            item = queue.popleft()
            try:
                if isinstance(item, _Resync):
                    self._deliver_resync(item)
                else:
                    on_event(item)
            except Exception:
                log.exception("esl: event handler failed", extra={"node": self.node.name})
            if self._resync_after_drain and not queue and self._ready.is_set():
                self._resync_after_drain = False
                gevent.spawn(self._resync_quietly)

    def _deliver_resync(self, item: _Resync) -> None:
        try:
            if self._on_resync is not None:
                self._on_resync(self.node.name, item.channels)
        finally:
            item.delivered.set()

    def _resync_quietly(self) -> None:
        try:
            self._resync()
        except ESLError as exc:
            log.warning("esl: resync failed", extra={"node": self.node.name, "error": str(exc)})

    def _resync(self) -> None:
        """Snapshot the switch's channels (``show channels`` rows merged with their
        ``uuid_dump``, which carries our ``variable_cti_*``) and wait until the
        dispatcher has handed them to ``on_resync``, in order with the events."""
        listing_text = self.api(show_channels())
        try:
            listing = orjson.loads(listing_text or "{}")
        except orjson.JSONDecodeError:
            raise ESLCommandError(show_channels(), f"not JSON: {listing_text[:200]}", self.node.name) from None
        channels: list[dict[str, Any]] = []
        for row in listing.get("rows") or []:
            channel = dict(row)
            try:
                channel.update(orjson.loads(self.api(uuid_dump(str(row.get("uuid", ""))))))
            except ESLCommandError:
                continue  # hung up between the listing and the dump
            except (CommandArgumentError, orjson.JSONDecodeError) as exc:  # a non-UUID origination_uuid
                log.warning("esl: channel kept without its uuid_dump",
                            extra={"node": self.node.name, "uuid": row.get("uuid"), "error": str(exc)})
            channels.append(channel)
        self._stats.resyncs += 1
        log.info("esl: resync", extra={"node": self.node.name, "channels": len(channels)})
        item = _Resync(channels, gevent.event.Event())
        self._queue.append(item)  # past the bound if need be: the bound is for events
        self._queued.set()
        item.delivered.wait()

    # --- commands -----------------------------------------------------------------

    def _command(self, data: bytes, timeout: float | None, what: str, transport: ESLTransport | None = None) -> Frame:
        transport = transport or self._transport
        if transport is None:
            raise ESLNotConnected(f"not connected to {self.node.name}")
        try:
            return transport.send(data, self._command_timeout if timeout is None else timeout)
        except ESLTimeout:
            self._stats.commands_timed_out += 1
            log.error("esl: command timed out, reconnecting", extra={"node": self.node.name, "command": what})
            raise

    def api(self, command: str, *, timeout: float | None = None) -> str:
        """Run ``api <command>`` and return the response body as sent.

        Raises ESLCommandError when the body starts with ``-ERR`` or ``-USAGE`` (its
        text is kept in ``.reply``), ESLTimeout, ESLNotConnected.
        """
        frame = self._command(encode_command(f"api {command}"), timeout, command)
        body = frame.body.decode("utf-8", errors="replace")
        if body.startswith(("-ERR", "-USAGE")):
            raise ESLCommandError(command, body, self.node.name)
        return body

    def bgapi_async(self, command: str, *, timeout: float | None = None) -> gevent.event.AsyncResult:
        """Start ``bgapi <command>``; the result settles with the BACKGROUND_JOB body.

        Waits only for the switch's ``+OK Job-UUID`` reply. The AsyncResult gets the
        body (``+OK ...``), or ESLCommandError (``-ERR ...``), ESLTimeout when no
        BACKGROUND_JOB came within ``timeout``, ESLNotConnected if the link drops.
        """
        wait = self._command_timeout if timeout is None else timeout
        job_uuid = str(uuidlib.uuid4())
        result = gevent.event.AsyncResult()
        self._jobs[job_uuid] = (result, command)
        try:
            reply = self._command(encode_command(f"bgapi {command}", {"Job-UUID": job_uuid}), timeout, command)
        except ESLError:
            self._jobs.pop(job_uuid, None)
            raise
        text = reply.headers.get("Reply-Text", "")
        if not text.startswith("+OK"):
            self._jobs.pop(job_uuid, None)
            raise ESLCommandError(command, text, self.node.name)
        granted = reply.headers.get("Job-UUID", job_uuid)
        if granted != job_uuid:  # a switch that ignores our Job-UUID header
            self._jobs[granted] = self._jobs.pop(job_uuid)
        timer = gevent.spawn_later(wait, self._expire_job, granted, wait)
        result.rawlink(lambda _: timer.kill(block=False))
        return result

    def bgapi(self, command: str, *, timeout: float | None = None) -> str:
        """``bgapi`` and wait for its BACKGROUND_JOB body (same errors as :meth:`api`)."""
        body: str = self.bgapi_async(command, timeout=timeout).get()
        return body

    def _settle_job(self, event: Event) -> None:
        job = self._jobs.pop(event.job_uuid, None)
        if job is None:
            return
        result, command = job
        if event.body.startswith("-ERR"):
            result.set_exception(ESLCommandError(command, event.body, self.node.name))
        else:
            result.set(event.body)

    def _expire_job(self, job_uuid: str, waited: float) -> None:
        job = self._jobs.pop(job_uuid, None)
        if job is not None:
            result, command = job
            result.set_exception(ESLTimeout(f"{self.node.name}: no result for bgapi {command!r} in {waited} s"))

    def _fail_jobs(self, error: ESLError) -> None:
        jobs, self._jobs = self._jobs, {}
        for result, _command in jobs.values():
            if not result.ready():
                result.set_exception(error)

    def sendmsg(
        self, uuid: str, app: str, arg: str = "", *, event_lock: bool = False, loops: int = 1,
        timeout: float | None = None, event_uuid: str = "",
    ) -> None:
        """Run a dialplan application on a channel; raises ESLCommandError on ``-ERR``
        (for example ``-ERR invalid session id [<uuid>]``). ``event_uuid`` comes back as
        the ``Application-UUID`` of its CHANNEL_EXECUTE(_COMPLETE)."""
        data = encode_sendmsg(uuid, app, arg, event_lock=event_lock, loops=loops, event_uuid=event_uuid)
        reply = self._command(data, timeout, f"sendmsg {uuid} {app}").headers.get("Reply-Text", "")
        if not reply.startswith("+OK"):
            raise ESLCommandError(f"sendmsg {uuid} {app}", reply, self.node.name)

    def execute(self, uuid: str, call: AppCall, **kw: Any) -> None:
        """:meth:`sendmsg` for an :class:`esl.commands.AppCall` builder result."""
        self.sendmsg(uuid, call.app, call.arg, **kw)

    def resync_now(self) -> None:
        """Rebuild the picture on demand (e.g. an operator command). Not from inside
        ``on_event``/``on_resync``: the resync is delivered by that same greenlet."""
        if gevent.getcurrent() is self._dispatcher:
            raise RuntimeError("resync_now() called from the event handler; spawn it instead")
        self._resync()


class SwitchSet:
    """Several switches (``CTI_ESL`` lists them): one :class:`ESLClient` per node,
    commands routed by node name, every event tagged with its node."""

    def __init__(
        self,
        nodes: Sequence[ESLNode],
        *,
        on_event: Callable[[Event], None],
        on_resync: Callable[[str, list[dict[str, Any]]], None] | None = None,
        **options: Any,
    ) -> None:
        if not nodes:
            raise ValueError("no switch configured: set CTI_ESL=esl://name:PASSWORD@HOST:PORT")
        self._clients = {node.name: ESLClient(node, on_event=on_event, on_resync=on_resync, **options) for node in nodes}

    @property
    def names(self) -> list[str]:
        return list(self._clients)

    def __getitem__(self, name: str) -> ESLClient:
        try:
            return self._clients[name]
        except KeyError:
            raise ESLNotConnected(f"unknown switch {name!r}; configured: {', '.join(self._clients)}") from None

    def __iter__(self) -> Iterator[ESLClient]:
        return iter(self._clients.values())

    def __len__(self) -> int:
        return len(self._clients)

    def start(self) -> None:
        for client in self:
            client.start()

    def stop(self) -> None:
        for client in self:
            client.stop()

    def wait_connected(self, timeout: float) -> bool:
        """True once every switch is connected and resynced, within one shared deadline."""
        deadline = time.monotonic() + timeout
        return all(client.wait_connected(max(0.0, deadline - time.monotonic())) for client in self)

    def api(self, node: str, command: str, **kw: Any) -> str:
        return self[node].api(command, **kw)

    def bgapi(self, node: str, command: str, **kw: Any) -> str:
        return self[node].bgapi(command, **kw)

    def bgapi_async(self, node: str, command: str, **kw: Any) -> gevent.event.AsyncResult:
        return self[node].bgapi_async(command, **kw)

    def sendmsg(self, node: str, uuid: str, app: str, arg: str = "", **kw: Any) -> None:
        self[node].sendmsg(uuid, app, arg, **kw)

    def execute(self, node: str, uuid: str, call: AppCall, **kw: Any) -> None:
        self[node].execute(uuid, call, **kw)

    def stats(self) -> dict[str, ClientStats]:
        return {name: client.stats for name, client in self._clients.items()}
