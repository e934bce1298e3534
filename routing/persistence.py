"""What routing learns, written to PostgreSQL off the event path by one writer greenlet.

Two kinds of writes:

* **Batched counters** -- IVR node statistics, caller shortcuts, the EWT estimator of
  each queue. The engine hands them over at once (constant work: they are merged in
  memory) and the writer adds them to ``sql/003_routing.sql``'s tables every
  ``flush_seconds``. If the database is away they wait and are merged further; losing
  them in a crash only makes a statistic slightly low.
* **Durable records** -- voicemails, recordings, callbacks: things that must never be
  lost. :meth:`RoutingStore.durable` only queues the record; the writer appends it to a
  journal on disk (:class:`cti.journal.Journal`, fsync'd) before touching the
  database, confirms it once the row is committed, and after a restart replays what
  was not confirmed. Writers are idempotent upserts keyed by the record's own id, so a
  replay changes nothing. A record the database refuses (bad data, not an outage) is
  logged and skipped on its own, so it cannot block the ones behind it.

Each durable kind has its SQL where the concept lives (:mod:`cti.voicemail`,
:mod:`cti.recordings`, :mod:`routing.callbacks`), registered with :meth:`register`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import gevent.lock
import orjson
import psycopg2
import psycopg2.extras

from cti.db import Database, DatabaseUnavailable
from cti.journal import Journal, JournalFull, Position
from routing.ewt import WaitEstimator
from routing.ivr_stats import NodeStats, ShortcutUpdate

log = logging.getLogger(__name__)

#: ``writer(cursor, records)`` writes records of one kind inside the flush transaction.
Writer = Callable[[Any, list[dict[str, Any]]], None]

NODE_STATS_SQL = """
INSERT INTO ivr_node_stats AS s (flow_name, flow_version, node, day, visits, hangups, retries, seconds_total, exits)
VALUES %s
ON CONFLICT (flow_name, flow_version, node, day) DO UPDATE SET
    visits = s.visits + EXCLUDED.visits,
    hangups = s.hangups + EXCLUDED.hangups,
    retries = s.retries + EXCLUDED.retries,
    seconds_total = s.seconds_total + EXCLUDED.seconds_total,
    exits = (SELECT coalesce(jsonb_object_agg(k, coalesce((s.exits->>k)::bigint, 0)
                                                 + coalesce((EXCLUDED.exits->>k)::bigint, 0)), '{}'::jsonb)
               FROM jsonb_object_keys(s.exits || EXCLUDED.exits) AS k)"""
NODE_STATS_TEMPLATE = "(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"

SHORTCUT_SQL = """
INSERT INTO caller_shortcuts AS c (caller_number, flow_name, kind, node) VALUES (%s, %s, %s, %s)
ON CONFLICT (caller_number, flow_name, kind) DO UPDATE SET
    uses = CASE WHEN c.node = EXCLUDED.node THEN c.uses + 1 ELSE 1 END,
    node = EXCLUDED.node, updated_at = now()"""

ESTIMATE_SQL = """
INSERT INTO queue_wait_estimates (queue_name, aht_seconds, correction, handle_samples, wait_samples)
VALUES %s
ON CONFLICT (queue_name) DO UPDATE SET
    aht_seconds = EXCLUDED.aht_seconds, correction = EXCLUDED.correction,
    handle_samples = EXCLUDED.handle_samples, wait_samples = EXCLUDED.wait_samples, updated_at = now()"""

_MAX_SHORTCUTS = 100_000


@dataclass
class StoreStats:
    flushes: int = 0
    failures: int = 0
    durable_written: int = 0
    durable_pending: int = 0
    durable_rejected: int = 0
    dropped: int = 0


@dataclass
class _Batch:
    node_stats: dict[tuple[str, int, str, date], NodeStats] = field(default_factory=dict)
    shortcuts: list[tuple[str, str, str, str]] = field(default_factory=list)
    estimates: dict[str, tuple[float, float, int, int]] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.node_stats or self.shortcuts or self.estimates)

    def merge(self, older: _Batch) -> None:
        """Put a batch that failed to write back in front of this one."""
        for key, stats in older.node_stats.items():
            self.node_stats.setdefault(key, NodeStats()).add(stats)
        self.shortcuts[:0] = older.shortcuts
        for queue, values in older.estimates.items():
            self.estimates.setdefault(queue, values)


class RoutingStore:
    """The writer (see the module docstring). ``start()`` replays the journal."""

    def __init__(self, db: Database, journal_dir: Path, *, flush_seconds: float = 1.0) -> None:
        self.db = db
        self.journal_dir = Path(journal_dir)
        self.flush_seconds = flush_seconds
        self.stats = StoreStats()
        self._writers: dict[str, Writer] = {}
        self._batch = _Batch()
        self._incoming: list[dict[str, Any]] = []
        self._unconfirmed: list[tuple[Position, dict[str, Any]]] = []
        self._journal: Journal | None = None
        self._wake = gevent.event.Event()
        self._flushing = gevent.lock.Semaphore()
        self._greenlet: gevent.Greenlet | None = None

    def register(self, kind: str, writer: Writer) -> None:
        self._writers[kind] = writer

    # -- handing things over (constant work, any greenlet) ----------------------------

    def node_stats(self, flow: str, version: int, day: date, stats: dict[str, NodeStats]) -> None:
        for node, counters in stats.items():
            self._batch.node_stats.setdefault((flow, version, node, day), NodeStats()).add(counters)

    def shortcuts(self, caller_number: str, flow: str, updates: Iterable[ShortcutUpdate]) -> None:
        if not caller_number:
            return
        for update in updates:
            if len(self._batch.shortcuts) >= _MAX_SHORTCUTS:
                self.stats.dropped += 1
                return
            self._batch.shortcuts.append((caller_number, flow, update.kind, update.node))

    def wait_estimate(self, queue: str, estimator: WaitEstimator) -> None:
        self._batch.estimates[queue] = (
            estimator.aht, estimator.correction, estimator.handle_samples, estimator.wait_samples,
        )

    def durable(self, kind: str, record: dict[str, Any]) -> None:
        """Queue a record that must reach the database (journaled before any attempt)."""
        if kind not in self._writers:
            raise ValueError(f"no writer registered for durable records of kind {kind!r}")
        self._incoming.append({"kind": kind, "record": record})
        self._wake.set()

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        self._journal = Journal(self.journal_dir, max_bytes=256 * 1024 * 1024)
        self._unconfirmed = list(self._journal.pending())
        self.stats.durable_pending = len(self._unconfirmed)
        if self._unconfirmed:
            log.info("routing journal: replaying records", extra={"count": len(self._unconfirmed)})
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None
        try:
            self.flush()
        except Exception:
            log.exception("routing store: last flush failed; durable records stay in the journal")
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _run(self) -> None:
        delay = self.flush_seconds
        while True:
            self._wake.wait(delay)
            self._wake.clear()
            try:
                ok = self.flush()
            except Exception:
                log.exception("routing store: flush failed")
                ok = False
            delay = self.flush_seconds if ok else min(30.0, max(delay, self.flush_seconds) * 2)

    # -- writing ----------------------------------------------------------------------

    def flush(self) -> bool:
        """Write everything pending; False if the database was unavailable (kept for later).

        One flush at a time: the background writer and a caller (``stop``, a test) must
        never both take the same pending records.
        """
        with self._flushing:
            self._journal_incoming()
            self.stats.flushes += 1
            ok = self._flush_batch() and self._flush_durable()
            if not ok:
                self.stats.failures += 1
            return ok

    def _journal_incoming(self) -> None:
        if not self._incoming or self._journal is None:
            return
        incoming, self._incoming = self._incoming, []
        for entry in incoming:
            try:
                self._unconfirmed.append((self._journal.append(entry), entry))
            except JournalFull:
                # Nothing is dropped: the record stays in memory and is written when the
                # database is back; only a crash before then would lose it.
                log.error("routing journal full; record kept in memory only", extra={"kind": entry["kind"]})
                self._unconfirmed.append((Position(0, 0), entry))
        self._journal.sync()
        self.stats.durable_pending = len(self._unconfirmed)

    def _flush_batch(self) -> bool:
        batch, self._batch = self._batch, _Batch()
        if batch.empty():
            return True
        try:
            with self.db.transaction() as cur:
                _write_batch(cur, batch)
        except (DatabaseUnavailable, psycopg2.OperationalError):
            batch.merge(self._batch)
            self._batch = batch
            return False
        except psycopg2.Error:
            log.exception("routing statistics refused by the database; this batch is dropped")
            self.stats.dropped += 1
        return True

    def _flush_durable(self) -> bool:
        if not self._unconfirmed:
            return True
        pending = list(self._unconfirmed)
        try:
            with self.db.transaction() as cur:
                self._write_durable(cur, [entry for _, entry in pending])
        except (DatabaseUnavailable, psycopg2.OperationalError):
            return False
        except psycopg2.Error:
            if not self._write_one_by_one(pending):
                return False
        self._confirm(pending)
        return True

    def _write_durable(self, cur: Any, entries: list[dict[str, Any]]) -> None:
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for entry in entries:
            by_kind.setdefault(entry["kind"], []).append(entry["record"])
        for kind, records in by_kind.items():
            writer = self._writers.get(kind)
            if writer is None:
                log.error("routing journal: no writer for records, skipped", extra={"kind": kind, "count": len(records)})
                self.stats.durable_rejected += len(records)
                continue
            writer(cur, records)

    def _write_one_by_one(self, pending: list[tuple[Position, dict[str, Any]]]) -> bool:
        """Isolate the record(s) the database refuses; False if it went away meanwhile."""
        for _, entry in pending:
            try:
                with self.db.transaction() as cur:
                    self._write_durable(cur, [entry])
            except (DatabaseUnavailable, psycopg2.OperationalError):
                return False
            except psycopg2.Error as exc:
                self.stats.durable_rejected += 1
                log.error("durable record refused by the database, skipped",
                          extra={"kind": entry["kind"], "record": orjson.dumps(entry["record"], default=str).decode(),
                                 "error": str(exc).strip()})
        return True

    def _confirm(self, written: list[tuple[Position, dict[str, Any]]]) -> None:
        del self._unconfirmed[: len(written)]
        self.stats.durable_written += len(written)
        self.stats.durable_pending = len(self._unconfirmed)
        positions = [position for position, _ in written if position.segment]
        if positions and self._journal is not None:
            self._journal.confirm(max(positions))


def _write_batch(cur: Any, batch: _Batch) -> None:
    if batch.node_stats:
        rows = [
            (flow, version, node, day, s.visits, s.hangups, s.retries, s.seconds,
             orjson.dumps(dict(s.exits)).decode())
            for (flow, version, node, day), s in sorted(batch.node_stats.items(), key=lambda kv: kv[0][:3])
        ]
        psycopg2.extras.execute_values(cur, NODE_STATS_SQL, rows, template=NODE_STATS_TEMPLATE)
    for row in batch.shortcuts:
        cur.execute(SHORTCUT_SQL, row)
    if batch.estimates:
        estimates = [(queue, *values) for queue, values in sorted(batch.estimates.items())]
        psycopg2.extras.execute_values(cur, ESTIMATE_SQL, estimates)


def load_estimates(db: Database) -> dict[str, tuple[float, float, int, int]]:
    """Saved estimator state per queue: ``(aht, correction, handle_samples, wait_samples)``."""
    rows = db.fetchall("SELECT queue_name, aht_seconds, correction, handle_samples, wait_samples FROM queue_wait_estimates")
    return {
        r["queue_name"]: (float(r["aht_seconds"]), float(r["correction"]), int(r["handle_samples"]), int(r["wait_samples"]))
        for r in rows
    }
