"""Call recordings: start, stop, pause and resume them, index them, delete old ones.

A recording is a media bug on the customer's leg (``uuid_record <leg> start <path>``),
so it holds both sides of the conversation whoever the agent is, and survives
transfers between agents. Files go to ``<CTI_RECORDINGS_DIR>/YYYY/MM/DD/<interaction>_<n>.wav``
(UTC date; ``n`` counts the recordings of the call). ``CTI_RECORDINGS_DIR`` must be
the folder the switch's ``cti_recordings_dir`` names (freeswitch-conf/README.md).

Policy is per queue (``recording`` in the queue's settings): ``always`` starts
recording when the agent is bridged (the routing engine calls :meth:`start`),
``agent_choice`` lets the agent's buttons do it, ``never`` refuses. Pausing masks the
audio (``uuid_record ... mask``: silence is written, so the file's timing stays true),
for card numbers and the like; the time spent masked is kept in ``paused_ms``.

The ``recordings`` row is written when ``RECORD_STOP`` arrives (the live state turns
it into ``call.recording_stopped`` with ``variable_record_ms`` and the file size), as a
durable record (:mod:`routing.persistence`), under the recording id the live state
gave it, so it is the same row the store writer upserts from ``call.ended``. Only
recordings started here are indexed (a voicemail's ``record`` is not a call recording).

Errors a user can act on are :class:`RecordingError` with a message saying why.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cti.bus import DomainEvent, EventBus
from cti.db import Database
from cti.tracker import UnknownInteraction
from esl import commands as cmd
from esl.client import ESLError
from esl.protocol import CommandArgumentError

if TYPE_CHECKING:
    from cti.core import LiveCore
    from routing.persistence import RoutingStore

log = logging.getLogger(__name__)

#: Policies as in the queue settings (``routing.queues.Recording`` values).
ALWAYS, NEVER, AGENT_CHOICE = "always", "never", "agent_choice"

RECORDING_SQL = """
INSERT INTO recordings (id, interaction_id, leg_uuid, agent_id, queue_name, caller_number, path, started_at,
                        ended_at, duration_ms, size_bytes, paused_ms)
VALUES (%(id)s, %(interaction_id)s, %(leg_uuid)s, %(agent_id)s, %(queue)s, %(caller_number)s, %(path)s,
        to_timestamp(%(started_at)s), to_timestamp(%(ended_at)s), %(duration_ms)s, %(size_bytes)s, %(paused_ms)s)
