"""Quality review: finding recordings, scoring forms, and the scores given
(sql/008_quality.sql; the values and the total are in :mod:`cti.quality_scoring`).

Supervisors search and score the recordings of their queues and agents (their
:class:`~cti.supervision_rules.Scope`), admins all; agents read the scores of their own
calls. A recording one may not see is reported as not found, so ids cannot be probed.
A reviewer scoring the same recording with the same form again replaces their review.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cti.db import Database
from cti.filter_input import day_or_time, whole_number
from cti.quality_scoring import Criterion, QualityError, clean_comment, parse_items, total
from cti.supervision_rules import Scope
from cti.users import User

MAX_RESULTS = 200


class NotFound(QualityError):
    """No such recording or form (or not one this user may see)."""


@dataclass(frozen=True, slots=True)
class RecordingFilter:
    """A recordings search. ``end`` is exclusive; durations in seconds; ``caller``
    matches any part of the number."""

    start: datetime | None = None
    end: datetime | None = None
    agent_id: int | None = None
    queue: str = ""
    caller: str = ""
    min_seconds: int | None = None
    max_seconds: int | None = None
    disposition: str = ""
    limit: int = 50
    offset: int = 0

    @classmethod
    def from_args(cls, args: Mapping[str, str], tz: str) -> RecordingFilter:
        zone = ZoneInfo(tz)
        caller = "".join(c for c in args.get("caller", "") if c.isdigit())
        return cls(
            start=day_or_time(args.get("from", ""), zone, "from", end=False, error=QualityError),
            end=day_or_time(args.get("to", ""), zone, "to", end=True, error=QualityError),
            agent_id=whole_number(args.get("agent", ""), "agent", None, QualityError),
            queue=args.get("queue", "").strip(),
            caller=caller,
            min_seconds=whole_number(args.get("min_duration", ""), "min_duration", None, QualityError),
            max_seconds=whole_number(args.get("max_duration", ""), "max_duration", None, QualityError),
            disposition=args.get("disposition", "").strip(),
            limit=min(whole_number(args.get("limit", ""), "limit", 50, QualityError) or 50, MAX_RESULTS),
            offset=whole_number(args.get("offset", ""), "offset", 0, QualityError),
        )

    def where(self, scope: Scope) -> tuple[str, list[Any]]:
        parts = ["r.deleted_at IS NULL"]
        params: list[Any] = []
        for sql, value in (("r.started_at >= %s", self.start), ("r.started_at < %s", self.end),
                           ("r.agent_id = %s", self.agent_id), ("r.queue_name = %s", self.queue or None),
                           ("r.duration_ms >= %s", None if self.min_seconds is None else self.min_seconds * 1000),
                           ("r.duration_ms <= %s", None if self.max_seconds is None else self.max_seconds * 1000),
                           ("i.disposition = %s", self.disposition or None),
                           ("r.caller_number LIKE %s", f"%{self.caller}%" if self.caller else None)):
            if value is not None:
                parts.append(sql)
                params.append(value)
        if not scope.admin:
            parts.append("(r.queue_name = ANY(%s) OR r.agent_id = ANY(%s))")
            params += [sorted(scope.queues), sorted(scope.agents)]
        return " AND ".join(parts), params


_RECORDING_COLUMNS = """
r.id::text AS id, r.interaction_id::text AS interaction_id, r.agent_id, a.code AS agent_code,
COALESCE(NULLIF(u.display_name, ''), u.username, '') AS agent_name, r.queue_name, r.caller_number,
r.started_at, r.ended_at, r.duration_ms, COALESCE(i.disposition, '') AS disposition,
COALESCE(i.direction, '') AS direction,
(SELECT count(*) FROM quality_scores s WHERE s.recording_id = r.id) AS reviews,
(SELECT round(avg(s.total), 2) FROM quality_scores s WHERE s.recording_id = r.id) AS average_total"""
_RECORDING_FROM = """
FROM recordings r LEFT JOIN interactions i ON i.id = r.interaction_id
LEFT JOIN agents a ON a.id = r.agent_id LEFT JOIN users u ON u.id = a.user_id"""


def search_recordings(db: Database, scope: Scope, flt: RecordingFilter) -> list[dict[str, Any]]:
    """Recordings matching ``flt`` within ``scope``, newest first."""
    where, params = flt.where(scope)
    rows: list[dict[str, Any]] = db.fetchall(
        f"SELECT {_RECORDING_COLUMNS} {_RECORDING_FROM} WHERE {where} "  # noqa: S608 - fixed SQL; values bound
        "ORDER BY r.started_at DESC, r.id LIMIT %s OFFSET %s",
        [*params, flt.limit, flt.offset],
    )
    return rows


def recording(db: Database, scope: Scope, recording_id: str) -> dict[str, Any]:
    """One recording the scope may see (else :class:`NotFound`)."""
    where, params = RecordingFilter().where(scope)
    row = db.fetchone(
        f"SELECT {_RECORDING_COLUMNS} {_RECORDING_FROM} WHERE {where} AND r.id::text = %s",  # noqa: S608 - fixed SQL
        [*params, recording_id],
    )
    if row is None:
        raise NotFound(f"no recording {recording_id} that you may review")
    return row


# --- forms ----------------------------------------------------------------------------


def list_forms(db: Database, *, include_inactive: bool = False) -> list[dict[str, Any]]:
    forms = db.fetchall(
        "SELECT id, name, description, active FROM quality_forms WHERE active OR %s ORDER BY name",
        (include_inactive,),
    )
    criteria = db.fetchall(
        """SELECT id, form_id, position, label, description, weight, max_points FROM quality_criteria
           WHERE form_id = ANY(%s) ORDER BY form_id, position""",
        ([f["id"] for f in forms],),
    )
    for form in forms:
        form["criteria"] = [_criterion_json(c) for c in criteria if c["form_id"] == form["id"]]
    return forms


def _criterion_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "position": row["position"], "label": row["label"], "description": row["description"],
            "weight": float(row["weight"]), "max_points": row["max_points"]}


def form_criteria(db: Database, form_id: int) -> tuple[dict[str, Any], list[Criterion]]:
    form = db.fetchone("SELECT id, name, active FROM quality_forms WHERE id = %s", (form_id,))
    if form is None:
        raise NotFound(f"no scoring form {form_id}")
    rows = db.fetchall(
        "SELECT id, label, description, weight, max_points FROM quality_criteria WHERE form_id = %s ORDER BY position",
        (form_id,),
    )
    return form, [Criterion(r["label"], r["weight"], r["max_points"], r["description"], r["id"]) for r in rows]


def save_form(db: Database, *, name: str, description: str, criteria: Sequence[Criterion], active: bool = True,
              form_id: int | None = None, user_id: int | None = None) -> int:
    """Create a form, or replace an existing one's name, description and criteria
    (scores already given keep their own copy of the criteria)."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise QualityError("name: give the form a name of 1 to 100 characters")
    with db.transaction() as cur:
        cur.execute("SELECT id FROM quality_forms WHERE lower(name) = lower(%s) AND id <> %s", (name, form_id or 0))
        if cur.fetchone() is not None:
            raise QualityError(f"name: a form called {name!r} exists already; choose another name")
        if form_id is None:
            cur.execute("""INSERT INTO quality_forms (name, description, active, created_by)
                           VALUES (%s, %s, %s, %s) RETURNING id""", (name, description, active, user_id))
            form_id = int(cur.fetchone()["id"])
        else:
            cur.execute("""UPDATE quality_forms SET name = %s, description = %s, active = %s, updated_at = now()
                           WHERE id = %s""", (name, description, active, form_id))
            if cur.rowcount == 0:
                raise NotFound(f"no scoring form {form_id}")
            cur.execute("DELETE FROM quality_criteria WHERE form_id = %s", (form_id,))
        for position, c in enumerate(criteria):
            cur.execute("""INSERT INTO quality_criteria (form_id, position, label, description, weight, max_points)
                           VALUES (%s, %s, %s, %s, %s, %s)""",
                        (form_id, position, c.label, c.description, c.weight, c.max_points))
    return form_id


