"""The client against the FreeSWITCH simulator over TCP: a real call driven with the
command builders, then the faults a live switch link suffers (connection dropped in
mid-call, switch restarted, replies stalled). After each, every pending command must
end at once with a clear error, and the client must reconnect and resync by itself."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import gevent.event
import pytest

from cti import channel_vars as cv
from cti.config import ESLNode
from esl import commands as c
from esl.client import ESLClient, ESLCommandError, ESLNotConnected, ESLTimeout
from esl.events import Event
from esl.simulator import FakeSwitch

pytestmark = pytest.mark.slow

SHOW_LAG = 1.2  # `show channels` trails the events by up to ~1 s (fixtures README)


class Watcher:
    """Collects what the client delivers and lets a test wait for a condition."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.resyncs: list[list[dict[str, Any]]] = []
        self.changed = gevent.event.Event()

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        self.changed.set()

    def on_resync(self, node: str, channels: list[dict[str, Any]]) -> None:
        assert node == "fs1"
        self.resyncs.append(channels)
        self.changed.set()

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        with gevent.Timeout(timeout, AssertionError("condition not met in time")):
            while not condition():
                self.changed.clear()
                self.changed.wait(0.1)

    def seen(self, name: str, uuid: str) -> bool:
        return any(e.name == name and e.uuid == uuid for e in self.events)


@pytest.fixture
def switch() -> Iterator[FakeSwitch]:
    fake = FakeSwitch(password="ClueCon", host="127.0.0.1", port=0)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def watcher() -> Watcher:
    return Watcher()


@pytest.fixture
def client(switch: FakeSwitch, watcher: Watcher) -> Iterator[ESLClient]:
    esl = ESLClient(ESLNode("fs1", "127.0.0.1", switch.port, "ClueCon"), on_event=watcher.on_event,
                    on_resync=watcher.on_resync, command_timeout=3.0, backoff=(0.05, 0.5))
    esl.start()
    assert esl.wait_connected(10)
    yield esl
    esl.stop()


def parked_caller(switch: FakeSwitch, watcher: Watcher) -> str:
    caller = switch.place_inbound_call(did="5900", caller_number="+15550001")
    watcher.wait_for(lambda: watcher.seen("CHANNEL_PARK", caller))
    return caller


def agent_variables(interaction: str) -> dict[str, str]:
    return {cv.INTERACTION_ID: interaction, cv.ROLE: "agent", cv.AGENT_ID: "7", "ignore_early_media": "true"}


def test_a_call_driven_with_the_builders(client: ESLClient, switch: FakeSwitch, watcher: Watcher) -> None:
    caller = parked_caller(switch, watcher)
    assert {e.node for e in watcher.events} == {"fs1"}
    client.api(c.uuid_broadcast(caller, "local_stream://moh", leg="aleg"))
    agent = str(uuidlib.uuid4())
    result = client.bgapi(c.originate(c.user("1001"), uuid=agent, variables=agent_variables("i-1"), app=c.park()))
    assert result.strip() == f"+OK {agent}"
    assert client.api(c.uuid_getvar(agent, cv.ROLE)).strip() == "agent"
    client.api(c.uuid_bridge(caller, agent))
    watcher.wait_for(lambda: watcher.seen("CHANNEL_BRIDGE", caller))
    client.api(c.uuid_kill(caller))
    watcher.wait_for(lambda: watcher.seen("CHANNEL_HANGUP_COMPLETE", agent))
    with pytest.raises(ESLCommandError) as err:
        client.execute(caller, c.playback("/tmp/x.wav"))
    assert err.value.reply.startswith("-ERR invalid session id")


def test_unregistered_agent_fails_with_the_switch_words(client: ESLClient, switch: FakeSwitch) -> None:
    switch.unregister_phone("1018")
    with pytest.raises(ESLCommandError, match="USER_NOT_REGISTERED"):
        client.bgapi(c.originate(c.user("1018"), uuid=str(uuidlib.uuid4()), app=c.park(), timeout=5))


def test_drop_mid_call_fails_pending_work_then_reconnects_and_resyncs(
    client: ESLClient, switch: FakeSwitch, watcher: Watcher
) -> None:
    switch.register_phone("1019", behaviour="no_answer")
    caller = parked_caller(switch, watcher)
    agent = str(uuidlib.uuid4())
    ringing = client.bgapi_async(
        c.originate(c.user("1019"), uuid=agent, variables=agent_variables("i-2"), app=c.park(), timeout=60),
        timeout=60,
    )
    watcher.wait_for(lambda: watcher.seen("CHANNEL_CREATE", agent))
    gevent.sleep(SHOW_LAG)
    switch.drop_connections()
    with pytest.raises(ESLNotConnected, match="fs1"):
        ringing.get(timeout=5)
    assert client.wait_connected(10)
    assert client.stats.reconnects == 1 and len(watcher.resyncs) == 2
    by_uuid = {ch["uuid"]: ch for ch in watcher.resyncs[-1]}
    assert set(by_uuid) == {caller, agent}
    assert by_uuid[agent][f"variable_{cv.INTERACTION_ID}"] == "i-2"
    assert by_uuid[agent][f"variable_{cv.ROLE}"] == "agent"
    client.api(c.uuid_kill(agent, "ORIGINATOR_CANCEL"))
    watcher.wait_for(lambda: watcher.seen("CHANNEL_HANGUP", agent))  # events flow on the new link


def test_restart_empties_the_picture(client: ESLClient, switch: FakeSwitch, watcher: Watcher) -> None:
    parked_caller(switch, watcher)
    gevent.sleep(SHOW_LAG)
    before = switch.core_uuid
    switch.restart()
    watcher.wait_for(lambda: len(watcher.resyncs) == 2)
    assert watcher.resyncs[-1] == []
    assert switch.core_uuid != before
    caller = parked_caller(switch, watcher)
    assert next(e for e in watcher.events if e.uuid == caller).get("Core-UUID") == switch.core_uuid


def test_stalled_replies_end_every_pending_command_then_reconnect(
    client: ESLClient, switch: FakeSwitch, watcher: Watcher
) -> None:
    switch.stall_replies(2.0)
    waiting = [gevent.spawn(client.api, "version", timeout=30) for _ in range(3)]
    job = gevent.spawn(client.bgapi, "status", timeout=30)
    gevent.sleep(0.1)
    with pytest.raises(ESLTimeout, match="did not answer 'api status' within 0.5 s"):
        client.api("status", timeout=0.5)
    gevent.joinall([*waiting, job], timeout=5)
    for greenlet in [*waiting, job]:
        assert isinstance(greenlet.exception, ESLNotConnected), greenlet.exception
        assert "no reply to 'api status'" in str(greenlet.exception)
    assert client.wait_connected(15)
    assert client.api("version").startswith("FreeSWITCH Version")
    assert client.stats.commands_timed_out >= 1 and client.stats.reconnects >= 1
    assert len(watcher.resyncs) >= 2
