"""The SQL of campaigns, their contact lists and DNC lists, for the dialer, the
scheduler, the campaign pages and the CLI (the dial cycle's own SQL is in
:mod:`outbound.store`).

Like :mod:`outbound.store`, every function takes a cursor of
:meth:`cti.db.Database.transaction` (rows as dicts), so callers compose them in one
transaction; all SQL uses bound parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from outbound.campaign_states import FINAL_CONTACT_STATES, CampaignState, ContactState

#: Columns a manager edits (state changes go through :func:`set_state`).
EDITABLE = ("display_name", "mode", "compliance_profile", "queue_name", "caller_id_number", "caller_id_name",
            "settings", "starts_at", "ends_at")
_FINAL = tuple(s.value for s in FINAL_CONTACT_STATES)


def campaign(cur: Any, campaign_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    """One campaign row; ``lock`` holds it (FOR UPDATE) for a state change."""
    if lock:
        cur.execute("SELECT * FROM outbound_campaigns WHERE id = %s FOR UPDATE", (campaign_id,))
    else:
        cur.execute("SELECT * FROM outbound_campaigns WHERE id = %s", (campaign_id,))
    row = cur.fetchone()
    return dict(row) if row else None


def campaign_id_by_name(cur: Any, name: str) -> int | None:
    cur.execute("SELECT id FROM outbound_campaigns WHERE name = %s", (name,))
    row = cur.fetchone()
    return int(row["id"]) if row else None


def campaigns(cur: Any, states: Iterable[CampaignState] | None = None) -> list[dict[str, Any]]:
    """Campaigns (newest first), optionally only those in ``states``."""
    if states is None:
        cur.execute("SELECT * FROM outbound_campaigns ORDER BY created_at DESC, id DESC")
    else:
        cur.execute("SELECT * FROM outbound_campaigns WHERE state = ANY(%s) ORDER BY id",
                    ([s.value for s in states],))
    return [dict(r) for r in cur.fetchall()]


def create_campaign(cur: Any, name: str, fields: Mapping[str, Any]) -> int:
    columns = ["name", *(c for c in EDITABLE if c in fields)]
    values = [name, *(_value(c, fields[c]) for c in columns[1:])]
    placeholders = ", ".join("%s::jsonb" if c == "settings" else "%s" for c in columns)
    cur.execute(
        f"INSERT INTO outbound_campaigns ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id",  # noqa: S608 -- columns whitelisted
        values,
    )
    return int(cur.fetchone()["id"])


def update_campaign(cur: Any, campaign_id: int, fields: Mapping[str, Any]) -> None:
    columns = [c for c in EDITABLE if c in fields]
    if not columns:
        return
    sets = ", ".join(f"{c} = %s::jsonb" if c == "settings" else f"{c} = %s" for c in columns)
    cur.execute(
        f"UPDATE outbound_campaigns SET {sets}, updated_at = now() WHERE id = %s",  # noqa: S608 -- columns whitelisted
        [*(_value(c, fields[c]) for c in columns), campaign_id],
    )


def _value(column: str, value: Any) -> Any:
    return json.dumps(value) if column == "settings" else value


def set_state(cur: Any, campaign_id: int, state: CampaignState) -> None:
    cur.execute("UPDATE outbound_campaigns SET state = %s, updated_at = now() WHERE id = %s",
                (state.value, campaign_id))


def audit(cur: Any, *, actor_id: int | None, actor_name: str, action: str, campaign_id: int,
          details: Mapping[str, Any] | None = None, actor_type: str = "user") -> None:
    cur.execute(
        """INSERT INTO audit_log (actor_type, actor_id, actor_name, action, target_type, target_id, details)
           VALUES (%s, %s, %s, %s, 'campaign', %s, %s::jsonb)""",
        (actor_type, actor_id, actor_name, action, str(campaign_id), json.dumps(dict(details or {}), default=str)),
    )


# -- contacts ------------------------------------------------------------------------


def contact_counts(cur: Any, campaign_id: int) -> dict[str, int]:
    """Contacts of the campaign's active lists, by state (every state present, 0 if none)."""
    cur.execute(
        """SELECT c.state, count(*) AS n FROM outbound_contacts c
             JOIN outbound_contact_lists l ON l.id = c.list_id
            WHERE l.campaign_id = %s AND l.active GROUP BY c.state""",
        (campaign_id,),
    )
    counts = {s.value: 0 for s in ContactState}
    counts.update({r["state"]: int(r["n"]) for r in cur.fetchall()})
    return counts


