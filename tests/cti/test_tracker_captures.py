"""Golden traces: the real FreeSWITCH 1.11 captures replayed through the live state.

Each scenario runs twice where it makes sense: the raw capture (the lab dialplan set
none of our variables, so only what FreeSWITCH itself says can be known) and a derived
copy with our ``cti_*`` variables injected where the middleware would have set them
(see ``test_tracker_support``: dialplan ``set`` before park, ``uuid_setvar`` after it,
originate ``{}`` variables on the originated legs). Commands (queue, offer, dial,
originate_failed) are issued at the point of the capture where the middleware would
have issued them. Expected values are worked out from the capture's own headers.
"""

from __future__ import annotations

import pytest

from cti.bus import DomainEvent
from cti.tracker import LiveState
from tests.captures import capture_events
from tests.cti.test_tracker_support import (
    bgapi_jobs,
    first_seq,
    managed_inbound,
    originated,
    replay,
    shifted,
    summary,
)

A_CALLER = "407f1ea2-96ec-4cde-8f9a-641e3faadb9f"
B_CALLER = "97511e48-b3d4-4e10-9b51-71f8be74f0a2"
B_AGENT = "0f25b5fa-9dd6-4e69-a871-b9d5eca06ec7"
C_NO_ANSWER = "2d1bee32-bec4-437d-8953-86c4fa70bedf"
C_UNREGISTERED = "80d3b9b9-585b-4276-ba39-c1cd97af3060"
C_ABSENT = "c0ffce93-bcc3-4fc3-a1fc-dc3ab7cf34ce"
D_CALLER = "2acbe710-f2c4-4f97-943c-192799bebd90"
E_CALLER = "aa267b14-5b3f-48b4-af9e-d4e6999af4b4"
F_CALLER = "d8347442-418f-4e6b-bf6e-e7596b652d00"
F_AGENT = "ec92dfea-66de-48fb-92a3-a166bc2ddf96"
F_SUPERVISORS = (
    "2be4a9e1-7171-460d-927d-bd9b70b595bd",  # listen: eavesdrop
    "f7dc54d7-3db0-4d26-8d16-fc31d65091b5",  # whisper: eavesdrop_whisper_aleg=true
    "dd75aecc-29db-4104-a583-a63ad2ede8e7",  # barge: three_way
    "435f2e0c-c8f5-4709-8fa2-43258215da6d",  # full barge: eavesdrop_bridge_aleg/bleg=true
)
I_CUSTOMER = "d06dbc55-74c2-4a4f-b584-7e359c652750"
I_LOOPBACK_B = "e2d24fb1-659b-4ee4-b4a4-a439c11ce1e4"
I_RANDOM_UUID = "028a7816-a624-4335-9bdf-835a70bfbf94"
OUTBOUND_ID = "5d7c0a53-6c39-4a38-9c3b-0b5d7f0e1a11"

RAW = (
    "a_inbound_park", "b_park_moh_originate_bridge", "c_agent_no_answer", "d_dtmf_rfc2833",
    "e_record", "f_supervisor_eavesdrop_whisper_barge", "i_outbound_loopback_transfer_park",
)


def at(micros: int) -> float:
    return micros / 1_000_000


def agent_leg(agent_id: int, interaction: str) -> dict[str, str]:
    return {"cti_interaction_id": interaction, "cti_role": "agent", "cti_agent_id": str(agent_id), "cti_queue": "support"}


def logged_in(*agent_ids: int, when: float = 1_795_348_000.0) -> LiveState:
    live = LiveState()
    for agent_id in agent_ids:
        live.agent_login(agent_id, str(agent_id), now=when, ready=True)
    return live


@pytest.mark.parametrize("name", RAW)
def test_raw_captures_without_our_variables_are_not_our_calls(name: str) -> None:
    """Without cti_managed or cti_* variables no channel is ours: nothing is tracked,
    nothing is published, however many channel events go by (a switch may carry other
    traffic). The agents logged in on the captures' phones are left alone."""
    live = logged_in(1001, 1002, 1003, 1004, 1005, 1019)
    events = capture_events(name)
    result = replay(live, events)
    assert result.events == []
    assert live.live_calls() == []
    assert {a["state"] for a in live.agents()} == {"available"}
    assert live.stats.events == len(events)


