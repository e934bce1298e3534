"""The store writer against a real PostgreSQL: rows written, idempotent replays, the
revision guard, refused records set aside, outages, restarts and a full journal."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from cti.bus import DomainEvent, EventBus
from cti.db import Database
from cti.store import StoreBusy, StoreWriter
from tests.cti.test_store_support import Calls, make_agents

UNREACHABLE = "postgresql://nobody@127.0.0.1:9/nowhere?connect_timeout=1"


@pytest.fixture(scope="module")
def agents(db: Database) -> list[int]:
    return make_agents(db, 3)


class Harness:
    def __init__(self, db: Database, directory: Path, **options: Any) -> None:
        self.bus = EventBus()
        options = {"backoff": (0.05, 0.2), "flush_timeout": 5.0, **options}
        self.writer = StoreWriter(db, self.bus, directory, **options)

    def publish(self, events: list[DomainEvent]) -> None:
        for event in events:
            self.bus.publish(event)

    def __enter__(self) -> Harness:
        self.writer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.writer.stop()


def row(db: Database, iid: str) -> dict[str, Any]:
    found = db.fetchone("SELECT * FROM interactions WHERE id = %s", (iid,))
    assert found is not None, f"interaction {iid} not stored"
    found.pop("updated_at")
    return found


def counts(db: Database, iid: str) -> dict[str, int]:
    tables = {
        "legs": "SELECT count(*) AS n FROM legs WHERE interaction_id = %s",
        "offers": "SELECT count(*) AS n FROM agent_offers WHERE interaction_id = %s",
        "segments": "SELECT count(*) AS n FROM agent_segments WHERE interaction_id = %s",
        "visits": "SELECT count(*) AS n FROM queue_visits WHERE interaction_id = %s",
        "timeline": "SELECT count(*) AS n FROM interaction_events WHERE interaction_id = %s",
        "history": "SELECT count(*) AS n FROM agent_state_history WHERE interaction_id = %s",
    }
    return {name: int(db.fetchone(sql, (iid,))["n"]) for name, sql in tables.items()}


def test_an_answered_call_is_stored_with_its_rows(db: Database, agents: list[int], tmp_path: Path) -> None:
    agent = agents[0]
    calls = Calls(agent)
    iid = calls.answered(agent, talk=30.0, wait=5.0)
    calls.wrapup_done(agent, "resolved", "ok")
    with Harness(db, tmp_path) as h:
        h.publish(calls.events)
        assert h.writer.flush(10)
        stats = h.writer.stats()

    stored = row(db, iid)
    assert (stored["direction"], stored["outcome"], stored["agent_id"], stored["queue_name"]) == (
        "inbound", "answered", agent, "support")
    assert (stored["disposition"], stored["notes"], stored["hangup_by"]) == ("resolved", "ok", "customer")
    assert stored["talk_seconds"] == 30.0 and stored["ended_at"] is not None and stored["wrapup_ended_at"] is not None
    assert stored["revision"] // 10**16 == 3
    assert counts(db, iid) == {
        "legs": 2, "offers": 1, "segments": 2, "visits": 1,
        "timeline": len([e for e in calls.events if e.type.startswith("call.")]),
        "history": 4,  # reserved, on_call, wrap_up, available (the login row has no interaction)
    }
    visit = db.fetchone("SELECT outcome, agent_id, answered_at IS NOT NULL AS answered FROM queue_visits "
                        "WHERE interaction_id = %s", (iid,))
    assert visit == {"outcome": "answered", "agent_id": agent, "answered": True}
    slot = db.fetchone("SELECT sum(answered) AS answered FROM report_queue_slots WHERE queue_name = 'support'")
    assert slot["answered"] >= 1, "the report roll-up was not updated in the same transaction"
    assert stats["backlog"] == 0 and stats["written"] == stats["journalled"] == len(calls.events)
    assert stats["errors"] == stats["outages"] == stats["rejected"] == 0


def test_replaying_every_record_changes_nothing(db: Database, agents: list[int], tmp_path: Path) -> None:
    agent = agents[1]
    calls = Calls(agent, start=1_800_100_000.0)
    iid = calls.answered(agent)
    calls.wrapup_done(agent)
    with Harness(db, tmp_path / "a") as h:
        h.publish(calls.events)
        assert h.writer.flush(10)
    before, before_counts = row(db, iid), counts(db, iid)
    with Harness(db, tmp_path / "b") as h:   # a fresh journal: everything is written again
        h.publish(calls.events + calls.events)
        assert h.writer.flush(10)
    assert row(db, iid) == before
    assert counts(db, iid) == before_counts


def test_an_older_record_never_overwrites_a_newer_one(db: Database, agents: list[int], tmp_path: Path) -> None:
    agent = agents[2]
    calls = Calls(agent, start=1_800_200_000.0)
    iid = calls.answered(agent)
    calls.wrapup_done(agent, "sale", "final words")
    final = calls.of("call.wrapup_ended", iid)
    created, ended = calls.of("call.created", iid), calls.of("call.ended", iid)
    with Harness(db, tmp_path) as h:
        h.publish(final)              # the newest first ...
        h.publish(ended + created)    # ... then older records, as a replay after a crash would
        assert h.writer.flush(10)
    stored = row(db, iid)
    assert (stored["disposition"], stored["notes"]) == ("sale", "final words")
    assert stored["wrapup_ended_at"] is not None and stored["revision"] // 10**16 == 3


def test_a_call_in_progress_already_has_its_row(db: Database, tmp_path: Path) -> None:
    calls = Calls(start=1_800_300_000.0)
    iid = calls.live_call(caller="+15550177")
    with Harness(db, tmp_path) as h:
        h.publish(calls.events)
        assert h.writer.flush(10)
    stored = row(db, iid)
    assert (stored["outcome"], stored["caller_number"], stored["did"], stored["ended_at"]) == (
        "live", "+15550177", "8000", None)
    assert stored["revision"] // 10**16 == 0


def test_an_abandoned_call_and_the_customer_link(db: Database, tmp_path: Path) -> None:
    with db.transaction() as cur:
        cur.execute("INSERT INTO customers (name) VALUES ('Ada') RETURNING id")
        customer = cur.fetchone()["id"]
        cur.execute("INSERT INTO customer_numbers (number, customer_id) VALUES ('+15550188', %s)", (customer,))
    calls = Calls(start=1_800_400_000.0)
    iid = calls.abandoned(caller="+15550188", wait=12.0)
    with Harness(db, tmp_path) as h:
        h.publish(calls.events)
        assert h.writer.flush(10)
    stored = row(db, iid)
    assert (stored["outcome"], stored["customer_id"], stored["abandoned_at"] is not None) == (
        "abandoned", customer, True)
    assert db.fetchone("SELECT outcome FROM queue_visits WHERE interaction_id = %s", (iid,))["outcome"] == "abandoned"


def test_a_refused_record_is_set_aside_and_the_others_written(db: Database, agents: list[int], tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    calls = Calls(agents[0], start=1_800_500_000.0)
    iid = calls.live_call()
    bad = DomainEvent(type="agent.state_changed", agent_id=agents[0], interaction_id="not-a-uuid",
                      data={"state": "available", "previous_state": "not_ready"})
    with Harness(db, tmp_path) as h:
        h.publish(calls.events[:1] + [bad] + calls.events[1:])
        assert h.writer.flush(10)
        stats = h.writer.stats()
    assert stats["rejected"] == 1 and stats["backlog"] == 0
    assert row(db, iid)["outcome"] == "live"
    assert db.fetchone("SELECT count(*) AS n FROM agent_state_history WHERE event_id = %s", (calls.events[0].id,))["n"] == 1
    rejected = (tmp_path / "rejected.jsonl").read_text().splitlines()
    assert len(rejected) == 1 and bad.id in rejected[0]
    assert any("refused" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def test_an_outage_keeps_records_and_logs_once(database_url: str, db: Database, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    flaky = Database(UNREACHABLE, size=2, acquire_timeout=2)
    calls = Calls(start=1_800_600_000.0)
    iid = calls.abandoned()
    try:
        with caplog.at_level(logging.INFO, logger="cti.store"), Harness(flaky, tmp_path) as h:
            h.publish(calls.events)
            assert not h.writer.flush(1.0)
            down = h.writer.stats()
            flaky.url = database_url   # the database is back
            assert h.writer.flush(10)
            up = h.writer.stats()
    finally:
        flaky.close()
    assert down["database_down"] and down["outages"] == 1 and down["errors"] >= 3
    assert down["backlog"] == len(calls.events) and down["oldest_pending_s"] > 0.5
    assert not up["database_down"] and up["backlog"] == 0 and up["outages"] == 1
    assert row(db, iid)["outcome"] == "abandoned"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "unavailable" in r.getMessage()]
    assert len(warnings) == 1, "an outage must be logged once, not once per retry"
    assert any("database back" in r.getMessage() for r in caplog.records)


def test_records_left_at_stop_are_replayed_at_the_next_start(database_url: str, db: Database,
                                                             tmp_path: Path) -> None:
    calls = Calls(start=1_800_700_000.0)
    iid = calls.abandoned()
    flaky = Database(UNREACHABLE, size=1, acquire_timeout=1)
    first = StoreWriter(flaky, EventBus(), tmp_path, flush_timeout=0.5, backoff=(0.05, 0.1))
    first.start()
    for event in calls.events:
        first.bus.publish(event)
    first.stop()                       # the database never came: everything stays journalled
    flaky.close()
    assert db.fetchone("SELECT 1 AS x FROM interactions WHERE id = %s", (iid,)) is None

    second = StoreWriter(db, EventBus(), tmp_path, flush_timeout=10)
    second.start()                     # returns once the replay is in the database
    try:
        assert second.stats()["replayed"] == len(calls.events)
        assert row(db, iid)["outcome"] == "abandoned"
        assert second.backlog == 0
    finally:
        second.stop()


def test_a_full_journal_is_counted_and_logged(db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    flaky = Database(UNREACHABLE, size=1, acquire_timeout=1)
    calls = Calls(start=1_800_800_000.0)
    calls.abandoned()
    try:
        with Harness(flaky, tmp_path, max_bytes=1500, flush_timeout=0.2) as h:
            h.publish(calls.events)
            stats = h.writer.stats()
    finally:
        flaky.close()
    assert stats["journal_full"] >= 1
    assert stats["journalled"] + stats["journal_full"] == len(calls.events)
    assert any(r.levelno == logging.ERROR and "journal full" in r.getMessage() for r in caplog.records)


def test_one_journal_folder_one_writer(db: Database, tmp_path: Path) -> None:
    with Harness(db, tmp_path):
        other = StoreWriter(db, EventBus(), tmp_path)
        with pytest.raises(StoreBusy, match="in use by another cti process"):
            other.start()


def test_live_only_events_are_not_journalled(db: Database, tmp_path: Path) -> None:
    with Harness(db, tmp_path) as h:
        h.publish([DomainEvent(type="queue.changed", queue="support", data={"waiting": 3}),
                   DomainEvent(type="system.resynced", data={"node": "fs1"})])
        assert h.writer.stats()["journalled"] == 0


def test_a_stopped_writer_takes_no_more_events(db: Database, tmp_path: Path) -> None:
    bus = EventBus()
    writer = StoreWriter(db, bus, tmp_path)
    writer.start()
    writer.stop()
    bus.publish(DomainEvent(type="call.held", interaction_id="00000000-0000-0000-0000-000000000001"))
    assert bus.subscriber_errors == 0 and writer.counters.journalled == 0
    writer.start()   # and it starts again on the same folder
    try:
        bus.publish(DomainEvent(type="call.held", interaction_id="00000000-0000-0000-0000-000000000001"))
        assert writer.flush(10) and writer.counters.journalled == 1
    finally:
        writer.stop()
