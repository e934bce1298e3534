"""The wallboard's live picture: the snapshot a supervisor's page starts from and the
pushes that keep it current, both limited to what the supervisor may see.

Pushes are derived on the server from the domain events ``call.*``,
``agent.state_changed`` and ``queue.changed`` (and the floor figures of the day): each
event marks a call, an agent or a queue dirty, and a pusher greenlet sends the current
summary of everything dirty as ``wallboard.call`` / ``wallboard.agent`` /
``wallboard.queue`` (or ``wallboard.call`` with ``gone: true`` when a call is over).
The page thus never rebuilds a call's state from event fragments, and a burst of
events for one call costs one message. Rooms follow webapp/sockets.py's contract and
mirror :class:`cti.supervision_rules.Scope` exactly: a call goes to ``site``, its
queue's room, and the team and queue rooms of every agent on it; an agent to ``site``,
their team's room and their queues' rooms; a queue to ``site`` and its own room. So a
supervisor receives a push only if the same thing is in their scope.

Bus subscribers only mark and wake (they run in the core's dispatcher); the summaries
read the in-memory live state, never the database.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.event

from cti.agent_states import AgentState
from cti.bus import DomainEvent
from cti.call_states import FINAL, CallState
from cti.db import Database
from cti.interaction import Interaction, LegRole
from cti.supervision_rules import Scope, available, call_agents, sees
from cti.tracker import UnknownAgent, UnknownInteraction

log = logging.getLogger(__name__)

WAITING = frozenset({CallState.QUEUED, CallState.OFFERING})
#: Seconds between a change and its push: events of one burst go out as one message.
PUSH_DELAY = 0.05
DEFAULT_SL_TARGET = 0.8
DEFAULT_MAX_WAIT_S = 60


@dataclass(frozen=True, slots=True)
class AgentInfo:
    id: int
    code: str
    name: str
    team_id: int | None
    team: str
    queues: frozenset[str]


@dataclass(frozen=True, slots=True)
class QueueInfo:
    name: str
    display_name: str
    members: frozenset[int]


@dataclass(frozen=True)
class FloorDirectory:
    """Who is who on the floor (names, teams, queue membership), from the site tables;
    reloaded whenever a wallboard (re)connects, so a provisioning change shows there."""

    agents: Mapping[int, AgentInfo] = field(default_factory=dict)
    queues: Mapping[str, QueueInfo] = field(default_factory=dict)

    def agent_rooms(self, agent_id: int) -> set[str]:
        info = self.agents.get(agent_id)
        if info is None:
            return {"site"}
        rooms = {"site"} | {f"queue:{q}" for q in info.queues}
        if info.team_id is not None:
            rooms.add(f"team:{info.team_id}")
        return rooms

    def call_rooms(self, ix: Interaction) -> set[str]:
        rooms = {"site"}
        if ix.queue:
            rooms.add(f"queue:{ix.queue}")
        for agent_id in call_agents(ix):
            if agent_id is not None:
                rooms |= self.agent_rooms(agent_id)
        return rooms


def load_directory(db: Database) -> FloorDirectory:
    agents = db.fetchall(
        """SELECT a.id, a.code, COALESCE(NULLIF(u.display_name, ''), u.username) AS name, a.team_id,
                  COALESCE(t.name, '') AS team,
                  COALESCE(array_agg(q.name ORDER BY q.name) FILTER (WHERE q.name IS NOT NULL), '{}') AS queues
             FROM agents a JOIN users u ON u.id = a.user_id LEFT JOIN teams t ON t.id = a.team_id
             LEFT JOIN queue_agents qa ON qa.agent_id = a.id LEFT JOIN queues q ON q.id = qa.queue_id
            GROUP BY a.id, u.display_name, u.username, t.name ORDER BY a.code"""
    )
    queues = db.fetchall(
        """SELECT q.name, q.display_name, COALESCE(array_agg(qa.agent_id) FILTER (WHERE qa.agent_id IS NOT NULL), '{}')
                  AS members
             FROM queues q LEFT JOIN queue_agents qa ON qa.queue_id = q.id GROUP BY q.id ORDER BY q.name"""
    )
    return FloorDirectory(
        agents={int(r["id"]): AgentInfo(int(r["id"]), r["code"], r["name"], r["team_id"], r["team"],
                                        frozenset(r["queues"])) for r in agents},
        queues={r["name"]: QueueInfo(r["name"], r["display_name"] or r["name"], frozenset(int(m) for m in r["members"]))
                for r in queues},
    )


# --- summaries (what the page shows) ----------------------------------------------------


def call_summary(ix: Interaction) -> dict[str, Any]:
    """One live call for the wallboard's list, with which supervisor actions apply."""
    serving = ix.legs.get(ix.serving_leg) if ix.serving_leg else None
    visit = ix.queue_visits[-1] if ix.queue_visits and ix.queue_visits[-1].left_at is None else None
    return {
        "id": ix.id,
        "state": ix.state.value,
        "direction": ix.direction.value,
        "caller_number": ix.caller_number or ix.callee_number,
        "caller_name": ix.caller_name,
        "queue": ix.queue,
        "priority": ix.priority,
        "agent_id": serving.agent_id if serving is not None else ix.agent_id,
        "serving_role": serving.role.value if serving is not None else None,
        "ringing_agents": [o.agent_id for o in ix.ringing_offers()],
        "started_at": ix.started_at,
        "waiting_since": visit.entered_at if visit is not None and ix.state in WAITING else None,
        "answered_at": ix.answered_at,
        "held": ix.held,
        "supervisors": [
            {"leg_uuid": s.leg_uuid, "mode": s.mode.value, "extension": s.extension, "joined_at": s.joined_at}
            for s in ix.supervisors if s.left_at is None and _up(ix, s.leg_uuid)
        ],
        "actions": available(ix),
    }