def test_a_managed_inbound_call_hung_up_in_the_ivr() -> None:
    live = LiveState()
    result = replay(live, managed_inbound(capture_events("a_inbound_park"), A_CALLER))

    assert [summary(e) for e in result.events] == [
        ("call.created", None),
        ("call.ended", None, "self_service", "customer"),
    ]
    created = result.events[0]
    assert created.interaction_id == A_CALLER
    assert created.data["did"] == "5900" and created.data["caller_number"] == "+15550001"
    assert created.at == at(1795348768358090)  # Caller-Channel-Created-Time
    record = result.events[1].data
    assert record["started_at"] == "2026-11-22T11:59:28.358090+00:00"
    assert record["ended_at"] == "2026-11-22T11:59:32.378086+00:00"
    assert record["duration_seconds"] == 4.02
    assert record["hangup_cause"] == "NORMAL_CLEARING"
    assert [leg["hangup_disposition"] for leg in record["legs"]] == ["recv_bye"]
    assert record["talk_seconds"] == 0 and record["answered_at"] is None
    assert live.live_calls() == []


def test_a_caller_abandons_in_queue() -> None:
    live = LiveState()
    events = managed_inbound(capture_events("a_inbound_park"), A_CALLER)
    parked = first_seq(events, A_CALLER, "CHANNEL_PARK")
    # routing queues it when it learns of the park (same 20 ms tick as CHANNEL_PARK)
    result = replay(live, events, {parked: [lambda lv, t: lv.queue_entered(A_CALLER, "sales", 3, now=t)]})

    assert [summary(e) for e in result.events] == [
        ("call.created", None),
        ("call.queued", None, "sales"),
        ("call.abandoned", None, 4.02),
        ("call.ended", None, "abandoned", "customer"),
    ]
    record = result.events[-1].data
    assert record["abandoned_at"] == record["ended_at"] == "2026-11-22T11:59:32.378086+00:00"
    assert record["queue_visits"] == [{
        "seq": 1, "queue": "sales", "priority": 3, "entered_at": "2026-11-22T11:59:28.358090+00:00",
        "answered_at": None, "left_at": "2026-11-22T11:59:32.378086+00:00", "outcome": "abandoned", "agent_id": None,
    }]
    assert record["wait_seconds"] == 4.02


def _scenario_b() -> tuple[LiveState, list[DomainEvent], int]:
    events = managed_inbound(capture_events("b_park_moh_originate_bridge"), B_CALLER)
    events = originated(events, B_AGENT, agent_leg(1001, B_CALLER))
    live = logged_in(1001)
    parked = first_seq(events, B_CALLER, "CHANNEL_PARK")
    originate = first_seq(events, B_AGENT, "CHANNEL_OUTGOING")
    result = replay(live, events, {
        parked + 1: [lambda lv, t: lv.queue_entered(B_CALLER, "support", now=t)],
        originate: [lambda lv, t: lv.offer(B_CALLER, 1001, B_AGENT, now=t, queue="support")],
    })
    return live, result.events, parked


def test_b_park_originate_agent_bridge_caller_hangs_up() -> None:
    live, events, _ = _scenario_b()

    assert [summary(e) for e in events] == [
        ("call.created", None),
        ("call.queued", None, "support"),
        ("call.offered", 1001, 1001, B_AGENT),
        ("agent.state_changed", 1001, "available", "reserved", ""),
        ("agent.state_changed", 1001, "reserved", "on_call", ""),
        # queued at the CHANNEL_PARK's time 777.898085, bridged at 778.978328
        ("call.answered", 1001, 1001, 1.08),
        ("agent.state_changed", 1001, "on_call", "wrap_up", ""),
        ("call.ended", 1001, "answered", "customer"),
    ]
    on_call = events[4]
    assert on_call.at == at(1795348778918082) and on_call.data["direction"] == "inbound"
    assert events[5].at == at(1795348778978328)  # CHANNEL_BRIDGE on the caller leg
    record = events[-1].data
    assert record["answered_at"] == "2026-11-22T11:59:38.978328+00:00"
    assert record["ended_at"] == "2026-11-22T11:59:47.918082+00:00"
    assert record["talk_seconds"] == 8.94 and record["hold_seconds"] == 0
    assert [(leg["role"], leg["hangup_disposition"]) for leg in record["legs"]] == [
        ("customer", "recv_bye"), ("agent", "send_bye"),
    ]
    assert record["offers"][0]["outcome"] == "answered"
    assert record["offers"][0]["ended_at"] == "2026-11-22T11:59:38.918082+00:00"  # agent CHANNEL_ANSWER
    assert record["queue_visits"][0]["outcome"] == "answered"
    assert [s["kind"] for s in record["segments"]] == ["talk", "wrapup"]

    timers = live.take_timers()
    assert [(t.agent_id, t.interaction_id, t.seconds) for t in timers] == [(1001, B_CALLER, 30.0)]
    assert live.take_timers() == []
    assert live.live_calls() == []  # over, but kept until wrap-up ends
    assert live.interaction_snapshot(B_CALLER)["state"] == "ended"


