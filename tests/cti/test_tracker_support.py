"""Helpers shared by the tracker tests (this module holds no tests itself).

* Derived captures: copies of the real FreeSWITCH captures with our ``cti_*`` channel
  variables injected into a leg's events, as the middleware would have set them
  (originate ``{}`` variables appear in every event of the leg that carries
  ``variable_*`` headers; ``uuid_setvar`` ones from the event after it was sent).
* :class:`Channel`: a synthetic leg that emits events shaped like the real ones
  (same header names), for scenarios the captures do not cover.
* :func:`replay`: feed events (and commands at chosen points) to a :class:`LiveState`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cti.bus import DomainEvent
from cti.tracker import LiveState
from esl.events import Event
from tests.captures import load_capture

Command = Callable[[LiveState, float], list[DomainEvent]]


def has_vars(event: Event) -> bool:
    return any(key.startswith("variable_") for key in event.headers)


def inject(
    events: Iterable[Event], uuid: str, variables: Mapping[str, str], *, from_seq: int = 0,
    only_if: str | None = None,
) -> list[Event]:
    """Add ``variable_<name>`` headers to the events of leg ``uuid`` that carry variables.

    Args:
        from_seq: only events with this Event-Sequence or later (a ``uuid_setvar`` or a
            dialplan ``set`` takes effect from there on).
        only_if: only events that already carry this header (e.g.
            ``variable_origination_uuid``: where the originate's ``{}`` variables are).
    """
    out = []
    for event in events:
        if (
            event.uuid == uuid and event.sequence >= from_seq and has_vars(event)
            and (only_if is None or only_if in event.headers)
        ):
            headers = dict(event.headers)
            headers.update({f"variable_{k}": v for k, v in variables.items()})
            event = Event(headers=headers, body=event.body, node=event.node, received_at=event.received_at)
        out.append(event)
    return out


def first_seq(events: Sequence[Event], uuid: str, name: str, application: str | None = None) -> int:
    for event in events:
        if event.uuid == uuid and event.name == name and (application is None or event.get("Application") == application):
            return event.sequence
    raise LookupError(f"no {name} for {uuid}")


def managed_inbound(events: Sequence[Event], caller: str, did: str = "5900") -> list[Event]:
    """The caller leg as our dialplan and middleware would have marked it.

    ``cti_did``/``cti_managed`` are set by the dialplan right before ``park`` (from the
    CHANNEL_EXECUTE of park on); ``cti_interaction_id`` (= the caller's uuid) and
    ``cti_role=customer`` are set with ``uuid_setvar`` once the middleware saw the park
    (from the event after CHANNEL_PARK on).
    """
    park_exec = first_seq(events, caller, "CHANNEL_EXECUTE", "park")
    parked = first_seq(events, caller, "CHANNEL_PARK")
    out = inject(events, caller, {"cti_managed": "true", "cti_did": did}, from_seq=park_exec)
    return inject(out, caller, {"cti_interaction_id": caller, "cti_role": "customer"}, from_seq=parked + 1)


def originated(events: Sequence[Event], uuid: str, variables: Mapping[str, str]) -> list[Event]:
    """A leg we originated with ``{cti_...}`` variables: wherever the capture shows the
    originate's own ``{}`` variables (``variable_origination_uuid``), ours are there too."""
    return inject(events, uuid, variables, only_if="variable_origination_uuid")


def shifted(events: Iterable[Event], seconds: float, sequences: int = 0) -> list[Event]:
    """Copies moved in time (timestamps and Caller-Channel-*-Time) and in sequence."""
    delta = int(round(seconds * 1_000_000))
    out = []
    for event in events:
        headers = dict(event.headers)
        for key in list(headers):
            if key == "Event-Date-Timestamp" or (key.endswith("-Time") and "Channel" in key):
                if headers[key].isdigit() and int(headers[key]):
                    headers[key] = str(int(headers[key]) + delta)
        if sequences and headers.get("Event-Sequence", "").isdigit():
            headers["Event-Sequence"] = str(int(headers["Event-Sequence"]) + sequences)
        out.append(Event(headers=headers, body=event.body, node=event.node, received_at=event.received_at + seconds))
    return out


def bgapi_jobs(name: str) -> dict[str, str]:
    """Job-UUID -> origination_uuid for every ``bgapi originate`` of a capture (what the
    shell learns from the command reply and uses to map a BACKGROUND_JOB to its leg)."""
    jobs: dict[str, str] = {}
    pending: str | None = None
    for record in load_capture(name):
        if record["direction"] == "out":
            command = record["command"]
            pending = None
            if command.startswith("bgapi originate") and "origination_uuid=" in command:
                pending = command.split("origination_uuid=", 1)[1].split(",", 1)[0].split("}", 1)[0]
        elif record["direction"] == "in" and pending and record["headers"].get("Job-UUID"):
            jobs[record["headers"]["Job-UUID"]] = pending
            pending = None
    return jobs


@dataclass
class Replay:
    events: list[DomainEvent] = field(default_factory=list)

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def of(self, type_: str) -> list[DomainEvent]:
        return [e for e in self.events if e.type == type_]


def replay(
    live: LiveState, events: Iterable[Event], before: Mapping[int, Sequence[Command]] | None = None,
    *, jobs: Mapping[str, str] | None = None,
) -> Replay:
    """Apply ``events`` in order; run ``before[seq]`` commands just before event ``seq``.

    BACKGROUND_JOB events whose Job-UUID is in ``jobs`` and whose body is ``-ERR ...``
    become ``originate_failed(leg, reason)``, as the shell does.
    """
    result = Replay()
    before = before or {}
    for event in events:
        for command in before.get(event.sequence, ()):
            result.events += command(live, event.timestamp)
        if event.name == "BACKGROUND_JOB" and jobs and event.job_uuid in jobs and event.body.startswith("-ERR"):
            result.events += live.originate_failed(jobs[event.job_uuid], event.body.strip(), now=event.timestamp)
            continue
        result.events += live.apply_event(event)
    return result


def summary(event: DomainEvent) -> tuple[Any, ...]:
    """A domain event without its random id and its bulky record, for exact comparisons."""
    keep = {
        "call.offered": ("agent_id", "leg_uuid"),
        "call.offer_failed": ("agent_id", "outcome"),
        "call.answered": ("agent_id", "wait_seconds"),
        "call.abandoned": ("wait_seconds",),
        "call.ended": ("outcome", "hangup_by"),
        "agent.state_changed": ("previous_state", "state", "reason"),
        "call.supervisor_joined": ("mode",),
        "call.supervisor_left": ("mode",),
        "call.recording_stopped": ("duration_ms", "size_bytes"),
        "call.queued": ("queue",),
        "call.transferred": ("kind", "target"),
        "call.consult_ended": ("outcome",),
    }.get(event.type, ())
    return (event.type, event.agent_id) + tuple(event.data.get(k) for k in keep)


# --- synthetic channels -----------------------------------------------------------

_sequence = itertools.count(1)


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def tick(self, seconds: float = 0.02) -> float:
        self.now += seconds
        return self.now


class Channel:
    """A synthetic leg emitting events with the real header names.

    ``variables`` are ``cti_*`` (or any) channel variables carried by every event that
    carries variables, as FreeSWITCH does for variables set at originate time.
    """

    def __init__(
        self, clock: Clock, uuid: str, *, name: str = "sofia/internal/1001@127.0.0.1:5090",
        direction: str = "outbound", caller: str = "0000000000", destination: str = "1001",
        variables: Mapping[str, str] | None = None, node: str = "fs1",
    ) -> None:
        self.clock, self.uuid, self.name, self.direction = clock, uuid, name, direction
        self.caller, self.destination, self.node = caller, destination, node
        self.variables = dict(variables or {})
        self.created = clock.now
        self.answered: float | None = None

    def event(self, name: str, extra: Mapping[str, str] | None = None) -> Event:
        at = self.clock.now
        headers = {
            "Event-Name": name,
            "Event-Sequence": str(next(_sequence)),
            "Event-Date-Timestamp": str(int(round(at * 1_000_000))),
            "Unique-ID": self.uuid,
            "Channel-Name": self.name,
            "Call-Direction": self.direction,
            "Channel-Call-UUID": self.uuid,
            "Caller-Caller-ID-Number": self.caller,
            "Caller-Destination-Number": self.destination,
            "Caller-Channel-Created-Time": str(int(round(self.created * 1_000_000))),
            "Caller-Channel-Answered-Time": str(int(round(self.answered * 1_000_000))) if self.answered else "0",
            "variable_uuid": self.uuid,
        }
        headers.update({f"variable_{k}": v for k, v in self.variables.items()})
        headers.update(extra or {})
        return Event(headers=headers, node=self.node)

    def create(self) -> Event:
        return self.event("CHANNEL_CREATE")

    def answer(self) -> Event:
        self.answered = self.clock.now
        return self.event("CHANNEL_ANSWER")

    def bridge(self, other: Channel) -> Event:
        """CHANNEL_BRIDGE on this (the caller) leg, describing ``other`` as the real one does."""
        return self.event("CHANNEL_BRIDGE", {
            "Other-Leg-Unique-ID": other.uuid,
            "Other-Leg-Channel-Name": other.name,
            "Other-Leg-Direction": other.direction,
            "Other-Leg-Caller-ID-Number": other.caller,
            "Other-Leg-Destination-Number": other.destination,
            "Other-Leg-Channel-Created-Time": str(int(round(other.created * 1_000_000))),
            "Other-Leg-Channel-Answered-Time": str(int(round(other.answered * 1_000_000))) if other.answered else "0",
        })

    def unbridge(self, other: Channel) -> Event:
        return self.event("CHANNEL_UNBRIDGE", {"Other-Leg-Unique-ID": other.uuid})

    def hangup(self, cause: str = "NORMAL_CLEARING") -> Event:
        return self.event("CHANNEL_HANGUP", {"Hangup-Cause": cause})

    def complete(self, cause: str = "NORMAL_CLEARING", disposition: str = "") -> Event:
        extra = {"Hangup-Cause": cause}
        if disposition:
            extra["variable_sip_hangup_disposition"] = disposition
        return self.event("CHANNEL_HANGUP_COMPLETE", extra)

    def end(self, cause: str = "NORMAL_CLEARING", disposition: str = "") -> list[Event]:
        return [self.hangup(cause), self.complete(cause, disposition)]