# --- scores ---------------------------------------------------------------------------


def save_score(db: Database, *, recording_row: Mapping[str, Any], form_id: int, items: Sequence[Mapping[str, Any]],
               comments: object, scorer: User) -> dict[str, Any]:
    """Score a recording (already checked visible) against an active form."""
    form, criteria = form_criteria(db, form_id)
    if not form["active"]:
        raise QualityError(f"the form {form['name']!r} is retired; score with an active form")
    scored = parse_items(criteria, items)
    score_total = total(criteria, scored)
    note = clean_comment(comments)
    with db.transaction() as cur:
        cur.execute(
            """INSERT INTO quality_scores (recording_id, interaction_id, agent_id, form_id, form_name, scored_by,
                                           scorer_name, total, comments)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (recording_id, form_id, scored_by) DO UPDATE
                   SET total = EXCLUDED.total, comments = EXCLUDED.comments, form_name = EXCLUDED.form_name,
                       scorer_name = EXCLUDED.scorer_name, updated_at = now()
               RETURNING id""",
            (recording_row["id"], recording_row["interaction_id"], recording_row["agent_id"], form_id, form["name"],
             scorer.id, scorer.display_name, score_total, note),
        )
        score_id = int(cur.fetchone()["id"])
        cur.execute("DELETE FROM quality_score_items WHERE score_id = %s", (score_id,))
        for c, item in zip(criteria, scored, strict=True):
            cur.execute(
                """INSERT INTO quality_score_items (score_id, position, criterion_id, label, weight, max_points,
                                                    points, comment) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
                (score_id, item.position, c.id, c.label, c.weight, c.max_points, item.points, item.comment),
            )
    return {"id": score_id, "total": float(score_total), "form": form["name"]}


_SCORE_COLUMNS = """s.id, s.recording_id::text AS recording_id, s.interaction_id::text AS interaction_id,
s.agent_id, s.form_id, s.form_name, s.scorer_name, s.total, s.comments, s.created_at, s.updated_at"""


def scores(db: Database, *, recording_id: str | None = None, agent_id: int | None = None,
           limit: int = 100) -> list[dict[str, Any]]:
    """Reviews of one recording or of one agent's calls, newest first, with their items."""
    column, value = ("s.recording_id::text", recording_id) if recording_id is not None else ("s.agent_id", agent_id)
    rows = db.fetchall(
        f"""SELECT {_SCORE_COLUMNS}, r.started_at AS call_started_at, r.queue_name, r.duration_ms
              FROM quality_scores s LEFT JOIN recordings r ON r.id = s.recording_id
             WHERE {column} = %s ORDER BY s.updated_at DESC LIMIT %s""",  # noqa: S608 - column from a fixed pair
        (value, limit),
    )
    items = db.fetchall(
        """SELECT score_id, position, label, weight, max_points, points, comment FROM quality_score_items
           WHERE score_id = ANY(%s) ORDER BY score_id, position""",
        ([r["id"] for r in rows],),
    )
    for row in rows:
        row["total"] = float(row["total"])
        row["items"] = [{**{k: v for k, v in i.items() if k != "score_id"}, "weight": float(i["weight"])}
                        for i in items if i["score_id"] == row["id"]]
    return rows


def agent_of_user(db: Database, user_id: int) -> int | None:
    row = db.fetchone("SELECT id FROM agents WHERE user_id = %s", (user_id,))
    return None if row is None else int(row["id"])
