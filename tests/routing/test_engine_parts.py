"""The routing engine's small parts, without a switch: the call phase table, the
agent-leg originate it sends, the application arguments it refuses, the voicemail
flow it builds for an overflow, and its clock."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.agents import Agent as LiveAgent
from esl.events import Event
from esl.protocol import CommandArgumentError
from routing import flow_nodes as n
from routing.clock import EngineClock
from routing.flows import parse_flow
from routing.ivr_runner import VOICEMAIL_GREETING, voicemail_flow
from routing.lanes import app_call
from routing.offers import agent_originate, clean_text
from routing.sessions import TRANSITIONS, Phase, Session, SessionStateError
from routing.steps import Execute

LEG = "0f25b5fa-9dd6-4e69-a871-b9d5eca06ec7"
CALL = "97511e48-b3d4-4e10-9b51-71f8be74f0a2"
TRIGGERS = sorted({trigger for _, trigger in TRANSITIONS})


def _session(phase: Phase = Phase.ARRIVING) -> Session:
    return Session(CALL, LEG, "fs1", lane=None, phase=phase)  # type: ignore[arg-type]


# -- the phase table ---------------------------------------------------------------------


@pytest.mark.parametrize(("start", "triggers", "end"), [
    (Phase.ARRIVING, ["ivr", "enqueue", "offer", "answered", "bridged"], Phase.CONNECTED),
    (Phase.ARRIVING, ["ivr", "enqueue", "offer", "requeue", "offer", "requeue"], Phase.QUEUED),
    (Phase.ARRIVING, ["ivr", "enqueue", "ivr", "end"], Phase.ENDED),            # overflow to voicemail
    (Phase.ARRIVING, ["enqueue", "enqueue", "callback"], Phase.CALLBACK),      # restart recovery, overflow
    (Phase.RINGING, ["answered", "requeue"], Phase.QUEUED),                     # the bridge failed
])
def test_a_call_moves_through_its_phases(start: Phase, triggers: list[str], end: Phase) -> None:
    s = _session(start)
    for trigger in triggers:
        s.move(trigger)
    assert s.phase is end


@pytest.mark.parametrize(("phase", "trigger"), [
    (Phase.ARRIVING, "offer"), (Phase.IVR, "answered"), (Phase.QUEUED, "bridged"),
    (Phase.CONNECTED, "enqueue"), (Phase.ENDED, "end"), (Phase.CALLBACK, "offer"),
])
def test_an_illegal_move_raises_and_changes_nothing(phase: Phase, trigger: str) -> None:
    s = _session(phase)
    with pytest.raises(SessionStateError, match=f"{trigger} is not allowed while {phase.value}"):
        s.move(trigger)
    assert s.phase is phase


@given(st.lists(st.sampled_from(TRIGGERS), max_size=30))
def test_moves_follow_the_table_and_ended_is_final(triggers: list[str]) -> None:
    s = _session()
    for trigger in triggers:
        before = s.phase
        expected = TRANSITIONS.get((before, trigger))
        if expected is None:
            with pytest.raises(SessionStateError):
                s.move(trigger)
            assert s.phase is before
        else:
            assert s.move(trigger) is expected
        assert before is not Phase.ENDED or s.phase is Phase.ENDED


def test_every_live_phase_can_end() -> None:
    assert all(TRANSITIONS[(phase, "end")] is Phase.ENDED for phase in Phase if phase is not Phase.ENDED)


# -- the agent leg --------------------------------------------------------------------------


def test_the_agent_leg_carries_our_variables_and_rings_the_phone_of_the_login() -> None:
    agent = LiveAgent(7, extension="1001", dial_string="user/2002")  # hot-desking: logged in on 2002
    command = agent_originate(agent, LEG, interaction_id=CALL, queue="sales", ring_timeout=15,
                              caller_number="+15550001", caller_name="Jane 'JD' Doe")
    assert command == (
        f"originate {{origination_uuid={LEG},originate_timeout=15,cti_interaction_id={CALL},cti_role=agent,"
        "cti_agent_id=7,ignore_early_media=true,cti_queue=sales,origination_caller_id_number=+15550001,"
        "origination_caller_id_name='Jane JD Doe'}user/2002 &park()"
    )


def test_an_unusable_dial_string_falls_back_to_the_extension_and_no_phone_is_refused() -> None:
    command = agent_originate(LiveAgent(7, extension="1001", dial_string="sofia/internal/1001"), LEG,
                              interaction_id=CALL, queue="", ring_timeout=20, caller_number="", caller_name="")
    assert command.endswith("}user/1001 &park()") and "cti_queue" not in command
    with pytest.raises(CommandArgumentError, match="has no phone"):
        agent_originate(LiveAgent(7), LEG, interaction_id=CALL, queue="", ring_timeout=20, caller_number="",
                        caller_name="")


@pytest.mark.parametrize(("raw", "shown"), [
    ("Jane", "Jane"), ("O'Brien {x}", "OBrien x"), ("${system rm}", "system rm"), ("a\tb\n", "ab"),
])
def test_caller_ids_lose_what_the_switch_would_interpret(raw: str, shown: str) -> None:
    assert clean_text(raw) == shown


def test_application_arguments_that_the_switch_would_expand_are_refused() -> None:
    assert app_call(Execute("playback", "welcome.wav")).arg == "welcome.wav"
    with pytest.raises(CommandArgumentError, match="may not contain"):
        app_call(Execute("playback", "${sound_prefix}/welcome.wav"))


# -- overflow to voicemail -------------------------------------------------------------------


def test_overflow_to_voicemail_uses_the_box_node_of_a_flow_or_the_standard_greeting() -> None:
    flow = parse_flow({
        "name": "main", "start": "vm", "language": "zh", "languages": ["zh", "en"],
        "nodes": {"vm": {"type": "voicemail", "box": "queue:support", "greeting": {"zh": "留言.wav", "en": "msg.wav"},
                         "event_codes": {"1": "complaint"}, "event_prompt": {"default": "type.wav"}}},
    })
    reused = voicemail_flow([flow], "queue:support", "en")
    node = reused.nodes["message"]
    assert isinstance(node, n.VoicemailNode)
    assert (reused.language, node.greeting.file("en"), dict(node.event_codes)) == ("en", "msg.wav", {"1": "complaint"})
    assert reused.name.startswith("_")

    plain = voicemail_flow([flow], "agent:1001", "en").nodes["message"]
    assert isinstance(plain, n.VoicemailNode)
    assert plain.greeting.file("en") == VOICEMAIL_GREETING and not plain.event_codes


# -- the clock -----------------------------------------------------------------------------


def _event(timestamp: float) -> Event:
    return Event({"Event-Name": "HEARTBEAT", "Event-Date-Timestamp": str(int(timestamp * 1_000_000))},
                 received_at=time.monotonic())


def test_the_clock_follows_the_switch_at_its_speed_and_never_goes_back() -> None:
    clock = EngineClock(10.0)
    clock.observe(_event(1_000_000.0))
    first = clock.now()
    assert 1_000_000.0 <= first < 1_000_001.0
    time.sleep(0.05)
    later = clock.now()
    assert later - first >= 0.5 * 0.9
    clock.observe(_event(1_000_000.0))  # an older stamp (20 ms ticks): no step back
    assert clock.now() >= later
    assert clock.real(10.0) == 1.0


def test_the_wall_clock_at_speed_one_and_a_bad_speed_is_refused() -> None:
    clock = EngineClock()
    clock.observe(_event(1.0))
    assert abs(clock.now() - time.time()) < 1.0 and clock.real(3.0) == 3.0
    with pytest.raises(ValueError, match="CTI_ROUTING_SPEED"):
        EngineClock(0)
