"""Socket.IO: signed-in connections only, the rooms each user joins, and the live pushes.

The contract other parts rely on
--------------------------------

A connection without a valid signed-in session is refused. On connect the user joins:

* ``user:<user id>`` and ``everyone`` (every signed-in user);
* ``agent:<agent id>`` if the user is an agent;
* ``queue:<name>`` for each queue they supervise (``queue_supervisors``) and
  ``team:<id>`` for each team they lead (``team_supervisors``), if supervisor or admin;
* ``site`` if admin; ``campaigns`` if campaign manager or admin.

Then the server sends ``hello``: the user, and for an agent their live state, the
call they are on (record, screen-pop, which buttons apply) and the "not ready after
this call" they queued, so a reloaded page is never stale.

Every domain event of the bus is emitted under its type (``call.offered`` ...) with its
public JSON (:meth:`cti.bus.DomainEvent.to_dict`) to exactly the rooms allowed to see
it (:func:`webapp.rooms.rooms_for`): events with an agent -> that agent; events with a
queue -> that queue's room and ``site``; ``agent.state_changed`` -> the agent, the
supervisors of the agent's queues and team, and ``site``; ``call.*`` -> the agents the
call was offered to or handled by (never another agent), its queue and ``site``;
``voicemail.created`` -> the box's queue or agent; ``campaign.*`` -> ``campaigns``;
``system.*`` -> ``everyone``. Digits of secret IVR nodes are masked in every payload.
A preview offer to one agent (``campaign.changed`` with ``kind`` ``preview`` or
``preview_withdrawn``) is emitted as ``outbound.preview`` to that agent's room only:
never to the managers, admins or other agents.

Beyond domain events: ``screen_pop`` (the full screen-pop, built off the event path
after ``call.offered``), ``notice`` (what call control reports after an action
returned, e.g. "the colleague did not answer") and ``after_call`` (the agent's queued
not-ready request changed, :mod:`webapp.after_call_requests`) go to the agent's room. A client may
``ping`` (acknowledged at once; the benchmark's baseline).

Emitting happens in the bus's publishing greenlet (the ESL dispatcher): room lookup
and one ``emit`` per event, which only queues packets; anything needing the database
runs in a greenlet of its own.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gevent
import gevent.queue
from flask import current_app, session
from flask_socketio import SocketIO, emit, join_room

from cti.bus import DomainEvent
from cti.db import Database, DatabaseUnavailable
from cti.services import Services
from cti.users import User, get_user
from webapp.rooms import (
    CallAudience,
    Directory,
    agent_room,
    masked,
    push_name,
    rooms_for,
    rooms_of_user,
)
from webapp.screen_pop import queue_info

log = logging.getLogger(__name__)

DIRECTORY_MAX_AGE = 30.0
SCREEN_POP_WORKERS = 4
SCREEN_POP_BACKLOG = 2000
SCREEN_POP_STALE = 20.0


def load_directory(db: Database) -> Directory:
    """Queues and teams of every agent, agent codes, the secret IVR nodes of every flow,
    and the small tables screen-pops read (queues, DIDs, caller lists)."""
    queues: dict[int, set[str]] = {}
    for row in db.fetchall("SELECT qa.agent_id, q.name FROM queue_agents qa JOIN queues q ON q.id = qa.queue_id"):
        queues.setdefault(int(row["agent_id"]), set()).add(str(row["name"]))
    agents = db.fetchall("SELECT id, team_id, code FROM agents")
    secret: dict[str, set[str]] = {}
    for row in db.fetchall("SELECT name, definition FROM flows"):
        nodes = (row["definition"] or {}).get("nodes") or {}
        for name, node in nodes.items() if isinstance(nodes, dict) else ():
            if isinstance(node, dict) and node.get("type") == "collect" and node.get("secret") is True:
                secret.setdefault(str(row["name"]), set()).add(str(name))
    lists: dict[str, list[str]] = {}
    for row in db.fetchall("SELECT list_name, number FROM caller_lists ORDER BY list_name"):
        lists.setdefault(str(row["number"]), []).append(str(row["list_name"]))
    return Directory(
        agent_queues={a: frozenset(q) for a, q in queues.items()},
        agent_team={int(r["id"]): r["team_id"] for r in agents},
        agent_by_code={str(r["code"]): int(r["id"]) for r in agents},
        secret_nodes={flow: frozenset(nodes) for flow, nodes in secret.items()},
        queue_info={str(r["name"]): queue_info(str(r["name"]), r["display_name"], r["settings"])
                    for r in db.fetchall("SELECT name, display_name, settings FROM queues")},
        did_labels={str(r["number"]): str(r["label"]) for r in db.fetchall("SELECT number, label FROM dids")},
        agent_codes={int(r["id"]): str(r["code"]) for r in agents},
        caller_lists={number: tuple(names) for number, names in lists.items()},
    )


class DirectoryCache:
    """The directory snapshot the push layer routes with; refreshed in the background
    when older than :data:`DIRECTORY_MAX_AGE` (never on the event path)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.snapshot = Directory()
        self.loaded_at = 0.0
        self._refreshing: gevent.Greenlet | None = None

    def refresh(self) -> Directory:
        try:
            self.snapshot = load_directory(self.db)
            self.loaded_at = time.monotonic()
        except DatabaseUnavailable as exc:
            log.warning("push directory not refreshed", extra={"why": str(exc)})
        return self.snapshot

    def current(self) -> Directory:
        if time.monotonic() - self.loaded_at > DIRECTORY_MAX_AGE and (self._refreshing is None or self._refreshing.dead):
            self._refreshing = gevent.spawn(self.refresh)
        return self.snapshot


