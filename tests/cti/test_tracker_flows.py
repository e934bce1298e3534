"""Call flows the captures do not cover, with synthetic legs shaped like the real ones:
hold, consultation, transfers, ring-all, abandonment while ringing, outbound outcomes,
legs known only by linkage, supervisor force, commands and their errors."""

from __future__ import annotations

from typing import Any

import pytest

from cti.agent_states import IllegalAgentTransition
from cti.agents import AgentRequestError, ExtensionInUse
from cti.bus import DomainEvent
from cti.call_states import IllegalTransition
from cti.tracker import LiveState, TrackerSettings, UnknownAgent, UnknownInteraction
from esl.events import Event
from tests.cti.test_tracker_support import Channel, Clock, summary

CUSTOMER_VARS = {"cti_managed": "true", "cti_did": "8000"}


class World:
    """A live state plus a clock and helpers to build the usual legs."""

    def __init__(self, *agents: int, settings: TrackerSettings | None = None) -> None:
        self.clock = Clock()
        self.live = LiveState(settings or TrackerSettings(default_wrapup_seconds=20.0))
        self.out: list[DomainEvent] = []
        for agent in agents:
            self.live.agent_login(agent, str(agent), now=self.clock.now, ready=True)

    def feed(self, *events: Event) -> list[DomainEvent]:
        produced: list[DomainEvent] = []
        for event in events:
            produced += self.live.apply_event(event)
        self.out += produced
        return produced

    def do(self, produced: list[DomainEvent]) -> list[DomainEvent]:
        self.out += produced
        return produced

    def tick(self, seconds: float = 1.0) -> float:
        return self.clock.tick(seconds)

    def customer(self, uuid: str = "cust-1") -> Channel:
        chan = Channel(self.clock, uuid, name="sofia/external/+15550100@10.0.0.1", direction="inbound",
                       caller="+15550100", destination="8000", variables=CUSTOMER_VARS)
        self.feed(chan.create(), chan.answer())
        return chan

    def agent_leg(self, iid: str, agent: int, uuid: str, role: str = "agent", offer: bool = True) -> Channel:
        if offer:
            self.do(self.live.offer(iid, agent, uuid, now=self.clock.now, queue="support"))
        chan = Channel(self.clock, uuid, name=f"sofia/internal/{agent}@10.0.0.2", destination=str(agent),
                       variables={"cti_interaction_id": iid, "cti_role": role, "cti_agent_id": str(agent)})
        self.feed(chan.create())
        return chan

    def connected(self, agent: int = 7) -> tuple[Channel, Channel]:
        cust = self.customer()
        self.do(self.live.queue_entered(cust.uuid, "support", now=self.tick()))
        leg = self.agent_leg(cust.uuid, agent, f"agent-{agent}")
        self.tick()
        self.feed(leg.answer(), cust.bridge(leg))
        return cust, leg

    def state(self, agent: int) -> str:
        return self.live.agent(agent).state.value

    def call(self, iid: str = "cust-1") -> str:
        return self.live.interaction(iid).state.value

    def ended(self) -> dict[str, Any]:
        return next(e.data for e in self.out if e.type == "call.ended")


def test_hold_from_the_middleware_and_from_the_agent_phone() -> None:
    w = World(7)
    cust, leg = w.connected()
    w.tick(10)
    held = w.feed(cust.event("CHANNEL_HOLD"))
    assert [summary(e) for e in held] == [
        ("call.held", 7), ("agent.state_changed", 7, "on_call", "on_hold", ""),
    ]
    assert w.call() == "on_hold"
    assert w.feed(leg.event("CHANNEL_HOLD")) == []  # the phone's own re-INVITE: already held
    w.tick(5)
    assert [e.type for e in w.feed(leg.event("CHANNEL_UNHOLD"))] == ["call.resumed", "agent.state_changed"]
    w.tick(5)
    w.feed(*cust.end(disposition="recv_bye"), *leg.end(disposition="send_bye"))
    record = w.ended()
    assert (record["talk_seconds"], record["hold_seconds"]) == (15.0, 5.0)
    assert record["hangup_by"] == "customer"


