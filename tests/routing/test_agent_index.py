"""The free-agent index: strategy order, state changes, staffed counts."""

from __future__ import annotations

import pytest

from routing.agent_index import Agent, AgentIndex
from routing.errors import RouterStateError
from routing.queues import parse_queue_rules


def index_for(strategy: str, skills: dict[str, int] | None = None) -> AgentIndex:
    settings: dict[str, object] = {"strategy": strategy}
    if skills:
        settings["skills"] = skills
    return AgentIndex({"q": parse_queue_rules("q", settings)})


def order(index: AgentIndex) -> list[int]:
    return [agent_id for _, agent_id in index.free_in("q")]


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        # agents 1..4 become free at t=40,10,30,20 with talk 50,300,100,0; tiers 1,1,1,2
        ("longest_idle", [2, 3, 1, 4]),
        ("least_talk_time", [1, 3, 2, 4]),
        ("ring_all", [1, 2, 3, 4]),
        ("round_robin", [1, 2, 3, 4]),  # nobody offered yet: by id within tier
    ],
)
def test_strategy_order_with_tiers(strategy: str, expected: list[int]) -> None:
    index = index_for(strategy)
    facts = {1: (40.0, 50.0, 1), 2: (10.0, 300.0, 1), 3: (30.0, 100.0, 1), 4: (20.0, 0.0, 2)}
    for agent_id, (since, talk, tier) in facts.items():
        index.put(Agent(agent_id, str(1000 + agent_id), {}, {"q": tier}))
        index.mark_free(agent_id, since, talk)
    assert order(index) == expected


def test_skills_best_match_orders_by_total_level() -> None:
    index = index_for("skills_best_match", {"billing": 1, "french": 1})
    skills = {1: {"billing": 3, "french": 3}, 2: {"billing": 9, "french": 9}, 3: {"billing": 9}, 4: {"billing": 6, "french": 3}}
    for agent_id, agent_skills in skills.items():
        index.put(Agent(agent_id, "", agent_skills, {"q": 1}))
        index.mark_free(agent_id, float(agent_id), 0.0)
    assert order(index) == [2, 3, 4, 1]  # 18, 9, 9 (free earlier), 6


def test_round_robin_rotates() -> None:
    index = index_for("round_robin")
    for agent_id in (1, 2, 3):
        index.put(Agent(agent_id, "", {}, {"q": 1}))
        index.mark_free(agent_id, 0.0, 0.0)
    served = []
    for _ in range(6):
        first = order(index)[0]
        served.append(first)
        index.mark_busy(first)
        index.mark_offered(first, "q")
        index.mark_free(first, 1.0, 0.0)
    assert served == [1, 2, 3, 1, 2, 3]


def test_states_and_staffed_counts() -> None:
    index = AgentIndex({name: parse_queue_rules(name, {}) for name in ("a", "b")})
    index.put(Agent(1, "", {}, {"a": 1, "b": 2}))
    index.put(Agent(2, "", {}, {"a": 1, "unknown": 1}))
    assert (index.staffed_count("a"), index.free_count("a")) == (0, 0)
    index.mark_free(1, 5.0, 0.0)
    index.mark_free(2, 6.0, 0.0)
    assert (index.staffed_count("a"), index.free_count("a"), index.free_count("b")) == (2, 2, 1)
    index.mark_free(1, 99.0, 0.0)  # already free: keeps their place
    assert order_of(index, "a") == [1, 2]
    index.mark_busy(1)
    assert (index.staffed_count("a"), index.free_count("a"), index.is_free(1), index.is_staffed(1)) == (2, 1, False, True)
    index.mark_away(1)
    assert (index.staffed_count("a"), index.staffed_count("b"), index.is_staffed(1)) == (1, 0, False)
    index.mark_away(1)  # idempotent
    assert index.staffed_count("a") == 1
    assert sorted(index.free_agents()) == [2]


def order_of(index: AgentIndex, queue: str) -> list[int]:
    return [agent_id for _, agent_id in index.free_in(queue)]


def test_put_replaces_memberships_keeping_state() -> None:
    index = AgentIndex({name: parse_queue_rules(name, {}) for name in ("a", "b")})
    index.put(Agent(1, "", {}, {"a": 1}))
    index.mark_free(1, 5.0, 0.0)
    index.put(Agent(1, "", {}, {"b": 1}))
    assert (order_of(index, "a"), order_of(index, "b")) == ([], [1])
    assert (index.staffed_count("a"), index.staffed_count("b")) == (0, 1)
    index.remove(1)
    assert 1 not in index and order_of(index, "b") == [] and index.staffed_count("b") == 0


def test_set_rules_rebuilds_orders() -> None:
    index = index_for("longest_idle")
    for agent_id, since in ((1, 20.0), (2, 10.0)):
        index.put(Agent(agent_id, "", {}, {"q": 1}))
        index.mark_free(agent_id, since, 0.0)
    assert order(index) == [2, 1]
    index.set_rules({"q": parse_queue_rules("q", {"strategy": "ring_all"})})
    assert order(index) == [1, 2]
    assert index.staffed_count("q") == 2


def test_unknown_agent() -> None:
    with pytest.raises(RouterStateError, match="agent 9 is not known"):
        index_for("longest_idle").mark_free(9, 0.0, 0.0)
