"""Webhooks end to end: a real HTTP receiver, a real database, the real dispatcher.

The receiver fails the first deliveries, is down while the middleware restarts (and
once while it crashes), and comes back: every event must arrive (exactly once after
deduplication by id), correctly signed, in order per interaction.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import gevent
import pytest
from gevent.pywsgi import WSGIServer

from cti.bus import DomainEvent, EventBus
from cti.webhook_rules import RetryPolicy, verify
from cti.webhook_store import WebhookError
from cti.webhooks import WebhookDispatcher
from tests import polling

FAST = RetryPolicy(max_attempts=200, base_seconds=0.02, cap_seconds=0.2)


class Receiver:
    """An integrator's endpoint: records every request; fails the first ``fail_first``."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.requests: list[dict[str, Any]] = []
        self.server: WSGIServer | None = None
        self.port = 0

    def app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = environ["wsgi.input"].read()
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        self.requests.append({"body": body, "headers": headers})
        if len(self.requests) <= self.fail_first:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"try later"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    def start(self) -> None:
        self.server = WSGIServer(("127.0.0.1", self.port), self.app, log=None, error_log=None)
        self.server.start()
        self.port = self.server.server_port

    def stop(self) -> None:
        assert self.server is not None
        self.server.stop(timeout=1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def accepted(self) -> list[dict[str, Any]]:
        """Requests answered 2xx, in arrival order."""
        return self.requests[self.fail_first:]


@pytest.fixture(autouse=True)
def no_subscriptions(db):
    """Each test starts without the subscriptions (and outbox) of the others."""
    db.execute("DELETE FROM webhook_subscriptions")


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """:func:`tests.polling.wait_for` with more time: deliveries go through retries with backoff."""
    return polling.wait_for(predicate, timeout, what)


def dispatcher(db, bus: EventBus, directory) -> WebhookDispatcher:
    hooks = WebhookDispatcher(db, bus, directory, policy=FAST, poll_seconds=0.05, concurrency=4)
    hooks.start()
    return hooks


def publish_calls(bus: EventBus, interactions: list[str], rounds: int, published: list[DomainEvent]) -> None:
    """Interleave events of several calls (and agent events without a call)."""
    types = ["call.created", "call.queued", "call.answered", "call.held", "call.resumed", "call.ended"]
    for n in range(rounds):
        for iid in interactions:
            event = DomainEvent(type=types[n % len(types)], interaction_id=iid, data={"n": n})
            bus.publish(event)
            published.append(event)
        agent_event = DomainEvent(type="agent.state_changed", agent_id=7, data={"n": n})
        bus.publish(agent_event)
        published.append(agent_event)
        bus.publish(DomainEvent(type="queue.changed", queue="sales"))   # not subscribed


def pending_rows(db) -> int:
    return int(db.fetchone("SELECT count(*) AS n FROM webhook_outbox WHERE status <> 'delivered'")["n"])


def check_deliveries(receiver: Receiver, published: list[DomainEvent], secret: str) -> None:
    first_seen: dict[str, dict[str, Any]] = {}
    for request in receiver.accepted():
        headers, body = request["headers"], request["body"]
        assert verify(secret, headers["x-cti-timestamp"], body, headers["x-cti-signature"], now=time.time()), \
            "signature does not verify"
        event = json.loads(body)
        assert headers["x-cti-event"] == event["type"]
        first_seen.setdefault(event["id"], event)
    assert set(first_seen) == {e.id for e in published}, "an event was lost or an unknown one arrived"
    order = list(first_seen)
    for iid in {e.interaction_id for e in published if e.interaction_id}:
        expected = [e.id for e in published if e.interaction_id == iid]
        arrived = [eid for eid in order if first_seen[eid]["interaction_id"] == iid]
        assert arrived == expected, f"events of {iid} arrived out of order"


@pytest.mark.slow
def test_outage_and_restart_lose_nothing_and_keep_order(db, tmp_path):
    receiver = Receiver(fail_first=7)
    receiver.start()
    bus = EventBus()
    hooks = dispatcher(db, bus, tmp_path / "wh")
    hook = hooks.create_subscription(name="crm", url=receiver.url, events=["call.*", "agent.state_changed"],
                                     allow_private=True)
    calls = [str(uuid.uuid4()) for _ in range(4)]
    published: list[DomainEvent] = []

    publish_calls(bus, calls, 3, published)                     # the receiver fails the first 7
    wait_for(lambda: len(receiver.accepted()) >= 5, what="first deliveries")
    receiver.stop()                                             # the integrator goes down ...
    publish_calls(bus, calls, 2, published)
    gevent.sleep(0.2)
    hooks.stop()                                                # ... while the middleware restarts
    bus = EventBus()
    hooks = dispatcher(db, bus, tmp_path / "wh")
    publish_calls(bus, calls, 2, published)
    receiver.start()                                            # the integrator is back (same port)
    wait_for(lambda: pending_rows(db) == 0 and hooks.stats.journal_backlog == 0, what="outbox drained")
    hooks.stop()
    receiver.stop()

    check_deliveries(receiver, published, hook.secret)
    attempts = db.fetchall("SELECT status_code FROM webhook_deliveries WHERE subscription_id = %s", (hook.id,))
    assert any(a["status_code"] == 500 for a in attempts) and any(a["status_code"] is None for a in attempts)


@pytest.mark.slow
def test_a_crash_before_the_outbox_write_is_replayed_from_the_journal(db, tmp_path):
    receiver = Receiver()
    receiver.start()
    bus = EventBus()
    hooks = dispatcher(db, bus, tmp_path / "wh")
    hook = hooks.create_subscription(name="crash", url=receiver.url, events=["call.*"], allow_private=True)
    gevent.killall(hooks._greenlets)        # the process dies: nothing moves past the journal any more
    published: list[DomainEvent] = []
    publish_calls(bus, [str(uuid.uuid4())], 4, published)
    published = [e for e in published if e.interaction_id]
    hooks._journal._file.flush()            # what the OS had when the process died
    hooks._folder.release()
    bus.unsubscribe(hooks._on_event)

    hooks = dispatcher(db, EventBus(), tmp_path / "wh")
    wait_for(lambda: len(receiver.accepted()) >= len(published), what="replayed events")
    hooks.stop()
    receiver.stop()
    check_deliveries(receiver, published, hook.secret)


@pytest.mark.slow
def test_a_failed_event_holds_its_call_until_redelivered(db, tmp_path):
    receiver = Receiver(fail_first=3)
    receiver.start()
    bus = EventBus()
    hooks = WebhookDispatcher(db, bus, tmp_path / "wh", policy=RetryPolicy(max_attempts=3, base_seconds=0.01,
                                                                          cap_seconds=0.02), poll_seconds=0.05)
    hooks.start()
    hook = hooks.create_subscription(name="strict", url=receiver.url, events=["call.*"], allow_private=True)
    iid = str(uuid.uuid4())
    first = DomainEvent(type="call.created", interaction_id=iid)
    second = DomainEvent(type="call.ended", interaction_id=iid)
    bus.publish(first)
    bus.publish(second)
    failed = wait_for(lambda: db.fetchone("SELECT id FROM webhook_outbox WHERE status = 'failed' AND subscription_id = %s",
                                          (hook.id,)), what="failure")
    gevent.sleep(0.3)
    assert receiver.accepted() == [], "event 2 overtook the failed event 1"
    log = hooks.store.deliveries(hook.id)
    assert [d["status_code"] for d in log] == [500, 500, 500] and all(d["duration_ms"] >= 0 for d in log)
    hooks.redeliver(hook.id, failed["id"])
    wait_for(lambda: len(receiver.accepted()) == 2, what="redelivery")
    hooks.stop()
    receiver.stop()
    assert [json.loads(r["body"])["id"] for r in receiver.accepted()] == [first.id, second.id]


@pytest.mark.slow
def test_private_targets_need_the_admins_allowance(db, tmp_path):
    receiver = Receiver()
    receiver.start()
    bus = EventBus()
    hooks = dispatcher(db, bus, tmp_path / "wh")
    for url in (receiver.url, "http://localhost:9/x", "http://169.254.169.254/latest/meta-data"):
        with pytest.raises(WebhookError) as caught:
            hooks.create_subscription(name="internal", url=url, events=["*"])
        assert caught.value.field == "url" and caught.value.error_id == "private-target"
    hook = hooks.create_subscription(name="lab", url=receiver.url, events=["*"], allow_private=True)
    # The allowance withdrawn behind the API's back (as if DNS now pointed inside): refused at delivery.
    db.execute("UPDATE webhook_subscriptions SET allow_private = false WHERE id = %s", (hook.id,))
    bus.publish(DomainEvent(type="call.created", interaction_id=str(uuid.uuid4())))
    wait_for(lambda: hooks.stats.refused > 0, what="a refused attempt")
    hooks.stop()
    receiver.stop()
    assert receiver.requests == []
    log = hooks.store.deliveries(hook.id)
    assert log and log[-1]["status_code"] is None and "loopback" in log[-1]["error"]


def test_subscription_validation_names_the_field(db, tmp_path):
    hooks = WebhookDispatcher(db, EventBus(), tmp_path / "wh")
    for fields, field in (
        ({"url": "ftp://x/y"}, "url"),
        ({"events": ["nope.*"]}, "events"),
        ({"secret": "short"}, "secret"),
        ({"name": ""}, "name"),
    ):
        base = {"name": "x", "url": "https://203.0.113.10/hook", "events": ["*"], **fields}
        with pytest.raises(WebhookError) as caught:
            hooks.store.create(**base)
        assert caught.value.field == field


def test_a_second_process_cannot_take_the_same_journal(db, tmp_path):
    from cti.webhooks import WebhooksBusy

    first = WebhookDispatcher(db, EventBus(), tmp_path / "wh")
    first.start()
    try:
        with pytest.raises(WebhooksBusy):
            WebhookDispatcher(db, EventBus(), tmp_path / "wh").start()
    finally:
        first.stop()
