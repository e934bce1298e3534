"""The store writer: domain events to PostgreSQL, through a durable journal, in batches.

On the event path (a bus subscriber) a kept event is only appended to the journal
(:mod:`cti.journal`): no database call, nothing that waits. One writer greenlet wakes
when records arrive (or every ``idle_interval``), reads up to ``batch_size`` records
after the checkpoint, writes them in one transaction (:mod:`cti.store_sql`), then
confirms the journal position and syncs it. Batches that were not full are spaced
``min_interval`` apart, so a busy site writes a few large batches a second rather
than one transaction per event. Writes are idempotent, so anything that happens in
between (a crash after the commit and before the confirm) only causes a harmless
replay.

Failure handling:

* Database unreachable (:class:`cti.db.DatabaseUnavailable`, a lost connection): the
  batch stays in the journal, the writer retries with capped exponential backoff,
  logs once when the outage starts and once when it ends, and counts the backlog.
  When the database returns everything is written in journal order.
* A record the database refuses (a bad value; never expected): the batch is retried
  one record per savepoint, the refused record is appended to ``rejected.jsonl`` next
  to the journal, logged and counted, and the others are written. One bad record never
  blocks the rest.
* Middleware restart: :meth:`StoreWriter.start` replays what is after the checkpoint
  and, before returning, gives the replay a bounded time to reach the database so that
  components started after it (the core restores logged-in agents from
  ``agent_state_history``) read current rows.
* Journal full (the database has been away very long): the record cannot be kept; it
  is counted and logged as an error (never silently).

Only one process may own a journal folder: :meth:`start` takes an exclusive lock and
says which folder is busy if another ``cti`` holds it.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import orjson
import psycopg2

from cti import store_records as sr
from cti.bus import DomainEvent, EventBus
from cti.db import Database, DatabaseUnavailable
from cti.folder_lock import FolderLock
from cti.journal import Journal, JournalFull, Position
from cti.store_sql import Written, write_plan

log = logging.getLogger(__name__)


def threadpool_fsync(fd: int) -> None:
    """``os.fsync`` in gevent's thread pool: the hub keeps running while the disk syncs."""
    gevent.get_hub().threadpool.apply(os.fsync, (fd,))

#: Errors after which the same batch is simply tried again later.
RETRYABLE: tuple[type[BaseException], ...] = (
    DatabaseUnavailable, psycopg2.OperationalError, psycopg2.InterfaceError,
)

_FULL_LOG_EVERY = 1000
_YIELD_EVERY = 50


class StoreBusy(RuntimeError):
    """Another process owns the journal folder."""


@dataclass
class StoreStats:
    """Counters for ``/metrics`` (see :meth:`StoreWriter.stats` for the derived ones)."""

    journalled: int = 0
    written: int = 0
    batches: int = 0
    errors: int = 0
    outages: int = 0
    rejected: int = 0
    journal_full: int = 0
    replayed: int = 0
    rollup_errors: int = 0
    last_batch_ms: float = 0.0


Batch = list[tuple[Position, dict[str, Any]]]


