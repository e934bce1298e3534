"""Who may see which live push: the Socket.IO room contract as pure functions.

Rooms (see :mod:`webapp.sockets` for the contract others rely on):

* ``user:<user id>``: every signed-in user; ``agent:<agent id>``: a user who is an
  agent; ``queue:<name>``: supervisors of that queue; ``team:<id>``: supervisors who
  lead that team; ``site``: admins; ``campaigns``: campaign managers and admins;
  ``everyone``: every signed-in user.

:func:`rooms_for` decides the rooms of one domain event from a :class:`Directory`
snapshot (who is in which queue and team) and the agents a :class:`CallAudience`
knows to be on the call; :func:`push_name` the name it is emitted under. Nothing here
does I/O; the push layer keeps the snapshot fresh and emits.

A preview offer (``campaign.changed`` with ``kind`` ``preview`` or
``preview_withdrawn`` and the agent's id) carries a customer's details meant for one
agent: it goes to that agent's room only -- not to the campaign managers, not to the
admins' ``site`` room -- under the name ``outbound.preview``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cti.bus import DomainEvent

SITE = "site"
EVERYONE = "everyone"
CAMPAIGNS = "campaigns"
#: The push name of a preview offer or its withdrawal (see the module docstring).
PREVIEW_PUSH = "outbound.preview"
PREVIEW_KINDS = frozenset({"preview", "preview_withdrawn"})


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def agent_room(agent_id: int) -> str:
    return f"agent:{agent_id}"


def queue_room(queue: str) -> str:
    return f"queue:{queue}"


def team_room(team_id: int) -> str:
    return f"team:{team_id}"


@dataclass(frozen=True)
class Directory:
    """Who is in which queue and team (loaded from the site's tables)."""

    agent_queues: Mapping[int, frozenset[str]] = field(default_factory=dict)
    agent_team: Mapping[int, int | None] = field(default_factory=dict)
    agent_by_code: Mapping[str, int] = field(default_factory=dict)
    #: flow name -> IVR nodes whose digits are secret (collect nodes with ``secret``)
    secret_nodes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: what screen-pops show without asking the database each time
    queue_info: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)   # display_name, screen_pop_url
    did_labels: Mapping[str, str] = field(default_factory=dict)
    agent_codes: Mapping[int, str] = field(default_factory=dict)
    caller_lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # number -> blacklist / vip


def rooms_of_user(
    user_id: int, roles: Iterable[str], agent_id: int | None, queues: Iterable[str], teams: Iterable[int],
) -> list[str]:
    """The rooms a signed-in user joins on connect."""
    role_set = set(roles)
    rooms = [user_room(user_id), EVERYONE]
    if agent_id is not None:
        rooms.append(agent_room(agent_id))
    if role_set & {"supervisor", "admin"}:
        rooms += [queue_room(q) for q in sorted(set(queues))]
        rooms += [team_room(t) for t in sorted(set(teams))]
    if "admin" in role_set:
        rooms.append(SITE)
    if role_set & {"campaign_manager", "admin"}:
        rooms.append(CAMPAIGNS)
    return rooms


#: Data fields of call events that name an agent taking part.
_AGENT_FIELDS = ("agent_id", "to_agent_id", "target_agent_id", "by_agent_id", "from_agent_id")


class CallAudience:
    """Which agents take part in which live interaction, learnt from the events
    themselves: an agent joins when a call is offered to them, answered, consulted or
    transferred to them, and leaves when their ring ends without answer. Bounded."""

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._agents: OrderedDict[str, set[int]] = OrderedDict()

    def agents_for(self, event: DomainEvent) -> frozenset[int]:
        """The agents who receive this call event (and update who takes part)."""
        iid = event.interaction_id
        named = {event.agent_id} if event.agent_id is not None else set()
        for key in _AGENT_FIELDS:
            value = event.data.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                named.add(value)
        if iid is None:
            return frozenset(named)
        known = self._agents.get(iid)
        if known is None:
            known = self._agents[iid] = set()
            while len(self._agents) > self.limit:
                self._agents.popitem(last=False)
        known |= named
        audience = frozenset(known)
        if event.type == "call.offer_failed" and event.agent_id is not None:
            known.discard(event.agent_id)
        elif event.type == "call.wrapup_ended" and event.data.get("final"):
            self._agents.pop(iid, None)
        return audience

    def __len__(self) -> int:
        return len(self._agents)


def preview_agent(event: DomainEvent) -> int | None:
    """The agent a preview offer (or its withdrawal) is addressed to; None for any
    other event."""
    if event.type.startswith("campaign.") and event.data.get("kind") in PREVIEW_KINDS:
        return event.agent_id
    return None


