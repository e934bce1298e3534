"""Waiting for one channel event of one leg, without polling.

Call control sometimes has to let the switch finish a step before the next command
(a customer taken out of a bridge must be parked before music is played to it; an
agent's leg is hung up only once the customer's new bridge is seen). It registers what
it expects *before* sending the command that causes it (the event may be dispatched
before the command's reply is read), then waits with a bound. :meth:`LegWaits.on_event`
is a :meth:`cti.core.LiveCore.add_channel_listener` listener: one dict lookup per event.

It also remembers which legs are parked right now (``CHANNEL_PARK`` until
``CHANNEL_UNPARK`` or the hangup), for a wait that starts after the fact: a step
triggered by a hangup may begin after the surviving leg has already parked.
"""

from __future__ import annotations

import gevent.event

from esl.events import Event

_LEAVES_PARK = frozenset({"CHANNEL_UNPARK", "CHANNEL_BRIDGE", "CHANNEL_HANGUP", "CHANNEL_DESTROY"})


class LegWaits:
    def __init__(self) -> None:
        self._expected: dict[tuple[str, str], list[gevent.event.Event]] = {}
        self._parked: set[str] = set()

    def parked(self, uuid: str) -> bool:
        return uuid in self._parked

    def expect(self, uuid: str, event_name: str) -> gevent.event.Event:
        """A flag set by the next ``event_name`` of leg ``uuid`` (after this call)."""
        flag = gevent.event.Event()
        self._expected.setdefault((uuid, event_name), []).append(flag)
        return flag

    def forget(self, uuid: str, event_name: str, flag: gevent.event.Event) -> None:
        flags = self._expected.get((uuid, event_name))
        if flags and flag in flags:
            flags.remove(flag)
            if not flags:
                del self._expected[(uuid, event_name)]

    def on_event(self, event: Event) -> None:
        name = event.name
        if name == "CHANNEL_PARK":
            self._parked.add(event.uuid)
        elif name in _LEAVES_PARK:
            self._parked.discard(event.uuid)
        flags = self._expected.pop((event.uuid, name), None)
        if flags:
            for flag in flags:
                flag.set()

    def __len__(self) -> int:
        return sum(len(flags) for flags in self._expected.values())
