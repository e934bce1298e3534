"""The running switch: channels, their greenlets, the event stream and simulated time.

FreeSWITCH runs one state-machine thread per channel; here every channel (a
:class:`Leg`) runs one greenlet that executes its script -- ring, answer, run the
dialplan applications one after the other -- and blocks in ``wait()`` exactly where a
real channel blocks (park, playback, a bridge). Everything that happens *to* a channel
from outside (an API command, the other party hanging up, a bridge) is an
:class:`Interrupt` queued on the leg and handled by its own greenlet, so the events of
one channel come out in the order the real switch fires them.

``Core.fire`` stamps each event with ``Event-Sequence`` (strictly increasing) and the
20 ms core-timer timestamp and hands it to the publisher (the TCP server). Delays are
simulated seconds, divided by ``speed`` before gevent sleeps.
"""

from __future__ import annotations

import itertools
import logging
import random
import uuid as uuidlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.event
import gevent.pool

from esl.simulator.clock import SimClock
from esl.simulator.dialplan import Action, Dialplan
from esl.simulator.endpoints import CustomerProfile, Directory
from esl.simulator.model import Channel
from esl.simulator.render import Identity, channel_event, common
from esl.simulator.scheduler import Scheduler

log = logging.getLogger(__name__)

Publisher = Callable[[dict[str, str], str], None]


class LegGone(Exception):
    """Raised inside a leg's greenlet when it must stop running applications."""


@dataclass(slots=True)
class Interrupt:
    """Something asked of a channel from outside its own thread.

    ``kind`` is one of ``hangup``, ``transfer``, ``bridge``, ``unbridge``, ``break``,
    ``private`` (a queued sendmsg / broadcast), ``answer`` (the far end picked up).
    """

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class Leg:
    """One live channel: its :class:`Channel` data plus the runtime around it."""

    def __init__(self, channel: Channel, kind: str, context: dict[str, str]) -> None:
        self.ch = channel
        self.kind = kind
        self.ctx = context
        self.actions: deque[Action] = deque()
        self.interrupts: deque[Interrupt] = deque()
        self.privates: deque[Interrupt] = deque()
        self._wake = gevent.event.Event()
        self.greenlet: gevent.Greenlet | None = None
        self.hanging_up = False
        self.destroyed = False
        self.app = ""
        self.app_data = ""
        self.parked = False
        self.bridge: Any = None
        self.bridged_to = ""
        self.endpoint: Any = None
        self.dtmf: deque[str] = deque()
        self.recordings: dict[str, Any] = {}
        self.bugs: list[tuple[str, str]] = []
        self.held = False
        self.eavesdrop_mode = ""
        self.answered_event = gevent.event.Event()
        self.on_hangup: list[Callable[[], None]] = []
        self.on_down: list[Callable[[], None]] = []

    @property
    def uuid(self) -> str:
        return self.ch.uuid

    def poke(self) -> None:
        """Wake the leg's greenlet to look again (a DTMF digit arrived)."""
        self._wake.set()

    def push(self, interrupt: Interrupt) -> None:
        """Queue something for this channel's greenlet and wake it."""
        if interrupt.kind == "private":
            self.privates.append(interrupt)
        else:
            self.interrupts.append(interrupt)
        self._wake.set()

    def pending(self, kind: str) -> Interrupt | None:
        """The first queued interrupt of ``kind`` (left in the queue)."""
        for item in self.interrupts:
            if item.kind == kind:
                return item
        return None

    def take(self, kind: str) -> Interrupt | None:
        """Remove and return the first queued interrupt of ``kind``."""
        for item in self.interrupts:
            if item.kind == kind:
                self.interrupts.remove(item)
                return item
        return None

    def interrupted(self) -> bool:
        """Whether the running application must stop: the channel hangs up or an
        interrupt other than ``break`` (which only stops audio) is queued."""
        return self.hanging_up or any(item.kind != "break" for item in self.interrupts)


