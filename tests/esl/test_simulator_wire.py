"""The simulator's Event Socket over real TCP: authentication, command replies with
mod_event_socket's wording, event formats and subscriptions, api/bgapi, sendmsg."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from esl.simulator import FakeSwitch
from esl.simulator.probe import Probe, ProbeClosed
from esl.simulator.server import GOODBYE

PASSWORD = "s3cret"
SPEED = 20.0


@pytest.fixture(scope="module")
def switch() -> Iterator[FakeSwitch]:
    fake = FakeSwitch(password=PASSWORD, speed=SPEED, seed=11)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def probe(switch: FakeSwitch) -> Iterator[Probe]:
    client = Probe("127.0.0.1", switch.port, timeout=5)
    client.login(PASSWORD)
    yield client
    client.close()


def raw(switch: FakeSwitch) -> Probe:
    client = Probe("127.0.0.1", switch.port, timeout=5)
    assert client.reply().content_type == "auth/request"
    return client


def parked_call(switch: FakeSwitch, probe: Probe, did: str = "5900") -> str:
    uuid = switch.place_inbound_call(did=did, caller_number="+15550001")
    probe.wait_for(lambda e: e.name == "CHANNEL_PARK" and e.uuid == uuid)
    return uuid


def test_wrong_password_is_refused_and_disconnected(switch: FakeSwitch) -> None:
    client = raw(switch)
    assert client.command("auth nope").headers["Reply-Text"] == "-ERR invalid"
    notice = client.reply()
    assert notice.content_type == "text/disconnect-notice"
    with pytest.raises(ProbeClosed):
        client.reply(timeout=2)


def test_commands_before_auth_are_not_found_but_the_socket_stays(switch: FakeSwitch) -> None:
    client = raw(switch)
    assert client.command("api status").headers["Reply-Text"] == "-ERR command not found"
    assert client.command(f"auth {PASSWORD}").headers["Reply-Text"] == "+OK accepted"
    client.close()


def test_exit_says_goodbye_with_the_67_byte_notice(switch: FakeSwitch) -> None:
    client = raw(switch)
    assert client.command("exit").headers["Reply-Text"] == "+OK bye"
    notice = client.reply()
    assert notice.content_type == "text/disconnect-notice"
    assert notice.body == GOODBYE.encode() and len(notice.body) == 67


@pytest.mark.parametrize(("line", "reply"), [
    ("bogus", "-ERR command not found"),
    ("linger", "-ERR not controlling a session"),
    ("nolinger", "-ERR not controlling a session"),
    ("event plain", "-ERR no keywords supplied"),
    ("event json CHANNEL_CREATE", "+OK event listener enabled json"),
    ("nixevent CHANNEL_CREATE", "+OK events nixed"),
    ("filter Unique-ID 1234", "+OK filter added. [Unique-ID]=[1234]"),
    ("filter delete Unique-ID 1234", "+OK filter deleted. [Unique-ID][1234]"),
    ("myevents 00000000-0000-0000-0000-000000000000", "-ERR invalid uuid"),
    ("log info", "+OK log level info [6]"),
    ("sendmsg 00000000-0000-0000-0000-000000000000", "-ERR invalid session id [00000000-0000-0000-0000-000000000000]"),
])
def test_command_replies(probe: Probe, line: str, reply: str) -> None:
    assert probe.command(line).headers["Reply-Text"] == reply


@pytest.mark.parametrize(("line", "expected"), [
    ("api nosuchthing", "-ERR nosuchthing Command not found!\n"),
    ("api uuid_kill 00000000-0000-0000-0000-000000000000", "-ERR No such channel!\n"),
    ("api uuid_getvar 00000000-0000-0000-0000-000000000000 x", "-ERR No such channel!\n"),
    ("api originate user/9999 &park()", "-ERR SUBSCRIBER_ABSENT\n"),
    ("api originate", "-USAGE: " + (
        "<call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
        "[<cid_name>] [<cid_num>] [<timeout_sec>]") + "\n"),
    ("api module_exists mod_avmd", "true"),
    ("api module_exists mod_callcenter", "false"),
    ("api sched_del nothing", "+OK Deleted: 0\n"),
    ("api global_getvar cti_park_timeout", "600"),
])
def test_api_texts(probe: Probe, line: str, expected: str) -> None:
    frame = probe.command(line)
    assert frame.content_type == "api/response"
    assert frame.body.decode() == expected


def test_strepoch_is_the_switch_clock(probe: Probe) -> None:
    now = probe.api("strepoch")
    assert now.isdigit()
    event = probe.wait_for(lambda e: e.name == "API" and e.get("API-Command") == "strepoch")
    assert abs(int(now) - int(event.get("Event-Date-Timestamp")) // 1_000_000) <= 1


def test_every_api_command_fires_an_api_event_after_its_reply(probe: Probe) -> None:
    body = probe.api("version")
    assert body.startswith("FreeSWITCH Version 1.11")
    event = probe.wait_for(lambda e: e.name == "API" and e.get("API-Command") == "version")
    assert "API-Command-Argument" not in event.headers


def test_bgapi_honours_a_job_uuid_and_reports_in_a_background_job(probe: Probe) -> None:
    job = "11111111-2222-3333-4444-555555555555"
    reply = probe.command("bgapi status", {"Job-UUID": job})
    assert reply.headers["Reply-Text"] == f"+OK Job-UUID: {job}" and reply.headers["Job-UUID"] == job
    event = probe.wait_for(lambda e: e.name == "BACKGROUND_JOB" and e.get("Job-UUID") == job)
    assert event.get("Job-Command") == "status"
    assert event.body.startswith("UP ")
    own = probe.command("bgapi create_uuid").headers["Job-UUID"]
    assert probe.wait_for(lambda e: e.name == "BACKGROUND_JOB" and e.get("Job-UUID") == own).body


def test_events_carry_the_switch_identity_in_sequence(switch: FakeSwitch, probe: Probe) -> None:
    uuid = parked_call(switch, probe)
    probe.api(f"uuid_kill {uuid}")
    probe.wait_for(lambda e: e.name == "CHANNEL_DESTROY" and e.uuid == uuid)
    sequences = [e.sequence for e in probe.events]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert {e.get("Core-UUID") for e in probe.events} == {switch.core_uuid}
    create = next(e for e in probe.events if e.name == "CHANNEL_CREATE" and e.uuid == uuid)
    assert create.get("Caller-Caller-ID-Number") == "+15550001"
    assert create.get("Caller-Context") == "public"
    assert 2000 < len(json.dumps(create.headers)) < 12000


def test_plain_format(switch: FakeSwitch) -> None:
    client = Probe("127.0.0.1", switch.port, timeout=5)
    client.login(PASSWORD, events="plain CHANNEL_PARK")
    uuid = switch.place_inbound_call(did="5900", caller_number="+15550002")
    event = client.wait_for(lambda e: e.name == "CHANNEL_PARK" and e.uuid == uuid)
    assert event.get("Caller-Caller-ID-Number") == "+15550002"
    assert {f.content_type for f in client.frames if f.is_event} == {"text/event-plain"}
    assert {e.name for e in client.events} == {"CHANNEL_PARK"}
    switch.hangup(uuid)
    client.close()


def test_xml_format(switch: FakeSwitch) -> None:
    client = Probe("127.0.0.1", switch.port, timeout=5)
    client.login(PASSWORD, events="xml CHANNEL_PARK")
    uuid = switch.place_inbound_call(did="5900", caller_number="+15550005")
    client.drain(0.5)
    bodies = [f.body.decode() for f in client.frames if f.content_type == "text/event-xml"]
    assert len(bodies) == 1
    assert bodies[0].startswith("<event>") and "<Event-Name>CHANNEL_PARK</Event-Name>" in bodies[0]
    assert f"<Unique-ID>{uuid}</Unique-ID>" in bodies[0]
    switch.hangup(uuid)
    client.close()


def test_filter_keeps_one_channel(switch: FakeSwitch, probe: Probe) -> None:
    first = parked_call(switch, probe)
    second = switch.place_inbound_call(did="5900", caller_number="+15550003")
    watcher = Probe("127.0.0.1", switch.port, timeout=5)
    watcher.login(PASSWORD)
    watcher.command(f"filter Unique-ID {first}")
    probe.api(f"uuid_kill {second}")
    probe.api(f"uuid_kill {first}")
    watcher.wait_for(lambda e: e.name == "CHANNEL_DESTROY" and e.uuid == first)
    assert {e.uuid for e in watcher.events} == {first}
    watcher.close()


def test_myevents_follows_a_channel(switch: FakeSwitch, probe: Probe) -> None:
    uuid = parked_call(switch, probe)
    follower = raw(switch)
    follower.command(f"auth {PASSWORD}")
    assert follower.command(f"myevents {uuid} json").headers["Reply-Text"] == "+OK Events Enabled"
    probe.api(f"uuid_kill {uuid}")
    follower.wait_for(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE")
    assert {e.uuid for e in follower.events} == {uuid}
    follower.close()


def test_sendmsg_execute_runs_the_app_and_echoes_a_private_command(switch: FakeSwitch, probe: Probe) -> None:
    uuid = parked_call(switch, probe)
    reply = probe.command(f"sendmsg {uuid}", {
        "call-command": "execute", "execute-app-name": "playback", "execute-app-arg": "silence_stream://500"})
    assert reply.headers["Reply-Text"] == "+OK"
    done = probe.wait_for(lambda e: e.name == "CHANNEL_EXECUTE_COMPLETE" and e.get("Application") == "playback")
    assert done.get("Application-Response") == "FILE PLAYED"
    private = probe.wait_for(lambda e: e.name == "PRIVATE_COMMAND" and e.uuid == uuid)
    assert private.get("call-command") == "execute"
    assert probe.command(f"sendmsg {uuid}", {"call-command": "hangup", "hangup-cause": "USER_BUSY"}).headers[
        "Reply-Text"] == "+OK"
    hangup = probe.wait_for(lambda e: e.name == "CHANNEL_HANGUP" and e.uuid == uuid)
    assert hangup.get("Hangup-Cause") == "USER_BUSY"


def test_sendevent_reaches_subscribers(probe: Probe) -> None:
    probe.command("event json CUSTOM cti::ping")
    reply = probe.command("sendevent CUSTOM", {"Event-Subclass": "cti::ping", "X-Test": "1"})
    assert reply.headers["Reply-Text"].startswith("+OK ")
    event = probe.wait_for(lambda e: e.get("Event-Subclass") == "cti::ping")
    assert event.get("Event-Name") == "CUSTOM"
    assert event.get("X-Test") == "1"


def test_noevents_stops_delivery(switch: FakeSwitch, probe: Probe) -> None:
    assert probe.command("noevents").headers["Reply-Text"] == "+OK no longer listening for events"
    before = len(probe.events)
    uuid = switch.place_inbound_call(did="5900", caller_number="+15550004")
    probe.drain(0.3)
    assert len(probe.events) == before
    switch.hangup(uuid)
