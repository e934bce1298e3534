"""The SQL of webhooks (sql/007_api.sql): subscriptions, the outbox and the delivery log.

The outbox is the durable half of delivery: a row per (event, subscription), inserted
idempotently, sent by :class:`cti.webhooks.WebhookDispatcher`, and kept with its
attempts. Order per interaction is a property of :meth:`WebhookStore.due_heads`: it only
returns a row when every earlier row of the same subscription and interaction has been
delivered, so event n+1 of a call never overtakes event n -- also not when n is
waiting for a retry or has failed (it then holds the rest of that call's events until
it is redelivered).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg2.extras

from cti.request_errors import RequestError
from cti.webhook_rules import WebhookRuleError, check_patterns, check_url

if TYPE_CHECKING:
    from cti.db import Database

_EDITABLE = ("name", "url", "events", "active", "allow_private", "secret")
MIN_SECRET = 16


class WebhookError(RequestError, ValueError):
    """A webhook request that cannot be done as asked (status, kebab-case id, field)."""

    status = 422
    error_id = "invalid-webhook"


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    name: str
    url: str
    events: tuple[str, ...]
    secret: str
    active: bool
    allow_private: bool
    created_by: str
    created_at: datetime
    updated_at: datetime

    def to_dict(self, *, with_secret: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "name": self.name, "url": self.url, "events": list(self.events),
            "active": self.active, "allow_private": self.allow_private, "created_by": self.created_by,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
        }
        if with_secret:
            out["secret"] = self.secret
        return out


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A delivery to make: the outbox row with its subscription's target and secret."""

    id: int
    subscription_id: int
    event_id: str
    event_type: str
    interaction_id: str | None
    body: str
    attempts: int
    url: str
    secret: str
    allow_private: bool


