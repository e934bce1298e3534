"""Faults the middleware must survive: dropped connections, a switch restart, stalled
replies, and the internal-error path of a channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from esl.simulator import FakeSwitch
from esl.simulator.probe import Probe, ProbeClosed

PASSWORD = "ClueCon"


@pytest.fixture
def switch() -> Iterator[FakeSwitch]:
    fake = FakeSwitch(password=PASSWORD, speed=20, seed=5, middleware_lease=True)
    fake.start()
    yield fake
    fake.stop()


def connect(switch: FakeSwitch) -> Probe:
    probe = Probe("127.0.0.1", switch.port, timeout=5)
    probe.login(PASSWORD)
    return probe


def test_dropped_connections_leave_the_calls_up(switch: FakeSwitch) -> None:
    probe = connect(switch)
    caller = switch.place_inbound_call(did="5900", caller_number="+15550001")
    probe.wait_for(lambda e: e.name == "CHANNEL_PARK" and e.uuid == caller)
    switch.drop_connections()
    with pytest.raises(ProbeClosed):
        probe.reply(timeout=2)
    again = connect(switch)
    assert again.api(f"uuid_exists {caller}") == "true"
    assert [row["uuid"] for row in switch.channels()] == [caller]
    again.close()


def test_restart_forgets_channels_identity_sequences_and_leases(switch: FakeSwitch) -> None:
    probe = connect(switch)
    old_core = switch.core_uuid
    probe.api("global_setvar cti_middleware_up_until=4102444800")
    caller = switch.place_inbound_call(did="5550100", caller_number="+15550001")
    park = probe.wait_for(lambda e: e.name == "CHANNEL_PARK" and e.uuid == caller)
    switch.restart()
    with pytest.raises(ProbeClosed):
        probe.reply(timeout=2)
    assert switch.core_uuid != old_core
    assert switch.channels() == []
    again = connect(switch)
    assert again.api(f"uuid_exists {caller}") == "false"
    assert again.api("global_getvar cti_middleware_up_until") == "-ERR no reply\n"  # unset, as on the real switch
    first = again.wait_for(lambda e: e.name == "API")
    assert first.get("Core-UUID") == switch.core_uuid
    assert first.sequence < park.sequence
    again.close()


def test_stalled_replies_let_events_through_first(switch: FakeSwitch) -> None:
    probe = connect(switch)
    switch.stall_replies(1.0)
    probe.send("api status")
    caller = switch.place_inbound_call(did="5900", caller_number="+15550001")
    reply = probe.reply(timeout=5)
    assert reply.content_type == "api/response" and reply.body.startswith(b"UP ")
    frames = probe.frames
    create = next(i for i, f in enumerate(frames) if f.is_event and caller.encode() in f.body
                  and b"CHANNEL_CREATE" in f.body)
    answer = next(i for i, f in enumerate(frames) if f.content_type == "api/response")
    assert create < answer
    probe.close()


def test_a_broken_channel_script_hangs_the_channel_up(switch: FakeSwitch, caplog: pytest.LogCaptureFixture) -> None:
    """An internal surprise is logged and the channel ends with a cause, the switch
    carries on."""
    probe = connect(switch)
    caller = switch.place_inbound_call(did="5900", caller_number="+15550001")
    probe.wait_for(lambda e: e.name == "CHANNEL_PARK" and e.uuid == caller)
    leg = switch.engine.core.find(caller)
    assert leg is not None
    leg.privates.append(None)  # type: ignore[arg-type]
    leg.poke()
    hangup = probe.wait_for(lambda e: e.name == "CHANNEL_HANGUP" and e.uuid == caller)
    assert hangup.get("Hangup-Cause") == "NORMAL_TEMPORARY_FAILURE"
    assert "channel script failed" in caplog.text
    assert probe.api("status").startswith("UP ")
    probe.close()
