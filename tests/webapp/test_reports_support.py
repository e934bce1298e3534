"""A small site with call history for the report page tests and the browser test
(this module holds no tests itself).

Site zone Asia/Shanghai (UTC+8, no daylight saving). Day: Monday 2026-01-05.

Users: ``boss`` (admin), ``sup`` (supervisor of queue sales, leads team north),
``cm`` (campaign manager), ``ana`` (agent). Passwords: ``password-<username>``.
Agents: 1001 Ann (team north), 1002 Bob (member of queue support only).

Calls (local times):

  sales    09:10  answered after 15 s (Ann, talk 120)
  sales    09:40  abandoned after 30 s
  sales    10:05  answered after 25 s (Ann, talk 60)
  support  09:20  answered after 5 s (Bob, talk 90)

plus :data:`PLAIN_CALLS` inbound calls with no queue from 12:00 on (one a minute), so
the call detail runs past one page, and two callers through IVR flow ``main``: one
pressed 1 (went to sales), one hung up in the menu.
"""

from __future__ import annotations

import json

from cti.db import Database
from cti.users import upsert_user
from tests.reports.store import Store

TZ = "Asia/Shanghai"
DAY = "2026-01-05"
PLAIN_CALLS = 130
USERS = {"boss": ("admin",), "sup": ("supervisor",), "cm": ("campaign_manager",), "ana": ("agent",)}

FLOW = {"name": "main", "start": "welcome", "nodes": {
    "welcome": {"type": "play", "prompt": "welcome.wav", "next": "menu"},
    "menu": {"type": "menu", "prompt": "menu.wav", "options": {"1": "sales", "2": "support"}, "on_failure": "bye"},
    "sales": {"type": "queue", "queue": "sales"},
    "support": {"type": "queue", "queue": "support"},
    "bye": {"type": "hangup"},
}}


def password(username: str) -> str:
    return f"password-{username}"


def _users(db: Database) -> dict[str, int]:
    ids = {}
    with db.transaction() as cur:
        for username, roles in USERS.items():
            ids[username] = upsert_user(cur, username, roles=roles, display_name=username.title(),
                                        password=password(username))
    return ids


def _scope(db: Database, sup: int, ann: int, bob: int) -> None:
    with db.transaction() as cur:
        cur.execute("INSERT INTO teams (name) VALUES ('north') RETURNING id")
        team = cur.fetchone()["id"]
        cur.execute("INSERT INTO team_supervisors (team_id, user_id) VALUES (%s, %s)", (team, sup))
        cur.execute("UPDATE agents SET team_id = %s WHERE id = %s", (team, ann))
        cur.execute("INSERT INTO queue_supervisors (queue_id, user_id) SELECT id, %s FROM queues WHERE name = 'sales'",
                    (sup,))
        cur.execute("INSERT INTO queue_agents (queue_id, agent_id) SELECT id, %s FROM queues WHERE name = 'support'",
                    (bob,))


def _queue_call(s: Store, start: str, queue: str, wait: float, outcome: str, agent: int | None = None,
                talk: float = 0.0) -> None:
    iid = s.interaction(f"{DAY} {start}", queue=queue, agent=agent, answered=wait if outcome == "answered" else None,
                        talk=talk)
    s.visit(iid, 1, queue, f"{DAY} {start}", wait=wait, outcome=outcome, agent=agent)
    if talk and agent is not None:
        s.segment(iid, agent, "talk", f"{DAY} {start}", talk, queue)


def _ivr(s: Store) -> None:
    s.db.execute("INSERT INTO flows (name, version, definition, checksum) VALUES ('main', 1, %s, 'x')",
                 (json.dumps(FLOW),))
    for caller, path in (("+8613800000001", [("welcome", "next"), ("menu", "1"), ("sales", "service")]),
                         ("+8613800000002", [("welcome", "next"), ("menu", "hangup")])):
        iid = s.interaction(f"{DAY} 11:00", caller=caller, outcome="ivr")
        for step, (node, exit_label) in enumerate(path):
            at = f"{DAY} 11:00:{step * 10:02d}"
            s.ivr_event(iid, at, {"flow": "main", "node": node, "kind": "node_entered"})
            s.ivr_event(iid, at, {"flow": "main", "node": node, "kind": "node_left", "exit": exit_label,
                                  "seconds": 5.0})


def build_site(db: Database) -> dict[str, int]:
    """Write the site described in the module docstring; returns user and agent ids."""
    s = Store(db, TZ)
    s.queue("sales", 20)
    s.queue("support", 30)
    ids = _users(db)
    ann, bob = s.agent("1001", "Ann"), s.agent("1002", "Bob")
    _scope(db, ids["sup"], ann, bob)
    _queue_call(s, "09:10:00", "sales", 15, "answered", ann, talk=120)
    _queue_call(s, "09:40:00", "sales", 30, "abandoned")
    _queue_call(s, "10:05:00", "sales", 25, "answered", ann, talk=60)
    _queue_call(s, "09:20:00", "support", 5, "answered", bob, talk=90)
    for minute in range(PLAIN_CALLS):
        s.interaction(f"{DAY} {12 + minute // 60:02d}:{minute % 60:02d}:00", caller=f"+86139{minute:08d}")
    _ivr(s)
    return {**ids, "ann": ann, "bob": bob}
