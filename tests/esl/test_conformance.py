"""The simulator against the real FreeSWITCH 1.11 captures.

Each scenario replays the capture's commands over a real TCP socket (``event json
ALL``) with the same endpoint behaviour the lab had (caller hangs up N s after answer,
agent phone answers after 1 s, 1019 rings forever, 1018 unregistered, ...) and
compares with the capture:

* per channel role (first-seen order of ``Unique-ID``) the ordered Event-Names,
  ignoring ``CHANNEL_STATE`` (varies between real runs, see the README), HEARTBEAT and
  RE_SCHEDULE;
* on each of those events the headers the middleware reads, with uuids replaced by
  their role (linkage via ``Other-Leg-Unique-ID``, ``Channel-Call-UUID``,
  ``Bridge-*``, ``Application-Data`` ...);
* the API / BACKGROUND_JOB events (commands and job bodies) in order;
* the reply of every command, exactly, except the state dumps (``show``, ``status``,
  ``sofia ... reg``, ``uuid_dump``) which are compared by structure and content.

Scenario h (mod_callcenter) is not replayed: its channels are driven by
mod_callcenter's own agent dialling and CUSTOM callcenter::info events, which the
simulator does not implement (the middleware does its own queueing); its non-callcenter
parts are the same sequences as b.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import pytest

from esl.events import Event
from esl.simulator import FakeSwitch
from esl.simulator.probe import Probe
from tests.captures import capture_commands, capture_events, load_capture

SPEED = 20.0
PASSWORD = "ClueCon"
CALLER = ("+15550001", "Customer 1")
SKIP = {"CHANNEL_STATE", "HEARTBEAT", "RE_SCHEDULE"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
KEY_HEADERS = (
    "Unique-ID", "Call-Direction", "Answer-State", "Channel-Call-State", "Hangup-Cause",
    "Channel-Call-UUID", "Channel-Presence-ID", "Caller-Direction", "Caller-Caller-ID-Name",
    "Caller-Caller-ID-Number", "Caller-Destination-Number", "Caller-Context", "Caller-Unique-ID",
    "Other-Type", "Other-Leg-Unique-ID", "Application", "Application-Data", "Application-Response",
    "Original-Channel-Call-State", "Bridge-A-Unique-ID", "Bridge-B-Unique-ID", "Old-Unique-ID",
    "DTMF-Digit", "DTMF-Source", "DTMF-Duration", "Media-Bug-Function", "Media-Bug-Target",
    "Record-File-Path", "Record-Completion-Cause", "Playback-File-Path", "Playback-File-Type",
    "Direction", "Bridged-To", "call-command", "execute-app-name", "execute-app-arg",
    "variable_origination_uuid", "variable_ignore_early_media", "variable_originate_timeout",
    "variable_origination_caller_id_number", "variable_eavesdrop_whisper_aleg",
    "variable_eavesdrop_bridge_aleg", "variable_eavesdrop_bridge_bleg",
    "variable_other_loopback_leg_uuid", "variable_loopback_leg", "variable_current_application",
    "variable_record_completion_cause", "variable_bridge_uuid", "variable_signal_bond",
    "variable_sip_hangup_disposition", "variable_hangup_cause",
)


# -- normalising -----------------------------------------------------------------------


def roles(events: Iterable[Event]) -> dict[str, str]:
    """uuid -> ``legN`` in order of first appearance as a Unique-ID."""
    out: dict[str, str] = {}
    for event in events:
        if event.uuid and event.uuid not in out:
            out[event.uuid] = f"leg{len(out)}"
    return out


#: Paths the replay writes instead of the capture's (``/tmp`` is shared).
PATHS: dict[str, str] = {}


def normalise(text: str, role_of: dict[str, str]) -> str:
    for ours, theirs in PATHS.items():
        text = text.replace(ours, theirs)
    text = UUID.sub(lambda m: role_of.get(m.group(0), "<uuid>"), text)
    return re.sub(r"(sofia/external/[^@/]*@127\.0\.0\.1):\d+", r"\1:<port>", text)


def channel_sequences(events: Sequence[Event]) -> dict[str, list[str]]:
    role_of = roles(events)
    out: dict[str, list[str]] = {}
    for event in events:
        if event.uuid and event.name not in SKIP and "Channel-Name" in event.headers:
            out.setdefault(role_of[event.uuid], []).append(event.name)
    return out


def key_headers(events: Sequence[Event]) -> dict[str, list[dict[str, str]]]:
    role_of = roles(events)
    out: dict[str, list[dict[str, str]]] = {}
    for event in events:
        if not event.uuid or event.name in SKIP or "Channel-Name" not in event.headers:
            continue
        picked = {h: normalise(event.headers[h], role_of) for h in KEY_HEADERS if h in event.headers}
        picked["has-caller-profile"] = str("Caller-Unique-ID" in event.headers)
        out.setdefault(role_of[event.uuid], []).append({"event": event.name, **picked})
    return out


def job_events(events: Sequence[Event]) -> list[tuple[str, str, str]]:
    role_of = roles(events)
    out = []
    for event in events:
        if event.name == "API":
            out.append(("API", event.get("API-Command"), normalise(event.get("API-Command-Argument"), role_of)))
        elif event.name == "BACKGROUND_JOB":
            out.append(("BACKGROUND_JOB", event.get("Job-Command"), normalise(event.body, role_of)))
    return out


# -- replaying ---------------------------------------------------------------------------------


@dataclass
class Replay:
    """A simulator run driven like one capture."""

    switch: FakeSwitch
    probe: Probe
    substitutions: dict[str, str] = field(default_factory=dict)
    replies: list[tuple[str, str]] = field(default_factory=list)

    def sleep(self, sim_seconds: float) -> None:
        gevent.sleep(sim_seconds / SPEED)

    def send(self, capture_command: str) -> str:
        line = capture_command
        for old, new in self.substitutions.items():
            line = line.replace(old, new)
        frame = self.probe.command(line)
        text = frame.headers.get("Reply-Text", "") if frame.content_type == "command/reply" else frame.body.decode()
        self.replies.append((capture_command, text))
        return text

    def event(self, name: str, uuid: str | None = None, *, after: int = 0, timeout: float = 20) -> Event:
        def match(e: Event) -> bool:
            return e.name == name and (uuid is None or e.uuid == uuid) and e.sequence > after

        return self.probe.wait_for(match, timeout)

    def caller(self, **kwargs: object) -> str:
        uuid = self.switch.place_inbound_call(did="5900", caller_number=CALLER[0], caller_name=CALLER[1], **kwargs)
        return uuid

    def finish(self) -> None:
        self.send("exit")
        notice = self.probe.reply()
        assert notice.content_type == "text/disconnect-notice"
        assert notice.body == b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


def capture_replies(name: str) -> list[tuple[str, str]]:
    """(command, reply text) pairs in the capture's order."""
    out: list[tuple[str, str]] = []
    waiting: list[str] = []
    for record in load_capture(name):
        if record["direction"] == "out":
            waiting.append(record["command"])
        elif record["direction"] == "in" and waiting:
            ctype = record["headers"].get("Content-Type")
            if ctype == "command/reply":
                out.append((waiting.pop(0), record["headers"].get("Reply-Text", "")))
            elif ctype == "api/response":
                out.append((waiting.pop(0), record["body"]))
    return out


