"""Signed webhooks: every domain event a subscription asks for, delivered at least once,
in order per interaction, surviving integrator outages and middleware restarts.

The path of an event::

    bus --(append, no database)--> journal --(fan-out greenlet)--> webhook_outbox
        --(delivery greenlets)--> POST to the subscriber --> webhook_deliveries log

1. The bus subscriber only appends the event's public JSON to a local durable journal
   (:class:`cti.journal.Journal`), and only when some active subscription matches it:
   the event path never waits for the database or the network.
2. The fan-out greenlet reads the journal after its checkpoint, inserts one outbox row
   per matching subscription (``ON CONFLICT DO NOTHING``: replaying the journal after a
   crash inserts nothing twice), commits, then moves the checkpoint. Database down:
   the events wait in the journal and the greenlet retries with backoff.
3. The delivery loop asks the outbox for due rows that are first in line for their
   interaction (:meth:`cti.webhook_store.WebhookStore.due_heads`) and posts each in a
   greenlet of a bounded pool (:mod:`cti.webhook_sender`), signed as described in
   :mod:`cti.webhook_rules`. A 2xx marks the row delivered; anything else schedules a
   retry (exponential backoff with jitter) until the policy's attempts are used up,
   then the row is ``failed`` and waits for an admin's redelivery. Every attempt is
   logged with its response code and duration.

Delivery is at least once: a crash between the receiver's 2xx and our commit sends
that event again after the restart. Receivers deduplicate by the event ``id``.

Headers of every delivery: ``Content-Type: application/json``, ``X-CTI-Event`` (the
type), ``X-CTI-Delivery`` (the outbox row id, as in the admin's delivery log),
``X-CTI-Attempt``, ``X-CTI-Timestamp`` and ``X-CTI-Signature``.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gevent
import gevent.event
import gevent.pool

from cti.bus import DomainEvent, EventBus
from cti.config import ConfigError, Settings
from cti.db import Database
from cti.folder_lock import FolderLock
from cti.journal import Journal, JournalFull
from cti.store import threadpool_fsync
from cti.webhook_rules import (
    RetryPolicy,
    WebhookRuleError,
    check_url,
    matches,
    pick_address,
    sign,
    succeeded,
)
from cti.webhook_sender import SendResult, post, resolve
from cti.webhook_store import OutboxRow, Subscription, WebhookError, WebhookStore

log = logging.getLogger(__name__)

Sender = Callable[..., SendResult]

FANOUT_BATCH = 500
RELOAD_EVERY = 15.0
PRUNE_EVERY = 3600.0
USER_AGENT = "cti-webhooks/1"


@dataclass
class WebhookStats:
    """Counters for /metrics (the outbox backlog itself is read from the database)."""

    journaled: int = 0
    journal_full: int = 0
    fanned_out: int = 0
    outbox_inserted: int = 0
    fanout_errors: int = 0
    attempts: int = 0
    delivered: int = 0
    retries: int = 0
    failed: int = 0
    refused: int = 0
    record_errors: int = 0
    loop_errors: int = 0

    @property
    def journal_backlog(self) -> int:
        return self.journaled - self.fanned_out


@dataclass(frozen=True, slots=True)
class _Wanted:
    id: int
    events: tuple[str, ...]


class WebhooksBusy(RuntimeError):
    """Another process owns the webhook journal folder."""


class WebhookDispatcher:
    """The webhook component (``services.webhooks``); see the module docstring.

    Args:
        directory: the dispatcher's own folder (journal and lock; one process at a time).
        policy: retries and backoff of a delivery.
        concurrency: deliveries in flight at once.
        poll_seconds: how often due retries are looked for when nothing else wakes the loop.
        keep_days: delivered rows and their log are pruned after this many days.
        sender: the HTTP POST (:func:`cti.webhook_sender.post`; tests may wrap it).
    """

    def __init__(
        self, db: Database, bus: EventBus, directory: Path, *, policy: RetryPolicy | None = None,
        concurrency: int = 8, poll_seconds: float = 1.0, keep_days: int = 14, sender: Sender = post,
        journal_max_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        self.db = db
        self.bus = bus
        self.store = WebhookStore(db)
        self.policy = policy or RetryPolicy()
        self.stats = WebhookStats()
        self.directory = Path(directory)
        self.poll_seconds = poll_seconds
        self.keep_days = keep_days
        self._sender = sender
        self._journal_max = journal_max_bytes
        self._journal: Journal | None = None
        self._folder = FolderLock(self.directory, what="webhook journal", busy=WebhooksBusy)
        self._wanted: tuple[_Wanted, ...] = ()
        self._pool = gevent.pool.Pool(concurrency)
        self._busy: set[int] = set()
        self._fanout_wake = gevent.event.Event()
        self._deliver_wake = gevent.event.Event()
        self._greenlets: list[gevent.Greenlet] = []
        self._running = False

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        self._folder.acquire()
        self._journal = Journal(self.directory / "journal", max_bytes=self._journal_max, fsync=threadpool_fsync)
        self._backlog_on_start()
        self._running = True
        try:
            self.reload()
        except Exception:
            log.exception("webhook subscriptions not loaded; retrying in the background")
        self.bus.subscribe("*", self._on_event)
        self._greenlets = [gevent.spawn(self._fanout_loop), gevent.spawn(self._delivery_loop)]

    def stop(self, flush_seconds: float = 5.0) -> None:
        """Stop taking events, move what the journal holds into the outbox (bounded
        wait), let deliveries in flight finish (bounded), then close the journal."""
        self.bus.unsubscribe(self._on_event)
        self._running = False
        self._fanout_wake.set()
        self._deliver_wake.set()
        gevent.joinall(self._greenlets, timeout=flush_seconds)
        gevent.killall(self._greenlets)
        self._pool.join(timeout=flush_seconds)
        self._pool.kill()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self._folder.release()

    def flush(self, timeout: float) -> bool:
        """Wait until every journalled event is in the outbox; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.stats.journal_backlog > 0:
            if time.monotonic() > deadline:
                return False
            self._fanout_wake.set()
            gevent.sleep(0.02)
        return True

    def _backlog_on_start(self) -> None:
        """Count what a previous run left in the journal, so the backlog gauge is right."""
        assert self._journal is not None
        left = sum(1 for _ in self._journal.pending())
        self.stats.journaled += left
        if left:
            log.info("webhook journal has events from the previous run", extra={"events": left})

    # -- subscriptions --------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the active subscriptions (call after any change to them)."""
        self._wanted = tuple(_Wanted(s.id, s.events) for s in self.store.all(active_only=True))

    def create_subscription(self, **fields: Any) -> Subscription:
        """Create (see :meth:`WebhookStore.create`); a target that resolves to a refused
        address now is refused at once, unless ``allow_private``."""
        check_target(str(fields.get("url", "")), bool(fields.get("allow_private", False)))
        subscription = self.store.create(**fields)
        self.reload()
        return subscription

    def update_subscription(self, subscription_id: int, **fields: Any) -> Subscription:
        current = self.store.get(subscription_id)
        check_target(str(fields.get("url", current.url)), bool(fields.get("allow_private", current.allow_private)))
        subscription = self.store.update(subscription_id, **fields)
        self.reload()
        self._deliver_wake.set()
        return subscription

    def delete_subscription(self, subscription_id: int) -> None:
        self.store.delete(subscription_id)
        self.reload()

    def redeliver(self, subscription_id: int, outbox_id: int) -> dict[str, Any]:
        row = self.store.redeliver(subscription_id, outbox_id)
        self._deliver_wake.set()
        return row

    def redeliver_failed(self, subscription_id: int) -> int:
        count = self.store.redeliver_failed(subscription_id)
        self._deliver_wake.set()
        return count

    # -- 1. the event path ----------------------------------------------------------

    def _on_event(self, event: DomainEvent) -> None:
        if self._journal is None or not any(matches(w.events, event.type) for w in self._wanted):
            return
        try:
            self._journal.append(event.to_dict())
        except JournalFull:
            self.stats.journal_full += 1
            if self.stats.journal_full % 1000 == 1:
                log.error("webhook journal full: events for webhooks are being lost",
                          extra={"lost": self.stats.journal_full, "event_type": event.type})
            return
        self.stats.journaled += 1
        self._fanout_wake.set()

    # -- 2. journal -> outbox ---------------------------------------------------------

    def _fanout_loop(self) -> None:
        failures = 0
        while True:
            self._fanout_wake.wait(timeout=0.5)
            self._fanout_wake.clear()
            try:
                moved = self._fanout_once()
            except Exception:
                failures += 1
                self.stats.fanout_errors += 1
                if failures == 1:
                    log.exception("webhook outbox not writable; events wait in the journal")
                gevent.sleep(min(30.0, 0.2 * 2 ** min(failures, 8)))
                continue
            if failures:
                log.info("webhook outbox writable again", extra={"failures": failures})
                failures = 0
            if moved:
                self._fanout_wake.set()
            elif not self._running:
                return

    def _fanout_once(self) -> int:
        """Move one batch from the journal into the outbox; returns how many events."""
        assert self._journal is not None
        pending = self._journal.pending()
        try:
            batch = list(itertools.islice(pending, FANOUT_BATCH))
        finally:
            pending.close()  # type: ignore[attr-defined]
        if not batch:
            return 0
        self._journal.sync()
        rows = [row for _, record in batch for row in self._rows_for(record)]
        with self.db.transaction() as cur:
            inserted = WebhookStore.enqueue(cur, rows)
        self._journal.confirm(batch[-1][0])
        self.stats.fanned_out += len(batch)
        self.stats.outbox_inserted += inserted
        if inserted:
            self._deliver_wake.set()
        return len(batch)

    def _rows_for(self, record: Mapping[str, Any]) -> list[tuple[int, str, str, str | None, str]]:
        body = json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str)
        return [
            (w.id, record["id"], record["type"], record.get("interaction_id"), body)
            for w in self._wanted if matches(w.events, record["type"])
        ]

    # -- 3. outbox -> subscribers -----------------------------------------------------

    def _delivery_loop(self) -> None:
        last_reload = last_prune = time.monotonic()
        while self._running:
            self._deliver_wake.wait(timeout=self.poll_seconds)
            self._deliver_wake.clear()
            if not self._running:
                return
            try:
                now = time.monotonic()
                if now - last_reload > RELOAD_EVERY:
                    self.reload()
                    last_reload = now
                if now - last_prune > PRUNE_EVERY:
                    self.store.prune(keep_days=self.keep_days)
                    last_prune = now
                self._dispatch_due()
            except Exception:
                self.stats.loop_errors += 1
                log.exception("webhook delivery loop error; retrying")
                gevent.sleep(min(30.0, self.poll_seconds * 5))

    def _dispatch_due(self) -> None:
        free = self._pool.free_count()
        if free <= 0:
            return
        for row in self.store.due_heads(free, sorted(self._busy)):
            self._busy.add(row.id)
            self._pool.spawn(self._deliver, row)

    def _deliver(self, row: OutboxRow) -> None:
        attempt = row.attempts + 1
        try:
            body = row.body.encode("utf-8")
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json", "User-Agent": USER_AGENT, "X-CTI-Event": row.event_type,
                "X-CTI-Delivery": str(row.id), "X-CTI-Attempt": str(attempt), "X-CTI-Timestamp": str(timestamp),
                "X-CTI-Signature": sign(row.secret, timestamp, body),
            }
            result = self._sender(row.url, body, headers, allow_private=row.allow_private)
            self.stats.attempts += 1
            self.stats.refused += int(result.refused)
            self._settle(row, attempt, result)
        except Exception:
            self.stats.record_errors += 1
            log.exception("webhook attempt not recorded; it will be retried",
                          extra={"delivery": row.id, "subscription": row.subscription_id, "call": row.interaction_id})
        finally:
            self._busy.discard(row.id)
            self._deliver_wake.set()

    def _settle(self, row: OutboxRow, attempt: int, result: SendResult) -> None:
        if succeeded(result.status_code):
            outcome, retry_in = "delivered", 0.0
            self.stats.delivered += 1
        elif self.policy.exhausted(attempt):
            outcome, retry_in = "failed", 0.0
            self.stats.failed += 1
            log.warning("webhook delivery failed for good; an admin can redeliver it",
                        extra={"delivery": row.id, "subscription": row.subscription_id, "event_type": row.event_type,
                               "call": row.interaction_id, "error": result.error})
        else:
            outcome, retry_in = "retry", self.policy.delay(attempt)
            self.stats.retries += 1
        self.store.record_attempt(row, attempt=attempt, status_code=result.status_code,
                                  duration_ms=result.duration_ms, error=result.error, outcome=outcome,
                                  retry_in=retry_in)


