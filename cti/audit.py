"""The audit log: who did what to which call, agent, queue or setting, when, and how it
ended (table ``audit_log``, sql/002_interactions.sql).

Writers: supervisor actions (listen, whisper, barge, force hangup, intercept, forced
agent states, queue moves, skill changes), every write through the REST API, admin
changes. :func:`record` is deliberately generic: an :class:`Actor` (a user, an API
token or the system), a dotted action name (``call.listen``, ``agent.force_logout``,
``api.campaign.update``), a target (type and id), free-form JSON details and the
result: ``ok``, ``refused: <why>`` (the request was not allowed or did not apply) or
``failed: <why>`` (it was allowed but did not work, e.g. the switch said -ERR). Record
refusals too: an attempt is part of the trail.

Readers: admins, through :func:`search` (newest first, keyset pages) and the CSV
export :func:`write_csv`, which goes through the report writers (reports/export.py) so
the file looks like every other export, times in the site's zone. Cells that a
spreadsheet would run as a formula are defused (CSV injection).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from cti.filter_input import day_or_time, whole_number
from reports.export import write_csv as write_report_csv

ACTOR_TYPES = ("user", "token", "system")
RESULT_OK = "ok"
RESULT_KINDS = ("ok", "refused", "failed")
MAX_PAGE = 1000
EXPORT_CHUNK = 5000
#: Columns of :func:`search` rows and of the CSV export, in order.
COLUMNS = ("id", "at", "actor_type", "actor_id", "actor_name", "action", "target_type", "target_id",
           "result", "details")
_ACTION = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\Z")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class AuditError(ValueError):
    """A bad audit record or filter; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a signed-in user, an API token, or the system itself."""

    type: str
    id: int | None
    name: str

    def __post_init__(self) -> None:
        if self.type not in ACTOR_TYPES:
            raise AuditError(f"actor type must be one of {', '.join(ACTOR_TYPES)}, got {self.type!r}")

    @classmethod
    def user(cls, user_id: int, username: str) -> Actor:
        return cls("user", user_id, username)

    @classmethod
    def token(cls, token_id: int, name: str) -> Actor:
        return cls("token", token_id, name)


SYSTEM = Actor("system", None, "system")


def refused(message: str) -> str:
    return f"refused: {message}"


def failed(message: str) -> str:
    return f"failed: {message}"


def record(
    db_or_cur: Any,
    actor: Actor,
    action: str,
    target_type: str = "",
    target_id: str | int = "",
    details: Mapping[str, Any] | None = None,
    result: str = RESULT_OK,
) -> int:
    """Write one audit row; returns its id.

    Args:
        db_or_cur: a :class:`cti.db.Database` (own transaction) or a cursor (the row
            commits or rolls back with the caller's change, so a change and its audit
            row cannot part).
        action: dotted name, e.g. ``call.force_hangup`` or ``api.updateCampaign``.
        result: ``ok``, ``refused: ...`` or ``failed: ...`` (:func:`refused`, :func:`failed`).
    """
    if not _ACTION.match(action):
        raise AuditError(f"audit action must be dotted words like call.listen, got {action!r}")
    if result != RESULT_OK and not result.startswith(("refused", "failed")):
        raise AuditError(f"audit result must be ok, 'refused: ...' or 'failed: ...', got {result!r}")
    params = (actor.type, actor.id, actor.name, action, target_type, str(target_id),
              json.dumps(dict(details or {}), default=str, ensure_ascii=False), result)
    sql = """INSERT INTO audit_log (actor_type, actor_id, actor_name, action, target_type, target_id, details, result)
             VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s) RETURNING id"""
    if hasattr(db_or_cur, "transaction"):
        with db_or_cur.transaction() as cur:
            return _insert(cur, sql, params)
    return _insert(db_or_cur, sql, params)


def _insert(cur: Any, sql: str, params: tuple[Any, ...]) -> int:
    cur.execute(sql, params)
    return int(cur.fetchone()["id"])


# --- reading --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What an admin asked to see. Times are aware datetimes; ``end`` is exclusive.
    ``action`` matches a whole name or a prefix ending in a dot (``call.``); ``actor``
    matches the actor's name exactly; ``result`` is ok, refused or failed."""

    start: datetime | None = None
    end: datetime | None = None
    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    result: str = ""
    limit: int = 200
    before_id: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str], tz: str) -> AuditFilter:
        """Build a filter from query-string values (``from``/``to`` as dates or ISO
        times in the site's zone; ``to`` as a date includes that whole day)."""
        zone = ZoneInfo(tz)
        result = args.get("result", "").strip()
        if result and result not in RESULT_KINDS:
            raise AuditError(f"result must be one of {', '.join(RESULT_KINDS)}, got {result!r}")
        return cls(
            start=day_or_time(args.get("from", ""), zone, "from", end=False, error=AuditError),
            end=day_or_time(args.get("to", ""), zone, "to", end=True, error=AuditError),
            actor=args.get("actor", "").strip(),
            action=args.get("action", "").strip(),
            target_type=args.get("target_type", "").strip(),
            target_id=args.get("target_id", "").strip(),
            result=result,
            limit=whole_number(args.get("limit", ""), "limit", 200, AuditError, low=1, high=MAX_PAGE),
            before_id=whole_number(args.get("before", ""), "before", None, AuditError, low=1),
        )

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition and its bound parameters."""
        parts: list[str] = []
        params: list[Any] = []
        for column, op, value in (("at", ">=", self.start), ("at", "<", self.end), ("actor_name", "=", self.actor),
                                  ("target_type", "=", self.target_type), ("target_id", "=", self.target_id),
                                  ("id", "<", self.before_id)):
            if value not in (None, ""):
                parts.append(f"{column} {op} %s")
                params.append(value)
        if self.action.endswith("."):
            parts.append("action LIKE %s")
            params.append(self.action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        elif self.action:
            parts.append("action = %s")
            params.append(self.action)
        if self.result == RESULT_OK:
            parts.append("result = 'ok'")
        elif self.result:   # "refused: why" (and the API's "refused 403")
            parts.append("result LIKE %s")
            params.append(self.result + "%")
        return (" AND ".join(parts) or "TRUE"), params


def search(db: Any, flt: AuditFilter) -> list[dict[str, Any]]:
    """Rows matching ``flt``, newest first, at most ``flt.limit`` (page on with
    ``before_id`` = the last id seen)."""
    where, params = flt.where()
    rows: list[dict[str, Any]] = db.fetchall(
        f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE {where} ORDER BY id DESC LIMIT %s",  # noqa: S608 - fixed columns; values bound
        [*params, flt.limit],
    )
    return rows


def iter_frames(db: Any, flt: AuditFilter, tz: str, chunk: int = EXPORT_CHUNK) -> Iterator[pd.DataFrame]:
    """Every matching row, newest first, as DataFrames of at most ``chunk`` rows (times
    in ``tz``, details as JSON text, spreadsheet formulas defused)."""
    before = flt.before_id
    while True:
        rows = search(db, AuditFilter(flt.start, flt.end, flt.actor, flt.action, flt.target_type, flt.target_id,
                                      flt.result, chunk, before))
        if not rows:
            return
        yield _frame(rows, tz)
        if len(rows) < chunk:
            return
        before = int(rows[-1]["id"])


def _frame(rows: list[dict[str, Any]], tz: str) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    frame["at"] = pd.to_datetime(frame["at"], utc=True).dt.tz_convert(tz)
    frame["details"] = [json.dumps(d, ensure_ascii=False, sort_keys=True) for d in frame["details"]]
    for column in ("actor_name", "action", "target_type", "target_id", "result", "details"):
        frame[column] = frame[column].map(defuse)
    frame["actor_id"] = frame["actor_id"].astype("Int64")
    return frame


def defuse(value: Any) -> Any:
    """Text a spreadsheet would evaluate (``=...``, ``+...``, ``-...``, ``@...``) gets a
    leading apostrophe, so an exported cell can never run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def iter_csv(db: Any, flt: AuditFilter, tz: str) -> Iterator[str]:
    """The matching rows as CSV text, chunk by chunk (memory holds one chunk), in the
    report writers' format: one header line, then the rows."""
    first = True
    for frame in iter_frames(db, flt, tz):
        buffer = io.StringIO()
        write_report_csv(frame, buffer)
        text = buffer.getvalue()
        yield text if first else text.split("\n", 1)[1]
        first = False
    if first:
        yield ",".join(COLUMNS) + "\n"