class Core:
    """The switch core shared by the server, the API and the endpoints."""

    def __init__(
        self,
        *,
        hostname: str = "vm",
        speed: float = 1.0,
        seed: int | None = None,
        publisher: Publisher | None = None,
    ) -> None:
        self.clock = SimClock(speed=speed, seed=seed)
        self.rng = random.Random(seed)
        self.hostname = hostname
        self.identity = Identity(core_uuid=self.new_uuid(), hostname=hostname)
        self._seq = itertools.count(1)
        self._session_ids = itertools.count(1)
        self.publisher = publisher
        self.legs: dict[str, Leg] = {}
        self.group = gevent.pool.Group()
        self.sessions_since_start = 0
        self.peak_sessions = 0
        self.global_vars: dict[str, str] = {}
        self.dialplan = Dialplan()
        self.directory = Directory()
        self.customers = CustomerProfile()
        self.hooks: list[Callable[[dict[str, str]], None]] = []
        self.scheduler = Scheduler(self)
        #: Runs an API command from inside the switch (``api_before_bridge`` ...);
        #: the engine installs the real one.
        self.api: Callable[[str, str], str] = lambda cmd, arg: f"-ERR {cmd} Command not found!\n"

    # -- identity and time ----------------------------------------------------------

    def new_uuid(self) -> str:
        return str(uuidlib.UUID(int=self.rng.getrandbits(128), version=4))

    def next_session_id(self) -> int:
        self.sessions_since_start += 1
        return next(self._session_ids)

    def reset_identity(self) -> None:
        """A restarted switch: new Core-UUID, sequence numbers from the start again."""
        self.identity = Identity(core_uuid=self.new_uuid(), hostname=self.hostname)
        self._seq = itertools.count(1)
        self._session_ids = itertools.count(1)
        self.sessions_since_start = 0

    def now_us(self) -> int:
        return self.clock.now_us()

    def sleep(self, sim_seconds: float) -> None:
        gevent.sleep(self.clock.real_delay(sim_seconds))

    def spawn(self, fn: Callable[..., Any], *args: Any) -> gevent.Greenlet:
        """A greenlet owned by the core (killed on restart), exceptions logged."""
        return self.group.spawn(self._guard, fn, *args)

    def later(self, sim_seconds: float, fn: Callable[..., Any], *args: Any) -> gevent.Greenlet:
        greenlet = gevent.Greenlet(self._guard, fn, *args)
        self.group.add(greenlet)
        greenlet.start_later(self.clock.real_delay(sim_seconds))
        return greenlet

    def _guard(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except (LegGone, gevent.GreenletExit):
            return None
        except Exception:
            log.exception("simulator task failed", extra={"task": getattr(fn, "__name__", str(fn))})
            return None

    # -- events ---------------------------------------------------------------------

    def publish(self, headers: dict[str, str], body: str = "") -> None:
        for hook in self.hooks:
            hook(headers)
        if self.publisher is not None:
            self.publisher(headers, body)

    def fire(
        self,
        name: str,
        leg: Leg,
        *,
        calling: str,
        before: Mapping[str, str] | None = None,
        after: Iterable[tuple[str, str]] = (),
        subclass: str = "",
    ) -> dict[str, str]:
        """Fire a channel event for ``leg`` now."""
        headers = channel_event(
            name, leg.ch, calling=calling, identity=self.identity, timestamp_us=self.now_us(),
            sequence=next(self._seq), before=before, after=after, subclass=subclass,
        )
        self.publish(headers)
        return headers

    def fire_plain(
        self, name: str, calling: str, fields: Iterable[tuple[str, str]], body: str = "",
        subclass: str = "",
    ) -> dict[str, str]:
        """Fire a non-channel event (API, BACKGROUND_JOB, HEARTBEAT ...)."""
        headers = common(name, calling, self.identity, self.now_us(), next(self._seq), subclass)
        headers.update(fields)
        self.publish(headers, body)
        return headers

    def take_sequence(self) -> int:
        """A sequence number for an event that is serialised but not fired
        (``uuid_dump``'s ``CHANNEL_DATA``)."""
        return next(self._seq)

    # -- legs -----------------------------------------------------------------------

    def add_leg(self, leg: Leg) -> None:
        self.legs[leg.uuid] = leg
        self.peak_sessions = max(self.peak_sessions, len(self.legs))

    def remove_leg(self, leg: Leg) -> None:
        if self.legs.get(leg.uuid) is leg:
            del self.legs[leg.uuid]

    def find(self, uuid: str) -> Leg | None:
        """A live (not yet destroyed) leg."""
        leg = self.legs.get(uuid.strip())
        return leg if leg is not None and not leg.destroyed else None

    def start_leg(self, leg: Leg, script: Callable[[Leg], None]) -> None:
        leg.greenlet = self.spawn(script, leg)

    def wait(
        self, leg: Leg, timeout: float | None = None, *, privates: bool = False, dtmf: bool = False,
        breaks: bool = False,
    ) -> bool:
        """Block the leg's own greenlet for up to ``timeout`` simulated seconds.

        Returns at once (True) if the application must stop (see ``Leg.interrupted``)
        or, when asked, a queued command, a DTMF digit or a ``break`` waits; else
        returns True when poked or pushed to, False on timeout. Callers re-check
        their own conditions: a wake-up is a hint, not a promise.
        """
        if (
            leg.interrupted()
            or (privates and leg.privates)
            or (dtmf and leg.dtmf)
            or (breaks and leg.pending("break") is not None)
        ):
            return True
        leg._wake.clear()
        return bool(leg._wake.wait(None if timeout is None else self.clock.real_delay(timeout)))

    def kill_all(self) -> None:
        """Every channel vanishes without a single event (a crash/restart)."""
        current = gevent.getcurrent()
        for greenlet in list(self.group):
            if greenlet is not current:
                greenlet.kill(block=False)
        self.legs.clear()
        self.scheduler.reset()