def _subscription(row: Mapping[str, Any]) -> Subscription:
    return Subscription(
        id=int(row["id"]), name=row["name"], url=row["url"], events=tuple(row["events"]), secret=row["secret"],
        active=bool(row["active"]), allow_private=bool(row["allow_private"]), created_by=row["created_by"],
        created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _checked(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(_EDITABLE))
    if unknown:
        raise WebhookError(f"unknown field(s) {', '.join(unknown)}; editable: {', '.join(_EDITABLE)}",
                           field=unknown[0])
    out: dict[str, Any] = {}
    try:
        for key, value in fields.items():
            if key == "url":
                out[key] = check_url(value)
            elif key == "events":
                out[key] = list(check_patterns(value))
            elif key in ("active", "allow_private"):
                out[key] = bool(value)
            elif key == "name":
                if not 1 <= len(value.strip()) <= 100:
                    raise WebhookError("name: 1 to 100 characters", field="name")
                out[key] = value.strip()
            else:
                if len(value) < MIN_SECRET:
                    raise WebhookError(f"secret: at least {MIN_SECRET} characters", field="secret")
                out[key] = value
    except WebhookRuleError as exc:
        raise WebhookError(str(exc), field=exc.field) from None
    return out


class WebhookStore:
    """Subscriptions, outbox and delivery log in the site database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- subscriptions --------------------------------------------------------------

    def create(self, *, name: str, url: str, events: Sequence[str], secret: str | None = None,
               active: bool = True, allow_private: bool = False, created_by: str = "") -> Subscription:
        """A new subscription; a secret is generated when none is given (return it once)."""
        values = _checked({"name": name, "url": url, "events": events, "active": active,
                           "allow_private": allow_private, "secret": secret or secrets.token_urlsafe(32)})
        row = self.db.fetchone(
            """INSERT INTO webhook_subscriptions (name, url, events, secret, active, allow_private, created_by)
               VALUES (%(name)s, %(url)s, %(events)s, %(secret)s, %(active)s, %(allow_private)s, %(by)s)
               RETURNING *""",
            {**values, "by": created_by[:100]},
        )
        assert row is not None
        return _subscription(row)

    def update(self, subscription_id: int, **fields: Any) -> Subscription:
        values = _checked(fields)
        if not values:
            return self.get(subscription_id)
        assignments = ", ".join(f"{key} = %({key})s" for key in values)  # keys from _EDITABLE only
        row = self.db.fetchone(
            f"UPDATE webhook_subscriptions SET {assignments}, updated_at = now() WHERE id = %(id)s RETURNING *",  # noqa: S608
            {**values, "id": subscription_id},
        )
        if row is None:
            raise _not_found(subscription_id)
        return _subscription(row)

    def delete(self, subscription_id: int) -> None:
        """Delete it with its outbox and log (pending deliveries are dropped on purpose)."""
        if self.db.execute("DELETE FROM webhook_subscriptions WHERE id = %s", (subscription_id,)) == 0:
            raise _not_found(subscription_id)

    def get(self, subscription_id: int) -> Subscription:
        row = self.db.fetchone("SELECT * FROM webhook_subscriptions WHERE id = %s", (subscription_id,))
        if row is None:
            raise _not_found(subscription_id)
        return _subscription(row)

    def all(self, *, active_only: bool = False) -> list[Subscription]:
        where = " WHERE active" if active_only else ""
        return [_subscription(r) for r in self.db.fetchall(f"SELECT * FROM webhook_subscriptions{where} ORDER BY id")]  # noqa: S608

    # -- the outbox -----------------------------------------------------------------

    @staticmethod
    def enqueue(cur: Any, rows: Iterable[tuple[int, str, str, str | None, str]]) -> int:
        """Insert (subscription id, event id, type, interaction id, body) rows; rows
        already there are left alone. Returns how many were new."""
        batch = list(rows)
        if not batch:
            return 0
        psycopg2.extras.execute_values(
            cur,
            """INSERT INTO webhook_outbox (subscription_id, event_id, event_type, interaction_id, body)
               VALUES %s ON CONFLICT (subscription_id, event_id) DO NOTHING""",
            batch, page_size=500,
        )
        return int(cur.rowcount)

    def due_heads(self, limit: int, busy: Sequence[int] = ()) -> list[OutboxRow]:
        """Pending rows due now, of active subscriptions, not behind an undelivered
        earlier row of their interaction, and not in ``busy`` (being sent)."""
        rows = self.db.fetchall(
            """SELECT o.id, o.subscription_id, o.event_id::text AS event_id, o.event_type, o.interaction_id,
                      o.body, o.attempts, s.url, s.secret, s.allow_private
                 FROM webhook_outbox o JOIN webhook_subscriptions s ON s.id = o.subscription_id
                WHERE o.status = 'pending' AND o.next_attempt_at <= now() AND s.active
                  AND NOT (o.id = ANY(%(busy)s))
                  AND (o.interaction_id IS NULL OR NOT EXISTS (
                        SELECT 1 FROM webhook_outbox p
                         WHERE p.subscription_id = o.subscription_id AND p.interaction_id = o.interaction_id
                           AND p.id < o.id AND p.status <> 'delivered'))
                ORDER BY o.next_attempt_at, o.id
                LIMIT %(limit)s""",
            {"busy": list(busy), "limit": limit},
        )
        return [OutboxRow(**r) for r in rows]

    def record_attempt(self, row: OutboxRow, *, attempt: int, status_code: int | None, duration_ms: float,
                       error: str, outcome: str, retry_in: float = 0.0) -> None:
        """Log one attempt and move the row: ``delivered``, ``retry`` (pending again in
        ``retry_in`` seconds) or ``failed``."""
        status = {"delivered": "delivered", "retry": "pending", "failed": "failed"}[outcome]
        with self.db.transaction() as cur:
            cur.execute(
                """INSERT INTO webhook_deliveries (outbox_id, subscription_id, attempt, status_code, duration_ms, error)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
                (row.id, row.subscription_id, attempt, status_code, duration_ms, error[:1000]),
            )
            cur.execute(
                """UPDATE webhook_outbox
                      SET status = %(status)s, attempts = %(attempt)s, last_status_code = %(code)s,
                          last_error = %(error)s, next_attempt_at = now() + make_interval(secs => %(retry)s),
                          delivered_at = CASE WHEN %(status)s = 'delivered' THEN now() END
                    WHERE id = %(id)s""",
                {"status": status, "attempt": attempt, "code": status_code, "error": error[:1000],
                 "retry": retry_in, "id": row.id},
            )

    def redeliver(self, subscription_id: int, outbox_id: int) -> dict[str, Any]:
        """Send a delivered or failed row again now, with a fresh set of attempts."""
        row = self.db.fetchone(
            """UPDATE webhook_outbox SET status = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = NULL
                WHERE id = %s AND subscription_id = %s RETURNING *""",
            (outbox_id, subscription_id),
        )
        if row is None:
            raise WebhookError(f"subscription {subscription_id} has no delivery {outbox_id}",
                               error_id="delivery-not-found", status=404)
        return outbox_dict(row)

    def redeliver_failed(self, subscription_id: int) -> int:
        """Put every failed row of the subscription back in line; returns how many."""
        self.get(subscription_id)
        return self.db.execute(
            """UPDATE webhook_outbox SET status = 'pending', attempts = 0, next_attempt_at = now()
                WHERE subscription_id = %s AND status = 'failed'""",
            (subscription_id,),
        )

    def outbox(self, subscription_id: int, *, status: str | None = None, limit: int = 50,
               offset: int = 0) -> list[dict[str, Any]]:
        rows = self.db.fetchall(
            """SELECT * FROM webhook_outbox WHERE subscription_id = %s AND (%s::text IS NULL OR status = %s)
                ORDER BY id DESC LIMIT %s OFFSET %s""",
            (subscription_id, status, status, limit, offset),
        )
        return [outbox_dict(r) for r in rows]

    def deliveries(self, subscription_id: int, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """The delivery log, newest first: attempt, response code, duration, error."""
        rows = self.db.fetchall(
            """SELECT d.*, o.event_id::text AS event_id, o.event_type
                 FROM webhook_deliveries d JOIN webhook_outbox o ON o.id = d.outbox_id
                WHERE d.subscription_id = %s ORDER BY d.id DESC LIMIT %s OFFSET %s""",
            (subscription_id, limit, offset),
        )
        return [
            {"id": r["id"], "outbox_id": r["outbox_id"], "event_id": r["event_id"], "event_type": r["event_type"],
             "attempt": r["attempt"], "at": r["at"].isoformat(), "status_code": r["status_code"],
             "duration_ms": round(float(r["duration_ms"]), 3), "error": r["error"]}
            for r in rows
        ]

    def backlog(self) -> dict[str, float]:
        """Pending and failed rows and the age of the oldest pending one (for /metrics)."""
        row = self.db.fetchone(
            """SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
                      count(*) FILTER (WHERE status = 'failed') AS failed,
                      COALESCE(EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE status = 'pending')), 0)
                        AS oldest_seconds
                 FROM webhook_outbox WHERE status <> 'delivered'"""
        )
        assert row is not None
        return {"pending": float(row["pending"]), "failed": float(row["failed"]),
                "oldest_seconds": float(row["oldest_seconds"])}

    def prune(self, *, keep_days: int) -> int:
        """Forget delivered rows (and their log) older than ``keep_days``."""
        return self.db.execute(
            "DELETE FROM webhook_outbox WHERE status = 'delivered' AND delivered_at < now() - make_interval(days => %s)",
            (keep_days,),
        )


def outbox_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": row["id"], "subscription_id": row["subscription_id"], "event_id": str(row["event_id"]),
        "event_type": row["event_type"], "interaction_id": row["interaction_id"], "status": row["status"],
        "attempts": row["attempts"], "next_attempt_at": iso(row["next_attempt_at"]),
        "last_status_code": row["last_status_code"], "last_error": row["last_error"],
        "created_at": iso(row["created_at"]), "delivered_at": iso(row["delivered_at"]),
    }


def _not_found(subscription_id: int) -> WebhookError:
    return WebhookError(f"no webhook subscription {subscription_id}", error_id="webhook-not-found", status=404)


__all__ = ["MIN_SECRET", "OutboxRow", "Subscription", "WebhookError", "WebhookStore", "outbox_dict"]