class StoreWriter:
    """Keeps the history tables up to date from the bus (see the module docstring).

    Args:
        directory: the writer's folder (the journal, its lock, rejected records).
        region: default region for customer number matching (``CTI_PHONE_REGION``).
        batch_size: records per transaction at most.
        idle_interval: seconds the writer sleeps when nothing is pending.
        min_interval: seconds between two batches that were not full. A batch costs
            about a millisecond of the hub's time whatever its size (a transaction, the
            journal's fsync and checkpoint), so under load the writer lets records
            gather instead of writing them one by one; a full batch goes at once.
        flush_timeout: seconds :meth:`stop` (and the replay in :meth:`start`) wait.
        backoff: (first, cap) seconds between retries while the database is away.
        max_bytes: journal size bound.
    """

    def __init__(
        self, db: Database, bus: EventBus, directory: Path, *, region: str | None = None,
        batch_size: int = 200, idle_interval: float = 0.1, min_interval: float = 0.05, flush_timeout: float = 10.0,
        backoff: tuple[float, float] = (0.1, 5.0), max_bytes: int = 1024 * 1024 * 1024,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.db = db
        self.bus = bus
        self.directory = Path(directory)
        self.region = region
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.min_interval = min_interval
        self.flush_timeout = flush_timeout
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.counters = StoreStats()
        self._journal: Journal | None = None
        self._folder = FolderLock(self.directory, what="store journal", busy=StoreBusy)
        self._backlog = 0
        self._wake = gevent.event.Event()
        self._drained = gevent.event.Event()
        self._drained.set()
        self._writer: gevent.Greenlet | None = None
        self._stopping = False
        self._outage_since: float | None = None
        # One bound method object: EventBus.unsubscribe compares by identity.
        self._subscriber = self._on_event

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Open the journal, replay what the database has not confirmed, subscribe."""
        if self._writer is not None:
            return
        self._folder.acquire()
        self._journal = Journal(self.directory / "journal", max_bytes=self.max_bytes, fsync=threadpool_fsync)
        self._backlog = sum(1 for _ in self._journal.pending())
        self.counters.replayed += self._backlog
        if self._backlog:
            self._drained.clear()
            log.info("store: replaying journal", extra={"records": self._backlog})
        self._stopping = False
        self.bus.subscribe("*", self._subscriber)
        self._writer = gevent.spawn(self._run)
        if self._backlog and not self.flush(self.flush_timeout):
            log.warning("store: replay still pending after start-up wait",
                        extra={"backlog": self._backlog, "waited_s": self.flush_timeout})

    def stop(self) -> None:
        """Stop taking events, give pending records ``flush_timeout`` to reach the
        database, sync the journal (what is left is replayed at the next start)."""
        if self._writer is None:
            return
        self.bus.unsubscribe(self._subscriber)
        if not self.flush(self.flush_timeout):
            log.warning("store: stopping with records not yet in the database (kept in the journal)",
                        extra={"backlog": self._backlog})
        self._stopping = True
        self._wake.set()
        self._writer.join(timeout=1.0)
        self._writer.kill(block=True)
        self._writer = None
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self._folder.release()

    def flush(self, timeout: float) -> bool:
        """Wait until everything journalled so far is in the database; False on timeout."""
        self._wake.set()
        return bool(self._drained.wait(timeout))

    # -- the event path -------------------------------------------------------------------

    def _on_event(self, event: DomainEvent) -> None:
        """Bus subscriber: journal the event if the store keeps it. Never blocks."""
        if not sr.is_stored(event.type) or self._journal is None:
            return
        try:
            self._journal.append(sr.journal_record(event, time.time()))
        except (JournalFull, OSError) as exc:
            self.counters.journal_full += 1
            if self.counters.journal_full % _FULL_LOG_EVERY == 1:
                log.error("store: journal full or unwritable, events are NOT being stored",
                          extra={"lost": self.counters.journal_full, "journal": str(self.directory),
                                 "backlog": self._backlog, "event_type": event.type, "error": str(exc)})
            return
        self.counters.journalled += 1
        self._backlog += 1
        self._drained.clear()
        self._wake.set()

    # -- the writer -----------------------------------------------------------------------

    def _run(self) -> None:
        """Write batches until stopped; nothing that goes wrong ends this loop."""
        failures = 0
        while not self._stopping:
            try:
                written = self._step()
                if written == 0:
                    self._wake.wait(self.idle_interval)
                elif written < self.batch_size:
                    gevent.sleep(self.min_interval)   # let the next batch fill up
                failures = 0
                continue
            except RETRYABLE as exc:
                self._outage(exc)
            except Exception:
                self.counters.errors += 1
                log.exception("store: writer failed; retrying", extra={"backlog": self._backlog})
            failures += 1
            gevent.sleep(min(self.backoff[1], self.backoff[0] * 2 ** min(failures - 1, 16)))

    def _step(self) -> int:
        """Write the next batch; returns how many records it held (0: nothing pending)."""
        journal = self._journal
        assert journal is not None
        journal.sync()
        self._wake.clear()
        batch = self._read_batch(journal)
        if not batch:
            self._backlog = 0
            self._drained.set()
            return 0
        self._write(batch)
        self._confirmed(batch)
        return len(batch)

    def _read_batch(self, journal: Journal) -> Batch:
        """Up to ``batch_size`` records after the checkpoint, yielding to the event path
        every few records (parsing them is the writer's biggest slice of CPU). Appends
        meanwhile are safe: they go to the journal's own handle, a segment rotated
        away is complete, and a line not yet flushed whole is not returned."""
        batch: Batch = []
        for item in itertools.islice(journal.pending(), self.batch_size):
            batch.append(item)
            if len(batch) % _YIELD_EVERY == 0:
                gevent.sleep(0)
        return batch

    def _write(self, batch: Batch) -> None:
        started = time.monotonic()
        try:
            with self.db.transaction() as cur:
                done = write_plan(cur, sr.plan((r for _, r in batch), self.region), self.region)
        except RETRYABLE:
            raise
        except Exception:
            log.exception("store: batch refused by the database; writing its records one by one",
                          extra={"records": len(batch)})
            done = self._write_one_by_one(batch)
        self.counters.rollup_errors += int(done.rollup_failed)
        self.counters.last_batch_ms = round((time.monotonic() - started) * 1000, 3)

    def _write_one_by_one(self, batch: Batch) -> Written:
        total = Written()
        with self.db.transaction() as cur:
            for _, record in batch:
                cur.execute("SAVEPOINT store_record")
                try:
                    done = write_plan(cur, sr.plan([record], self.region), self.region)
                except RETRYABLE:
                    raise
                except Exception as exc:
                    cur.execute("ROLLBACK TO SAVEPOINT store_record")
                    self._reject(record, exc)
                    continue
                cur.execute("RELEASE SAVEPOINT store_record")
                total.interactions += done.interactions
                total.rollup_failed |= done.rollup_failed
        return total

    def _reject(self, record: dict[str, Any], exc: Exception) -> None:
        self.counters.rejected += 1
        log.error("store: record refused and set aside", extra={
            "event_id": record.get("id"), "event_type": record.get("type"), "call": record.get("iid"),
            "agent": record.get("agent_id"), "error": str(exc).strip(), "file": str(self.directory / "rejected.jsonl"),
        })
        line = orjson.dumps({"record": record, "error": str(exc).strip()}, default=str) + b"\n"
        with open(self.directory / "rejected.jsonl", "ab") as f:
            f.write(line)

    def _outage(self, exc: BaseException) -> None:
        self.counters.errors += 1
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            self.counters.outages += 1
            log.warning("store: database unavailable; records kept in the journal and retried",
                        extra={"error": str(exc).strip(), "backlog": self._backlog})

    def _confirmed(self, batch: Batch) -> None:
        journal = self._journal
        assert journal is not None
        journal.confirm(batch[-1][0])
        journal.sync()
        self._backlog = max(0, self._backlog - len(batch))
        self.counters.batches += 1
        self.counters.written += len(batch)
        if self._outage_since is not None:
            log.info("store: database back; journal draining", extra={
                "outage_s": round(time.monotonic() - self._outage_since, 3), "backlog": self._backlog,
            })
            self._outage_since = None
        if self._backlog == 0:
            self._drained.set()

    # -- reading --------------------------------------------------------------------------

    @property
    def backlog(self) -> int:
        """Records journalled and not yet confirmed by the database."""
        return self._backlog

    def oldest_pending_seconds(self) -> float:
        """Age of the oldest record still waiting for the database (0 when none)."""
        if self._journal is None or self._backlog == 0:
            return 0.0
        first = next(self._journal.pending(), None)
        if first is None:
            return 0.0
        return max(0.0, time.time() - float(first[1].get("t") or time.time()))

    def stats(self) -> dict[str, Any]:
        """Everything ``/metrics`` shows about the store."""
        return {
            **asdict(self.counters),
            "backlog": self._backlog,
            "oldest_pending_s": round(self.oldest_pending_seconds(), 3),
            "database_down": self._outage_since is not None,
            "journal_bytes": self._journal.size_bytes() if self._journal is not None else 0,
        }


__all__ = ["RETRYABLE", "StoreBusy", "StoreStats", "StoreWriter"]
