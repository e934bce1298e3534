"""What the agent desktop reads: the agent's profile and codes, their live state and
current call (with the buttons that apply), screen-pops, today's figures, recent calls.

Live facts come from the core's state (memory); history from the store's tables. Used
by the desktop's JSON endpoints (:mod:`webapp.agent`) and by the ``hello`` push
(:mod:`webapp.sockets`), so a reloaded page sees exactly what a push would have said.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cti.agent_states import SYSTEM_REASONS
from cti.agents import ExtensionInUse
from cti.crm_lookup import CrmLookup
from cti.customers import CustomerDirectory, region_from
from cti.db import Database
from cti.services import Services
from cti.tracker import UnknownAgent, UnknownInteraction
from routing.errors import QueueConfigError
from routing.queues import parse_queue_rules
from webapp.rooms import Directory, masked
from webapp.screen_pop import ScreenPops

RECENT = 20


def agent_of_user(db: Database, user_id: int) -> dict[str, Any] | None:
    row = db.fetchone(
        """SELECT a.id, a.code, a.default_extension, a.team_id, u.display_name, t.name AS team
             FROM agents a JOIN users u ON u.id = a.user_id LEFT JOIN teams t ON t.id = a.team_id
            WHERE a.user_id = %s""", (user_id,))
    return None if row is None else dict(row)


def queues_of(db: Database, agent_id: int) -> list[dict[str, Any]]:
    """The agent's queues with what wrap-up needs: display name, dispositions, rules."""
    rows = db.fetchall(
        """SELECT q.name, q.display_name, q.settings FROM queue_agents qa JOIN queues q ON q.id = qa.queue_id
            WHERE qa.agent_id = %s ORDER BY q.name""", (agent_id,))
    out = []
    for row in rows:
        try:
            rules = parse_queue_rules(row["name"], row["settings"] or {})
            required, recording, wrapup = rules.disposition_required, rules.recording.value, rules.wrapup
        except QueueConfigError:
            required, recording, wrapup = False, "never", 0
        out.append({"name": row["name"], "display_name": row["display_name"] or row["name"],
                    "disposition_required": required, "recording": recording, "wrapup_seconds": wrapup})
    return out


def reason_codes(db: Database) -> list[dict[str, str]]:
    """The not-ready reasons an agent may choose (system reasons such as ``missed`` are set by the system)."""
    rows = db.fetchall("SELECT code, label FROM reason_codes ORDER BY code")
    return [{"code": r["code"], "label": r["label"]} for r in rows if r["code"] not in SYSTEM_REASONS]


def dispositions(db: Database) -> list[dict[str, str]]:
    rows = db.fetchall("SELECT code, label, queue_name FROM disposition_codes ORDER BY queue_name, code")
    return [{"code": r["code"], "label": r["label"], "queue": r["queue_name"]} for r in rows]


def dispositions_for(db: Database, queue: str) -> list[str]:
    return [d["code"] for d in dispositions(db) if d["queue"] in ("", queue)]


def disposition_required(db: Database, queue: str) -> bool:
    if not queue:
        return False
    row = db.fetchone("SELECT settings FROM queues WHERE name = %s", (queue,))
    if row is None:
        return False
    try:
        return parse_queue_rules(queue, row["settings"] or {}).disposition_required
    except QueueConfigError:
        return False


def live_agent(services: Services, agent_id: int) -> dict[str, Any]:
    core = getattr(services, "core", None)
    if core is None:
        return {"id": agent_id, "state": "logged_out", "reason": "", "extension": "", "since": None}
    try:
        return core.state.agent_snapshot(agent_id)
    except UnknownAgent:
        return {"id": agent_id, "state": "logged_out", "reason": "", "extension": "", "since": None}


def extension_holder(services: Services, extension: str, agent_id: int) -> ExtensionInUse | None:
    """The refusal to log ``agent_id`` in on ``extension`` when a colleague holds it
    (None when it is free or already this agent's), naming the colleague for people:
    the core refuses the same login (:class:`cti.agents.ExtensionInUse`, code
    ``extension-in-use``) but only knows them by internal id. The desktop and the REST
    API both answer with this one refusal."""
    core = getattr(services, "core", None)
    if core is None:
        return None
    holder = next((a["id"] for a in core.state.agents()
                   if a["extension"] == extension and a["state"] != "logged_out" and a["id"] != agent_id), None)
    if holder is None:
        return None
    row = services.db.fetchone(
        "SELECT a.code, u.display_name FROM agents a JOIN users u ON u.id = a.user_id WHERE a.id = %s", (holder,))
    name = f"{row['display_name']} ({row['code']})" if row is not None else ""
    return ExtensionInUse(extension, holder, name)


def call_of(agent: dict[str, Any]) -> str | None:
    """The interaction an agent is ringing for, talking on, or wrapping up."""
    wrapup = agent.get("wrapup") or {}
    return agent.get("interaction_id") or wrapup.get("interaction_id")