def test_consultation_cancelled_then_resumed() -> None:
    w = World(7, 8)
    cust, a_leg = w.connected(7)
    w.tick(10)
    consult = w.agent_leg("cust-1", 8, "consult-8", role="consult", offer=False)
    assert [summary(e) for e in w.out[-3:]] == [
        ("call.consult_started", 7),
        ("agent.state_changed", 7, "on_call", "in_consult", ""),
        ("agent.state_changed", 8, "available", "reserved", ""),
    ]
    assert (w.state(7), w.call()) == ("in_consult", "consulting")
    w.tick(2)
    w.feed(consult.answer(), cust.unbridge(a_leg), a_leg.bridge(consult))
    assert (w.state(8), w.live.agent(8).direction) == ("on_call", "internal")
    w.tick(20)
    ended = w.feed(*consult.end())
    assert [summary(e) for e in ended] == [
        ("call.consult_ended", 7, "cancelled"),
        ("agent.state_changed", 7, "in_consult", "on_hold", ""),
        ("agent.state_changed", 8, "on_call", "wrap_up", ""),
    ]
    assert w.call() == "on_hold"
    w.tick(1)
    w.feed(cust.bridge(a_leg))
    assert (w.call(), w.state(7)) == ("connected", "on_call")
    w.tick(9)
    w.feed(*cust.end(disposition="recv_bye"), *a_leg.end())
    record = w.ended()
    # talk 0-12 and 33-42, customer waiting 12-33 (unbridged, then held), consult 10-32
    kinds = [(s["agent_id"], s["kind"], s["seconds"]) for s in record["segments"] if s["kind"] != "wrapup"]
    assert kinds == [(7, "talk", 12.0), (7, "consult", 22.0), (7, "hold", 21.0), (7, "talk", 9.0)]
    assert record["talk_seconds"] == 21.0 and record["hold_seconds"] == 21.0
    assert record["transfers"] == 0


def test_consultation_that_rings_out_does_not_make_the_colleague_missed() -> None:
    w = World(7, 8)
    cust, a_leg = w.connected(7)
    w.tick(10)
    consult = w.agent_leg("cust-1", 8, "consult-8", role="consult", offer=False)
    w.tick(15)
    ended = w.feed(*consult.end("NO_ANSWER", "send_cancel"))
    assert [summary(e) for e in ended] == [
        ("call.consult_ended", 7, "cancelled"),
        ("agent.state_changed", 7, "in_consult", "on_call", ""),
        ("agent.state_changed", 8, "reserved", "available", ""),
    ]


def test_attended_transfer_completes_the_consultation() -> None:
    w = World(7, 8)
    cust, a_leg = w.connected(7)
    w.tick(10)
    consult = w.agent_leg("cust-1", 8, "consult-8", role="consult", offer=False)
    w.tick(2)
    w.feed(consult.answer(), cust.unbridge(a_leg), a_leg.bridge(consult))
    w.tick(5)
    moved = w.feed(cust.bridge(consult))
    assert [summary(e) for e in moved] == [
        ("call.transferred", 8, "attended", "agent:8"),
        ("call.consult_ended", 7, "completed"),
        ("agent.state_changed", 7, "in_consult", "on_call", ""),
    ]
    w.feed(*a_leg.end())
    assert (w.state(7), w.state(8)) == ("wrap_up", "on_call")
    w.tick(30)
    w.feed(*cust.end(disposition="recv_bye"), *consult.end())
    record = w.ended()
    assert record["agent_id"] == 8 and record["transfers"] == 1
    assert record["transfer_history"][0]["from_agent_id"] == 7
    talk = {(s["agent_id"], s["kind"]): s["seconds"] for s in record["segments"] if s["kind"] != "wrapup"}
    # A talks 0-12, consults from 10, the customer waits 12-17, then B talks 17-47
    assert talk == {(7, "talk"): 12.0, (7, "hold"): 5.0, (7, "consult"): 7.0, (8, "talk"): 30.0}
    assert w.state(8) == "wrap_up"


def test_blind_transfer_to_another_agent() -> None:
    w = World(7, 8)
    cust, a_leg = w.connected(7)
    w.tick(10)
    b_leg = w.agent_leg("cust-1", 8, "agent-8", offer=False)
    w.tick(3)
    moved = w.feed(b_leg.answer(), cust.bridge(b_leg))
    assert summary(moved[-1]) == ("call.transferred", 8, "blind", "agent:8")
    w.feed(*a_leg.end())
    w.tick(5)
    w.feed(*cust.end(disposition="recv_bye"), *b_leg.end())
    record = w.ended()
    assert (record["transfers"], record["agent_id"]) == (1, 8)
    assert [o["outcome"] for o in record["offers"]] == ["answered", "answered"]