def _up(ix: Interaction, leg_uuid: str) -> bool:
    leg = ix.legs.get(leg_uuid)
    return leg is not None and leg.up and leg.role is LegRole.SUPERVISOR


def agent_summary(agent_id: int, directory: FloorDirectory, live: Any, calls_handled: int) -> dict[str, Any]:
    """One agent for the grid: state, reason, since, current call and its queue."""
    info = directory.agents.get(agent_id)
    state, reason, since, call, queue, extension = AgentState.LOGGED_OUT.value, "", None, None, "", ""
    if live is not None:
        try:
            agent = live.agent(agent_id)
        except UnknownAgent:
            agent = None
        if agent is not None:
            state, reason, extension = agent.state.value, agent.reason, agent.extension
            since, call = agent.since or None, agent.interaction_id
            queue = _queue_of(live, call)
    return {
        "id": agent_id, "code": info.code if info else str(agent_id), "name": info.name if info else "",
        "team": info.team if info else "", "queues": sorted(info.queues) if info else [], "state": state,
        "reason": reason, "since": since, "extension": extension, "interaction_id": call, "call_queue": queue,
        "calls_today": calls_handled,
    }


def _queue_of(live: Any, interaction_id: str | None) -> str:
    if interaction_id is None:
        return ""
    try:
        return str(live.interaction(interaction_id).queue)
    except UnknownInteraction:
        return ""


def queue_summary(name: str, directory: FloorDirectory, calls: Iterable[Interaction], agent_states: Mapping[int, str],
                  figures: Mapping[str, Any], threshold: float) -> dict[str, Any]:
    """One queue's tile: calls waiting, the longest wait, agents by state, today's figures."""
    waiting = [ix for ix in calls if ix.queue == name and ix.state in WAITING]
    entered = [v.entered_at for ix in waiting for v in ix.queue_visits[-1:] if v.left_at is None]
    info = directory.queues.get(name)
    members = info.members if info else frozenset()
    return {
        "name": name, "display_name": info.display_name if info else name, "waiting": len(waiting),
        "longest_waiting_since": min(entered) if entered else None,
        "agents_by_state": dict(Counter(agent_states.get(a, AgentState.LOGGED_OUT.value) for a in members)),
        "sl_threshold_s": threshold, **figures,
    }


class Floor:
    """Reading the live floor through the services (core, floor figures), for one scope."""

    def __init__(self, services: Any, directory: FloorDirectory) -> None:
        self.services = services
        self.directory = directory
        core = getattr(services, "core", None)
        self.live = core.state if core is not None else None
        self.figures = getattr(services, "floor", None)

    def interactions(self) -> list[Interaction]:
        if self.live is None:
            return []
        return sorted(self.live.live_interactions(), key=lambda ix: ix.started_at)

    def agent_states(self) -> dict[int, str]:
        if self.live is None:
            return {}
        return {int(a["id"]): str(a["state"]) for a in self.live.agents()}

    def calls_handled(self, agent_id: int) -> int:
        return self.figures.calls_handled(agent_id) if self.figures is not None else 0

    def queue(self, name: str, calls: list[Interaction], states: Mapping[int, str]) -> dict[str, Any]:
        figures = self.figures.queue_figures(name) if self.figures is not None else {}
        threshold = self.figures.thresholds([name])[name] if self.figures is not None else 20.0
        return queue_summary(name, self.directory, calls, states, figures, threshold)

    def agent(self, agent_id: int) -> dict[str, Any]:
        return agent_summary(agent_id, self.directory, self.live, self.calls_handled(agent_id))

    def snapshot(self, scope: Scope) -> dict[str, Any]:
        """Everything in ``scope``, as the page's initial picture (in-memory only: taken
        in one go, so no push can fall between its parts)."""
        calls = self.interactions()
        states = self.agent_states()
        return {
            "generated_at": time.time(),
            "queues": [self.queue(q, calls, states) for q in sorted(self.directory.queues) if scope.sees_queue(q)],
            "agents": [self.agent(a) for a in sorted(self.directory.agents, key=lambda a: self.directory.agents[a].code)
                       if scope.sees_agent(a)],
            "calls": [call_summary(ix) for ix in calls if sees(scope, ix)],
            # A call or agent in scope may be on a queue that is not (a team's agent on
            # another queue): the page still names it as people know it.
            "queue_names": {name: q.display_name for name, q in self.directory.queues.items()},
        }


