"""The site as routing sees it, loaded from the database and reloaded when it changes.

:class:`Site` is one immutable snapshot: queue rules, calendars, agents (skills, queue
memberships and tiers), the latest valid version of every flow, DIDs and caller
lists. The engine swaps the whole snapshot on :meth:`SiteLoader.load`; a call keeps
the :class:`~routing.flows.Flow` object it started with, so a new flow version only
affects new calls.

Reloading is driven two ways: the web/admin calls ``RoutingEngine.reload()`` after an
edit, and the engine compares :meth:`SiteLoader.fingerprint` (one cheap query over
``queues.updated_at``, flow ids, and digests of the small tables) every few seconds,
which catches ``cti provision`` run from another process.

A definition that no longer validates (a queue, calendar or flow edited by hand in the
database) is reported in :attr:`Site.problems` and the previous good version is kept,
so one bad edit never takes working routing down.

Per-call reads (customer directory, the caller's shortcut and last agent, the quick
menu's request counts) are here too; the engine runs them in a greenlet of their own,
never on the event path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cti.db import Database
from routing.agent_index import Agent
from routing.calendars import Calendar, parse_calendar
from routing.callers import CallerLists, normalize_number
from routing.errors import CalendarError, FlowError, QueueConfigError
from routing.flows import Flow, parse_flow
from routing.ivr_state import CallerShortcut
from routing.queues import QueueRules, parse_queue_rules

log = logging.getLogger(__name__)

#: Days of ``ivr_node_stats`` that count as "recent requests" for the quick menu.
REQUEST_DAYS = 30

FINGERPRINT_SQL = """
SELECT md5(concat_ws('|',
  (SELECT coalesce(max(updated_at)::text, '') || count(*) FROM queues),
  (SELECT coalesce(max(id), 0)::text || count(*) FROM flows),
  (SELECT md5(coalesce(string_agg(number || '>' || flow_name, ',' ORDER BY number), '')) FROM dids),
  (SELECT md5(coalesce(string_agg(name || '=' || definition::text, ',' ORDER BY name), '')) FROM calendars),
  (SELECT md5(coalesce(string_agg(list_name || ':' || number, ',' ORDER BY list_name, number), ''))
     FROM caller_lists),
  (SELECT md5(coalesce(string_agg(agent_id || ':' || skill || ':' || level, ',' ORDER BY agent_id, skill), ''))
     FROM agent_skills),
  (SELECT md5(coalesce(string_agg(queue_id || ':' || agent_id || ':' || tier, ',' ORDER BY queue_id, agent_id), ''))
     FROM queue_agents),
  (SELECT md5(coalesce(string_agg(id || ':' || code, ',' ORDER BY id), '')) FROM agents)
)) AS fingerprint"""


@dataclass(frozen=True)
class Site:
    """Everything routing needs to know about the site, at one moment."""

    rules: Mapping[str, QueueRules] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    agents: Mapping[int, Agent] = field(default_factory=dict)
    memberships: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    dids: Mapping[str, str] = field(default_factory=dict)
    flows: Mapping[str, Flow] = field(default_factory=dict)
    callers: CallerLists = field(default_factory=CallerLists)
    problems: tuple[str, ...] = ()
    fingerprint: str = ""

    def flow_for_did(self, did: str) -> Flow | None:
        """The latest flow answering ``did`` (compared as dialled, then normalized)."""
        name = self.dids.get(did)
        if name is None:
            wanted = normalize_number(did)
            name = next((flow for number, flow in self.dids.items() if normalize_number(number) == wanted), None)
        return self.flows.get(name) if name is not None else None


@dataclass(frozen=True)
class CallerFacts:
    """What the directory says about a caller, read once when the call arrives."""

    customer: Mapping[str, str] | None = None
    shortcut: CallerShortcut | None = None
    last_agent: tuple[int, float] | None = None


class SiteLoader:
    """Reads the site from the database (every method does I/O: call it off the event path)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def fingerprint(self) -> str:
        row = self.db.fetchone(FINGERPRINT_SQL)
        return str(row["fingerprint"]) if row else ""

    def load(self, previous: Site | None = None) -> Site:
        """A fresh snapshot; invalid definitions keep their ``previous`` version."""
        before = previous or Site()
        problems: list[str] = []
        fingerprint = self.fingerprint()
        calendars = self._calendars(before, problems)
        rules = self._rules(before, calendars, problems)
        flows = self._flows(before, rules, calendars, problems)
        agents = self._agents(rules)
        return Site(
            rules=rules,
            calendars=calendars,
            agents=agents,
            memberships={q: tuple(sorted(a.id for a in agents.values() if q in a.queues)) for q in rules},
            dids={str(r["number"]): r["flow_name"] for r in self.db.fetchall("SELECT number, flow_name FROM dids")},
            flows=flows,
            callers=CallerLists.from_rows(
                (r["list_name"], r["number"]) for r in self.db.fetchall("SELECT list_name, number FROM caller_lists")
            ),
            problems=tuple(problems),
            fingerprint=fingerprint,
        )

    def _calendars(self, before: Site, problems: list[str]) -> dict[str, Calendar]:
        calendars: dict[str, Calendar] = {}
        for row in self.db.fetchall("SELECT name, definition FROM calendars"):
            try:
                calendars[row["name"]] = parse_calendar(row["name"], row["definition"])
            except CalendarError as exc:
                problems.append(str(exc))
                if row["name"] in before.calendars:
                    calendars[row["name"]] = before.calendars[row["name"]]
        return calendars

    def _rules(self, before: Site, calendars: Mapping[str, Calendar], problems: list[str]) -> dict[str, QueueRules]:
        rules: dict[str, QueueRules] = {}
        for row in self.db.fetchall("SELECT name, settings FROM queues ORDER BY name"):
            name = row["name"]
            try:
                parsed = parse_queue_rules(name, row["settings"])
                if parsed.calendar is not None and parsed.calendar not in calendars:
                    raise QueueConfigError(name, "calendar", f"unknown calendar {parsed.calendar!r}")
                rules[name] = parsed
            except QueueConfigError as exc:
                problems.append(str(exc))
                if name in before.rules:
                    rules[name] = before.rules[name]
        return rules

    def _flows(
        self, before: Site, rules: Mapping[str, QueueRules], calendars: Mapping[str, Calendar], problems: list[str],
    ) -> dict[str, Flow]:
        rows = self.db.fetchall(
            "SELECT DISTINCT ON (name) name, version, definition FROM flows ORDER BY name, version DESC"
        )
        names = {row["name"] for row in rows}
        flows: dict[str, Flow] = {}
        for row in rows:
            definition = row["definition"]
            if isinstance(definition, str):
                definition = json.loads(definition)
            try:
                flows[row["name"]] = parse_flow(
                    {**definition, "version": row["version"]},
                    known_queues=rules, known_calendars=calendars, known_flows=names,
                )
            except FlowError as exc:
                problems.append(str(exc))
                if row["name"] in before.flows:
                    flows[row["name"]] = before.flows[row["name"]]
        return flows

    def _agents(self, rules: Mapping[str, QueueRules]) -> dict[int, Agent]:
        skills: dict[int, dict[str, int]] = {}
        for row in self.db.fetchall("SELECT agent_id, skill, level FROM agent_skills"):
            skills.setdefault(row["agent_id"], {})[row["skill"]] = int(row["level"])
        queues: dict[int, dict[str, int]] = {}
        for row in self.db.fetchall(
            "SELECT qa.agent_id, q.name, qa.tier FROM queue_agents qa JOIN queues q ON q.id = qa.queue_id"
        ):
            if row["name"] in rules:
                queues.setdefault(row["agent_id"], {})[row["name"]] = int(row["tier"])
        return {
            row["id"]: Agent(row["id"], row["code"], skills.get(row["id"], {}), queues.get(row["id"], {}))
            for row in self.db.fetchall("SELECT id, code FROM agents")
        }

    # -- per call --------------------------------------------------------------------

    def caller_facts(self, number: str, flow: str) -> CallerFacts:
        """Customer record, shortcut for ``flow`` and last agent of the caller ``number``."""
        if not number:
            return CallerFacts()
        candidates = sorted({number, normalize_number(number)} - {""})
        with self.db.transaction() as cur:
            cur.execute(
                """SELECT c.id, c.name, c.company, c.vip, c.tags, c.notes, c.email
                     FROM customer_numbers n JOIN customers c ON c.id = n.customer_id
                    WHERE n.number = ANY(%s) LIMIT 1""",
                (candidates,),
            )
            customer = cur.fetchone()
            cur.execute(
                "SELECT kind, node FROM caller_shortcuts WHERE caller_number = ANY(%s) AND flow_name = %s",
                (candidates, flow),
            )
            shortcuts = {row["kind"]: row["node"] for row in cur.fetchall()}
            cur.execute(
                """SELECT agent_id, extract(epoch FROM answered_at) AS at FROM interactions
                    WHERE caller_number = ANY(%s) AND agent_id IS NOT NULL AND answered_at IS NOT NULL
                    ORDER BY answered_at DESC LIMIT 1""",
                (candidates,),
            )
            last = cur.fetchone()
        return CallerFacts(
            customer=_customer_fields(customer) if customer else None,
            shortcut=_shortcut(shortcuts),
            last_agent=(int(last["agent_id"]), float(last["at"])) if last else None,
        )

    def service_requests(self, flow: str) -> dict[str, int]:
        """How often each node of ``flow`` was visited in the last :data:`REQUEST_DAYS` days."""
        rows = self.db.fetchall(
            """SELECT node, sum(visits)::bigint AS visits FROM ivr_node_stats
                WHERE flow_name = %s AND day >= current_date - %s GROUP BY node""",
            (flow, REQUEST_DAYS),
        )
        return {row["node"]: int(row["visits"]) for row in rows}


def _customer_fields(row: Mapping[str, Any]) -> dict[str, str]:
    tags = row.get("tags") or []
    return {
        "id": str(row["id"]), "name": row["name"] or "", "company": row["company"] or "",
        "vip": "true" if row["vip"] else "false", "tags": ",".join(str(t) for t in tags),
        "notes": row["notes"] or "", "email": row["email"] or "",
    }


def _shortcut(rows: Mapping[str, str]) -> CallerShortcut | None:
    if "saved" in rows:
        return CallerShortcut(rows["saved"], True)
    if "last" in rows:
        return CallerShortcut(rows["last"], False)
    return None