def test_b_wrapup_done_finishes_the_interaction() -> None:
    live, _, _ = _scenario_b()
    done_at = 1795348800.0
    events = live.wrapup_done(1001, "sale", "wants a callback", now=done_at)

    assert [summary(e) for e in events] == [
        ("agent.state_changed", 1001, "wrap_up", "available", ""),
        ("call.wrapup_ended", 1001),
    ]
    assert events[0].interaction_id == B_CALLER
    ended = events[1].data
    assert ended["final"] is True and ended["disposition"] == "sale"
    assert ended["wrapup_seconds"] == round(done_at - at(1795348787918082), 3)
    assert ended["record"]["state"] == "wrapup_done" and ended["record"]["notes"] == "wants a callback"
    with pytest.raises(KeyError):
        live.interaction_snapshot(B_CALLER)
    # a stale wrap-up timer firing afterwards changes nothing
    assert live.wrapup_timeout(1001, B_CALLER, now=done_at + 30) == []


def test_b_replaying_the_whole_capture_twice_changes_nothing() -> None:
    live, _, _ = _scenario_b()
    before = live.agents()
    events = originated(managed_inbound(capture_events("b_park_moh_originate_bridge"), B_CALLER), B_AGENT,
                        agent_leg(1001, B_CALLER))
    assert replay(live, events).events == []
    assert live.agents() == before


def _scenario_c() -> tuple[LiveState, list[DomainEvent]]:
    """Capture a's caller (parked, managed) wrapped around capture c's agent legs: the
    caller is moved in time to be parked 1 s before c starts and to hang up 1 s after
    c ends (c has no caller of its own)."""
    caller = managed_inbound(capture_events("a_inbound_park"), A_CALLER)
    agents = capture_events("c_agent_no_answer")
    park = next(e for e in caller if e.name == "CHANNEL_PARK")
    start = next(e for e in agents if e.uuid).timestamp
    before = shifted([e for e in caller if e.sequence <= park.sequence], start - 1.0 - park.timestamp)
    hangup = [e for e in caller if e.sequence > park.sequence]
    after = shifted(hangup, agents[-1].timestamp + 1.0 - hangup[0].timestamp)
    live = logged_in(1019, 1018, 1099)
    first = next(e for e in agents if e.uuid).sequence
    first_job = next(e for e in agents if e.name == "BACKGROUND_JOB" and "USER_NOT_REGISTERED" in e.body).sequence
    result = replay(live, before + agents + after, {
        first: [
            lambda lv, t: lv.queue_entered(A_CALLER, "support", now=t - 0.5),
            lambda lv, t: lv.offer(A_CALLER, 1019, C_NO_ANSWER, now=t, queue="support"),
        ],
        first_job: [
            lambda lv, t: lv.offer(A_CALLER, 1018, C_UNREGISTERED, now=t, queue="support"),
            lambda lv, t: lv.offer(A_CALLER, 1099, C_ABSENT, now=t, queue="support"),
        ],
    }, jobs=bgapi_jobs("c_agent_no_answer"))
    return live, result.events


