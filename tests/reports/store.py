"""Writes hand-made history into the real store, the way the store writer would.

Times are given as local wall-clock strings in the test's zone; every insert uses
bound parameters.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cti.db import Database


def at(local: str, tz: str) -> pd.Timestamp:
    return pd.Timestamp(local).tz_localize(tz)


@dataclass
class Store:
    db: Database
    tz: str
    agents: dict[int, int] = field(default_factory=dict)

    def t(self, local: str, plus: float = 0.0) -> Any:
        return (at(local, self.tz) + pd.Timedelta(seconds=plus)).floor("us").to_pydatetime()

    def queue(self, name: str, service_level: int | None = None) -> None:
        settings = {} if service_level is None else {"service_level": service_level}
        self.db.execute("INSERT INTO queues (name, settings) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                        (name, json.dumps(settings)))

    def agent(self, code: str, name: str) -> int:
        with self.db.transaction() as cur:
            cur.execute("INSERT INTO users (username, display_name, password_hash) VALUES (%s, %s, 'x') RETURNING id",
                        (f"u{code}", name))
            user_id = cur.fetchone()["id"]
            cur.execute("INSERT INTO agents (user_id, code) VALUES (%s, %s) RETURNING id", (user_id, code))
            return int(cur.fetchone()["id"])

    def interaction(self, start: str, *, direction: str = "inbound", caller: str = "+33100000001",
                    callee: str = "", did: str = "+33199990000", queue: str = "", agent: int | None = None,
                    answered: float | None = None, ended: float = 300.0, outcome: str = "completed",
                    transfers: int = 0, campaign: int | None = None, contact: int | None = None,
                    talk: float = 0.0, hold: float = 0.0, wrapup: float = 0.0, disposition: str = "") -> str:
        iid = str(uuid.uuid4())
        self.db.execute(
            """INSERT INTO interactions (id, direction, did, caller_number, callee_number, queue_name, agent_id,
                   started_at, answered_at, ended_at, outcome, transfers, campaign_id, contact_id,
                   talk_seconds, hold_seconds, wrapup_seconds, disposition)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (iid, direction, did, caller, callee, queue, agent, self.t(start),
             None if answered is None else self.t(start, answered), self.t(start, ended), outcome, transfers,
             campaign, contact, talk, hold, wrapup, disposition))
        return iid

    def visit(self, iid: str, seq: int, queue: str, entered: str, *, wait: float, outcome: str,
              agent: int | None = None) -> None:
        answered = self.t(entered, wait) if outcome == "answered" else None
        self.db.execute(
            """INSERT INTO queue_visits (interaction_id, seq, queue_name, entered_at, answered_at, left_at, outcome,
                   agent_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
            (iid, seq, queue, self.t(entered), answered, self.t(entered, wait), outcome, agent))

    def segment(self, iid: str, agent: int, kind: str, start: str, seconds: float, queue: str = "") -> None:
        self.db.execute(
            """INSERT INTO agent_segments (interaction_id, agent_id, kind, started_at, ended_at, queue_name)
               VALUES (%s, %s, %s, %s, %s, %s)""",
            (iid, agent, kind, self.t(start), self.t(start, seconds), queue))

    def offer(self, iid: str, agent: int, queue: str, start: str, outcome: str, seconds: float = 5.0) -> None:
        self.db.execute(
            """INSERT INTO agent_offers (interaction_id, leg_uuid, agent_id, queue_name, offered_at, ended_at, outcome)
               VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            (iid, str(uuid.uuid4()), agent, queue, self.t(start), self.t(start, seconds), outcome))

    def state(self, agent: int, local: str, state: str, reason: str = "") -> None:
        self.db.execute(
            "INSERT INTO agent_state_history (event_id, agent_id, at, state, reason) VALUES (%s, %s, %s, %s, %s)",
            (str(uuid.uuid4()), agent, self.t(local), state, reason))

    def voicemail(self, box: str, created: str, *, status: str = "new", handled_after: float | None = None,
                  duration_ms: int = 20_000) -> None:
        self.db.execute(
            """INSERT INTO voicemails (id, box, path, duration_ms, status, created_at, handled_at)
               VALUES (%s, %s, '/tmp/vm.wav', %s, %s, %s, %s)""",
            (str(uuid.uuid4()), box, duration_ms, status, self.t(created),
             None if handled_after is None else self.t(created, handled_after)))

    def ivr_event(self, iid: str, local: str, data: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO interaction_events (event_id, interaction_id, at, type, data) VALUES (%s, %s, %s, %s, %s)",
            (str(uuid.uuid4()), iid, self.t(local), "call.ivr_step", json.dumps(data)))
