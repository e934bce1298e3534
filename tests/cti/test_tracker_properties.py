"""Property tests: many calls and agents interleaved, with replays of delivered events.

Each call follows a legal script (IVR hang-up, abandon, ring with no answer then
answer, unregistered phone, abandon while ringing, hold, either side hanging up first,
outbound); hypothesis chooses the scripts, the agents, the interleaving of the calls,
when agents finish wrap-up or wrap-up timers fire (stale ones included), and when an
already delivered event is delivered again. After every step the invariants hold:

* no interaction is both ended and live;
* no agent has two live legs, and an agent's state matches its leg (reserved = a
  ringing leg, on a call = an answered leg);
* replaying an event changes nothing;
* every ended interaction has consistent times (talk + hold <= ended - answered,
  periods inside the call, nothing talked if nobody answered);

and at the end nothing is live and every agent is available or not ready.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.bus import DomainEvent
from cti.tracker import LiveState, TrackerSettings
from esl.events import Event
from tests.cti.test_tracker_support import Channel, Clock

RING_AFTERMATH = {
    "no_answer": ("not_ready", "missed"),
    "unregistered": ("not_ready", "unreachable"),
    "caller_gone": ("available", ""),
}
KINDS = ("ivr", "abandon", "answered", "rona", "unregistered", "ring_abandon", "outbound")


@dataclass(frozen=True)
class Cmd:
    run: Callable[[float], list[DomainEvent]]


@dataclass(frozen=True)
class Offer:
    interaction: str
    leg: str


Action = Event | Cmd | Offer
Script = Generator[Action, int | None, None]


def seconds(iso: str | None) -> float:
    assert iso is not None
    return datetime.fromisoformat(iso).timestamp()


class Sim:
    def __init__(self, data: st.DataObject, agents: int) -> None:
        self.data = data
        self.clock = Clock()
        self.live = LiveState(TrackerSettings(default_wrapup_seconds=5.0))
        self.delivered: list[Event] = []
        self.ended: dict[str, dict[str, Any]] = {}
        self.timers: list[tuple[int, str]] = []
        self.expected: dict[str, dict[str, Any]] = {}
        self.by_call: dict[str, list[Event]] = {}
        for agent in range(1, agents + 1):
            self.publish(self.live.agent_login(agent, str(agent), now=self.clock.now, ready=True))

    # --- running --------------------------------------------------------------------

    def publish(self, events: list[DomainEvent]) -> None:
        for index, event in enumerate(events):
            if event.type == "call.ended":
                assert event.interaction_id not in self.ended
                self.ended[event.interaction_id or ""] = event.data
            if event.type == "call.offer_failed":
                # the ring's outcome and the agent's next state agree (RONA -> missed ...)
                moved = next(e for e in events[index:] if e.type == "agent.state_changed" and e.agent_id == event.agent_id)
                assert (moved.data["state"], moved.data["reason"]) == RING_AFTERMATH[event.data["outcome"]]
        self.timers += [(t.agent_id, t.interaction_id) for t in self.live.take_timers()]

    def step(self, script: Script, reply: int | None) -> tuple[bool, int | None]:
        try:
            action = script.send(reply)
        except StopIteration:
            return False, None
        self.clock.tick(self.data.draw(st.sampled_from([0.0, 0.02, 0.5, 3.0]), label="tick"))
        if isinstance(action, Event):
            stamped = Event(headers={**action.headers, "Event-Date-Timestamp": str(int(self.clock.now * 1e6))},
                            node=action.node)
            self.delivered.append(stamped)
            call = stamped.uuid.split("-leg")[0].split("-agent")[0].removesuffix("-cust")
            self.by_call.setdefault(call, []).append(stamped)
            self.publish(self.live.apply_event(stamped))
            return True, None
        if isinstance(action, Cmd):
            self.publish(action.run(self.clock.now))
            return True, None
        free = [a["id"] for a in self.live.agents() if a["state"] == "available"]
        if not free:
            return True, None
        agent = self.data.draw(st.sampled_from(free), label="agent")
        self.publish(self.live.offer(action.interaction, agent, action.leg, now=self.clock.now))
        return True, agent

    def replay_one(self) -> None:
        if not self.delivered:
            return
        event = self.data.draw(st.sampled_from(self.delivered), label="replay")
        before = (self.live.live_calls(), self.live.agents(), dict(self.ended))
        assert self.live.apply_event(event) == []
        assert (self.live.live_calls(), self.live.agents(), dict(self.ended)) == before

    def agent_work(self, finish_all: bool = False) -> None:
        """Agents finish wrap-up, timers fire (possibly stale), missed agents come back."""
        now = self.clock.tick(1.0)
        for agent in self.live.agents():
            if agent["state"] == "wrap_up" and (finish_all or self.data.draw(st.booleans(), label="done")):
                self.publish(self.live.wrapup_done(agent["id"], "ok", now=now))
            elif agent["state"] == "not_ready" and (finish_all or self.data.draw(st.booleans(), label="back")):
                self.publish(self.live.agent_set_state(agent["id"], "available", now=now))
        timers, self.timers = self.timers, []
        for agent_id, interaction in timers:
            self.publish(self.live.wrapup_timeout(agent_id, interaction, now=now))

    # --- invariants -----------------------------------------------------------------

    def check(self) -> None:
        live = self.live.live_calls()
        live_ids = {c["id"] for c in live}
        assert not live_ids & set(self.ended), "an interaction is both ended and live"
        assert all(c["state"] not in ("ended", "wrapup_done") for c in live)
        legs: dict[int, list[dict[str, Any]]] = {}
        for call in live:
            for leg in call["legs"]:
                if leg["agent_id"] is not None and leg["role"] in ("agent", "consult") and leg["ended_at"] is None:
                    legs.setdefault(leg["agent_id"], []).append(leg)
        for agent in self.live.agents():
            mine = legs.get(agent["id"], [])
            assert len(mine) <= 1, f"agent {agent['id']} on two calls"
            if agent["state"] == "reserved":
                assert [leg["uuid"] for leg in mine] == [agent["leg_uuid"]] and mine[0]["answered_at"] is None
            if agent["state"] in ("on_call", "on_hold", "in_consult"):
                assert [leg["uuid"] for leg in mine] == [agent["leg_uuid"]] and mine[0]["answered_at"] is not None
        for record in self.ended.values():
            check_times(record)
            check_talk_and_hold(record, self.by_call.get(record["id"], []))
            expected = self.expected.get(record["id"])
            if expected is not None:
                assert {k: record[k] if k != "offers" else [o["outcome"] for o in record["offers"]]
                        for k in expected} == expected


def check_times(record: dict[str, Any]) -> None:
    started, ended = seconds(record["started_at"]), seconds(record["ended_at"])
    assert started <= ended + 1e-6
    for segment in record["segments"]:
        if segment["kind"] == "wrapup":
            continue
        assert seconds(segment["started_at"]) >= started - 1e-6
        assert seconds(segment["ended_at"]) <= ended + 1e-6
    if record["answered_at"] is None:
        assert record["talk_seconds"] == record["hold_seconds"] == 0
    else:
        span = ended - seconds(record["answered_at"])
        assert record["talk_seconds"] + record["hold_seconds"] <= span + 1e-3
    if record["wait_seconds"] is not None:
        assert record["wait_seconds"] >= 0


def check_talk_and_hold(record: dict[str, Any], events: list[Event]) -> None:
    """A reference model: from the first bridge to the first hang-up after it, the
    customer was held between each CHANNEL_HOLD and the next CHANNEL_UNHOLD."""
    bridged = [e.timestamp for e in events if e.name == "CHANNEL_BRIDGE"]
    if not bridged:
        assert record["talk_seconds"] == record["hold_seconds"] == 0
        return
    end = min(e.timestamp for e in events if e.name == "CHANNEL_HANGUP" and e.timestamp >= bridged[0])
    held_since: float | None = None
    hold = 0.0
    for event in events:
        if not bridged[0] <= event.timestamp <= end:
            continue
        if event.name == "CHANNEL_HOLD" and held_since is None:
            held_since = event.timestamp
        elif event.name == "CHANNEL_UNHOLD" and held_since is not None:
            hold, held_since = hold + event.timestamp - held_since, None
    if held_since is not None:
        hold += end - held_since
    assert abs(record["hold_seconds"] - hold) < 2e-3
    assert abs(record["talk_seconds"] - (end - bridged[0] - hold)) < 2e-3


# --- call scripts ---------------------------------------------------------------------


def failed_originate(live: LiveState, leg_uuid: str, now: float) -> list[DomainEvent]:
    return live.originate_failed(leg_uuid, "-ERR USER_NOT_REGISTERED", now=now)


def hangup_pair(first: Channel, second: Channel, first_disposition: str) -> Generator[Action, int | None, None]:
    yield first.hangup()
    yield second.hangup()
    yield first.complete(disposition=first_disposition)
    yield second.complete(disposition="send_bye")
    yield first.event("CHANNEL_DESTROY")


def agent_channel(sim: Sim, iid: str, uuid: str, agent: int) -> Channel:
    return Channel(sim.clock, uuid, name=f"sofia/internal/{agent}@10.0.0.2", destination=str(agent),
                   variables={"cti_interaction_id": iid, "cti_role": "agent", "cti_agent_id": str(agent)})


def inbound_script(sim: Sim, n: int, kind: str, hold: bool, customer_first: bool) -> Script:
    iid = f"call-{n}"
    cust = Channel(sim.clock, iid, name=f"sofia/external/+1555{n:04d}@10.0.0.1", direction="inbound",
                   caller=f"+1555{n:04d}", destination="8000", variables={"cti_managed": "true", "cti_did": "8000"})
    yield cust.create()
    yield cust.answer()
    yield cust.event("CHANNEL_PARK")
    digits = str(n % 10) + "#"
    for digit in digits:
        yield cust.event("DTMF", {"DTMF-Digit": digit, "DTMF-Source": "RTP"})
    expected: dict[str, Any] = {"digits": digits, "outcome": "self_service", "offers": [], "hangup_by": "customer"}
    sim.expected[iid] = expected
    if kind != "ivr":
        yield Cmd(lambda now: sim.live.queue_entered(iid, "support", now=now))
        expected["outcome"] = "abandoned"
    attempts = {"answered": 1, "rona": 2, "unregistered": 2, "ring_abandon": 1}.get(kind, 0)
    for attempt in range(attempts):
        uuid = f"{iid}-leg{attempt}"
        agent = yield Offer(iid, uuid)
        if agent is None:
            break
        if kind == "unregistered" and attempt == 0:
            expected["offers"].append("unregistered")
            yield Cmd(partial(failed_originate, sim.live, uuid))
            continue
        leg = agent_channel(sim, iid, uuid, agent)
        yield leg.create()
        if kind == "rona" and attempt == 0:
            expected["offers"].append("no_answer")
            yield leg.hangup("NO_ANSWER")
            yield leg.complete("NO_ANSWER", "send_cancel")
            continue
        if kind == "ring_abandon":
            expected["offers"].append("caller_gone")
            yield cust.hangup()
            yield leg.hangup("ORIGINATOR_CANCEL")
            yield cust.complete(disposition="recv_cancel")
            yield leg.complete("ORIGINATOR_CANCEL", "send_cancel")
            return
        expected["offers"].append("answered")
        expected["outcome"] = "answered"
        yield leg.answer()
        yield cust.bridge(leg)
        if hold:
            yield cust.event("CHANNEL_HOLD")
            yield cust.event("RECORD_START", {"Record-File-Path": f"/rec/{iid}.wav"})
            yield leg.event("CHANNEL_UNHOLD")
            yield cust.event("RECORD_STOP", {"Record-File-Path": f"/rec/{iid}.wav"})
            yield cust.event("CHANNEL_HOLD")
            yield cust.event("CHANNEL_UNHOLD")
        if customer_first:
            yield from hangup_pair(cust, leg, "recv_bye")
        else:
            expected["hangup_by"] = "agent"
            yield from hangup_pair(leg, cust, "recv_bye")
        return
    yield cust.hangup()
    yield cust.complete(disposition="recv_bye")


def outbound_script(sim: Sim, n: int, answered: bool) -> Script:
    iid, uuid = f"out-{n}", f"out-{n}-cust"
    yield Cmd(lambda now: sim.live.dial(iid, uuid, f"+1666{n:04d}", now=now, campaign_id=1))
    cust = Channel(sim.clock, uuid, name=f"sofia/gateway/carrier/+1666{n:04d}", destination=f"+1666{n:04d}",
                   variables={"cti_interaction_id": iid, "cti_role": "customer"})
    yield cust.create()
    if not answered:
        sim.expected[iid] = {"outcome": "no_answer", "hangup_by": "system"}
        yield cust.hangup("NO_ANSWER")
        yield cust.complete("NO_ANSWER", "send_cancel")
        return
    yield cust.answer()
    agent = yield Offer(iid, f"{iid}-agent")
    sim.expected[iid] = {"outcome": "self_service" if agent is None else "answered", "hangup_by": "customer"}
    if agent is not None:
        leg = agent_channel(sim, iid, f"{iid}-agent", agent)
        yield leg.create()
        yield leg.answer()
        yield cust.bridge(leg)
        yield from hangup_pair(cust, leg, "recv_bye")
        return
    yield cust.hangup()
    yield cust.complete(disposition="recv_bye")


call_plan = st.tuples(st.sampled_from(KINDS), st.booleans(), st.booleans())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), agents=st.integers(1, 3), plans=st.lists(call_plan, min_size=1, max_size=6))
def test_interleaved_calls_keep_every_invariant(
    data: st.DataObject, agents: int, plans: list[tuple[str, bool, bool]],
) -> None:
    sim = Sim(data, agents)
    scripts: list[tuple[Script, int | None]] = []
    for n, (kind, hold, flag) in enumerate(plans):
        script = outbound_script(sim, n, flag) if kind == "outbound" else inbound_script(sim, n, kind, hold, flag)
        scripts.append((script, None))
    while scripts:
        choice = data.draw(st.integers(0, len(scripts) + 1), label="who")
        if choice == len(scripts):
            sim.replay_one()
        elif choice == len(scripts) + 1:
            sim.agent_work()
        else:
            script, reply = scripts[choice]
            running, answer = sim.step(script, reply)
            if running:
                scripts[choice] = (script, answer)
            else:
                del scripts[choice]
        sim.check()
    sim.agent_work(finish_all=True)
    sim.check()
    assert sim.live.live_calls() == []
    assert {a["state"] for a in sim.live.agents()} <= {"available", "not_ready"}
    assert set(sim.ended) == {f"call-{n}" for n, p in enumerate(plans) if p[0] != "outbound"} | {
        f"out-{n}" for n, p in enumerate(plans) if p[0] == "outbound"}
    assert sim.live.stats.agent_conflicts == 0
