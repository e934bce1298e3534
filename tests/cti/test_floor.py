"""The floor figures component: seeded from what the store already holds for today,
then kept from the bus, telling its listeners what changed."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from cti.bus import DomainEvent, EventBus
from cti.floor import FloorFigures
from cti.floor_day import Changes


def test_seed_then_follow_the_bus(db) -> None:
    now = time.time()
    today = datetime.fromtimestamp(now - 60, UTC)
    db.execute("INSERT INTO queues (name, settings) VALUES ('fq', '{\"service_level\": 30}') ON CONFLICT DO NOTHING")
    with db.transaction() as cur:
        cur.execute("INSERT INTO users (username, password_hash) VALUES ('floor_agent', 'x') RETURNING id")
        cur.execute("INSERT INTO agents (user_id, code) VALUES (%s, 'F1') RETURNING id", (cur.fetchone()["id"],))
        agent = cur.fetchone()["id"]
        for answered, outcome, left in ((25, "answered", 25), (None, "abandoned", 40)):
            iid = str(uuid.uuid4())
            cur.execute("""INSERT INTO queue_visits (interaction_id, seq, queue_name, entered_at, answered_at, left_at, outcome)
                           VALUES (%s, 1, 'fq', %s, %s, %s, %s)""",
                        (iid, today, None if answered is None else datetime.fromtimestamp(now - 60 + answered, UTC),
                         datetime.fromtimestamp(now - 60 + left, UTC), outcome))
            if answered is not None:
                cur.execute("""INSERT INTO agent_segments (interaction_id, agent_id, kind, started_at, queue_name)
                               VALUES (%s, %s, 'talk', %s, 'fq')""", (iid, agent, today))
    bus = EventBus()
    floor = FloorFigures(db, bus, "UTC")
    heard: list[Changes] = []
    floor.add_listener(heard.append)
    floor.start()
    try:
        seeded = floor.queue_figures("fq")
        # 25 s is within this queue's 30 s; 40 s is a real abandon, after T
        assert (seeded["offered"], seeded["answered"], seeded["abandoned"], seeded["service_level"]) == (2, 1, 1, 0.5)
        assert floor.calls_handled(agent) == 1 and floor.thresholds(["fq", "other"]) == {"fq": 30.0, "other": 20.0}
        bus.publish(DomainEvent("call.queued", {"queue": "fq"}, "ix-9", queue="fq", at=now))
        bus.publish(DomainEvent("call.answered", {"agent_id": agent, "wait_seconds": 3.0}, "ix-9", agent, "fq", at=now + 3))
        assert floor.queue_figures("fq")["service_level"] == 2 / 3
        assert floor.calls_handled(agent) == 2
        assert heard == [Changes(frozenset({"fq"})), Changes(frozenset({"fq"}), frozenset({agent}))]
    finally:
        floor.stop()
    bus.publish(DomainEvent("call.queued", {"queue": "fq"}, "ix-10", queue="fq", at=now))
    assert floor.queue_figures("fq")["offered"] == 3      # stopped: no longer counting