def alert_settings(extra: Mapping[str, str]) -> dict[str, float]:
    """Site defaults for the wallboard's alerts (``CTI_WALLBOARD_SL_TARGET`` as a
    fraction, ``CTI_WALLBOARD_MAX_WAIT`` in seconds); each page may override them."""
    def number(key: str, default: float, low: float, high: float) -> float:
        try:
            value = float(extra.get(key, default))
        except ValueError:
            log.warning("wallboard setting ignored: not a number", extra={"setting": key})
            return default
        return value if low <= value <= high else default

    return {"sl_target": number("CTI_WALLBOARD_SL_TARGET", DEFAULT_SL_TARGET, 0.0, 1.0),
            "max_wait_s": number("CTI_WALLBOARD_MAX_WAIT", DEFAULT_MAX_WAIT_S, 1.0, 86_400.0)}


# --- pushes ------------------------------------------------------------------------------


class WallboardPusher:
    """Marks what changed (bus and floor subscribers) and pushes current summaries."""

    def __init__(self, socketio: Any, services: Any) -> None:
        self.socketio = socketio
        self.services = services
        self.directory = FloorDirectory()
        self._calls: set[str] = set()
        self._agents: set[int] = set()
        self._queues: set[str] = set()
        self._call_rooms: dict[str, set[str]] = {}
        self._wake = gevent.event.Event()
        self._loop: gevent.Greenlet | None = None

    def start(self) -> None:
        self.reload()
        bus = self.services.bus
        bus.subscribe("call.*", self._on_call)
        bus.subscribe("agent.state_changed", self._on_agent)
        bus.subscribe("queue.changed", self._on_queue)
        figures = getattr(self.services, "floor", None)
        if figures is not None:
            figures.add_listener(self._on_figures)
        self._loop = gevent.spawn(self._run)

    def reload(self) -> FloorDirectory:
        try:
            self.directory = load_directory(self.services.db)
        except Exception:
            log.exception("wallboard directory not reloaded; the previous one stays")
        return self.directory

    # subscribers: mark and wake only
    def _on_call(self, event: DomainEvent) -> None:
        if event.interaction_id:
            self._calls.add(event.interaction_id)
        if event.queue:
            self._queues.add(event.queue)
        if event.agent_id is not None:
            self._agents.add(event.agent_id)
        self._wake.set()

    def _on_agent(self, event: DomainEvent) -> None:
        if event.agent_id is not None:
            self._agents.add(event.agent_id)
            info = self.directory.agents.get(event.agent_id)
            self._queues.update(info.queues if info else ())
        self._wake.set()

    def _on_queue(self, event: DomainEvent) -> None:
        if event.queue:
            self._queues.add(event.queue)
            self._wake.set()

    def _on_figures(self, changes: Any) -> None:
        self._queues.update(changes.queues)
        self._agents.update(changes.agents)
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            gevent.sleep(PUSH_DELAY)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                log.exception("wallboard push failed")

    def flush(self) -> None:
        """Push everything marked since the last flush."""
        calls, agents, queues = self._calls, self._agents, self._queues
        self._calls, self._agents, self._queues = set(), set(), set()
        floor = Floor(self.services, self.directory)
        for iid in calls:
            self._push_call(floor, iid)
        for agent_id in agents:
            self.socketio.emit("wallboard.agent", floor.agent(agent_id), to=sorted(self.directory.agent_rooms(agent_id)))
        if queues:
            live = floor.interactions()
            states = floor.agent_states()
            for name in queues:
                self.socketio.emit("wallboard.queue", floor.queue(name, live, states), to=["site", f"queue:{name}"])

    def _push_call(self, floor: Floor, iid: str) -> None:
        ix = None
        if floor.live is not None:
            try:
                ix = floor.live.interaction(iid)
            except UnknownInteraction:
                ix = None
        if ix is None or ix.state in FINAL:
            rooms = self._call_rooms.pop(iid, {"site"})
            self.socketio.emit("wallboard.call", {"id": iid, "gone": True}, to=sorted(rooms))
            return
        rooms = self.directory.call_rooms(ix)
        previous = self._call_rooms.get(iid, set())
        self._call_rooms[iid] = rooms
        left = previous - rooms   # e.g. moved to another queue: those who lost it see it go
        if left:
            self.socketio.emit("wallboard.call", {"id": iid, "gone": True}, to=sorted(left))
        self.socketio.emit("wallboard.call", call_summary(ix), to=sorted(rooms))

    def push_session(self, user_id: int, payload: Mapping[str, Any]) -> None:
        self.socketio.emit("supervision.session", dict(payload), to=f"user:{user_id}")