def test_c_no_answer_then_unregistered_agents_then_caller_abandons() -> None:
    live, events = _scenario_c()

    assert [summary(e) for e in events] == [
        ("call.created", None),
        ("call.queued", None, "support"),
        ("call.offered", 1019, 1019, C_NO_ANSWER),
        ("agent.state_changed", 1019, "available", "reserved", ""),
        # CHANNEL_HANGUP NO_ANSWER (the later -ERR NO_ANSWER job changes nothing)
        ("call.offer_failed", 1019, 1019, "no_answer"),
        ("agent.state_changed", 1019, "reserved", "not_ready", "missed"),
        ("call.offered", 1018, 1018, C_UNREGISTERED),
        ("agent.state_changed", 1018, "available", "reserved", ""),
        ("call.offered", 1099, 1099, C_ABSENT),
        ("agent.state_changed", 1099, "available", "reserved", ""),
        # no channel at all: only BACKGROUND_JOB -ERR USER_NOT_REGISTERED / SUBSCRIBER_ABSENT
        ("call.offer_failed", 1018, 1018, "unregistered"),
        ("agent.state_changed", 1018, "reserved", "not_ready", "unreachable"),
        ("call.offer_failed", 1099, 1099, "unregistered"),
        ("agent.state_changed", 1099, "reserved", "not_ready", "unreachable"),
        ("call.abandoned", None, 7.4),
        ("call.ended", None, "abandoned", "customer"),
    ]
    record = events[-1].data
    assert [(o["agent_id"], o["outcome"]) for o in record["offers"]] == [
        (1019, "no_answer"), (1018, "unregistered"), (1099, "unregistered"),
    ]
    legs = {leg["uuid"]: leg for leg in record["legs"]}
    assert legs[C_NO_ANSWER]["hangup_cause"] == "NO_ANSWER"
    assert legs[C_NO_ANSWER]["hangup_disposition"] == "send_cancel"
    assert legs[C_NO_ANSWER]["channel_name"] == "sofia/internal/1019@127.0.0.1:5091"
    assert legs[C_UNREGISTERED]["hangup_cause"] == "USER_NOT_REGISTERED"
    assert legs[C_UNREGISTERED]["channel_name"] == ""  # the switch never created it
    assert legs[C_ABSENT]["hangup_cause"] == "SUBSCRIBER_ABSENT"
    # 2d1bee32 rang from CHANNEL_CREATE to CHANNEL_HANGUP: 791.558 -> 796.018
    assert record["offers"][0]["offered_at"] == "2026-11-22T11:59:51.558091+00:00"
    assert record["offers"][0]["ended_at"] == "2026-11-22T11:59:56.018127+00:00"
    assert {(a["id"], a["state"], a["reason"]) for a in live.agents()} == {
        (1019, "not_ready", "missed"), (1018, "not_ready", "unreachable"), (1099, "not_ready", "unreachable"),
    }


def test_c_raw_originate_failures_for_unknown_legs_are_counted_not_applied() -> None:
    live = logged_in(1019)
    result = replay(live, capture_events("c_agent_no_answer"), jobs=bgapi_jobs("c_agent_no_answer"))
    assert result.events == []
    # -ERR NO_ANSWER, -ERR USER_NOT_REGISTERED, -ERR SUBSCRIBER_ABSENT
    assert live.stats.unknown_originate_failures == 3


def test_d_dtmf_digits_are_on_the_timeline() -> None:
    live = LiveState()
    result = replay(live, managed_inbound(capture_events("d_dtmf_rfc2833"), D_CALLER))
    record = result.of("call.ended")[0].data

    assert record["digits"] == "123#"
    assert [(e["type"], e["digit"], e["role"], e["at"]) for e in record["timeline"]] == [
        ("dtmf", "1", "customer", "2026-11-22T12:00:02.578079+00:00"),
        ("dtmf", "2", "customer", "2026-11-22T12:00:04.078112+00:00"),
        ("dtmf", "3", "customer", "2026-11-22T12:00:05.578081+00:00"),
        ("dtmf", "#", "customer", "2026-11-22T12:00:07.078083+00:00"),
    ]
    # uuid_send_dtmf towards the phone produced no event, so nothing else is recorded
    assert result.types() == ["call.created", "call.ended"]


def test_e_recording_file_is_on_the_interaction() -> None:
    live = LiveState()
    result = replay(live, managed_inbound(capture_events("e_record"), E_CALLER))

    assert result.types() == ["call.created", "call.recording_started", "call.recording_stopped", "call.ended"]
    started, stopped = result.events[1], result.events[2]
    assert started.data["path"] == stopped.data["path"] == "/tmp/rec.wav"
    assert started.data["recording_id"] == stopped.data["recording_id"]
    # RECORD_STOP's variable_record_ms / _file_size, as the switch reports them
    assert (stopped.data["duration_ms"], stopped.data["size_bytes"]) == (2500, 40044)
    recordings = result.of("call.ended")[0].data["recordings"]
    assert recordings == [{
        "id": started.data["recording_id"], "leg_uuid": E_CALLER, "agent_id": None, "path": "/tmp/rec.wav",
        "started_at": "2026-11-22T12:00:13.398100+00:00", "ended_at": "2026-11-22T12:00:16.398083+00:00",
        "duration_ms": 2500, "size_bytes": 40044,
    }]