def test_ring_all_other_rings_are_withdrawn_not_missed() -> None:
    w = World(7, 8)
    cust = w.customer()
    w.do(w.live.queue_entered(cust.uuid, "support", now=w.tick()))
    a = w.agent_leg(cust.uuid, 7, "agent-7")
    b = w.agent_leg(cust.uuid, 8, "agent-8")
    w.tick(2)
    w.feed(a.answer(), cust.bridge(a))
    failed = w.feed(*b.end("ORIGINATOR_CANCEL", "send_cancel"))
    assert [summary(e) for e in failed] == [
        ("call.offer_failed", 8, 8, "withdrawn"), ("agent.state_changed", 8, "reserved", "available", ""),
    ]
    assert w.call() == "connected"


def test_caller_hangs_up_while_the_agent_phone_rings() -> None:
    w = World(7)
    cust = w.customer()
    w.do(w.live.queue_entered(cust.uuid, "support", now=w.tick()))
    ring = w.agent_leg(cust.uuid, 7, "agent-7")
    w.tick(6)
    gone = w.feed(*cust.end(disposition="recv_cancel"))
    assert [summary(e) for e in gone] == [("call.abandoned", None, 6.0)]
    assert w.call() == "clearing" and w.state(7) == "reserved"
    end = w.feed(*ring.end("ORIGINATOR_CANCEL", "send_cancel"))
    assert [summary(e) for e in end] == [
        ("call.offer_failed", 7, 7, "caller_gone"),
        ("agent.state_changed", 7, "reserved", "available", ""),
        ("call.ended", None, "abandoned", "customer"),
    ]


def test_agent_hangs_up_first_and_the_customer_is_queued_again() -> None:
    w = World(7, 8)
    cust, a_leg = w.connected(7)
    w.tick(10)
    w.feed(*a_leg.end(disposition="recv_bye"))
    assert (w.call(), w.state(7)) == ("ivr", "wrap_up")
    requeued = w.do(w.live.queue_entered(cust.uuid, "billing", now=w.tick()))
    assert [e.type for e in requeued] == ["call.queued"] and w.call() == "queued"
    b = w.agent_leg(cust.uuid, 8, "agent-8")
    w.tick(4)
    answered = w.feed(b.answer(), cust.bridge(b))
    assert summary(answered[-1]) == ("call.answered", 8, 8, 4.0)
    w.tick(5)
    w.feed(*b.end(disposition="recv_bye"), *cust.end(disposition="send_bye"))
    record = w.ended()
    assert [(v["queue"], v["outcome"]) for v in record["queue_visits"]] == [("support", "answered"), ("billing", "answered")]
    assert record["hangup_by"] == "agent" and record["transfers"] == 0


def test_outbound_outcomes() -> None:
    w = World(7)
    now = w.clock.now
    w.do(w.live.dial("out-1", "leg-1", "+15550199", now=now, campaign_id=3))
    busy = w.live.originate_failed("leg-1", "-ERR USER_BUSY\n", now=now + 2)
    assert summary(busy[-1]) == ("call.ended", None, "busy", "")

    w.live.dial("out-2", "leg-2", "+15550198", now=now)
    leg = Channel(w.clock, "leg-2", name="sofia/gateway/carrier/+15550198", destination="+15550198")
    w.tick(30)
    ended = w.feed(leg.create(), *leg.end("NO_ANSWER", "send_cancel"))
    assert summary(ended[-1]) == ("call.ended", None, "no_answer", "system")

    w.live.dial("out-3", "leg-3", "+15550197", now=w.clock.now)
    cust = Channel(w.clock, "leg-3", name="sofia/gateway/carrier/+15550197", destination="+15550197")
    w.feed(cust.create())
    w.do(w.live.offer("out-3", 7, "agent-out", now=w.tick()))  # progressive: agent reserved while dialling
    assert w.call("out-3") == "dialing"
    agent = Channel(w.clock, "agent-out", destination="7",
                    variables={"cti_interaction_id": "out-3", "cti_role": "agent", "cti_agent_id": "7"})
    w.feed(agent.create(), agent.answer())
    assert (w.state(7), w.live.agent(7).direction) == ("on_call", "outbound")
    w.tick(8)
    w.feed(cust.answer(), cust.bridge(agent))
    w.tick(60)
    w.feed(*cust.end(disposition="recv_bye"), *agent.end())
    record = next(e for e in w.out if e.type == "call.ended" and e.interaction_id == "out-3").data
    assert (record["outcome"], record["talk_seconds"], record["direction"]) == ("answered", 60.0, "outbound")