def dispatcher_for(settings: Settings, db: Database, bus: EventBus) -> WebhookDispatcher:
    """The site's dispatcher, in ``<data dir>/webhooks``. ``CTI_WEBHOOK_MAX_ATTEMPTS``,
    ``CTI_WEBHOOK_RETRY_BASE`` and ``CTI_WEBHOOK_RETRY_CAP`` (seconds) and
    ``CTI_WEBHOOK_CONCURRENCY`` tune delivery."""
    extra, default = settings.extra, RetryPolicy()
    try:
        policy = RetryPolicy(
            max_attempts=int(extra.get("CTI_WEBHOOK_MAX_ATTEMPTS", default.max_attempts)),
            base_seconds=float(extra.get("CTI_WEBHOOK_RETRY_BASE", default.base_seconds)),
            cap_seconds=float(extra.get("CTI_WEBHOOK_RETRY_CAP", default.cap_seconds)),
        )
        concurrency = int(extra.get("CTI_WEBHOOK_CONCURRENCY", 8))
    except ValueError as exc:
        raise ConfigError(f"CTI_WEBHOOK_*: expected numbers ({exc})") from None
    if policy.max_attempts < 1 or policy.base_seconds <= 0 or policy.cap_seconds <= 0 or concurrency < 1:
        raise ConfigError("CTI_WEBHOOK_*: attempts, retry times and concurrency must be positive")
    return WebhookDispatcher(db, bus, settings.data_dir / "webhooks", policy=policy, concurrency=concurrency)


def check_target(url: str, allow_private: bool) -> None:
    """Refuse a URL whose host resolves to a refused address now (the check is made
    again at every delivery; a host that does not resolve yet is accepted)."""
    if allow_private:
        return
    try:
        parts = urlsplit(check_url(url))
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    except (WebhookRuleError, ValueError):
        return  # the store's own checks name the problem
    try:
        addresses = resolve(host, port)
    except OSError:
        return
    try:
        pick_address(host, addresses, allow_private=False)
    except WebhookRuleError as exc:
        raise WebhookError(str(exc), error_id="private-target", field="url") from None


__all__ = ["WebhookDispatcher", "WebhookStats", "WebhooksBusy", "check_target", "dispatcher_for"]
