"""Voicemail: messages callers leave in a queue's or an agent's box, and their handling.

Boxes are named ``queue:<queue name>`` and ``agent:<agent code>``. A message is left
by an IVR voicemail node or by a queue overflowing to voicemail (the routing engine
records it with the ``record`` application, after the caller picked an event code
such as consultation, suggestion or complaint). :meth:`VoicemailService.leave` then:

* writes the ``voicemails`` row as a durable record (:mod:`routing.persistence`):
  journaled on disk first, so a message is never lost, even if the database is down
  at that moment or the middleware restarts before it is back;
* publishes ``voicemail.created`` (box, caller, event code, file, duration) at once.

A message is ``new``, then ``assigned`` to an agent, then ``handled``. Who sees which
boxes (:meth:`VoicemailService.list_for`): an admin sees all; a supervisor the boxes of
the queues they supervise and of the agents of their teams; an agent their own box,
the boxes of their queues and whatever is assigned to them.

Errors a user can act on are :class:`VoicemailError`.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cti.bus import DomainEvent, EventBus
from cti.db import Database

if TYPE_CHECKING:
    from routing.persistence import RoutingStore

VOICEMAIL_SQL = """
INSERT INTO voicemails (id, box, interaction_id, caller_number, event_code, path, duration_ms, status, created_at)
VALUES (%(id)s, %(box)s, %(interaction_id)s, %(caller_number)s, %(event_code)s, %(path)s, %(duration_ms)s, 'new',
        to_timestamp(%(created_at)s))