def test_untagged_agent_phone_bridged_to_our_customer_is_adopted_by_linkage() -> None:
    """A leg our variables do not mark (e.g. created by a dialplan bridge) joins through
    Other-Leg-Unique-ID; the phone's extension names the logged-in agent."""
    w = World(7)
    cust = w.customer()
    phone = Channel(w.clock, "phone-7", name="sofia/internal/7@10.0.0.2", destination="7")
    assert w.feed(phone.create()) == []  # not linked to anything we know yet
    w.tick()
    events = w.feed(phone.answer(), cust.bridge(phone))
    assert [summary(e) for e in events] == [
        ("call.offered", 7, 7, "phone-7"),
        ("agent.state_changed", 7, "available", "on_call", ""),
        ("call.answered", 7, 7, None),
    ]
    assert w.live.stats.adopted_legs == 1


def test_untagged_external_party_bridged_is_a_transfer_leg() -> None:
    w = World()
    cust = w.customer()
    ext = Channel(w.clock, "ext-1", name="sofia/gateway/carrier/+15550111", destination="+15550111")
    w.tick()
    ext.answered = w.clock.now
    moved = w.feed(cust.bridge(ext))
    assert summary(moved[-1]) == ("call.transferred", None, "blind", "+15550111")
    assert [leg["role"] for leg in w.live.interaction_snapshot("cust-1")["legs"]] == ["customer", "transfer"]


def test_answer_recovered_from_a_later_event_header() -> None:
    """CHANNEL_ANSWER lost: the next event's Caller-Channel-Answered-Time still tells."""
    w = World(7)
    cust = w.customer()
    w.do(w.live.queue_entered(cust.uuid, "support", now=w.tick()))
    leg = w.agent_leg(cust.uuid, 7, "agent-7")
    w.tick(2)
    leg.answered = w.clock.now
    w.tick(0.04)
    w.feed(cust.bridge(leg))
    assert w.state(7) == "on_call"
    offer = w.live.interaction_snapshot("cust-1")["offers"][0]
    assert offer["outcome"] == "answered"


def test_supervisor_force_during_a_call() -> None:
    w = World(7)
    cust, leg = w.connected(7)
    forced = w.do(w.live.force_logout(7, by="supervisor:3", now=w.tick()))
    assert forced[0].data["forced_by"] == "supervisor:3" and w.state(7) == "logged_out"
    w.tick(5)
    later = w.feed(*leg.end(), *cust.end(disposition="recv_bye"))
    assert [e.type for e in later] == ["call.ended"]  # no wrap-up for a logged-out agent
    with pytest.raises(UnknownInteraction):
        w.live.interaction_snapshot("cust-1")


def test_duplicate_and_stale_events_change_nothing() -> None:
    w = World(7)
    cust, leg = w.connected(7)
    snapshot = w.live.interaction_snapshot("cust-1")
    answer = leg.event("CHANNEL_ANSWER")
    w.feed(answer)
    assert w.feed(answer) == []
    assert w.live.interaction_snapshot("cust-1") == snapshot
    assert w.live.stats.duplicates == 1


def test_offer_errors_leave_everything_as_it_was() -> None:
    w = World(7, 8)
    cust, leg = w.connected(7)
    with pytest.raises(IllegalAgentTransition, match="agent 7 cannot be offered a call while on_call"):
        w.live.offer("cust-1", 7, "x", now=w.tick())
    with pytest.raises(IllegalTransition, match="offer is not allowed in state connected"):
        w.live.offer("cust-1", 8, "agent-8", now=w.tick())
    assert w.state(8) == "available" and w.live.interaction_of_leg("agent-8") is None
    with pytest.raises(UnknownInteraction, match="no live interaction nope"):
        w.live.queue_entered("nope", "support", now=w.tick())
    with pytest.raises(UnknownAgent):
        w.live.offer("cust-1", 99, "x", now=w.tick())


def test_offer_command_is_idempotent() -> None:
    w = World(7)
    cust = w.customer()
    w.live.queue_entered(cust.uuid, "support", now=w.tick())
    first = w.live.offer(cust.uuid, 7, "agent-7", now=w.tick())
    assert [e.type for e in first] == ["call.offered", "agent.state_changed"]
    assert w.live.offer(cust.uuid, 7, "agent-7", now=w.tick()) == []


