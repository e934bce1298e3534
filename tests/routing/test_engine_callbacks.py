"""Callbacks with a due time, end to end (simulated switch, real services, PostgreSQL).

* one the agent desktop scheduled while the engine runs is picked up, and dialled no
  sooner than the time the customer asked for;
* one whose customer is not reached is tried again later, then given up after the
  last attempt -- never marked failed at the first miss.

The retry rule and how a row reads back are checked on their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from esl.simulator import CustomerProfile
from routing import callback_schedule
from routing.callback_schedule import MAX_ATTEMPTS, RETRY_AFTER, from_row, retry_at
from tests.routing.engine_site import engine_stack
from tests.stack import Stack

SITE: dict[str, Any] = {
    "queues": [{"name": "cbq", "ring_timeout": 20, "wrapup": 0}],
    "flows": [{"name": "f_cb", "start": "q", "nodes": {"q": {"type": "queue", "queue": "cbq"}}}],
    "dids": [{"number": "5556000", "flow": "f_cb"}],
    "agents": [{"username": "cb6001", "password": "pw6001pw", "code": "6001", "extension": "6001", "queues": ["cbq"]}],
}
ANSWERS, BUSY = "+15556001", "+15556002"


@pytest.mark.parametrize(("attempts", "retry"), [(1, 100.0 + RETRY_AFTER), (MAX_ATTEMPTS - 1, 100.0 + RETRY_AFTER),
                                                  (MAX_ATTEMPTS, None), (MAX_ATTEMPTS + 1, None)])
def test_a_failed_attempt_is_retried_until_the_last(attempts: int, retry: float | None) -> None:
    assert retry_at(attempts, 100.0) == retry


@pytest.mark.parametrize(("due_at", "place"), [(None, 500.0), (450.0, 200.0)])
def test_a_rows_place_is_its_entry_once_routing_wrote_it_else_the_time_asked_for(due_at: float | None,
                                                                                  place: float) -> None:
    row = {"id": "cb", "source": "ix", "queue_name": "q", "number": "+1555", "requested_at": 500.0,
           "enqueued_at": 200.0, "due_at": due_at, "priority": 0, "language": "en", "attempts": 0}
    call = from_row(row, "fs1")
    assert (call.enqueued_at, call.due) == (place, due_at if due_at is not None else 500.0)


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = engine_stack(database_url, tmp_path_factory.mktemp("engine-callbacks"), SITE)
    stack.switch.register_phone("6001", answer_after=0.5)
    stack.switch.set_customer_profile(CustomerProfile(scripted={ANSWERS: "human", BUSY: "busy"}, ring_time=(1, 2),
                                                      talk_time=(3, 3)))
    stack.login("6001")
    yield stack
    stack.close()


def _schedule(site: Stack, number: str, in_seconds: float) -> tuple[str, float]:
    """A callback row as the agent desktop writes it; returns its id and due time."""
    engine = site.services.routing
    now = engine.clock.now()
    due = now + in_seconds
    callback_id = str(uuid.uuid4())
    site.db.execute(
        """INSERT INTO callbacks (id, interaction_id, queue_name, number, requested_at, enqueued_at, priority, language,
                                  status)
           VALUES (%s, %s, 'cbq', %s, to_timestamp(%s), to_timestamp(%s), 0, 'en', 'waiting')""",
        (callback_id, str(uuid.uuid4()), number, due, now))
    engine.callbacks_changed()
    return callback_id, due


def _status(site: Stack, callback_id: str) -> dict[str, Any]:
    row = site.db.fetchone("""SELECT status, attempts, extract(epoch FROM due_at)::float8 AS due_at
                                FROM callbacks WHERE id = %s""", (callback_id,))
    assert row is not None
    return row


def _dialled(site: Stack, number: str) -> list[Any]:
    return [e for e in site.events if e.type == "call.created" and e.data.get("callee_number") == number]


@pytest.mark.slow
def test_a_callback_scheduled_while_running_is_dialled_when_due_and_not_before(site: Stack) -> None:
    callback_id, due = _schedule(site, ANSWERS, 30.0)
    created = site.wait_for(lambda: _dialled(site, ANSWERS), timeout=15, what="the callback to be dialled")[0]
    assert created.at >= due, "dialled before the time the customer asked for"
    site.wait_event("call.answered", interaction_id=created.interaction_id, timeout=15)
    site.wait_for(lambda: _status(site, callback_id)["status"] in ("connected", "done"), what="the callback connected")
    assert _status(site, callback_id)["attempts"] == 1


@pytest.mark.slow
def test_a_callback_whose_customer_is_busy_is_tried_again_then_given_up(site: Stack,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    site.wait_for(lambda: site.core.state.agent(site.agent_id("6001")).state.value == "available", what="agent free")
    callback_id, _ = _schedule(site, BUSY, 0.0)
    site.wait_for(lambda: _dialled(site, BUSY), timeout=15, what="the first attempt")
    site.wait_for(lambda: _status(site, callback_id)["attempts"] == 1 and _status(site, callback_id)["status"] == "waiting",
                  timeout=15, what="another attempt scheduled")
    first_retry = _status(site, callback_id)["due_at"]
    assert first_retry >= _dialled(site, BUSY)[0].at + RETRY_AFTER - 1

    monkeypatch.setattr(callback_schedule, "RETRY_AFTER", 20.0)   # 2 s of real time from here on
    call = site.services.routing.callbacks.later[callback_id]
    site.services.routing.post(lambda: setattr(call, "due_at", site.services.routing.clock.now()))
    site.services.routing.callbacks_changed()
    site.wait_for(lambda: _status(site, callback_id)["status"] == "failed", timeout=30, what="the last attempt")
    assert len(_dialled(site, BUSY)) == MAX_ATTEMPTS and _status(site, callback_id)["attempts"] == MAX_ATTEMPTS