ON CONFLICT (id) DO UPDATE SET
    ended_at = COALESCE(EXCLUDED.ended_at, recordings.ended_at),
    duration_ms = COALESCE(EXCLUDED.duration_ms, recordings.duration_ms),
    size_bytes = COALESCE(EXCLUDED.size_bytes, recordings.size_bytes),
    paused_ms = EXCLUDED.paused_ms"""

_DELETE_BATCH = 500


class RecordingError(ValueError):
    """A recording request that cannot be carried out; the message says why."""


@dataclass
class ActiveRecording:
    interaction_id: str
    leg: str
    node: str
    path: str
    started_at: float
    queue: str
    caller_number: str
    agent_id: int | None
    paused_at: float | None = None
    paused_ms: int = 0


def write_recordings(cur: Any, records: list[dict[str, Any]]) -> None:
    """Durable writer for ``recordings`` rows (idempotent upserts)."""
    for record in records:
        cur.execute(RECORDING_SQL, record)


class RecordingService:
    """See the module docstring.

    Args:
        core: the live core (calls, and the switch links to send ``uuid_record``).
        directory: ``CTI_RECORDINGS_DIR``.
        store: where index rows go (durably); None only for read/retention use.
        policy: the recording policy of a queue (``always`` / ``never`` / ``agent_choice``).
        clock: epoch seconds (the engine's clock when the switch runs sped up).
    """

    def __init__(
        self, core: LiveCore, directory: Path, *, store: RoutingStore | None = None,
        policy: Callable[[str], str] = lambda queue: AGENT_CHOICE, clock: Callable[[], float] = time.time,
    ) -> None:
        self.core = core
        self.directory = Path(directory)
        self.store = store
        self.policy = policy
        self.clock = clock
        self._active: dict[str, ActiveRecording] = {}
        self._by_path: dict[str, ActiveRecording] = {}
        self._counts: dict[str, int] = {}
        if store is not None:
            store.register("recording", write_recordings)

    def attach(self, bus: EventBus) -> None:
        bus.subscribe("call.recording_stopped", self._on_stopped)

    def detach(self, bus: EventBus) -> None:
        bus.unsubscribe(self._on_stopped)

    # -- the buttons ------------------------------------------------------------------

    def start(self, interaction_id: str) -> str:
        """Start recording the call; returns the file path.

        Raises:
            RecordingError: the call is not live, its queue never records, it is
                already recorded, or the switch refused.
        """
        if interaction_id in self._active:
            raise RecordingError(f"call {interaction_id} is already being recorded")
        ix = self._live(interaction_id)
        policy = self.policy(ix.queue) if ix.queue else AGENT_CHOICE
        if policy == NEVER:
            raise RecordingError(f"queue {ix.queue} does not record calls (its recording policy is 'never')")
        customer = ix.customer
        if customer is None or not customer.up:
            raise RecordingError(f"call {interaction_id} has no customer on the line to record")
        now = self.clock()
        number = self._counts.get(interaction_id, len(ix.recordings)) + 1
        self._counts[interaction_id] = number
        day = datetime.fromtimestamp(now, UTC)
        path = str(self.directory / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / f"{interaction_id}_{number}.wav")
        node = customer.node or ix.node
        active = ActiveRecording(interaction_id, customer.uuid, node, path, now, ix.queue, ix.caller_number, ix.agent_id)
        self._active[interaction_id] = active  # before the command: its events may come first
        self._by_path[path] = active
        try:
            self._switch(node, cmd.uuid_record(customer.uuid, "start", path), f"start recording call {interaction_id}",
                         make_dirs=path)
        except RecordingError:
            self._active.pop(interaction_id, None)
            self._by_path.pop(path, None)
            raise
        return path

    def stop(self, interaction_id: str) -> None:
        """Stop the recording; it is indexed when the switch reports RECORD_STOP."""
        active = self._require(interaction_id)
        self._switch(active.node, cmd.uuid_record(active.leg, "stop", active.path), f"stop recording call {interaction_id}")
        if self._active.get(interaction_id) is active:
            del self._active[interaction_id]

    def pause(self, interaction_id: str) -> None:
        """Mask the audio (payment data); the file keeps its timing, silent meanwhile."""
        active = self._require(interaction_id)
        if active.paused_at is not None:
            raise RecordingError(f"the recording of call {interaction_id} is already paused")
        self._switch(active.node, cmd.uuid_record(active.leg, "mask", active.path), f"pause recording call {interaction_id}")
        active.paused_at = self.clock()

    def resume(self, interaction_id: str) -> None:
        active = self._require(interaction_id)
        if active.paused_at is None:
            raise RecordingError(f"the recording of call {interaction_id} is not paused")
        self._switch(active.node, cmd.uuid_record(active.leg, "unmask", active.path), f"resume recording call {interaction_id}")
        active.paused_ms += int((self.clock() - active.paused_at) * 1000)
        active.paused_at = None

    def active(self, interaction_id: str) -> dict[str, Any] | None:
        active = self._active.get(interaction_id)
        if active is None:
            return None
        return {"path": active.path, "started_at": active.started_at, "paused": active.paused_at is not None,
                "paused_ms": active.paused_ms}

    def _live(self, interaction_id: str) -> Any:
        try:
            return self.core.state.interaction(interaction_id)
        except UnknownInteraction:
            raise RecordingError(f"call {interaction_id} is not live; only calls in progress can be recorded") from None

    def _require(self, interaction_id: str) -> ActiveRecording:
        active = self._active.get(interaction_id)
        if active is None:
            raise RecordingError(f"call {interaction_id} is not being recorded; start a recording first")
        return active

    def _switch(self, node: str, command: str, what: str, *, make_dirs: str = "") -> None:
        if make_dirs:
            try:
                os.makedirs(os.path.dirname(make_dirs), exist_ok=True)
            except OSError:
                pass  # the switch may be on another host: it creates the folder itself
        try:
            self.core.switches[node].api(command)
        except (ESLError, CommandArgumentError) as exc:
            raise RecordingError(f"could not {what}: {exc}") from exc

    # -- the index --------------------------------------------------------------------

    def _on_stopped(self, event: DomainEvent) -> None:
        """Bus subscriber (constant work): index a recording we started."""
        data = event.data
        active = self._by_path.pop(str(data.get("path", "")), None)
        if active is None or self.store is None:
            return
        if self._active.get(active.interaction_id) is active:
            del self._active[active.interaction_id]
        paused = active.paused_ms
        if active.paused_at is not None:
            paused += int(max(0.0, event.at - active.paused_at) * 1000)
        self.store.durable("recording", {
            "id": data.get("recording_id"), "interaction_id": active.interaction_id, "leg_uuid": active.leg,
            "agent_id": event.agent_id if event.agent_id is not None else active.agent_id,
            "queue": active.queue, "caller_number": active.caller_number, "path": active.path,
            "started_at": active.started_at, "ended_at": event.at, "duration_ms": data.get("duration_ms"),
            "size_bytes": data.get("size_bytes"), "paused_ms": paused,
        })

    # -- retention --------------------------------------------------------------------

    def delete_older_than(self, days: int, *, db: Database | None = None) -> int:
        """Delete recordings started more than ``days`` days ago: the files (when this
        host can see them) and, marked ``deleted_at``, their rows. Returns how many.
        For the scheduler's daily job."""
        return delete_older_than(db or self.core.db, days, now=self.clock())


def delete_older_than(db: Database, days: int, *, now: float | None = None) -> int:
    """See :meth:`RecordingService.delete_older_than` (usable without a switch)."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise RecordingError(f"retention must be a whole number of days, at least 1 (got {days!r})")
    cutoff = (time.time() if now is None else now) - days * 86400
    deleted = 0
    while True:
        rows = db.fetchall(
            """SELECT id, path FROM recordings WHERE deleted_at IS NULL AND started_at < to_timestamp(%s)
                ORDER BY started_at LIMIT %s""",
            (cutoff, _DELETE_BATCH),
        )
        if not rows:
            return deleted
        gone = []
        for row in rows:
            try:
                os.remove(row["path"])
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("recording file not deleted; will retry tomorrow", extra={"path": row["path"], "error": str(exc)})
                continue
            gone.append(row["id"])
        if not gone:
            return deleted
        db.execute("UPDATE recordings SET deleted_at = now() WHERE id = ANY(%s::uuid[])", ([str(i) for i in gone],))
        deleted += len(gone)
