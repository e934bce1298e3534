"""The room contract (webapp/rooms.py): which users join which rooms, which rooms see
which domain event (a preview offer: its agent only), and the masking of secret IVR
digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.bus import DomainEvent
from webapp.rooms import (
    CAMPAIGNS,
    EVERYONE,
    MASK,
    PREVIEW_KINDS,
    PREVIEW_PUSH,
    SITE,
    CallAudience,
    Directory,
    masked,
    push_name,
    rooms_for,
    rooms_of_user,
)

DIRECTORY = Directory(
    agent_queues={7: frozenset({"sales", "vip"}), 8: frozenset({"support"})},
    agent_team={7: 1, 8: 2},
    agent_by_code={"1007": 7, "1008": 8},
    secret_nodes={"hotline": frozenset({"pin"})},
)


def event(type_: str, **kw) -> DomainEvent:
    data = kw.pop("data", {})
    return DomainEvent(type=type_, data=data, **kw)


@pytest.mark.parametrize(("roles", "agent", "expected"), [
    (("agent",), 7, ["user:3", EVERYONE, "agent:7"]),
    (("supervisor",), None, ["user:3", EVERYONE, "queue:sales", "team:1"]),
    (("admin",), None, ["user:3", EVERYONE, "queue:sales", "team:1", SITE, CAMPAIGNS]),
    (("campaign_manager",), None, ["user:3", EVERYONE, CAMPAIGNS]),
])
def test_rooms_of_a_user(roles, agent, expected) -> None:
    assert rooms_of_user(3, roles, agent, ["sales"], [1]) == expected


def test_an_agent_never_joins_queue_rooms_even_if_listed() -> None:
    assert rooms_of_user(3, ("agent",), 7, ["sales"], [1]) == ["user:3", EVERYONE, "agent:7"]


def test_agent_state_goes_to_the_agent_their_queues_team_and_site() -> None:
    rooms = rooms_for(event("agent.state_changed", agent_id=7, data={"state": "available"}), DIRECTORY, CallAudience())
    assert rooms == {"agent:7", "queue:sales", "queue:vip", "team:1", SITE}


def test_call_events_follow_the_agents_on_the_call_only() -> None:
    audience = CallAudience()
    created = rooms_for(event("call.created", interaction_id="i1"), DIRECTORY, audience)
    assert created == {SITE}
    offered = rooms_for(event("call.offered", interaction_id="i1", agent_id=7, queue="sales",
                              data={"agent_id": 7}), DIRECTORY, audience)
    assert offered == {"agent:7", "queue:sales", SITE}
    assert rooms_for(event("call.held", interaction_id="i1", queue="sales"), DIRECTORY, audience) == \
        {"agent:7", "queue:sales", SITE}
    consult = rooms_for(event("call.consult_started", interaction_id="i1", agent_id=7, queue="sales",
                              data={"target_agent_id": 8, "by_agent_id": 7}), DIRECTORY, audience)
    assert consult == {"agent:7", "agent:8", "queue:sales", SITE}


def test_an_agent_whose_ring_failed_gets_that_event_and_then_nothing_more() -> None:
    audience = CallAudience()
    rooms_for(event("call.offered", interaction_id="i2", agent_id=8, data={"agent_id": 8}), DIRECTORY, audience)
    failed = rooms_for(event("call.offer_failed", interaction_id="i2", agent_id=8, data={"agent_id": 8}), DIRECTORY,
                       audience)
    assert "agent:8" in failed
    rooms_for(event("call.offered", interaction_id="i2", agent_id=7, data={"agent_id": 7}), DIRECTORY, audience)
    later = rooms_for(event("call.answered", interaction_id="i2", agent_id=7, data={"agent_id": 7}), DIRECTORY, audience)
    assert "agent:8" not in later and "agent:7" in later


def test_the_audience_forgets_a_call_after_its_last_wrap_up_and_stays_bounded() -> None:
    audience = CallAudience(limit=3)
    rooms_for(event("call.offered", interaction_id="a", agent_id=7, data={"agent_id": 7}), DIRECTORY, audience)
    rooms_for(event("call.wrapup_ended", interaction_id="a", agent_id=7, data={"final": True}), DIRECTORY, audience)
    assert len(audience) == 0
    for n in range(10):
        rooms_for(event("call.created", interaction_id=f"x{n}"), DIRECTORY, audience)
    assert len(audience) == 3


@pytest.mark.parametrize(("box", "expected"), [
    ("queue:support", {"queue:support", SITE}),
    ("agent:1008", {"agent:8", SITE}),
    ("agent:9999", {SITE}),
])
def test_voicemail_goes_to_its_box(box, expected) -> None:
    assert rooms_for(event("voicemail.created", data={"box": box}), DIRECTORY, CallAudience()) == expected


def test_campaign_and_system_events() -> None:
    assert rooms_for(event("campaign.changed", data={}), DIRECTORY, CallAudience()) == {SITE, CAMPAIGNS}
    assert rooms_for(event("system.resynced", data={}), DIRECTORY, CallAudience()) == {SITE, EVERYONE}
    stats = event("campaign.changed", queue="sales", data={"kind": "stats"})
    assert rooms_for(stats, DIRECTORY, CallAudience()) == {SITE, CAMPAIGNS, "queue:sales"}
    assert push_name(stats) == "campaign.changed"


@pytest.mark.parametrize("kind", sorted(PREVIEW_KINDS))
def test_a_preview_offer_goes_to_its_agent_only(kind: str) -> None:
    offer = event("campaign.changed", agent_id=7, queue="sales", data={"kind": kind, "campaign_id": 1})
    assert rooms_for(offer, DIRECTORY, CallAudience()) == {"agent:7"}
    assert push_name(offer) == PREVIEW_PUSH


@given(st.sampled_from(sorted(PREVIEW_KINDS)), st.integers(1, 10**6), st.sampled_from([None, "sales", "vip"]))
def test_no_manager_admin_or_other_agent_ever_sees_a_preview_offer(kind: str, agent: int, queue: str | None) -> None:
    offer = event("campaign.changed", agent_id=agent, queue=queue, data={"kind": kind})
    assert rooms_for(offer, DIRECTORY, CallAudience()) == {f"agent:{agent}"}


@given(st.lists(st.tuples(st.sampled_from(["call.offered", "call.answered", "call.held", "call.offer_failed",
                                           "call.transferred", "call.ended"]),
                          st.sampled_from([7, 8, None]), st.sampled_from(["i1", "i2"])), max_size=30))
def test_no_agent_ever_gets_a_call_it_was_never_part_of(steps) -> None:
    audience = CallAudience()
    named: dict[str, set[int]] = {}
    for type_, agent, iid in steps:
        data = {"agent_id": agent} if agent is not None else {}
        rooms = rooms_for(event(type_, interaction_id=iid, agent_id=agent, data=data), DIRECTORY, audience)
        if agent is not None:
            named.setdefault(iid, set()).add(agent)
        agents = {int(r.split(":")[1]) for r in rooms if r.startswith("agent:")}
        assert agents <= named.get(iid, set())


def test_secret_digits_are_masked_everywhere_in_a_call_that_took_them() -> None:
    record = {
        "flow_name": "hotline", "digits": "123456", "ivr_path": [{"node": "welcome"}, {"node": "pin", "digits": "1234"}],
        "timeline": [{"type": "dtmf", "digit": "1"}, {"type": "ivr_step", "node": "pin", "digits": "1234"}],
    }
    out = masked({"type": "call.ended", "data": record}, DIRECTORY)["data"]
    assert out["digits"] == MASK * 6
    assert out["ivr_path"][1]["digits"] == MASK * 4 and "digits" not in out["ivr_path"][0]
    assert out["timeline"][0]["digit"] == MASK and out["timeline"][1]["digits"] == MASK * 4
    assert record["digits"] == "123456", "the event itself is not changed"


def test_calls_without_secret_nodes_and_offers_without_a_flow() -> None:
    plain = {"type": "call.ended", "data": {"flow_name": "main", "digits": "23", "ivr_path": [{"node": "main_menu"}]}}
    assert masked(plain, DIRECTORY) is plain
    offer = {"type": "call.offered", "data": {"screen_pop": {"ivr_path": ["welcome", "pin"], "digits": "99"}}}
    assert masked(offer, DIRECTORY)["data"]["screen_pop"]["digits"] == MASK * 2, "unknown flow: every secret node counts"
    step = {"type": "call.ivr_step", "data": {"flow": "hotline", "node": "pin", "digits": "4321"}}
    assert masked(step, DIRECTORY)["data"]["digits"] == MASK * 4