def push_name(event: DomainEvent) -> str:
    """The Socket.IO event name ``event`` is emitted under: its type, except preview
    offers (:data:`PREVIEW_PUSH`)."""
    return PREVIEW_PUSH if preview_agent(event) is not None else event.type


def rooms_for(event: DomainEvent, directory: Directory, audience: CallAudience) -> set[str]:
    """The rooms allowed to see ``event`` (see the module docstring)."""
    kind = event.type
    addressee = preview_agent(event)
    if addressee is not None:
        return {agent_room(addressee)}
    rooms = {SITE}
    if event.queue:
        rooms.add(queue_room(event.queue))
    if kind.startswith("call."):
        rooms |= {agent_room(a) for a in audience.agents_for(event)}
    elif kind == "agent.state_changed" and event.agent_id is not None:
        rooms |= _agent_watchers(event.agent_id, directory)
    elif kind == "voicemail.created":
        rooms |= _voicemail_rooms(event, directory)
    elif kind.startswith("campaign."):
        rooms.add(CAMPAIGNS)
    elif kind.startswith("system."):
        rooms.add(EVERYONE)
    elif event.agent_id is not None:
        rooms.add(agent_room(event.agent_id))
    return rooms


def _agent_watchers(agent_id: int, directory: Directory) -> set[str]:
    rooms = {agent_room(agent_id)}
    rooms |= {queue_room(q) for q in directory.agent_queues.get(agent_id, ())}
    team = directory.agent_team.get(agent_id)
    if team is not None:
        rooms.add(team_room(team))
    return rooms


def _voicemail_rooms(event: DomainEvent, directory: Directory) -> set[str]:
    rooms: set[str] = set()
    box = str(event.data.get("box") or "")
    kind, _, name = box.partition(":")
    if kind == "queue" and name:
        rooms.add(queue_room(name))
    elif kind == "agent" and name in directory.agent_by_code:
        rooms.add(agent_room(directory.agent_by_code[name]))
    if event.agent_id is not None:
        rooms.add(agent_room(event.agent_id))
    return rooms


# --- secret digits -------------------------------------------------------------------------

MASK = "•"


def _mask(value: Any) -> Any:
    return MASK * len(value) if isinstance(value, str) and value else value


def secret_nodes_of(data: Mapping[str, Any], directory: Directory) -> frozenset[str]:
    """The secret nodes of the call's flow; of every flow when the event does not say
    which (hiding too much is the safe mistake)."""
    flow = data.get("flow") or data.get("flow_name")
    if flow:
        return directory.secret_nodes.get(str(flow), frozenset())
    return frozenset().union(*directory.secret_nodes.values())


def masked(payload: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """``payload`` (a call event's public JSON) with the digits of secret IVR nodes
    hidden. When a call went through a secret node every DTMF digit of it is hidden
    (digits are not tied to nodes on the timeline); other calls are returned as is."""
    data = payload.get("data")
    if not isinstance(data, dict) or not directory.secret_nodes:
        return payload
    secret = secret_nodes_of(data, directory)
    if not secret or not _touches(data, secret):
        return payload
    return {**payload, "data": mask_data(data, secret)}


def _touches(data: Mapping[str, Any], secret: frozenset[str]) -> bool:
    if data.get("node") in secret:
        return True
    path = data.get("ivr_path") or (data.get("screen_pop") or {}).get("ivr_path") or ()
    return any((step.get("node") if isinstance(step, Mapping) else step) in secret for step in path)


def mask_data(data: dict[str, Any], secret: frozenset[str]) -> dict[str, Any]:
    out = dict(data)
    if "digits" in out:
        out["digits"] = _mask(out["digits"])
    if isinstance(out.get("screen_pop"), dict):
        out["screen_pop"] = {**out["screen_pop"], "digits": _mask(out["screen_pop"].get("digits"))}
    if isinstance(out.get("ivr_path"), list):
        out["ivr_path"] = [
            {**step, "digits": _mask(step.get("digits"))} if isinstance(step, dict) and step.get("node") in secret else step
            for step in out["ivr_path"]
        ]
    if isinstance(out.get("timeline"), list):
        out["timeline"] = [
            {**entry, "digit": MASK} if isinstance(entry, dict) and entry.get("type") == "dtmf" else
            {**entry, "digits": _mask(entry.get("digits"))} if isinstance(entry, dict) and entry.get("node") in secret
            else entry
            for entry in out["timeline"]
        ]
    return out


__all__ = [
    "CAMPAIGNS", "CallAudience", "Directory", "EVERYONE", "MASK", "PREVIEW_KINDS", "PREVIEW_PUSH", "SITE",
    "agent_room", "mask_data", "masked", "preview_agent", "push_name", "queue_room", "rooms_for",
    "rooms_of_user", "secret_nodes_of", "team_room", "user_room",
]