ON CONFLICT (id) DO NOTHING"""

ASSIGN_SQL = """
UPDATE voicemails SET status = 'assigned', assigned_agent_id = %s WHERE id = %s AND status <> 'handled'
RETURNING id, box, interaction_id, caller_number, event_code, path, duration_ms, status, assigned_agent_id,
          created_at, handled_at, handled_by"""

HANDLED_SQL = """
UPDATE voicemails SET status = 'handled', handled_at = now(), handled_by = %s WHERE id = %s AND status <> 'handled'
RETURNING id, box, interaction_id, caller_number, event_code, path, duration_ms, status, assigned_agent_id,
          created_at, handled_at, handled_by"""

LIST_SQL = """
SELECT id, box, interaction_id, caller_number, event_code, path, duration_ms, status, assigned_agent_id,
       created_at, handled_at, handled_by
  FROM voicemails
 WHERE (%s OR box = ANY(%s) OR assigned_agent_id = %s) AND (%s::text IS NULL OR status = %s)
 ORDER BY created_at DESC LIMIT %s"""


class VoicemailError(ValueError):
    """A voicemail request that cannot be carried out; the message says why."""


def write_voicemails(cur: Any, records: list[dict[str, Any]]) -> None:
    """Durable writer: one ``voicemails`` row per record (replays change nothing)."""
    for record in records:
        cur.execute(VOICEMAIL_SQL, record)


def queue_of_box(box: str) -> str | None:
    kind, _, name = box.partition(":")
    return name if kind == "queue" and name else None


class VoicemailService:
    """See the module docstring. ``store`` is needed only to :meth:`leave` messages."""

    def __init__(
        self, db: Database, bus: EventBus, *, store: RoutingStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.bus = bus
        self.store = store
        self.clock = clock
        if store is not None:
            store.register("voicemail", write_voicemails)

    def leave(
        self, *, box: str, interaction_id: str | None, caller_number: str, event_code: str, path: str,
        seconds: float, at: float | None = None,
    ) -> str:
        """Keep a message that was just recorded; returns its id. Constant work: safe
        on the event path (the row is written by the store's greenlet)."""
        if self.store is None:
            raise VoicemailError("this voicemail service cannot take messages (it has no store)")
        voicemail_id = str(uuidlib.uuid4())
        created = self.clock() if at is None else at
        record = {
            "id": voicemail_id, "box": box, "interaction_id": interaction_id, "caller_number": caller_number,
            "event_code": event_code, "path": path, "duration_ms": int(round(max(0.0, seconds) * 1000)),
            "created_at": created,
        }
        self.store.durable("voicemail", record)
        self.bus.publish(DomainEvent(
            type="voicemail.created", interaction_id=interaction_id, queue=queue_of_box(box), at=created,
            data={**record, "status": "new", "created_at": _iso(created)},
        ))
        return voicemail_id

    def assign(self, voicemail_id: str, agent_id: int) -> dict[str, Any]:
        """Give a message to an agent to handle.

        Raises:
            VoicemailError: unknown message or agent, or the message is handled already.
        """
        self._check_id(voicemail_id)
        if self.db.fetchone("SELECT 1 AS ok FROM agents WHERE id = %s", (agent_id,)) is None:
            raise VoicemailError(f"there is no agent {agent_id}")
        row = self.db.fetchone(ASSIGN_SQL, (agent_id, voicemail_id))
        if row is None:
            self._explain_missing(voicemail_id, "assign")
        return _public(row)

    def mark_handled(self, voicemail_id: str, user_id: int) -> dict[str, Any]:
        """Close a message (by the user who dealt with it).

        Raises:
            VoicemailError: unknown message, or handled already.
        """
        self._check_id(voicemail_id)
        row = self.db.fetchone(HANDLED_SQL, (user_id, voicemail_id))
        if row is None:
            self._explain_missing(voicemail_id, "close")
        return _public(row)

    def list_for(self, user_id: int, *, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """The messages ``user_id`` may see, newest first (see the module docstring).

        Raises:
            VoicemailError: unknown user or status.
        """
        if status is not None and status not in ("new", "assigned", "handled"):
            raise VoicemailError(f"status {status!r} does not exist; use new, assigned or handled")
        user = self.db.fetchone("SELECT roles FROM users WHERE id = %s", (user_id,))
        if user is None:
            raise VoicemailError(f"there is no user {user_id}")
        roles = set(user["roles"] or [])
        agent = self.db.fetchone("SELECT id, code FROM agents WHERE user_id = %s", (user_id,))
        everything = "admin" in roles
        boxes = [] if everything else self._boxes(user_id, roles, agent)
        rows = self.db.fetchall(LIST_SQL, (everything, boxes, agent["id"] if agent else None, status, status, limit))
        return [_public(row) for row in rows]

    def _boxes(self, user_id: int, roles: set[str], agent: dict[str, Any] | None) -> list[str]:
        boxes: set[str] = set()
        if agent is not None:
            boxes.add(f"agent:{agent['code']}")
            for row in self.db.fetchall(
                "SELECT q.name FROM queue_agents qa JOIN queues q ON q.id = qa.queue_id WHERE qa.agent_id = %s",
                (agent["id"],),
            ):
                boxes.add(f"queue:{row['name']}")
        if "supervisor" in roles:
            for row in self.db.fetchall(
                "SELECT q.name FROM queue_supervisors s JOIN queues q ON q.id = s.queue_id WHERE s.user_id = %s",
                (user_id,),
            ):
                boxes.add(f"queue:{row['name']}")
            for row in self.db.fetchall(
                """SELECT a.code FROM team_supervisors t JOIN agents a ON a.team_id = t.team_id
                    WHERE t.user_id = %s""",
                (user_id,),
            ):
                boxes.add(f"agent:{row['code']}")
        return sorted(boxes)

    def _check_id(self, voicemail_id: str) -> None:
        try:
            uuidlib.UUID(voicemail_id)
        except (ValueError, AttributeError, TypeError):
            raise VoicemailError(f"{voicemail_id!r} is not a voicemail id") from None

    def _explain_missing(self, voicemail_id: str, what: str) -> None:
        row = self.db.fetchone("SELECT status FROM voicemails WHERE id = %s", (voicemail_id,))
        if row is None:
            raise VoicemailError(f"there is no voicemail {voicemail_id} (a message just left may take a moment to appear)")
        raise VoicemailError(f"cannot {what} voicemail {voicemail_id}: it is {row['status']} already")


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()


def _public(row: dict[str, Any] | None) -> dict[str, Any]:
    assert row is not None
    out = dict(row)
    for key in ("id", "interaction_id"):
        if out.get(key) is not None:
            out[key] = str(out[key])
    for key in ("created_at", "handled_at"):
        value = out.get(key)
        if isinstance(value, datetime):
            out[key] = value.astimezone(UTC).isoformat()
    return out
