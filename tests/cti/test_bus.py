from __future__ import annotations

import pytest

from cti.bus import EVENT_TYPES, DomainEvent, EventBus


class Recorder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_event(self, event: DomainEvent) -> None:
        self.seen.append(event.type)


def test_patterns_order_and_unsubscribe_of_a_bound_method() -> None:
    bus = EventBus()
    calls, everything = Recorder(), Recorder()
    bus.subscribe("call.*", calls.on_event)
    bus.subscribe("*", everything.on_event)
    bus.publish(DomainEvent("call.created", interaction_id="i1"))
    bus.publish(DomainEvent("agent.state_changed", agent_id=7))
    bus.unsubscribe(calls.on_event)  # a new bound-method object, equal to the subscribed one
    bus.publish(DomainEvent("call.ended", interaction_id="i1"))
    assert calls.seen == ["call.created"]
    assert everything.seen == ["call.created", "agent.state_changed", "call.ended"]


def test_a_failing_subscriber_never_stops_the_others() -> None:
    bus = EventBus()
    seen: list[str] = []

    def broken(event: DomainEvent) -> None:
        raise RuntimeError("boom")

    bus.subscribe("*", broken)
    bus.subscribe("*", lambda e: seen.append(e.type))
    bus.publish(DomainEvent("queue.changed", queue="sales"))
    assert seen == ["queue.changed"]
    assert bus.subscriber_errors == 1


def test_public_shape_and_unknown_types() -> None:
    event = DomainEvent("call.answered", {"wait_seconds": 3.5}, interaction_id="i9", agent_id=4, queue="sales",
                        node="fs1", at=1_700_000_000.25)
    assert event.to_dict() == {
        "id": event.id, "type": "call.answered", "time": "2023-11-14T22:13:20.250000+00:00",
        "interaction_id": "i9", "agent_id": 4, "queue": "sales", "node": "fs1", "data": {"wait_seconds": 3.5},
    }
    assert set(EVENT_TYPES) >= {"call.offered", "call.ended", "agent.state_changed", "voicemail.created"}
    with pytest.raises(ValueError, match="unknown domain event type"):
        DomainEvent("call.teleported")
