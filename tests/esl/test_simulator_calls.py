"""Calls through the simulator over TCP: phones, the cti_inbound dialplan and its
fallback, callers' behaviour, IVR digits, supervisor features, recordings, outbound
customers and answering machines, the lagging ``show`` views."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import gevent
import pytest

from esl.events import Event
from esl.simulator import CallerBehaviour, CustomerProfile, FakeSwitch
from esl.simulator.probe import Probe
from esl.simulator.wav import duration

PASSWORD = "ClueCon"
SPEED = 25.0


@dataclass
class Lab:
    switch: FakeSwitch
    probe: Probe

    def wait(self, name: str, uuid: str | None = None, **headers: str) -> Event:
        def match(event: Event) -> bool:
            return (event.get("Event-Name") == name and (uuid is None or event.uuid == uuid)
                    and all(event.get(k.replace("_", "-")) == v for k, v in headers.items()))

        return self.probe.wait_for(match, timeout=10)

    def job(self, command: str) -> str:
        """Run ``bgapi command`` and return the BACKGROUND_JOB body."""
        job = self.probe.command(f"bgapi {command}").headers["Job-UUID"]
        return self.wait("BACKGROUND_JOB", **{"Job_UUID": job}).body

    def api(self, command: str) -> str:
        return self.probe.api(command)

    def names(self, uuid: str, skip: frozenset[str] = frozenset({"CHANNEL_STATE", "CHANNEL_CALLSTATE"})) -> list[str]:
        return [e.name for e in self.probe.events if e.uuid == uuid and e.name not in skip]

    def executed(self, uuid: str) -> list[tuple[str, str]]:
        return [(e.get("Application"), e.get("Application-Data")) for e in self.probe.events
                if e.uuid == uuid and e.name == "CHANNEL_EXECUTE"]

    def sim_sleep(self, seconds: float) -> None:
        gevent.sleep(seconds / SPEED)


def make_lab(**kwargs: object) -> Iterator[Lab]:
    switch = FakeSwitch(password=PASSWORD, speed=SPEED, seed=3, **kwargs)  # type: ignore[arg-type]
    switch.start()
    probe = Probe("127.0.0.1", switch.port, timeout=10)
    probe.login(PASSWORD)
    yield Lab(switch, probe)
    probe.close()
    switch.stop()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    yield from make_lab(recordings_dir=str(tmp_path))


@pytest.fixture
def leased(tmp_path: Path) -> Iterator[Lab]:
    yield from make_lab(middleware_lease=True, recordings_dir=str(tmp_path))


def parked(lab: Lab, did: str = "5550100", **kwargs: object) -> str:
    uuid = lab.switch.place_inbound_call(did=did, caller_number="+15551230000", **kwargs)  # type: ignore[arg-type]
    lab.wait("CHANNEL_PARK", uuid)
    return uuid


def agent(lab: Lab, extension: str = "1000", uuid: str = "a9e00000-0000-4000-8000-000000000001") -> str:
    assert lab.job(f"originate {{origination_uuid={uuid}}}user/{extension} &park()") == f"+OK {uuid}\n"
    lab.wait("CHANNEL_PARK", uuid)
    return uuid


# -- phones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("setup", "reply"), [
    (lambda s: None, "-ERR SUBSCRIBER_ABSENT\n"),
    (lambda s: s.unregister_phone("1005"), "-ERR USER_NOT_REGISTERED\n"),
])
def test_phones_that_cannot_ring_create_no_channel(lab: Lab, setup: Callable[[FakeSwitch], None], reply: str) -> None:
    setup(lab.switch)
    target = "4321" if reply.endswith("ABSENT\n") else "1005"
    assert lab.job(f"originate user/{target} &park()") == reply
    assert not [e for e in lab.probe.events if e.name == "CHANNEL_CREATE"]


@pytest.mark.parametrize(("behaviour", "cause", "disposition"), [
    ("busy", "USER_BUSY", "recv_refuse"),
    ("reject", "CALL_REJECTED", "recv_refuse"),
    ("no_answer", "NO_ANSWER", "send_cancel"),
])
def test_phones_that_do_not_answer(lab: Lab, behaviour: str, cause: str, disposition: str) -> None:
    lab.switch.register_phone("2001", behaviour=behaviour)
    body = lab.job("originate {originate_timeout=3,origination_uuid=b0000000-0000-4000-8000-000000000001}"
                   "user/2001 &park()")
    assert body == f"-ERR {cause}\n"
    uuid = "b0000000-0000-4000-8000-000000000001"
    complete = lab.wait("CHANNEL_HANGUP_COMPLETE", uuid)
    assert complete.get("Hangup-Cause") == cause
    assert complete.get("variable_sip_hangup_disposition") == disposition
    assert "CHANNEL_ANSWER" not in lab.names(uuid)


def test_the_originate_job_arrives_only_after_the_answer(lab: Lab) -> None:
    uuid = agent(lab, "1001")
    names = [e.name for e in lab.probe.events]
    assert names.index("BACKGROUND_JOB") > max(i for i, e in enumerate(lab.probe.events)
                                                if e.name == "CHANNEL_ANSWER" and e.uuid == uuid)
    lab.switch.hangup(uuid)
    assert lab.wait("CHANNEL_HANGUP", uuid).get("Hangup-Cause") == "NORMAL_CLEARING"


def test_ring_all_originate_keeps_the_first_answer(lab: Lab) -> None:
    lab.switch.register_phone("2002", answer_after=1.0)
    lab.switch.register_phone("2003", answer_after=4.0)
    body = lab.job("originate user/2002,user/2003 &park()")
    assert body.startswith("+OK ")
    winner = body.split()[1]
    loser = next(e.uuid for e in lab.probe.events if e.name == "CHANNEL_CREATE" and e.uuid != winner)
    assert lab.wait("CHANNEL_HANGUP", loser).get("Hangup-Cause") == "LOSE_RACE"
    assert "2003" in lab.wait("CHANNEL_DESTROY", loser).get("Channel-Name")
    assert [(row["uuid"], row["dest"]) for row in lab.switch.channels()] == [(winner, "2002")]


# -- cti_inbound ----------------------------------------------------------------------------


def test_inbound_call_runs_cti_inbound_and_parks(lab: Lab) -> None:
    caller = parked(lab)
    apps = [app for app, _ in lab.executed(caller)]
    assert apps == ["set", "export", "multiset", "answer", "sched_transfer", "park"]
    park = lab.wait("CHANNEL_PARK", caller)
    assert park.get("variable_cti_managed") == "true" and park.get("variable_cti_did") == "5550100"
    assert park.get("variable_api_before_bridge") == f"sched_del {caller}"
    assert park.get("Caller-Context") == "public" and park.get("Answer-State") == "answered"
    task = lab.wait("ADD_SCHEDULE", Task_Group=caller)
    assert task.get("Task-Desc") == "switch_ivr_schedule_transfer"


def test_bridging_disarms_the_fallback_and_the_agent_hangup_ends_the_call(lab: Lab) -> None:
    caller = parked(lab)
    member = agent(lab)
    assert lab.api(f"uuid_bridge {caller} {member}") == f"+OK {member}\n"
    bridge = lab.wait("CHANNEL_BRIDGE", caller)
    assert bridge.get("Other-Leg-Unique-ID") == member
    lab.wait("DEL_SCHEDULE", Task_Group=caller)
    lab.wait("API", API_Command="sched_del")
    assert not [e for e in lab.probe.events if e.name == "CHANNEL_BRIDGE" and e.uuid == member]
    lab.switch.hangup(member)
    assert lab.wait("CHANNEL_HANGUP_COMPLETE", caller).get("Hangup-Cause") == "NORMAL_CLEARING"
    assert "CHANNEL_UNBRIDGE" in lab.names(caller)


def test_a_bridge_whose_agent_never_answers_sends_the_caller_back_through_cti_inbound(lab: Lab) -> None:
    """``uuid_bridge_continue_on_cancel=true``: the caller goes on with its dialplan,
    whose next action is the transfer back to ``cti_inbound``."""
    caller = parked(lab)
    first_park = lab.wait("CHANNEL_PARK", caller).sequence
    lab.switch.register_phone("2005", behaviour="no_answer")
    lab.probe.command("bgapi originate {originate_timeout=2}user/2005 &park()")
    ringing = lab.wait("CHANNEL_PROGRESS").uuid
    assert lab.api(f"uuid_bridge {caller} {ringing}") == f"+OK {ringing}\n"
    second = lab.probe.wait_for(
        lambda e: e.name == "CHANNEL_PARK" and e.uuid == caller and e.sequence > first_park, timeout=10)
    assert second.get("variable_cti_managed") == "true"
    assert ("transfer", "5550100 XML public") in lab.executed(caller)
    assert lab.wait("CHANNEL_HANGUP", ringing).get("Hangup-Cause") == "NO_ANSWER"


def test_uuid_transfer_to_the_did_parks_the_caller_again(lab: Lab) -> None:
    caller = parked(lab)
    first = lab.wait("CHANNEL_PARK", caller).sequence
    assert lab.api(f"uuid_transfer {caller} 5550100 XML public") == "+OK\n"
    lab.probe.wait_for(lambda e: e.name == "CHANNEL_PARK" and e.uuid == caller and e.sequence > first)
    assert [app for app, _ in lab.executed(caller)].count("sched_transfer") == 2


def test_without_a_lease_the_caller_goes_to_the_fallback_group(leased: Lab) -> None:
    caller = leased.switch.place_inbound_call(did="5550100", caller_number="+15551230001")
    bridge = leased.wait("CHANNEL_BRIDGE", caller)
    assert ("transfer", "cti_fallback_middleware_down XML cti") in leased.executed(caller)
    data = dict(leased.executed(caller))
    assert data["bridge"].startswith("user/1000@")
    assert "cti_fallback_reason=middleware_down" in data["multiset"]
    losers = [e for e in leased.probe.events if e.name == "CHANNEL_HANGUP" and e.uuid != caller]
    assert {e.get("Hangup-Cause") for e in losers} == {"LOSE_RACE"} and len(losers) == 3
    assert bridge.get("variable_cti_managed") == "false"


def test_a_lease_from_the_middleware_parks_calls_until_it_runs_out(leased: Lab) -> None:
    leased.api("version")
    stamp = int(leased.wait("API", API_Command="version").get("Event-Date-Timestamp"))
    leased.api(f"global_setvar cti_middleware_up_until={stamp // 1_000_000 + 30}")
    caller = parked(leased, did="5550101")
    assert ("answer", "") in leased.executed(caller)
    leased.sim_sleep(35)
    late = leased.switch.place_inbound_call(did="5550102", caller_number="+15551230002")
    leased.wait("CHANNEL_BRIDGE", late)
    assert ("transfer", "cti_fallback_middleware_down XML cti") in leased.executed(late)


def test_by_default_the_lease_is_not_enforced(lab: Lab) -> None:
    """The middleware renews on real time; a fast simulator must not outrun it."""
    lab.api("global_setvar cti_middleware_up_until=0")
    caller = parked(lab)
    assert ("answer", "") in lab.executed(caller)


def test_a_long_wait_moves_the_caller_to_voicemail_when_nobody_answers(lab: Lab) -> None:
    for extension in ("1000", "1001", "1002", "1003"):
        lab.switch.register_phone(extension, behaviour="no_answer")
    lab.api("global_setvar cti_park_timeout=5")
    lab.api("global_setvar cti_fallback_ring_seconds=3")
    caller = parked(lab, hangup_after=30.0)
    lab.wait("DEL_SCHEDULE", Task_Group=caller)
    record = lab.wait("RECORD_START", caller)
    path = record.get("Record-File-Path")
    assert "/voicemail/default/" in path and path.endswith(".wav")
    message = lab.probe.wait_for(lambda e: e.get("Event-Subclass") == "vm::maintenance", timeout=10)
    assert message.get("VM-Action") == "leave-message" and message.get("VM-User") == "1999"
    assert (duration(path) or 0) > 1
    data = dict(lab.executed(caller))
    assert "cti_fallback_reason=park_timeout" in data["multiset"]
    assert "voicemail" in data
    hangups = {e.get("Hangup-Cause") for e in lab.probe.events if e.name == "CHANNEL_HANGUP" and e.uuid != caller}
    assert hangups == {"NO_ANSWER"}


def test_the_hard_limit_hangs_up_a_forgotten_caller(lab: Lab) -> None:
    lab.api("global_setvar cti_park_hard_limit=3")
    caller = parked(lab)
    assert lab.wait("CHANNEL_HANGUP", caller).get("Hangup-Cause") == "ALLOTTED_TIMEOUT"


# -- callers --------------------------------------------------------------------------------


def test_an_impatient_caller_abandons(lab: Lab) -> None:
    caller = parked(lab, behaviour=CallerBehaviour(patience=3.0))
    hangup = lab.wait("CHANNEL_HANGUP_COMPLETE", caller)
    assert hangup.get("variable_sip_hangup_disposition") == "recv_bye"


def test_a_caller_talks_then_hangs_up_once_bridged(lab: Lab) -> None:
    caller = parked(lab, behaviour=CallerBehaviour(patience=60.0, talk_time=4.0))
    member = agent(lab)
    lab.api(f"uuid_bridge {caller} {member}")
    lab.wait("CHANNEL_BRIDGE", caller)
    lab.wait("CHANNEL_HANGUP", caller)
    assert lab.wait("CHANNEL_HANGUP_COMPLETE", member)


def test_ivr_digits_from_the_callers_script(lab: Lab) -> None:
    caller = parked(lab, behaviour=CallerBehaviour(prompt_digits=("42#",), think_time=0.5))
    lab.probe.command(f"sendmsg {caller}", {
        "call-command": "execute", "execute-app-name": "play_and_get_digits",
        "execute-app-arg": "1 4 2 5000 # ivr/menu.wav silence_stream://250 cti_choice \\d+ 3000"})
    done = lab.wait("CHANNEL_EXECUTE_COMPLETE", caller, Application="play_and_get_digits")
    assert done.get("variable_cti_choice") == "42"
    digits = [e for e in lab.probe.events if e.name == "DTMF" and e.uuid == caller]
    assert [d.get("DTMF-Digit") for d in digits] == ["4", "2", "#"]
    assert {d.get("DTMF-Source") for d in digits} == {"RTP"}


def test_timed_dtmf_and_uuid_send_dtmf(lab: Lab) -> None:
    caller = parked(lab, dtmf=[(1.0, "7")])
    assert lab.wait("DTMF", caller).get("DTMF-Digit") == "7"
    lab.switch.press_digits(caller, "9")
    assert lab.probe.wait_for(lambda e: e.name == "DTMF" and e.get("DTMF-Digit") == "9").uuid == caller


# -- supervisor, hold, recordings ---------------------------------------------------------


def test_eavesdrop_never_bridges_and_digits_switch_the_mode(lab: Lab) -> None:
    caller = parked(lab)
    member = agent(lab)
    lab.api(f"uuid_bridge {caller} {member}")
    lab.wait("CHANNEL_BRIDGE", caller)
    boss = agent(lab, "1002", "c0000000-0000-4000-8000-000000000003")
    lab.probe.command(f"sendmsg {boss}", {
        "call-command": "execute", "execute-app-name": "eavesdrop", "execute-app-arg": member})
    bug = lab.wait("MEDIA_BUG_START", member)
    assert bug.get("Media-Bug-Function") == "eavesdrop"
    spy = lab.switch.engine.core.find(boss)
    assert spy is not None and spy.eavesdrop_mode == "listen"
    lab.switch.press_digits(boss, "2")
    lab.wait("DTMF", boss, DTMF_Digit="2")
    lab.sim_sleep(1)
    assert spy.eavesdrop_mode == "whisper"
    lab.switch.press_digits(boss, "*")
    lab.wait("MEDIA_BUG_STOP", member)
    assert not [e for e in lab.probe.events if e.name == "CHANNEL_BRIDGE" and boss in (e.uuid, e.get("Other-Leg-Unique-ID"))]


def test_intercept_takes_the_call_over(lab: Lab) -> None:
    caller = parked(lab)
    boss = agent(lab, "1002", "c0000000-0000-4000-8000-000000000004")
    lab.probe.command(f"sendmsg {boss}", {
        "call-command": "execute", "execute-app-name": "intercept", "execute-app-arg": caller})
    bridge = lab.wait("CHANNEL_BRIDGE", boss)
    assert bridge.get("Other-Leg-Unique-ID") == caller


def test_hold_and_unhold(lab: Lab) -> None:
    caller = parked(lab)
    member = agent(lab)
    lab.api(f"uuid_bridge {caller} {member}")
    lab.wait("CHANNEL_BRIDGE", caller)
    assert lab.api(f"uuid_hold {caller}") == "+OK Success\n"
    assert lab.wait("CHANNEL_HOLD", caller).get("Channel-Call-State") == "HELD"
    lab.api(f"uuid_hold off {caller}")
    assert lab.wait("CHANNEL_UNHOLD", caller).get("Channel-Call-State") == "ACTIVE"


def test_uuid_record_writes_a_playable_wav(lab: Lab, tmp_path: Path) -> None:
    caller = parked(lab)
    recordings = lab.api("global_getvar cti_recordings_dir")
    assert recordings == str(tmp_path)
    path = f"{recordings}/call.wav"
    assert lab.api(f"uuid_record {caller} start {path}") == "+OK Success\n"
    lab.wait("RECORD_START", caller)
    lab.sim_sleep(3)
    assert lab.api(f"uuid_record {caller} stop {path}") == "+OK Success\n"
    stop = lab.wait("RECORD_STOP", caller)
    assert stop.get("Record-File-Path") == path
    assert 2 < (duration(path) or 0) < 30
    lab.probe.command(f"sendmsg {caller}", {
        "call-command": "execute", "execute-app-name": "playback", "execute-app-arg": path})
    assert lab.wait("PLAYBACK_STOP", caller).get("Playback-File-Path") == path


# -- outbound customers ---------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "reply"), [
    ("busy", "-ERR USER_BUSY\n"), ("invalid", "-ERR UNALLOCATED_NUMBER\n"), ("no_answer", "-ERR NO_ANSWER\n"),
])
def test_customers_that_are_not_reached(lab: Lab, kind: str, reply: str) -> None:
    lab.switch.set_customer_profile(CustomerProfile(scripted={"+15557770001": kind}, ring_time=(1, 2)))
    assert lab.job("originate {originate_timeout=4}sofia/gateway/cti_gateway/+15557770001 &park()") == reply


def test_an_answering_machine_beeps_for_avmd(lab: Lab) -> None:
    lab.switch.set_customer_profile(CustomerProfile(
        scripted={"+15557770002": "machine"}, ring_time=(1, 2), greeting_time=(2, 3)))
    body = lab.job("originate sofia/gateway/cti_gateway/+15557770002 &park()")
    uuid = body.split()[1]
    assert lab.api(f"avmd {uuid} start") == "+OK\n"
    beep = lab.probe.wait_for(lambda e: e.get("Event-Subclass") == "avmd::beep", timeout=10)
    assert beep.uuid == uuid and beep.get("Beep-Status") == "DETECTED"
    assert lab.api(f"uuid_getvar {uuid} avmd_detect") == "TRUE"


def test_a_human_talks_and_hangs_up(lab: Lab) -> None:
    lab.switch.set_customer_profile(CustomerProfile(
        scripted={"+15557770003": "human"}, ring_time=(1, 2), talk_time=(3, 4)))
    body = lab.job("originate sofia/gateway/cti_gateway/+15557770003 &park()")
    uuid = body.split()[1]
    assert lab.wait("CHANNEL_HANGUP_COMPLETE", uuid).get("variable_sip_hangup_disposition") == "recv_bye"


# -- views ----------------------------------------------------------------------------------


def test_show_channels_catches_up_with_the_events(lab: Lab) -> None:
    caller = parked(lab)
    assert [row["uuid"] for row in lab.switch.channels()] == [caller]
    for _ in range(50):
        listing = json.loads(lab.api("show channels as json"))
        if listing["row_count"]:
            break
        lab.sim_sleep(0.5)
    assert [row["uuid"] for row in listing["rows"]] == [caller]
    assert listing["rows"][0]["callstate"] == "ACTIVE"
    assert lab.api("show channels count").strip() == "1 total."


def test_heartbeats_keep_coming(lab: Lab) -> None:
    beat = lab.wait("HEARTBEAT")
    assert beat.get("Event-Info") == "System Ready"
    assert lab.wait("RE_SCHEDULE").get("Task-Desc") == "heartbeat"
