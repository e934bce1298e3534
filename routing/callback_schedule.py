"""When callbacks are due: the kept place, the due time, the retry rule, the durable row.

A callback is a row of ``callbacks`` (sql/003_routing.sql, ``due_at`` from
sql/010_callbacks_due.sql). Two kinds come in:

* a caller waiting in a queue pressed the callback key: routing writes the row, due at
  once, keeping the caller's place (``enqueued_at``, their entry into the queue);
* an agent scheduled one for the time the customer asked (the agent desktop writes
  ``requested_at`` = that time and no ``due_at``): due then, and it waits for an agent
  like a call arriving then.

So a row's due time is ``coalesce(due_at, requested_at)`` and its place in the queue
is ``enqueued_at`` once routing has written ``due_at``, else ``requested_at``; the
next write of the row settles both columns, so a restart reads the same thing back.

A callback whose customer is not reached (no answer, busy, the attempt ended before
they were connected) is tried again :data:`RETRY_AFTER` seconds later, up to
:data:`MAX_ATTEMPTS` calls in all (:func:`retry_at`), then it is ``failed``: nobody is
called more often than that without a person deciding so.

:func:`due_rows` is what the engine's periodic check reads (:mod:`routing.callbacks`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from cti.db import Database
from routing.lanes import Lane

#: Calls to the customer at most (the first and two more).
MAX_ATTEMPTS = 3
#: Engine seconds between two attempts.
RETRY_AFTER = 600.0
#: Real seconds between two checks for callbacks that came due (or sooner, when the
#: next one is due sooner).
CHECK_SECONDS = 10.0

CALLBACK_SQL = """
INSERT INTO callbacks (id, interaction_id, queue_name, number, requested_at, enqueued_at, due_at, priority, language,
                       status, attempts, last_attempt_at, agent_id, callback_interaction_id, updated_at)
VALUES (%(id)s, %(source)s, %(queue)s, %(number)s, to_timestamp(%(requested_at)s), to_timestamp(%(enqueued_at)s),
        to_timestamp(%(due_at)s), %(priority)s, %(language)s, %(status)s, %(attempts)s,
        to_timestamp(%(last_attempt_at)s), %(agent_id)s, %(interaction_id)s, now())
ON CONFLICT (id) DO UPDATE SET
    status = EXCLUDED.status, attempts = EXCLUDED.attempts, last_attempt_at = EXCLUDED.last_attempt_at,
    agent_id = EXCLUDED.agent_id, callback_interaction_id = EXCLUDED.callback_interaction_id,
    enqueued_at = EXCLUDED.enqueued_at, due_at = EXCLUDED.due_at, updated_at = now()"""

DUE_SQL = """
SELECT id::text AS id, interaction_id::text AS source, queue_name, number,
       extract(epoch FROM requested_at)::float8 AS requested_at, extract(epoch FROM enqueued_at)::float8 AS enqueued_at,
       extract(epoch FROM due_at)::float8 AS due_at, priority, language, attempts, status
  FROM callbacks
 WHERE status IN %(statuses)s AND coalesce(due_at, requested_at) <= to_timestamp(%(now)s)
   AND NOT (id = ANY(%(known)s::uuid[]))
 ORDER BY coalesce(due_at, requested_at)
 LIMIT %(limit)s"""

NEXT_DUE_SQL = """
SELECT extract(epoch FROM min(coalesce(due_at, requested_at)))::float8 AS next
  FROM callbacks WHERE status = 'waiting' AND coalesce(due_at, requested_at) > to_timestamp(%(now)s)"""


@dataclass
class CallbackCall:
    """One callback; ``call_id`` is the router's id (the inbound interaction that asked),
    ``interaction_id`` the outbound interaction of the current attempt."""

    id: str
    call_id: str
    queue: str
    number: str
    did: str
    node_name: str
    requested_at: float
    enqueued_at: float
    priority: int
    language: str
    due_at: float | None = None
    status: str = "waiting"
    attempts: int = 0
    last_attempt_at: float | None = None
    interaction_id: str = ""
    customer_leg: str = ""
    agent_leg: str = ""
    agent_id: int | None = None
    offers: dict[str, int] = field(default_factory=dict)
    lane: Lane | None = None

    @property
    def iid(self) -> str:
        return self.interaction_id

    @property
    def node(self) -> str:
        return self.node_name

    @property
    def display_number(self) -> str:
        return self.number

    @property
    def display_name(self) -> str:
        return "callback"

    @property
    def due(self) -> float:
        return self.requested_at if self.due_at is None else self.due_at

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id, "source": self.call_id, "queue": self.queue, "number": self.number,
            "requested_at": self.requested_at, "enqueued_at": min(self.enqueued_at, self.requested_at),
            "due_at": self.due, "priority": self.priority, "language": self.language, "status": self.status,
            "attempts": self.attempts, "last_attempt_at": self.last_attempt_at, "agent_id": self.agent_id,
            "interaction_id": self.interaction_id or None,
        }


def from_row(row: dict[str, Any], node: str) -> CallbackCall:
    """A callback read back: its place is ``enqueued_at`` once routing wrote ``due_at``,
    else the time the customer asked for (see the module docstring)."""
    requested = float(row["requested_at"])
    due_at = None if row["due_at"] is None else float(row["due_at"])
    place = float(row["enqueued_at"]) if due_at is not None else requested
    return CallbackCall(
        id=str(row["id"]), call_id=str(row["source"]), queue=row["queue_name"], number=row["number"], did="",
        node_name=node, requested_at=requested, enqueued_at=place, due_at=due_at if due_at is not None else requested,
        priority=int(row["priority"]), language=row["language"], attempts=int(row["attempts"]),
    )


def retry_at(attempts: int, failed_at: float) -> float | None:
    """When to call again after the ``attempts``-th call failed; None: give up."""
    return failed_at + RETRY_AFTER if attempts < MAX_ATTEMPTS else None


def write_callbacks(cur: Any, records: list[dict[str, Any]]) -> None:
    """Durable writer: the latest status of each callback (records in order)."""
    for record in records:
        cur.execute(CALLBACK_SQL, record)


def due_rows(db: Database, now: float, known: Collection[str], *, first: bool = False,
             limit: int = 500) -> tuple[list[dict[str, Any]], float | None]:
    """Callbacks due by ``now`` (engine time) that are not ``known`` yet, and when the
    next one is due. ``first`` (the engine starting) also takes the ones a stopped
    middleware was dialling."""
    statuses = ("waiting", "dialing") if first else ("waiting",)
    rows = db.fetchall(DUE_SQL, {"statuses": statuses, "now": now, "known": sorted(known), "limit": limit})
    found = db.fetchone(NEXT_DUE_SQL, {"now": now})
    upcoming = found["next"] if found is not None else None
    return rows, None if upcoming is None else float(upcoming)