def _scenario_f(tag_supervisors: bool) -> tuple[LiveState, list[DomainEvent]]:
    events = managed_inbound(capture_events("f_supervisor_eavesdrop_whisper_barge"), F_CALLER)
    events = originated(events, F_AGENT, agent_leg(1001, F_CALLER))
    if tag_supervisors:
        for supervisor_id, (leg, mode) in enumerate(zip(F_SUPERVISORS, ("listen", "whisper", "barge", "barge"), strict=True), 2002):
            events = originated(events, leg, {
                "cti_interaction_id": F_CALLER, "cti_role": "supervisor", "cti_agent_id": str(supervisor_id),
                "cti_supervisor_mode": mode, "cti_target_uuid": F_CALLER,
            })
    live = logged_in(1001, 1002, 1003, 1004, 1005)
    originate = first_seq(events, F_AGENT, "CHANNEL_OUTGOING")
    result = replay(live, events, {originate: [
        lambda lv, t: lv.queue_entered(F_CALLER, "support", now=t),
        lambda lv, t: lv.offer(F_CALLER, 1001, F_AGENT, now=t, queue="support"),
    ]})
    return live, result.events


def test_f_supervisors_recognised_from_eavesdrop_and_three_way_without_bridge() -> None:
    """The supervisor legs carry none of our variables here: they are recognised from
    CHANNEL_EXECUTE eavesdrop/three_way whose Application-Data is our caller, and the
    mode from mod_dptools' variables. Their phones belong to logged-in agents, whose
    state a supervision must not touch."""
    live, events = _scenario_f(tag_supervisors=False)

    supervision = [summary(e) for e in events if e.type.startswith("call.supervisor")]
    assert supervision == [
        ("call.supervisor_joined", 1001, "listen"), ("call.supervisor_left", 1001, "listen"),
        ("call.supervisor_joined", 1001, "whisper"), ("call.supervisor_left", 1001, "whisper"),
        ("call.supervisor_joined", 1001, "barge"), ("call.supervisor_left", 1001, "barge"),
        ("call.supervisor_joined", 1001, "full_barge"), ("call.supervisor_left", 1001, "full_barge"),
    ]
    joined = [e for e in events if e.type == "call.supervisor_joined"]
    assert [e.data["supervisor_agent_id"] for e in joined] == [1002, 1003, 1004, 1005]
    assert {e.data["target_uuid"] for e in joined} == {F_CALLER}
    assert [e.at for e in joined] == [at(1795348828758078), at(1795348832818106), at(1795348836878138), at(1795348840958072)]
    record = events[-1].data
    assert [leg["role"] for leg in record["legs"]] == ["customer", "agent"] + ["supervisor"] * 4
    assert [s["left_at"] for s in record["supervisors"]] == [
        "2026-11-22T12:00:31.778072+00:00", "2026-11-22T12:00:35.838095+00:00",
        "2026-11-22T12:00:39.898081+00:00", "2026-11-22T12:00:43.958072+00:00",
    ]
    # one talk period from the bridge (827.718) to the caller's hangup (856.638)
    assert record["talk_seconds"] == 28.92 and record["hold_seconds"] == 0
    assert record["transfers"] == 0 and record["agent_id"] == 1001
    assert live.stats.adopted_legs == 4
    assert {(a["id"], a["state"]) for a in live.agents()} == {
        (1001, "wrap_up"), (1002, "available"), (1003, "available"), (1004, "available"), (1005, "available"),
    }


def test_f_supervisor_mode_from_our_variable_wins() -> None:
    _, events = _scenario_f(tag_supervisors=True)
    joined = [e for e in events if e.type == "call.supervisor_joined"]
    assert [(e.data["mode"], e.data["supervisor_agent_id"]) for e in joined] == [
        ("listen", 2002), ("whisper", 2003), ("barge", 2004), ("barge", 2005),
    ]


def _dial(live: LiveState, now: float) -> list[DomainEvent]:
    return live.dial(OUTBOUND_ID, I_CUSTOMER, "9196", now=now, campaign_id=7, contact_id=42, caller_number="5550100")