def due_count(cur: Any, campaign_id: int, now: datetime, *, cap: int) -> int:
    """Contacts that may be claimed now, counted up to ``cap`` (the pacing snapshot's
    ``contacts_ready``: beyond a few lines per agent the exact number does not matter,
    and the cap keeps the query cheap on a list of a million)."""
    cur.execute(
        """SELECT count(*) AS n FROM (
               SELECT 1 FROM outbound_contacts c JOIN outbound_contact_lists l ON l.id = c.list_id
                WHERE l.campaign_id = %s AND l.active AND c.state IN ('new', 'scheduled_retry')
                  AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= %s)
                LIMIT %s) due""",
        (campaign_id, now, cap),
    )
    return int(cur.fetchone()["n"])


def unfinished_count(cur: Any, campaign_id: int) -> int:
    """Contacts not yet in a final state: zero means the campaign is exhausted."""
    cur.execute(
        """SELECT count(*) AS n FROM outbound_contacts c JOIN outbound_contact_lists l ON l.id = c.list_id
            WHERE l.campaign_id = %s AND l.active AND c.state <> ALL(%s)""",
        (campaign_id, list(_FINAL)),
    )
    return int(cur.fetchone()["n"])


_CONTACT = ("SELECT c.*, l.campaign_id FROM outbound_contacts c "
            "JOIN outbound_contact_lists l ON l.id = c.list_id WHERE c.id = %s")
_CONTACT_LOCKED = _CONTACT + " FOR UPDATE OF c"


