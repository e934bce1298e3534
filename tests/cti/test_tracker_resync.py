"""reconcile(): rebuilding and correcting the live picture from a switch's channel list.

The adoption test uses capture g's real replies (``show channels as json`` rows of a
bridged caller <-> agent 1001 call and the caller's ``uuid_dump``), with our variables
added to the rows as ``uuid_dump`` would show them had the middleware set them.
"""

from __future__ import annotations

import json

from cti.tracker import LiveState, TrackerSettings
from tests.captures import load_capture
from tests.cti.test_tracker_support import Channel, Clock, summary

G_CALLER = "e065745f-ffa3-438b-948a-b9ce6a0afff8"
G_AGENT = "2f313ba6-ec5b-4684-907e-954535510695"


def g_replies() -> list[tuple[str, str]]:
    replies, command = [], ""
    for record in load_capture("g_state_snapshot_commands"):
        if record["direction"] == "out":
            command = record["command"]
        elif record["direction"] == "in" and record["headers"].get("Content-Type") == "api/response":
            replies.append((command, record["body"]))
    return replies


def g_rows() -> tuple[list[dict[str, str]], float]:
    replies = g_replies()
    channels = [json.loads(body)["rows"] for command, body in replies if command == "api show channels as json"][1]
    dump = next(json.loads(body) for command, body in replies if command.startswith("api uuid_dump"))
    by_uuid = {row["uuid"]: dict(row) for row in channels}
    caller = {**by_uuid[G_CALLER], **dump, "variable_cti_interaction_id": G_CALLER, "variable_cti_role": "customer",
              "variable_cti_did": "5900", "variable_cti_queue": "support"}
    agent = {**by_uuid[G_AGENT], "variable_cti_interaction_id": G_CALLER, "variable_cti_role": "agent",
             "variable_cti_agent_id": "1001", "variable_cti_queue": "support", "variable_bridge_to": G_CALLER}
    return [agent, caller], int(dump["Event-Date-Timestamp"]) / 1_000_000


def test_adopts_a_bridged_call_after_a_restart() -> None:
    rows, now = g_rows()
    live = LiveState()
    live.agent_login(1001, "1001", now=now - 600, ready=True)
    events = live.reconcile("fs1", rows, now)

    assert [summary(e) for e in events] == [
        ("call.created", None),
        ("call.offered", 1001, 1001, G_AGENT),
        ("agent.state_changed", 1001, "available", "on_call", ""),
        ("call.answered", 1001, 1001, None),
        ("system.resynced", None),
    ]
    assert events[-1].data == {"node": "fs1", "channels": 2, "closed_legs": 0, "adopted_legs": 2}
    record = live.interaction_snapshot(G_CALLER)
    assert (record["state"], record["direction"], record["did"], record["caller_number"]) == (
        "connected", "inbound", "5900", "+15550001")
    # times from the dump: the caller's Caller-Channel-Bridged-Time, and the agent's
    # answer from the caller's Other-Leg-Channel-Answered-Time
    assert record["answered_at"] == "2026-11-22T12:07:48.458078+00:00"
    assert record["legs"][1]["answered_at"] == "2026-11-22T12:07:48.398105+00:00"
    assert live.agent_snapshot(1001)["leg_uuid"] == G_AGENT

    again = live.reconcile("fs1", rows, now + 5)
    assert [e.type for e in again] == ["system.resynced"]


def test_closes_what_the_switch_no_longer_has_and_releases_agents() -> None:
    clock = Clock()
    live = LiveState(TrackerSettings(default_wrapup_seconds=15))
    for agent in (7, 8):
        live.agent_login(agent, str(agent), now=clock.now, ready=True)
    cust = Channel(clock, "cust-1", name="sofia/external/+1555", direction="inbound", caller="+1555",
                   variables={"cti_managed": "true", "cti_did": "8000"})
    leg = Channel(clock, "agent-7", variables={"cti_interaction_id": "cust-1", "cti_role": "agent", "cti_agent_id": "7"})
    live.apply_event(cust.create())
    live.apply_event(cust.answer())
    live.queue_entered("cust-1", "support", now=clock.tick())
    live.offer("cust-1", 7, "agent-7", now=clock.tick())
    live.apply_event(leg.create())
    clock.tick(1)
    live.apply_event(leg.answer())
    live.apply_event(cust.bridge(leg))
    clock.tick(10)
    live.queue_entered("cust-1", "support", now=clock.now)  # transferred to the queue
    live.offer("cust-1", 8, "agent-8", now=clock.now)      # ... and offered: no channel yet
    now = clock.tick(30)

    events = live.reconcile("fs1", [], now)

    # the caller waited 30 s in the queue again; nobody is blamed for vanished legs
    assert [summary(e) for e in events] == [
        ("call.abandoned", None, 30.0),
        ("agent.state_changed", 7, "on_call", "wrap_up", ""),
        ("call.offer_failed", 8, 8, "caller_gone"),
        ("call.ended", 7, "answered", ""),
        ("agent.state_changed", 8, "reserved", "available", ""),
        ("system.resynced", None),
    ]
    record = events[3].data
    assert {leg["uuid"]: leg["hangup_cause"] for leg in record["legs"]} == {
        "cust-1": "CTI_RESYNC_GONE", "agent-7": "CTI_RESYNC_GONE", "agent-8": "CTI_RESYNC_GONE",
    }
    assert events[-1].data["closed_legs"] == 3
    assert [(t.agent_id, t.seconds) for t in live.take_timers()] == [(7, 15.0)]


def test_leaves_young_legs_and_other_switches_alone() -> None:
    clock = Clock()
    live = LiveState(TrackerSettings(resync_grace=3.0))
    cust = Channel(clock, "cust-1", direction="inbound", variables={"cti_managed": "true"})
    live.apply_event(cust.create())
    assert [e.type for e in live.reconcile("fs1", [], clock.now + 1.0)] == ["system.resynced"]
    assert [e.type for e in live.reconcile("fs2", [], clock.now + 60)] == ["system.resynced"]
    assert live.interaction("cust-1").state.value == "ivr"
    assert [e.type for e in live.reconcile("fs1", [], clock.now + 60)] == ["call.ended", "system.resynced"]


def test_rebuilds_a_queued_caller_and_a_ringing_agent() -> None:
    clock = Clock()
    live = LiveState()
    live.agent_login(7, "7", now=clock.now, ready=True)
    created = int(clock.now * 1_000_000)
    caller = {"uuid": "cust-9", "direction": "inbound", "name": "sofia/external/+1555", "cid_num": "+1555",
              "callstate": "ACTIVE", "Caller-Channel-Created-Time": str(created),
              "Caller-Channel-Answered-Time": str(created), "variable_cti_interaction_id": "cust-9",
              "variable_cti_role": "customer", "variable_cti_queue": "sales", "Call-Direction": "inbound"}
    ringing = {"uuid": "agent-7", "direction": "outbound", "name": "sofia/internal/7@10.0.0.2", "callstate": "RINGING",
               "variable_cti_interaction_id": "cust-9", "variable_cti_role": "agent", "variable_cti_agent_id": "7",
               "Caller-Channel-Created-Time": str(created + 2_000_000)}
    events = live.reconcile("fs1", [ringing, caller], clock.now + 5)
    assert [summary(e) for e in events] == [
        ("call.created", None),
        ("call.queued", None, "sales"),
        ("call.offered", 7, 7, "agent-7"),
        ("agent.state_changed", 7, "available", "reserved", ""),
        ("system.resynced", None),
    ]
    assert live.interaction("cust-9").state.value == "offering"