class Pusher:
    """Bus subscriber that emits each domain event to its rooms (see the module docstring).

    Screen-pops are built by :data:`SCREEN_POP_WORKERS` greenlets from a bounded queue:
    a burst of offers waits its turn instead of taking every database connection, and
    a screen-pop that waited longer than :data:`SCREEN_POP_STALE` is skipped (the page
    asks for it itself when it needs it).
    """

    def __init__(self, socketio: SocketIO, services: Services, directory: DirectoryCache) -> None:
        self.socketio = socketio
        self.services = services
        self.directory = directory
        self.audience = CallAudience()
        self.emitted = 0
        self.errors = 0
        self.pops_dropped = 0
        self._pops: gevent.queue.Queue[tuple[str, int, float]] = gevent.queue.Queue(SCREEN_POP_BACKLOG)
        self._workers: list[gevent.Greenlet] = []

    def on_event(self, event: DomainEvent) -> None:
        directory = self.directory.current()
        rooms = sorted(rooms_for(event, directory, self.audience))
        payload = masked(event.to_dict(), directory)
        try:
            self.socketio.emit(push_name(event), payload, to=rooms)
            self.emitted += 1
        except Exception:
            self.errors += 1
            log.exception("push failed", extra={"event_type": event.type, "call": event.interaction_id})
        if event.type == "call.offered" and event.agent_id is not None and event.interaction_id:
            self._queue_screen_pop(event.interaction_id, event.agent_id)

    def notice(self, agent_id: int, notice: dict[str, Any]) -> None:
        self.socketio.emit("notice", notice, to=agent_room(agent_id))

    def _queue_screen_pop(self, interaction_id: str, agent_id: int) -> None:
        if not self._workers:
            self._workers = [gevent.spawn(self._build_screen_pops) for _ in range(SCREEN_POP_WORKERS)]
        try:
            self._pops.put_nowait((interaction_id, agent_id, time.monotonic()))
        except gevent.queue.Full:
            self.pops_dropped += 1
            if self.pops_dropped % 100 == 1:
                log.warning("screen-pops dropped: backlog full", extra={"dropped": self.pops_dropped})

    def _build_screen_pops(self) -> None:
        while True:
            interaction_id, agent_id, queued = self._pops.get()
            if time.monotonic() - queued > SCREEN_POP_STALE:
                self.pops_dropped += 1
                continue
            self._screen_pop(interaction_id, agent_id)

    def _screen_pop(self, interaction_id: str, agent_id: int) -> None:
        from webapp.agent_views import screen_pop_for

        try:
            pop = screen_pop_for(self.services, interaction_id, agent_id, self.directory.current())
        except DatabaseUnavailable as exc:
            log.warning("screen-pop not built", extra={"call": interaction_id, "agent": agent_id, "why": str(exc)})
            return
        except Exception:
            log.exception("screen-pop failed", extra={"call": interaction_id, "agent": agent_id})
            return
        if pop is not None:
            self.socketio.emit("screen_pop", pop, to=agent_room(agent_id))


def user_rooms(db: Database, user: User) -> tuple[list[str], int | None]:
    """The rooms ``user`` joins, and their agent id (None if not an agent)."""
    agent = db.fetchone("SELECT id FROM agents WHERE user_id = %s", (user.id,))
    agent_id = int(agent["id"]) if agent else None
    queues: list[str] = []
    teams: list[int] = []
    if user.has_role("supervisor"):
        queues = [str(r["name"]) for r in db.fetchall(
            "SELECT q.name FROM queue_supervisors s JOIN queues q ON q.id = s.queue_id WHERE s.user_id = %s", (user.id,))]
        teams = [int(r["team_id"]) for r in db.fetchall(
            "SELECT team_id FROM team_supervisors WHERE user_id = %s", (user.id,))]
    return rooms_of_user(user.id, user.roles, agent_id, queues, teams), agent_id


def register(socketio: SocketIO, services: Services) -> None:
    directory = DirectoryCache(services.db)
    directory.refresh()
    pusher = Pusher(socketio, services, directory)
    services.bus.subscribe("*", pusher.on_event)
    if getattr(services, "core", None) is not None:
        from cti.call_control import CallControl

        CallControl.for_services(services).subscribe(pusher.notice)
    socketio.cti_pusher = pusher  # type: ignore[attr-defined]  # for /metrics and the benchmark

    @socketio.on("connect")
    def _connect(auth=None):  # noqa: ANN001 - Flask-SocketIO passes the client's auth payload
        user_id = session.get("user_id")
        user = get_user(services.db, user_id) if user_id else None
        if user is None:
            log.info("socket refused: no session")
            return False
        rooms, agent_id = user_rooms(services.db, user)
        for room in rooms:
            join_room(room)
        queued = current_app.extensions.get("cti_after_call")   # webapp.agent's, once registered
        after_call = queued.pending(agent_id) if queued is not None and agent_id is not None else None
        emit("hello", hello(services, user, agent_id, directory.current(), after_call))
        return True

    @socketio.on("ping")
    def _ping(data=None):  # noqa: ANN001
        return {"pong": data, "at": time.time()}


def hello(
    services: Services, user: User, agent_id: int | None, directory: Directory,
    after_call: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from webapp.agent_views import desktop_state

    out: dict[str, Any] = {"user": {"id": user.id, "username": user.username, "display_name": user.display_name,
                                    "roles": list(user.roles)}, "agent": None, "call": None}
    if agent_id is not None:
        out.update(desktop_state(services, agent_id, directory, after_call))
    return out


__all__ = ["DirectoryCache", "Pusher", "hello", "load_directory", "register", "user_rooms"]