def contact(cur: Any, contact_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    cur.execute(_CONTACT_LOCKED if lock else _CONTACT, (contact_id,))
    row = cur.fetchone()
    return dict(row) if row else None


def contacts_page(cur: Any, campaign_id: int, *, state: str | None = None, limit: int = 100,
                  after_id: int = 0) -> list[dict[str, Any]]:
    cur.execute(
        """SELECT c.id, c.e164, c.name, c.state, c.attempts, c.next_attempt_at, c.last_outcome, c.final_outcome,
                  l.name AS list_name
             FROM outbound_contacts c JOIN outbound_contact_lists l ON l.id = c.list_id
            WHERE l.campaign_id = %s AND c.id > %s AND (%s::text IS NULL OR c.state = %s)
            ORDER BY c.id LIMIT %s""",
        (campaign_id, after_id, state, state, limit),
    )
    return [dict(r) for r in cur.fetchall()]


def open_attempts(cur: Any, campaign_id: int) -> list[dict[str, Any]]:
    """Attempts still marked ``dialing``, with the contact's state and the interaction's
    record if the store has one (for the clean-up after a restart)."""
    cur.execute(
        """SELECT a.id, a.contact_id, a.e164, a.started_at, a.interaction_id, a.agent_reserved,
                  c.state AS contact_state, i.outcome AS interaction_outcome, i.agent_id,
                  i.answered_at, i.ended_at, i.disposition, i.hangup_cause
             FROM outbound_attempts a JOIN outbound_contacts c ON c.id = a.contact_id
             LEFT JOIN interactions i ON i.id = a.interaction_id
            WHERE a.campaign_id = %s AND a.outcome = 'dialing' ORDER BY a.id""",
        (campaign_id,),
    )
    return [dict(r) for r in cur.fetchall()]


def stale_connected(cur: Any, campaign_id: int, ended_before: datetime) -> list[dict[str, Any]]:
    """Contacts left ``connected`` after their call ended long ago (no disposition came)."""
    cur.execute(
        """SELECT DISTINCT ON (c.id) c.id AS contact_id, a.id AS attempt_id, c.attempts
             FROM outbound_contacts c JOIN outbound_attempts a ON a.contact_id = c.id
            WHERE a.campaign_id = %s AND c.state = 'connected' AND a.ended_at IS NOT NULL
              AND a.ended_at < %s
            ORDER BY c.id, a.id DESC""",
        (campaign_id, ended_before),
    )
    return [dict(r) for r in cur.fetchall()]


# -- contact lists -------------------------------------------------------------------


def lists_of(cur: Any, campaign_id: int) -> list[dict[str, Any]]:
    cur.execute(
        """SELECT l.id, l.name, l.priority, l.active, l.default_region, l.created_at,
                  count(c.id) AS contacts
             FROM outbound_contact_lists l LEFT JOIN outbound_contacts c ON c.list_id = l.id
            WHERE l.campaign_id = %s GROUP BY l.id ORDER BY l.priority DESC, l.id""",
        (campaign_id,),
    )
    return [dict(r) for r in cur.fetchall()]


def attach_list(cur: Any, list_id: int, campaign_id: int) -> None:
    cur.execute("UPDATE outbound_contact_lists SET campaign_id = %s WHERE id = %s", (campaign_id, list_id))


def import_jobs_of(cur: Any, campaign_id: int, limit: int = 20) -> list[dict[str, Any]]:
    cur.execute(
        """SELECT j.* , l.name AS list_name FROM outbound_import_jobs j
             JOIN outbound_contact_lists l ON l.id = j.list_id
            WHERE l.campaign_id = %s ORDER BY j.started_at DESC LIMIT %s""",
        (campaign_id, limit),
    )
    return [dict(r) for r in cur.fetchall()]


# -- agents --------------------------------------------------------------------------


def campaign_agent_ids(cur: Any, queue_name: str, skills: Mapping[str, int]) -> list[int]:
    """Members of the queue who have every required skill at the level asked."""
    cur.execute(
        """SELECT qa.agent_id FROM queue_agents qa JOIN queues q ON q.id = qa.queue_id
            WHERE q.name = %s
              AND NOT EXISTS (
                  SELECT 1 FROM jsonb_each_text(%s::jsonb) req
                   WHERE NOT EXISTS (SELECT 1 FROM agent_skills s
                                      WHERE s.agent_id = qa.agent_id AND s.skill = req.key
                                        AND s.level >= req.value::int))
            ORDER BY qa.agent_id""",
        (queue_name, json.dumps(dict(skills))),
    )
    return [int(r["agent_id"]) for r in cur.fetchall()]


def queue_names(cur: Any) -> list[str]:
    cur.execute("SELECT name FROM queues ORDER BY name")
    return [r["name"] for r in cur.fetchall()]


def agent_id_of_user(cur: Any, user_id: int) -> int | None:
    cur.execute("SELECT id FROM agents WHERE user_id = %s", (user_id,))
    row = cur.fetchone()
    return int(row["id"]) if row else None


# -- DNC lists -----------------------------------------------------------------------


def dnc_lists(cur: Any, campaign_id: int | None = None) -> list[dict[str, Any]]:
    """Global lists, plus the campaign's own when ``campaign_id`` is given."""
    cur.execute(
        """SELECT l.id, l.name, l.campaign_id, l.description, count(n.e164) AS numbers
             FROM outbound_dnc_lists l LEFT JOIN outbound_dnc_numbers n ON n.dnc_list_id = l.id
            WHERE l.campaign_id IS NULL OR l.campaign_id = %s
            GROUP BY l.id ORDER BY l.campaign_id NULLS FIRST, l.name""",
        (campaign_id,),
    )
    return [dict(r) for r in cur.fetchall()]


def global_dnc_list(cur: Any) -> int:
    """The site's default global DNC list, created on first use."""
    cur.execute(
        """INSERT INTO outbound_dnc_lists (name, description) VALUES ('global', 'numbers no campaign may call')
           ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id"""
    )
    return int(cur.fetchone()["id"])


def add_dnc_numbers(cur: Any, dnc_list_id: int, numbers: Sequence[str], *, reason: str, added_by: str) -> int:
    """Add E.164 numbers; returns how many were new."""
    cur.execute(
        """INSERT INTO outbound_dnc_numbers (dnc_list_id, e164, reason, added_by)
           SELECT %s, unnest(%s::text[]), %s, %s ON CONFLICT (dnc_list_id, e164) DO NOTHING""",
        (dnc_list_id, list(numbers), reason, added_by),
    )
    return int(cur.rowcount)


def remove_dnc_number(cur: Any, dnc_list_id: int, e164: str) -> bool:
    cur.execute("DELETE FROM outbound_dnc_numbers WHERE dnc_list_id = %s AND e164 = %s", (dnc_list_id, e164))
    return bool(cur.rowcount)


def dnc_numbers(cur: Any, dnc_list_id: int, limit: int = 200) -> list[dict[str, Any]]:
    cur.execute(
        "SELECT e164, reason, added_at, added_by FROM outbound_dnc_numbers WHERE dnc_list_id = %s "
        "ORDER BY added_at DESC LIMIT %s",
        (dnc_list_id, limit),
    )
    return [dict(r) for r in cur.fetchall()]
