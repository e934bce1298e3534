"""What the routing engine writes (routing/persistence.py), on a real PostgreSQL: node
statistics that add up across batches, shortcuts, the wait estimators, and durable
records that survive a refusal of one of them."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from cti.voicemail import write_voicemails
from routing.ewt import WaitEstimator
from routing.ivr_stats import NodeStats, ShortcutUpdate
from routing.persistence import RoutingStore, load_estimates

DAY = date(2026, 11, 20)


@pytest.fixture
def store(db, tmp_path: Path):
    routing_store = RoutingStore(db, tmp_path / "journal")
    routing_store.register("voicemail", write_voicemails)
    routing_store.start()
    yield routing_store
    routing_store.stop()


def test_node_statistics_add_up_across_batches(db, store: RoutingStore) -> None:
    store.node_stats("stats_flow", 2, DAY, {"menu": NodeStats(visits=3, retries=1, seconds=4.5, exits=Counter({"1": 2, "hangup": 1}))})
    store.node_stats("stats_flow", 2, DAY, {"menu": NodeStats(visits=1, exits=Counter({"1": 1}))})
    assert store.flush()
    store.node_stats("stats_flow", 2, DAY, {"menu": NodeStats(visits=2, hangups=1, exits=Counter({"2": 2}))})
    assert store.flush()
    row = db.fetchone("SELECT visits, hangups, retries, seconds_total, exits FROM ivr_node_stats "
                      "WHERE flow_name = 'stats_flow' AND flow_version = 2 AND node = 'menu' AND day = %s", (DAY,))
    assert row == {"visits": 6, "hangups": 1, "retries": 1, "seconds_total": 4.5,
                   "exits": {"1": 3, "2": 2, "hangup": 1}}


def test_shortcuts_count_uses_of_the_same_service(db, store: RoutingStore) -> None:
    for node in ("sales", "sales", "support"):
        store.shortcuts("+15550101", "main", [ShortcutUpdate("last", node)])
        assert store.flush()
        row = db.fetchone("SELECT node, uses FROM caller_shortcuts WHERE caller_number = '+15550101' AND kind = 'last'")
    assert row == {"node": "support", "uses": 1}
    store.shortcuts("+15550102", "main", [ShortcutUpdate("last", "sales"), ShortcutUpdate("last", "sales")])
    assert store.flush()
    assert db.fetchone("SELECT uses FROM caller_shortcuts WHERE caller_number = '+15550102'") == {"uses": 2}


def test_wait_estimators_are_saved_and_read_back(db, store: RoutingStore) -> None:
    estimator = WaitEstimator()
    for seconds in (100, 140, 120):
        estimator.observe_handle(seconds)
    estimator.observe_wait(30, 20)
    store.wait_estimate("estimated", estimator)
    assert store.flush()
    saved = load_estimates(db)["estimated"]
    assert saved == (pytest.approx(estimator.aht), pytest.approx(estimator.correction), 3, 1)


def test_a_refused_durable_record_is_set_aside_and_the_others_are_written(db, store: RoutingStore) -> None:
    good = str(uuid.uuid4())
    store.durable("voicemail", {"id": str(uuid.uuid4()), "box": "queue:x", "interaction_id": None, "caller_number": "",
                                "event_code": "", "path": None, "duration_ms": 0, "created_at": 0})  # path NOT NULL
    store.durable("voicemail", {"id": good, "box": "queue:x", "interaction_id": None, "caller_number": "+1",
                                "event_code": "", "path": "/tmp/v.wav", "duration_ms": 1000, "created_at": 0})
    assert store.flush()
    assert store.stats.durable_rejected == 1 and store.stats.durable_pending == 0
    assert db.fetchone("SELECT box FROM voicemails WHERE id = %s", (good,)) == {"box": "queue:x"}
    with pytest.raises(ValueError, match="no writer registered"):
        store.durable("fax", {})