def test_agent_commands() -> None:
    w = World(7)
    with pytest.raises(ExtensionInUse, match="extension 7 is in use by another agent") as clash:
        w.live.agent_login(8, "7", now=w.tick())
    # A stable code for the web and the API; the colleague is never named by internal id.
    assert (clash.value.error_id, clash.value.status, clash.value.field) == ("extension-in-use", 409, "extension")
    assert clash.value.holder == 7 and "agent 7" not in str(clash.value)
    with pytest.raises(AgentRequestError, match="use available, not_ready or logged_out"):
        w.live.agent_set_state(7, "on_call", now=w.tick())
    changed = w.live.agent_set_state(7, "not_ready", "lunch", now=w.tick())
    assert changed[0].data["reason"] == "lunch"
    w.live.agent_set_state(7, "logged_out", now=w.tick())
    w.live.agent_login(8, "7", now=w.tick())  # the phone is free again (hot-desking)
    assert w.live.agent_snapshot(8)["extension"] == "7"
    forced = w.live.force_not_ready(8, by="supervisor:1", now=w.tick())
    assert forced[0].data["reason"] == "forced"
    with pytest.raises(IllegalAgentTransition, match="agent 7 cannot finish wrap-up while logged_out"):
        w.live.wrapup_done(7, "x", now=w.tick())


def test_disposition_given_after_wrapup_still_reaches_the_live_call() -> None:
    """The agent left (the customer stays on the line), ended wrap-up, then added a
    disposition: it lands on the interaction as long as the live state has it."""
    w = World(7, settings=TrackerSettings(default_wrapup_seconds=None))
    cust, leg = w.connected(7)
    w.feed(*leg.end(disposition="recv_bye"))
    assert w.live.take_timers() == []  # no limit: the agent ends wrap-up
    done = w.live.wrapup_done(7, now=w.tick())
    assert [e.type for e in done] == ["agent.state_changed", "call.wrapup_ended"]
    assert done[1].data["final"] is False  # the customer is still on the line
    late = w.live.wrapup_done(7, "sold", "note", now=w.tick(), interaction_id="cust-1")
    assert late[0].data["disposition"] == "sold" and w.live.interaction("cust-1").disposition == "sold"


def test_wrapup_seconds_per_queue() -> None:
    w = World(7, settings=TrackerSettings(wrapup_seconds={"support": 0}, default_wrapup_seconds=60))
    cust, leg = w.connected(7)
    w.feed(*leg.end(), *cust.end())
    assert w.state(7) == "available" and w.live.take_timers() == []


def test_snapshots() -> None:
    w = World(7)
    cust, leg = w.connected(7)
    w.tick(4)
    live = w.live.live_calls(now=w.clock.now)
    assert [c["id"] for c in live] == ["cust-1"]
    assert live[0]["talk_seconds"] == 4.0 and live[0]["state"] == "connected"
    agent = w.live.agent_snapshot(7)
    assert (agent["state"], agent["interaction_id"], agent["leg_uuid"], agent["direction"]) == (
        "on_call", "cust-1", "agent-7", "inbound")
    assert [a["id"] for a in w.live.agents()] == [7]


def test_a_ringing_agent_leg_renamed_by_channel_uuid_keeps_its_agent() -> None:
    w = World(7)
    cust = w.customer()
    w.do(w.live.queue_entered(cust.uuid, "support", now=w.tick()))
    w.do(w.live.offer(cust.uuid, 7, "random-1", now=w.tick()))
    leg = Channel(w.clock, "random-1", destination="7",
                  variables={"cti_interaction_id": cust.uuid, "cti_role": "agent", "cti_agent_id": "7"})
    w.feed(leg.create())
    renamed = w.feed(leg.event("CHANNEL_UUID", {"Unique-ID": "final-1", "Old-Unique-ID": "random-1"}))
    assert renamed == [] and w.live.agent(7).leg_uuid == "final-1"
    leg.uuid = "final-1"
    w.tick(2)
    w.feed(leg.answer(), cust.bridge(leg))
    assert (w.state(7), w.call()) == ("on_call", "connected")
    assert w.live.interaction_of_leg("random-1") is None
    assert w.feed(Channel(w.clock, "random-1", variables=leg.variables).hangup()) == []  # the old name is over
