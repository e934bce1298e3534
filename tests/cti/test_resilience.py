"""The whole chain survives faults: the simulator over real TCP, the real services and a
real PostgreSQL; calls are routed as routing does (originate, then uuid_bridge).

* PostgreSQL stops in the middle of a run and comes back: every interaction the bus
  published as ended is stored exactly once, with all its timeline rows and legs.
* The switch drops the event socket mid-call: the client reconnects, resyncs, and the
  calls end normally with nothing dropped.
* The middleware restarts mid-call: the new one restores its agents from the store,
  adopts the calls in progress from the switch, and records their end.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import gevent
import pytest

from cti.embedded_pg import EmbeddedPostgres
from tests.cti.test_resilience_support import Site, stored_rows, wait_for_database

pytestmark = pytest.mark.slow


@pytest.fixture
def site_url(fresh_db_url: str) -> str:
    return fresh_db_url


def expected_timeline(site: Site, iid: str) -> int:
    return len({e.id for e in site.events if e.interaction_id == iid and e.type.startswith("call.")})


def test_database_restart_mid_run_loses_and_duplicates_nothing(pg_cluster: EmbeddedPostgres, site_url: str,
                                                               tmp_path: Path) -> None:
    site = Site(site_url, tmp_path, agents=3, speed=4.0, wrapup=0)
    try:
        for n in range(4):
            site.call(100 + n, talk=4.0 + n)
        site.wait(lambda: len(site.of("call.answered")) >= 2, what="calls answered before the outage")
        pg_cluster.stop()
        try:
            for n in range(4, 8):                           # calls start and end while it is down
                site.call(100 + n, talk=2.0, patience=30.0)
            site.wait(lambda: len(site.ended_ids()) >= 3, what="calls ending during the outage")
            site.wait(lambda: site.services.store.stats()["database_down"], what="the writer to notice")
            gevent.sleep(1.0)
        finally:
            pg_cluster.restart()
        site.wait(site.drained, timeout=60, what="every call to end")
        assert site.services.store.flush(60)
        wait_for_database(site.db)
        ended = site.ended_ids()
        assert len(ended) == 8
        rows = stored_rows(site.db, ended)
        assert set(rows) == ended, "an interaction published as ended is missing from the store"
        for iid, row in rows.items():
            assert row["ended_at"] is not None and row["outcome"] in ("answered", "abandoned")
            assert row["timeline"] == expected_timeline(site, iid), "timeline rows lost or duplicated"
            record = next(e.data for e in site.of("call.ended") if e.interaction_id == iid)
            assert row["legs"] == len(record["legs"])
        stats = site.services.store.stats()
        assert stats["outages"] >= 1 and stats["backlog"] == 0 and stats["rejected"] == 0
        assert site.client_stats().events_dropped == 0
    finally:
        site.close()


def test_event_socket_drop_mid_call(site_url: str, tmp_path: Path) -> None:
    site = Site(site_url, tmp_path, agents=2, speed=2.0, wrapup=1)
    try:
        calls = site.answered_calls(200, 2, talk=10.0)
        site.switch.drop_connections()
        site.wait(lambda: site.client_stats().reconnects >= 1 and site.core.switches.wait_connected(0),
                  what="the client to reconnect")
        assert {c["id"] for c in site.core.state.live_calls()} == calls, "calls lost track of at the resync"
        site.ended_normally(calls)
        site.wait(lambda: {site.agent_state(a) for a in site.agent_ids} <= {"wrap_up", "available"},
                  what="agents released")
        stats = site.client_stats()
        assert stats.events_dropped == 0 and stats.resyncs >= 2
        assert site.services.store.flush(20)
        rows = stored_rows(site.db, calls)
        assert {r["hangup_cause"] for r in rows.values()} == {"NORMAL_CLEARING"}
    finally:
        site.close()


def test_middleware_restart_mid_call(site_url: str, tmp_path: Path) -> None:
    site = Site(site_url, tmp_path, agents=2, speed=1.0, wrapup=1)
    try:
        calls = site.answered_calls(300, 2, talk=8.0)
        busy = {e.agent_id for e in site.of("call.answered")}
        gevent.sleep(1.5)   # `show channels` lags the events by up to ~1 s (fixtures README)
        mark = len(site.events)

        site.restart_services()

        adopted = {c["id"] for c in site.core.state.live_calls()}
        assert adopted == calls, "the new middleware did not adopt the calls in progress"
        assert {site.agent_state(a) for a in busy} == {"on_call"}
        for event in site.ended_normally(calls, since=mark):   # the new middleware saw them end
            assert event.data["hangup_by"] == "customer"
        after = Counter(e.data["state"] for e in site.of("agent.state_changed", mark) if e.agent_id in busy)
        assert after["wrap_up"] == 2, "agents did not go to wrap-up when their adopted call ended"
        site.wait(lambda: {site.agent_state(a) for a in busy} == {"available"}, what="wrap-up to end")
        assert site.client_stats().events_dropped == 0
        assert site.services.store.flush(20)
        rows = stored_rows(site.db, calls)
        assert set(rows) == calls
        assert all(r["ended_at"] is not None and r["outcome"] == "answered" and r["legs"] == 2 for r in rows.values())
    finally:
        site.close()
