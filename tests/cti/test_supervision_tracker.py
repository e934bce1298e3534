"""What the core records of a supervisor: joining, switching mode with eavesdrop's keys
(from the supervisor's keypad or ``uuid_recv_dtmf``; both arrive as DTMF on the
supervisor leg), and intercepting, with synthetic legs shaped like the real ones."""

from __future__ import annotations

from cti.bus import DomainEvent
from cti.tracker import LiveState
from esl.events import Event
from tests.cti.test_tracker_support import Channel, Clock

CUSTOMER = "c1000000-0000-4000-8000-000000000001"
AGENT = "a1000000-0000-4000-8000-000000000002"
SUPERVISOR = "51000000-0000-4000-8000-000000000003"


class Floor:
    def __init__(self) -> None:
        self.clock = Clock()
        self.live = LiveState()
        self.out: list[DomainEvent] = []
        self.live.agent_login(7, "1007", now=self.clock.now, ready=True)

    def feed(self, *events: Event) -> list[DomainEvent]:
        produced = [e for event in events for e in self.live.apply_event(event)]
        self.out += produced
        return produced

    def connected(self) -> tuple[Channel, Channel]:
        cust = Channel(self.clock, CUSTOMER, name="sofia/external/+15550100@10.0.0.1", direction="inbound",
                       caller="+15550100", destination="8000", variables={"cti_managed": "true", "cti_did": "8000"})
        self.feed(cust.create(), cust.answer())
        self.out += self.live.queue_entered(CUSTOMER, "sales", now=self.clock.tick())
        self.out += self.live.offer(CUSTOMER, 7, AGENT, now=self.clock.tick(), queue="sales")
        agent = Channel(self.clock, AGENT, name="sofia/internal/1007@10.0.0.2", destination="1007",
                        variables={"cti_interaction_id": CUSTOMER, "cti_role": "agent", "cti_agent_id": "7"})
        self.feed(agent.create())
        self.clock.tick(1)
        self.feed(agent.answer(), cust.bridge(agent))
        return cust, agent

    def supervisor(self, mode: str, target: str, app: str = "eavesdrop") -> Channel:
        leg = Channel(self.clock, SUPERVISOR, name="sofia/internal/3001@10.0.0.3", destination="3001",
                      variables={"cti_interaction_id": CUSTOMER, "cti_role": "supervisor",
                                 "cti_supervisor_mode": mode, "cti_target_uuid": target})
        self.clock.tick(1)
        self.feed(leg.create())
        self.clock.tick(1)
        self.feed(leg.answer(), leg.event("CHANNEL_EXECUTE", {"Application": app, "Application-Data": target}))
        return leg

    def key(self, leg: Channel, digit: str) -> list[DomainEvent]:
        self.clock.tick(1)
        return self.feed(leg.event("DTMF", {"DTMF-Digit": digit, "DTMF-Source": "APP"}))

    def record(self) -> dict:
        return self.live.interaction_snapshot(CUSTOMER)


def modes(events: list[DomainEvent]) -> list[tuple[str, str | None]]:
    return [(e.data["mode"], e.data.get("switched_from")) for e in events if e.type == "call.supervisor_joined"]


def test_keys_switch_the_mode_of_a_leg_monitoring_the_agent() -> None:
    f = Floor()
    f.connected()
    sup = f.supervisor("listen", AGENT)
    assert modes(f.out) == [("listen", None)]
    assert modes(f.key(sup, "2")) == [("whisper", "listen")]
    assert modes(f.key(sup, "3")) == [("barge", "whisper")]
    assert modes(f.key(sup, "3")) == []                  # already barging
    assert modes(f.key(sup, "1")) == []                  # only the customer would hear: not a mode
    assert modes(f.key(sup, "0")) == [("listen", "barge")]
    record = f.record()
    assert [(s["mode"], s["target_uuid"], s["left_at"]) for s in record["supervisors"]] == [("listen", AGENT, None)]
    keys = [(e["digit"], e["role"]) for e in record["timeline"] if e["type"] == "dtmf"]
    assert keys == [("2", "supervisor"), ("3", "supervisor"), ("3", "supervisor"), ("1", "supervisor"),
                    ("0", "supervisor")]
    assert record["digits"] == ""                        # the caller's digits stay the caller's


def test_with_the_customer_as_target_the_other_half_key_is_the_whisper() -> None:
    f = Floor()
    f.connected()
    sup = f.supervisor("listen", CUSTOMER)
    assert modes(f.key(sup, "2")) == []
    assert modes(f.key(sup, "1")) == [("whisper", "listen")]


def test_intercept_takes_the_customer_from_the_agent() -> None:
    f = Floor()
    cust, agent = f.connected()
    sup = f.supervisor("intercept", CUSTOMER, app="intercept")
    assert modes(f.out) == [("intercept", None)]
    f.clock.tick()
    # What the switch does: the agent is hung up (PICKED_OFF), the customer bridged to the supervisor.
    f.feed(*agent.end("PICKED_OFF", "send_bye"), cust.bridge(sup))
    ix = f.live.interaction(CUSTOMER)
    assert (ix.state.value, ix.serving_leg, ix.bridged) == ("connected", SUPERVISOR, True)
    f.clock.tick(30)
    f.feed(*cust.end(disposition="recv_bye"), *sup.end(disposition="send_bye"))
    ended = next(e.data for e in f.out if e.type == "call.ended")
    assert [(s["mode"], s["extension"]) for s in ended["supervisors"]] == [("intercept", "3001")]
    assert ended["supervisors"][0]["left_at"] is not None
    roles = {leg["uuid"]: (leg["role"], leg["hangup_cause"]) for leg in ended["legs"]}
    assert roles[AGENT] == ("agent", "PICKED_OFF") and roles[SUPERVISOR][0] == "supervisor"
    assert ended["outcome"] == "answered"


def test_a_listening_leg_moved_into_intercept_is_the_same_session() -> None:
    f = Floor()
    f.connected()
    sup = f.supervisor("listen", AGENT)
    f.clock.tick()
    f.feed(sup.event("CHANNEL_EXECUTE", {"Application": "intercept", "Application-Data": CUSTOMER}))
    assert modes(f.out) == [("listen", None), ("intercept", "listen")]
    assert modes(f.key(sup, "2")) == []                  # intercept is not eavesdrop: keys do nothing
    assert len(f.record()["supervisors"]) == 1