def test_i_outbound_loopback_known_by_its_origination_uuid() -> None:
    """The dialer chose origination_uuid, so the raw capture's a-leg is ours from its
    first event after the CHANNEL_UUID rename; the loopback b-leg is FreeSWITCH's."""
    live = LiveState()
    events = capture_events("i_outbound_loopback_transfer_park")
    result = replay(live, events, {events[0].sequence: [_dial]})

    assert [summary(e) for e in result.events] == [("call.created", None), ("call.ended", None, "self_service", "")]
    record = result.events[-1].data
    assert (record["direction"], record["callee_number"], record["campaign_id"], record["contact_id"]) == (
        "outbound", "9196", 7, 42)
    assert [(leg["uuid"], leg["channel_name"]) for leg in record["legs"]] == [(I_CUSTOMER, "loopback/9196-a")]
    assert record["legs"][0]["answered_at"] == "2026-11-22T12:03:21.058089+00:00"
    # uuid_transfer <cust> park inline: variable_transfer_source ...:bl_xfer:park/default/inline
    assert [(e["type"], e["destination"]) for e in record["timeline"]] == [("parked", "park")]
    assert record["transfers"] == 0
    # uuid_kill on a loopback leg: no SIP disposition, so who hung up is not known
    assert (record["hangup_cause"], record["hangup_by"]) == ("NORMAL_CLEARING", "")
    assert record["ended_at"] == "2026-11-22T12:03:25.098073+00:00"


def test_i_loopback_b_leg_inherits_our_variables_but_is_ignored() -> None:
    """FreeSWITCH copies the originate's {} variables to the b-leg too (the capture shows
    variable_origination_uuid on it), so ours would be there as well."""
    tags = {"cti_interaction_id": OUTBOUND_ID, "cti_role": "customer", "cti_campaign_id": "7", "cti_contact_id": "42"}
    events = capture_events("i_outbound_loopback_transfer_park")
    events = originated(originated(events, I_CUSTOMER, tags), I_LOOPBACK_B, tags)
    assert any(e.uuid == I_LOOPBACK_B and e.var("cti_role") == "customer" for e in events)
    live = LiveState()
    result = replay(live, events, {events[0].sequence: [_dial]})
    record = result.of("call.ended")[0].data
    assert [leg["uuid"] for leg in record["legs"]] == [I_CUSTOMER]
    assert record["outcome"] == "self_service"


def test_i_tagged_without_a_dial_command_rebuilds_the_outbound_call() -> None:
    """After a restart the dialer's command is lost; the a-leg's variables are enough."""
    tags = {"cti_interaction_id": OUTBOUND_ID, "cti_role": "customer", "cti_campaign_id": "7"}
    live = LiveState()
    result = replay(live, originated(capture_events("i_outbound_loopback_transfer_park"), I_CUSTOMER, tags))
    created = result.of("call.created")[0]
    assert created.data["direction"] == "outbound" and created.data["callee_number"] == "9196"
    assert created.data["state"] == "dialing"
    assert result.of("call.ended")[0].data["outcome"] == "self_service"


def test_i_channel_uuid_rename_of_a_leg_we_already_knew() -> None:
    """Move our variables onto the events sent under the loopback leg's first, random
    uuid (as if FreeSWITCH had sent a tagged event before the rename): after
    CHANNEL_UUID the same leg continues under the origination uuid."""
    tags = {"cti_interaction_id": OUTBOUND_ID, "cti_role": "customer"}
    events = capture_events("i_outbound_loopback_transfer_park")
    early = next(e for e in events if e.uuid == I_CUSTOMER and e.name == "CHANNEL_OUTGOING")
    from esl.events import Event

    renamed_first = Event(
        headers={**early.headers, "Unique-ID": I_RANDOM_UUID, "Event-Sequence": "17019",
                 "Event-Name": "CHANNEL_CREATE", **{f"variable_{k}": v for k, v in tags.items()}},
        node=early.node,
    )
    rename = next(e for e in events if e.name == "CHANNEL_UUID")
    rest = originated([e for e in events if e.sequence > rename.sequence], I_CUSTOMER, tags)
    live = LiveState()
    result = replay(live, [renamed_first, rename, *rest])
    record = result.of("call.ended")[0].data
    assert [leg["uuid"] for leg in record["legs"]] == [I_CUSTOMER]
    assert [e["type"] for e in record["timeline"]] == ["renamed", "parked"]
    assert live.interaction_of_leg(I_RANDOM_UUID) is None