@pytest.fixture
def replay(tmp_path: Path) -> Iterable[Replay]:
    switch = FakeSwitch(password=PASSWORD, speed=SPEED, seed=7)
    switch.start()
    probe = Probe("127.0.0.1", switch.port)
    greeting = probe.reply()
    assert greeting.content_type == "auth/request"
    run = Replay(switch, probe)
    run.replies.append(("auth ********", run.probe.command(f"auth {PASSWORD}").headers["Reply-Text"]))
    run.send("event json ALL")
    yield run
    probe.close()
    switch.stop()


# -- scenarios ------------------------------------------------------------------------------


def drive_a(run: Replay, capture: list[Event]) -> None:
    caller = run.caller(hangup_after=4.02)
    run.event("CHANNEL_DESTROY", caller)
    run.finish()


def drive_b(run: Replay, capture: list[Event]) -> None:
    commands = capture_commands("b_park_moh_originate_bridge")
    caller = run.caller(hangup_after=10.02)
    run.substitutions[capture[0].uuid] = caller
    run.event("CHANNEL_PARK", caller)
    run.send(commands[2])
    run.send(commands[3])
    run.event("CHANNEL_PARK", "0f25b5fa-9dd6-4e69-a871-b9d5eca06ec7")
    run.send(commands[4])
    run.event("CHANNEL_DESTROY", "0f25b5fa-9dd6-4e69-a871-b9d5eca06ec7")
    run.event("CHANNEL_DESTROY", caller)
    run.finish()


def drive_c(run: Replay, capture: list[Event]) -> None:
    run.switch.register_phone("1019", behaviour="no_answer")
    run.switch.unregister_phone("1018")
    commands = capture_commands("c_agent_no_answer")
    seen = 0
    for command in commands[2:5]:
        run.send(command)
        seen = run.event("BACKGROUND_JOB", after=seen).sequence
    run.send(commands[5])
    run.probe.drain(0.3)
    run.finish()


def drive_d(run: Replay, capture: list[Event]) -> None:
    caller = run.caller(hangup_after=9.04, dtmf=[(1.16, "1"), (2.66, "2"), (4.16, "3"), (5.66, "#")])
    run.substitutions[capture[0].uuid] = caller
    run.probe.wait_for(lambda e: e.name == "DTMF" and e.get("DTMF-Digit") == "#")
    run.send(capture_commands("d_dtmf_rfc2833")[2])
    run.event("CHANNEL_DESTROY", caller)
    run.finish()


