"""After-call work: the disposition (required where the queue says so), notes, and an
optional call back written to the ``callbacks`` table for the dialling side.

:func:`check_wrapup` is pure (what the agent sent against the queue's codes and rules);
:func:`schedule_callback` writes the row. A callback row asks to call ``number`` for
queue ``queue_name``: ``enqueued_at`` is when the agent scheduled it and
``requested_at`` the time the customer asked to be called (``enqueued_at <=
requested_at``), so a dialler must not call it before ``requested_at``.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cti.call_errors import BadRequest
from cti.call_targets import check_dial_number
from cti.db import Database

MAX_NOTES = 4000
MAX_AHEAD = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Callback:
    number: str
    at: datetime       # UTC


@dataclass(frozen=True, slots=True)
class Wrapup:
    interaction_id: str
    disposition: str
    notes: str
    callback: Callback | None


def check_wrapup(
    body: Mapping[str, Any], *, interaction_id: str, codes: Collection[str], required: bool, zone: str, now: datetime,
    region: str | None = None,
) -> Wrapup:
    """Validate a wrap-up form; raises BadRequest naming the field to fix.

    ``callback.at`` is a local date-time of the site (``2026-11-23T09:30``) or ISO with an
    offset; empty means "as soon as possible".
    """
    disposition = str(body.get("disposition") or "").strip()
    if disposition and disposition not in codes:
        raise BadRequest(f"{disposition!r} is not a disposition of this queue; choose one of {', '.join(sorted(codes))}",
                         error_id="bad-disposition", field="disposition")
    if required and not disposition:
        raise BadRequest("This queue needs a disposition: choose one before finishing.",
                         error_id="disposition-required", field="disposition")
    notes = str(body.get("notes") or "").strip()
    if len(notes) > MAX_NOTES:
        raise BadRequest(f"Notes are limited to {MAX_NOTES} characters.", error_id="notes-too-long", field="notes")
    return Wrapup(interaction_id, disposition, notes, _callback(body.get("callback"), zone, now, region))


def _callback(raw: Any, zone: str, now: datetime, region: str | None) -> Callback | None:
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise BadRequest("callback must be {number, at}", error_id="bad-callback", field="callback")
    number = check_dial_number(str(raw.get("number") or ""), region)
    text = str(raw.get("at") or "").strip()
    if not text:
        return Callback(number, now)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{text!r} is not a date and time; use the picker or 2026-11-23T09:30",
                         error_id="bad-callback-time", field="callback_at") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(zone))
    at = at.astimezone(UTC)
    if at < now - timedelta(minutes=1):
        raise BadRequest("The call-back time is in the past; choose a later time.", error_id="bad-callback-time",
                         field="callback_at")
    if at > now + MAX_AHEAD:
        raise BadRequest("A call back can be scheduled at most 90 days ahead.", error_id="bad-callback-time",
                         field="callback_at")
    return Callback(number, max(at, now))


_INSERT = """
INSERT INTO callbacks (id, interaction_id, queue_name, number, requested_at, enqueued_at, priority, language, status)
VALUES (%(id)s, %(interaction)s, %(queue)s, %(number)s, %(at)s, %(now)s, 0, %(language)s, 'waiting')
ON CONFLICT (interaction_id) DO NOTHING
RETURNING id::text AS id"""


def schedule_callback(db: Database, wrapup: Wrapup, *, queue: str, language: str, now: datetime) -> str:
    """Write the callback row; raises BadRequest when this call already has one."""
    callback = wrapup.callback
    assert callback is not None
    if not queue:
        raise BadRequest("This call has no queue to call back from.", error_id="bad-callback", field="callback")
    row = db.fetchone(_INSERT, {
        "id": str(uuidlib.uuid4()), "interaction": wrapup.interaction_id, "queue": queue, "number": callback.number,
        "at": callback.at, "now": min(now, callback.at), "language": language,
    })
    if row is None:
        raise BadRequest("A call back is already scheduled for this call.", error_id="callback-exists", field="callback")
    return str(row["id"])


__all__ = ["Callback", "Wrapup", "check_wrapup", "schedule_callback"]
