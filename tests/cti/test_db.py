"""The pool under gevent: a slow query must not stall other greenlets."""

from __future__ import annotations

import time

import gevent
import pytest

from cti.db import Database, DatabaseUnavailable


def test_slow_query_does_not_block_other_greenlets(database_url: str) -> None:
    db = Database(database_url, size=2)
    ticks: list[float] = []

    def ticker() -> None:
        for _ in range(10):
            ticks.append(time.monotonic())
            gevent.sleep(0.05)

    started = time.monotonic()
    slow = gevent.spawn(db.fetchone, "SELECT pg_sleep(0.6) AS slept")
    tick = gevent.spawn(ticker)
    gevent.joinall([slow, tick], raise_error=True)
    db.close()
    # While the query slept in PostgreSQL the ticker kept running: all its ticks
    # happened before the query returned, which a blocked hub would not allow.
    assert len(ticks) == 10
    assert ticks[-1] < started + 0.6
    assert slow.value == {"slept": ""}


def test_pool_waits_instead_of_failing_when_all_connections_are_busy(database_url: str) -> None:
    db = Database(database_url, size=1)
    results = gevent.joinall([gevent.spawn(db.fetchone, "SELECT pg_sleep(0.1), %s AS n", (i,)) for i in range(4)])
    assert sorted(g.value["n"] for g in results) == [0, 1, 2, 3]
    db.close()


def test_unreachable_database_gives_a_clear_error(tmp_path) -> None:
    db = Database(f"postgresql://nobody@/nodb?host={tmp_path}", size=1)
    with pytest.raises(DatabaseUnavailable, match="cannot connect to the database"):
        db.fetchone("SELECT 1")


def test_connection_broken_by_a_restart_is_replaced(pg_cluster, database_url: str) -> None:
    db = Database(database_url, size=1)
    assert db.fetchone("SELECT 1 AS one") == {"one": 1}
    pg_cluster.stop()
    pg_cluster.restart()
    with pytest.raises(DatabaseUnavailable):
        db.fetchone("SELECT 1 AS one")  # the pooled connection died with the old server
    assert db.fetchone("SELECT 1 AS one") == {"one": 1}
    db.close()