def drive_e(run: Replay, capture: list[Event], tmp_path: Path) -> None:
    caller = run.caller(hangup_after=8.02)
    run.substitutions[capture[0].uuid] = caller
    run.substitutions["/tmp/rec.wav"] = str(tmp_path / "rec.wav")
    PATHS[str(tmp_path / "rec.wav")] = "/tmp/rec.wav"
    run.event("CHANNEL_PARK", caller)
    commands = capture_commands("e_record")
    run.send(commands[2])
    run.sleep(3.0)
    run.send(commands[3])
    run.event("CHANNEL_DESTROY", caller)
    run.finish()


def drive_f(run: Replay, capture: list[Event]) -> None:
    commands = capture_commands("f_supervisor_eavesdrop_whisper_barge")
    caller = run.caller(hangup_after=30.02)
    run.substitutions[capture[0].uuid] = caller
    run.event("CHANNEL_PARK", caller)
    run.send(commands[2])
    run.event("CHANNEL_PARK", "ec92dfea-66de-48fb-92a3-a166bc2ddf96")
    run.send(commands[3])
    run.event("CHANNEL_BRIDGE", caller)
    for originate, kill in zip(commands[4:12:2], commands[5:12:2], strict=True):
        supervisor = UUID.search(originate.split("}")[0])
        assert supervisor is not None
        run.send(originate)
        run.event("MEDIA_BUG_START", caller, after=run.event("CHANNEL_EXECUTE", supervisor.group(0)).sequence)
        run.sleep(3.0)
        run.send(kill)
        run.event("CHANNEL_DESTROY", supervisor.group(0))
    run.event("CHANNEL_DESTROY", caller, timeout=30)
    run.finish()


def drive_g(run: Replay, capture: list[Event]) -> None:
    for user in ("1018",):
        run.switch.unregister_phone(user)
    commands = capture_commands("g_state_snapshot_commands")
    caller = run.caller()
    run.substitutions[capture[0].uuid] = caller
    run.event("CHANNEL_PARK", caller)
    run.send(commands[2])
    run.event("CHANNEL_PARK", "2f313ba6-ec5b-4684-907e-954535510695")
    run.send(commands[3])
    run.event("CHANNEL_BRIDGE", caller)
    run.send(commands[4])
    run.send(commands[5])
    run.sleep(2.0)
    for command in commands[6:-1]:
        run.send(command)
    run.switch.hangup(caller)
    run.event("CHANNEL_DESTROY", caller)
    run.probe.drain(0.3)
    run.finish()


def drive_i(run: Replay, capture: list[Event]) -> None:
    commands = capture_commands("i_outbound_loopback_transfer_park")
    customer = "d06dbc55-74c2-4a4f-b584-7e359c652750"
    run.send(commands[2])
    run.event("PLAYBACK_START", customer)
    run.sleep(2.0)
    run.send(commands[3])
    run.event("CHANNEL_PARK", customer)
    run.sleep(2.0)
    partner = run.send(commands[4])
    capture_partner = capture_replies("i_outbound_loopback_transfer_park")[4][1]
    run.substitutions[capture_partner] = partner
    run.send(commands[5])
    run.event("CHANNEL_DESTROY", customer)
    run.probe.drain(0.3)
    run.finish()


DRIVERS: dict[str, Callable[..., None]] = {
    "a_inbound_park": drive_a,
    "b_park_moh_originate_bridge": drive_b,
    "c_agent_no_answer": drive_c,
    "d_dtmf_rfc2833": drive_d,
    "f_supervisor_eavesdrop_whisper_barge": drive_f,
    "g_state_snapshot_commands": drive_g,
    "i_outbound_loopback_transfer_park": drive_i,
}
STATE_DUMPS = ("api show", "api status", "api sofia status profile", "api uuid_dump")


def run_scenario(name: str, replay: Replay, tmp_path: Path) -> list[Event]:
    capture = capture_events(name)
    if name == "e_record":
        drive_e(replay, capture, tmp_path)
    else:
        DRIVERS[name](replay, capture)
    return replay.probe.events


def compare_replies(name: str, replay: Replay, sim: list[Event], capture: list[Event]) -> None:
    expected = capture_replies(name)
    assert [c for c, _ in replay.replies] == [c for c, _ in expected]
    sim_roles, cap_roles = roles(sim), roles(capture)
    for (command, got), (_, want) in zip(replay.replies, expected, strict=True):
        if command.startswith(STATE_DUMPS):
            continue
        if command.startswith("api callcenter_config"):
            assert got == "-ERR callcenter_config Command not found!\n"
            continue
        assert normalise(got, sim_roles) == normalise(want, cap_roles), command


@pytest.mark.slow
@pytest.mark.parametrize("name", [*DRIVERS, "e_record"])
def test_scenario_matches_capture(name: str, replay: Replay, tmp_path: Path) -> None:
    capture = capture_events(name)
    sim = run_scenario(name, replay, tmp_path)
    assert channel_sequences(sim) == channel_sequences(capture)
    sim_keys, cap_keys = key_headers(sim), key_headers(capture)
    for role, cap_list in cap_keys.items():
        for index, (got, want) in enumerate(zip(sim_keys[role], cap_list, strict=True)):
            assert got == want, f"{role} event #{index} {want['event']}"
    assert job_events(sim) == job_events(capture)
    compare_replies(name, replay, sim, capture)