def current_call(services: Services, agent_id: int, directory: Directory, agent: dict[str, Any]) -> dict[str, Any] | None:
    """The agent's call: its record (secret digits masked), the buttons that apply and
    the transfer session, or None."""
    from cti.call_control import CallControl

    interaction_id = call_of(agent)
    core = getattr(services, "core", None)
    if interaction_id is None or core is None:
        return None
    try:
        record = core.state.interaction_snapshot(interaction_id, time.time())
    except UnknownInteraction:
        return None
    control = CallControl.for_services(services)
    session = control.session(interaction_id)
    return {
        "interaction_id": interaction_id,
        "record": masked({"data": record}, directory)["data"],
        "actions": control.availability(agent_id, interaction_id),
        "session": session.to_dict() if session is not None else None,
        "wrapup": agent.get("state") == "wrap_up",
    }


def desktop_state(
    services: Services, agent_id: int, directory: Directory, after_call: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the desktop shows: the live agent, their call, the "not ready after this
    call" they queued (``after_call``, see :mod:`webapp.after_call`) and the server's clock."""
    agent = live_agent(services, agent_id)
    call = current_call(services, agent_id, directory, agent)
    if call is not None:
        call["screen_pop"] = screen_pop_for(services, call["interaction_id"], agent_id, directory)
    return {"agent": agent, "call": call, "after_call": after_call, "server_time": time.time()}


def screen_pops(services: Services) -> ScreenPops:
    region = region_from(services.settings.extra)
    return ScreenPops(services.db, CustomerDirectory(services.db, region=region), crm=CrmLookup.for_services(services))


def screen_pop_for(services: Services, interaction_id: str, agent_id: int | None, directory: Directory) -> dict[str, Any] | None:
    core = getattr(services, "core", None)
    if core is None:
        return None
    try:
        record = core.state.interaction_snapshot(interaction_id, time.time())
    except UnknownInteraction:
        return None
    return screen_pops(services).build(record, directory, agent_id=agent_id)


def day_start(zone: str, now: float | None = None) -> datetime:
    local = datetime.fromtimestamp(time.time() if now is None else now, ZoneInfo(zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


_FIGURES = """
SELECT count(DISTINCT interaction_id) FILTER (WHERE kind = 'talk') AS handled,
       COALESCE(sum(EXTRACT(EPOCH FROM (COALESCE(ended_at, now()) - started_at)))
                FILTER (WHERE kind IN ('talk', 'hold', 'wrapup')), 0) AS handle_seconds,
       COALESCE(sum(EXTRACT(EPOCH FROM (COALESCE(ended_at, now()) - started_at)))
                FILTER (WHERE kind = 'talk'), 0) AS talk_seconds
  FROM agent_segments WHERE agent_id = %(agent)s AND started_at >= %(since)s"""


def today_figures(db: Database, agent_id: int, zone: str) -> dict[str, Any]:
    """Calls handled today (site time zone) and the average handle time (talk + hold + wrap-up)."""
    row = db.fetchone(_FIGURES, {"agent": agent_id, "since": day_start(zone)}) or {}
    handled = int(row.get("handled") or 0)
    handle = float(row.get("handle_seconds") or 0.0)
    return {"handled": handled, "aht_seconds": round(handle / handled, 1) if handled else None,
            "talk_seconds": round(float(row.get("talk_seconds") or 0.0), 1)}


_RECENT = """
WITH mine AS (
    SELECT interaction_id FROM agent_segments WHERE agent_id = %(agent)s
     GROUP BY interaction_id ORDER BY max(started_at) DESC LIMIT %(limit)s
)
SELECT i.id::text AS interaction_id, i.direction, i.started_at, i.ended_at, i.caller_number, i.callee_number,
       i.queue_name AS queue, i.outcome, i.disposition, i.notes, i.talk_seconds,
       ARRAY(SELECT r.id::text FROM recordings r
              WHERE r.interaction_id = i.id AND r.deleted_at IS NULL ORDER BY r.started_at) AS recording_ids
  FROM interactions i JOIN mine ON mine.interaction_id = i.id
 ORDER BY i.started_at DESC"""


def recent_calls(db: Database, agent_id: int, limit: int = RECENT) -> list[dict[str, Any]]:
    """The agent's last calls, newest first, with their recordings (which the agent may play)."""
    rows = db.fetchall(_RECENT, {"agent": agent_id, "limit": limit})
    out = []
    for row in rows:
        item = dict(row)
        for key in ("started_at", "ended_at"):
            item[key] = item[key].isoformat() if item[key] is not None else None
        item["recording_ids"] = list(item["recording_ids"] or [])
        out.append(item)
    return out


__all__ = [
    "agent_of_user", "call_of", "current_call", "day_start", "desktop_state", "disposition_required", "extension_holder",
    "dispositions", "dispositions_for", "live_agent", "queues_of", "reason_codes", "recent_calls", "screen_pop_for",
    "screen_pops", "today_figures",
]
