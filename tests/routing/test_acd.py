"""The ACD decider, scenario by scenario."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from routing.acd import Router
from routing.calendars import parse_calendar
from routing.decisions import (
    AgentNotReady,
    Announce,
    Assignment,
    CancelRing,
    OfferCallback,
    Overflow,
)
from routing.errors import QueueConfigError, RouterStateError
from routing.queues import OverflowTarget, parse_queue_rules
from routing.steps import Execute
from tests.routing.helpers import agent, call, router


def assigned(decision: object) -> tuple[str, tuple[int, ...]]:
    assert isinstance(decision, Assignment), decision
    return decision.call_id, decision.agent_ids


def free_all(r: Router, facts: dict[int, tuple[float, float]]) -> None:
    for agent_id, (since, talk) in facts.items():
        assert r.on_agent_free(agent_id, since, talk) is None


# -- call side: which agent -----------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("longest_idle", (2,)),  # free since 10
        ("least_talk_time", (3,)),  # 0 s talk today
        ("round_robin", (1,)),  # nobody offered yet: lowest id
        ("skills_best_match", (4,)),  # highest level
        ("ring_all", (1, 2, 3, 4)),
    ],
)
def test_strategy_picks_agent(strategy: str, expected: tuple[int, ...]) -> None:
    r = router(q={"strategy": strategy, "skills": {"s": 1}})
    for agent_id, level in ((1, 2), (2, 2), (3, 2), (4, 9)):
        r.add_agent(agent(agent_id, ["q"], {"s": level}))
    free_all(r, {1: (30.0, 100.0), 2: (10.0, 50.0), 3: (20.0, 0.0), 4: (40.0, 10.0)})
    assert assigned(r.on_call_queued(call("c", "q", 50.0), 50.0)) == ("c", expected)


def test_lower_tier_agents_first_ring_all_rings_only_best_tier() -> None:
    r = router(q={"strategy": "ring_all"})
    r.add_agent(agent(1, {"q": 2}))
    r.add_agent(agent(2, {"q": 1}))
    r.add_agent(agent(3, {"q": 1}))
    free_all(r, {1: (0.0, 0.0), 2: (5.0, 0.0), 3: (6.0, 0.0)})
    assert assigned(r.on_call_queued(call("c", "q", 10.0), 10.0)) == ("c", (2, 3))


def test_only_members_with_skills_get_calls() -> None:
    r = router(q={"skills": {"billing": 5}}, other={})
    r.add_agent(agent(1, ["other"], {"billing": 9}))  # not a member
    r.add_agent(agent(2, ["q"], {"billing": 4}))  # member, level too low
    r.add_agent(agent(3, ["q"], {"french": 9}))  # member, lacks the skill
    free_all(r, {1: (0.0, 0.0), 2: (0.0, 0.0), 3: (0.0, 0.0)})
    assert r.on_call_queued(call("c", "q", 1.0), 1.0) is None
    r.add_agent(agent(4, ["q"], {"billing": 5}))
    assert assigned(r.on_agent_free(4, 2.0)) == ("c", (4,))


def test_call_skills_from_the_ivr_are_required_too() -> None:
    r = router(q={})
    r.add_agent(agent(1, ["q"], {"english": 9}))
    r.add_agent(agent(2, ["q"], {"french": 6}))
    free_all(r, {1: (0.0, 0.0), 2: (1.0, 0.0)})
    assert assigned(r.on_call_queued(call("c", "q", 5.0, skills={"french": 5}), 5.0)) == ("c", (2,))


def test_skill_levels_relax_with_wait() -> None:
    r = router(q={"skills": {"s": {"min_level": 8, "relax": [{"after": 30, "min_level": 5}, {"after": 60, "min_level": 1}]}}})
    r.add_agent(agent(1, ["q"], {"s": 6}))
    r.add_agent(agent(2, ["q"], {"s": 2}))
    free_all(r, {1: (0.0, 0.0), 2: (0.0, 0.0)})
    assert r.on_call_queued(call("c", "q", 100.0), 100.0) is None
    assert r.next_due() == 130.0
    assert r.on_tick(129.9) == []
    assert [assigned(d) for d in r.on_tick(130.0)] == [("c", (1,))]


def test_relaxed_call_taken_by_agent_becoming_free() -> None:
    r = router(q={"skills": {"s": {"min_level": 8, "relax": [{"after": 30, "min_level": 2}]}}})
    r.add_agent(agent(1, ["q"], {"s": 3}))
    assert r.on_call_queued(call("c", "q", 0.0), 0.0) is None
    assert r.on_agent_free(1, 10.0) is None  # too early for level 3
    r.on_agent_busy(1)
    assert assigned(r.on_agent_free(1, 31.0)) == ("c", (1,))


# -- agent side: which call -----------------------------------------------------------


def test_agent_takes_highest_priority_then_oldest() -> None:
    r = router(q={})
    r.add_agent(agent(1, ["q"]))
    for call_id, at, priority in (("old_low", 0.0, 0), ("new_high", 10.0, 5), ("newer_high", 11.0, 5)):
        assert r.on_call_queued(call(call_id, "q", at, priority=priority), at) is None
    assert [r.position(c) for c in ("new_high", "newer_high", "old_low")] == [1, 2, 3]
    assert assigned(r.on_agent_free(1, 12.0)) == ("new_high", (1,))


def test_aging_lets_old_low_priority_calls_overtake() -> None:
    r = router(q={"aging_per_minute": 1.0})
    r.add_agent(agent(1, ["q"]))
    r.on_call_queued(call("low", "q", 0.0, priority=0), 0.0)
    r.on_call_queued(call("high", "q", 200.0, priority=3), 200.0)  # low has aged 3.33 points by then
    assert r.position("low") == 1
    assert assigned(r.on_agent_free(1, 201.0)) == ("low", (1,))


def test_a_transferred_call_ranks_by_its_first_arrival_but_times_its_stay_from_entry() -> None:
    r = router(q={"max_wait": 60, "overflow": "voicemail:queue:q"})
    r.add_agent(agent(1, ["q"]))
    r.on_call_queued(call("waiting", "q", 100.0), 100.0)
    r.on_call_queued(call("transferred", "q", 110.0, arrived_at=20.0), 110.0)  # first queued at 20
    assert [r.position(c) for c in ("transferred", "waiting")] == [1, 2]
    # its max wait counts from its entry here (110), not from 20
    assert [d.call_id for d in r.on_tick(165.0) if isinstance(d, Overflow)] == ["waiting"]
    assert [d.call_id for d in r.on_tick(170.0) if isinstance(d, Overflow)] == ["transferred"]


def test_vip_boost_adds_to_queue_default_priority() -> None:
    r = router(q={"priority": 10})
    r.add_agent(agent(1, ["q"]))
    r.on_call_queued(call("normal", "q", 0.0), 0.0)
    r.on_call_queued(call("vip", "q", 5.0, priority_boost=10), 5.0)
    assert assigned(r.on_agent_free(1, 6.0)) == ("vip", (1,))


def test_across_queues_score_then_tier_then_wait() -> None:
    r = router(a={"aging_per_minute": 1.0}, b={"aging_per_minute": 1.0})
    r.add_agent(agent(1, {"a": 2, "b": 1}))
    r.on_call_queued(call("in_a", "a", 0.0), 0.0)
    r.on_call_queued(call("in_b", "b", 0.0), 0.0)
    # same score and wait: the agent's lower tier (b) wins
    assert assigned(r.on_agent_free(1, 10.0)) == ("in_b", (1,))
    r.on_offer_answered("in_b", 1, 11.0)
    r.on_call_queued(call("in_b2", "b", 60.0), 60.0)
    # in_a waited 60 s longer: one aging point ahead, whatever the tier
    assert assigned(r.on_agent_free(1, 61.0)) == ("in_a", (1,))


def test_ties_are_broken_by_arrival_order() -> None:
    r = router(q={})
    r.add_agent(agent(1, ["q"]))
    for call_id in ("first", "second", "third"):
        r.on_call_queued(call(call_id, "q", 7.0), 7.0)
    assert assigned(r.on_agent_free(1, 8.0)) == ("first", (1,))


def test_agent_skips_calls_they_cannot_take() -> None:
    r = router(q={})
    r.add_agent(agent(1, ["q"], {"english": 5}))
    r.on_call_queued(call("french", "q", 0.0, skills={"french": 1}), 0.0)
    r.on_call_queued(call("any", "q", 1.0), 1.0)
    assert assigned(r.on_agent_free(1, 2.0)) == ("any", (1,))
    assert r.position("french") == 1


# -- offers, answers, RONA ------------------------------------------------------------


def test_answer_and_ring_all_cancel() -> None:
    r = router(q={"strategy": "ring_all", "announce_agent": {"prompt": "agent.wav"}})
    for agent_id in (1, 2, 3):
        r.add_agent(agent(agent_id, ["q"]))
        r.on_agent_free(agent_id, 0.0)
    r.on_call_queued(call("c", "q", 1.0, language="zh"), 1.0)
    assert r.ringing_call(2) == "c"
    decisions = r.on_offer_answered("c", 2, 5.0)
    assert decisions == [
        CancelRing("c", (1, 3)),
        Announce("c", "q", "agent", (Execute("playback", "agent.wav"), Execute("say", "zh NUMBER iterated 1002"))),
    ]
    assert r.ringing_call(1) is None
    assert r.on_agent_free(1, 6.0) is None  # cancelled agents come back through on_agent_free


def test_rona_puts_call_back_in_place_and_tries_next_agent() -> None:
    r = router(q={})
    r.add_agent(agent(1, ["q"]))
    r.add_agent(agent(2, ["q"]))
    r.on_agent_free(1, 0.0)
    r.on_call_queued(call("first", "q", 10.0), 10.0)
    r.on_call_queued(call("second", "q", 11.0), 11.0)
    decisions = r.on_offer_failed("first", 1, "no_answer", 30.0)
    assert decisions == [AgentNotReady(1, "missed", "first")]
    assert r.position("first") == 1  # kept its place ahead of "second"
    assert assigned(r.on_agent_free(2, 31.0)) == ("first", (2,))


def test_rona_offers_next_free_agent_at_once() -> None:
    r = router(q={})
    r.add_agent(agent(1, ["q"]))
    r.add_agent(agent(2, ["q"]))
    free_all(r, {1: (0.0, 0.0), 2: (1.0, 0.0)})
    r.on_call_queued(call("c", "q", 10.0), 10.0)
    decisions = r.on_offer_failed("c", 1, "rejected", 20.0)
    assert decisions[0] == AgentNotReady(1, "missed", "c")
    assert assigned(decisions[1]) == ("c", (2,))


@pytest.mark.parametrize(
    ("outcome", "rona_not_ready", "effect"),
    [
        ("no_answer", True, AgentNotReady(1, "missed", "c")),
        ("no_answer", False, None),
        ("rejected", False, None),
        ("unregistered", False, AgentNotReady(1, "unregistered", "c")),
        ("failed", True, AgentNotReady(1, "failed", "c")),
    ],
)
def test_ring_outcomes(outcome: str, rona_not_ready: bool, effect: AgentNotReady | None) -> None:
    r = router(q={"rona_not_ready": rona_not_ready})
    r.add_agent(agent(1, ["q"]))
    r.on_agent_free(1, 0.0)
    r.on_call_queued(call("c", "q", 1.0), 1.0)
    assert r.on_offer_failed("c", 1, outcome, 5.0) == ([effect] if effect else [])
    assert r.position("c") == 1
    assert not r.agents.is_free(1)  # until the shell says otherwise


def test_ring_all_requeues_only_when_every_leg_failed() -> None:
    r = router(q={"strategy": "ring_all"})
    for agent_id in (1, 2):
        r.add_agent(agent(agent_id, ["q"]))
        r.on_agent_free(agent_id, 0.0)
    r.on_call_queued(call("c", "q", 1.0), 1.0)
    assert r.on_offer_failed("c", 1, "no_answer", 20.0) == [AgentNotReady(1, "missed", "c")]
    assert r.waiting_calls() == 0
    assert r.on_offer_failed("c", 2, "no_answer", 20.0) == [AgentNotReady(2, "missed", "c")]
    assert r.waiting_calls() == 1


def test_caller_hangs_up_while_waiting_or_ringing() -> None:
    r = router(q={})
    r.add_agent(agent(1, ["q"]))
    r.on_call_queued(call("waiting", "q", 0.0), 0.0)
    assert r.on_call_left("waiting") == []
    assert r.on_agent_free(1, 1.0) is None
    r.on_call_queued(call("ringing", "q", 2.0), 2.0)
    assert r.on_call_left("ringing") == [CancelRing("ringing", (1,))]


# -- limits ---------------------------------------------------------------------------


def test_max_length_overflows_at_entry() -> None:
    r = router(q={"max_length": 2, "overflow": "queue:backup"}, backup={})
    for call_id in ("a", "b"):
        assert r.on_call_queued(call(call_id, "q", 0.0), 0.0) is None
    assert r.on_call_queued(call("c", "q", 1.0), 1.0) == Overflow("c", "q", OverflowTarget("queue", "backup"), "max_length")
    assert r.waiting_calls() == 2


def test_max_wait_overflows_on_tick() -> None:
    r = router(q={"max_wait": 60, "overflow": "voicemail:queue:q"})
    r.on_call_queued(call("c", "q", 100.0), 100.0)
    assert r.on_tick(159.0) == []
    assert r.on_tick(160.0) == [Overflow("c", "q", OverflowTarget("voicemail", "queue:q"), "max_wait")]
    assert r.waiting_calls() == 0
    assert r.on_tick(1000.0) == []


def test_closed_calendar_overflows_at_entry() -> None:
    office = parse_calendar("office", {"timezone": "UTC", "weekly": {"mon": ["09:00-17:00"]}})
    r = router({"office": office}, q={"calendar": "office", "closed": "flow:after_hours"})
    monday_8 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC).timestamp()
    assert r.on_call_queued(call("early", "q", monday_8), monday_8) == Overflow(
        "early", "q", OverflowTarget("flow", "after_hours"), "closed"
    )
    assert r.on_call_queued(call("ok", "q", monday_8 + 3600), monday_8 + 3600) is None


def test_unknown_calendar_is_a_configuration_error() -> None:
    with pytest.raises(QueueConfigError, match="unknown calendar 'office'"):
        router(q={"calendar": "office", "closed": "flow:x"})


# -- sticky agent ---------------------------------------------------------------------


STICKY = {"sticky_agent": {"window": 3600, "wait": 15}}


def test_sticky_agent_free_gets_the_call() -> None:
    r = router(q=STICKY)
    r.add_agent(agent(1, ["q"]))
    r.add_agent(agent(2, ["q"]))
    free_all(r, {1: (0.0, 0.0), 2: (50.0, 0.0)})
    decision = r.on_call_queued(call("c", "q", 100.0, last_agent=(2, 90.0)), 100.0)
    assert isinstance(decision, Assignment) and decision.agent_ids == (2,) and decision.sticky


def test_sticky_agent_busy_holds_the_call_then_releases_it() -> None:
    r = router(q=STICKY)
    r.add_agent(agent(1, ["q"]))
    r.add_agent(agent(2, ["q"]))
    r.on_agent_free(1, 0.0)
    r.on_agent_busy(2)
    assert r.on_call_queued(call("c", "q", 100.0, last_agent=(2, 90.0)), 100.0) is None
    r.on_agent_busy(1)
    assert r.on_agent_free(1, 105.0) is None  # held for agent 2
    assert [assigned(d) for d in r.on_tick(115.0)] == [("c", (1,))]


def test_sticky_agent_freeing_during_hold() -> None:
    r = router(q=STICKY)
    r.add_agent(agent(2, ["q"]))
    r.on_agent_busy(2)
    r.on_call_queued(call("c", "q", 100.0, last_agent=(2, 90.0)), 100.0)
    decision = r.on_agent_free(2, 104.0)
    assert isinstance(decision, Assignment) and decision.sticky


@pytest.mark.parametrize(
    ("last_agent", "agent_state", "why"),
    [
        ((2, 100.0 - 3601), "busy", "outside the window"),
        ((2, 90.0), "away", "not staffed: waiting for them is pointless"),
        ((9, 90.0), "busy", "not a member of the queue"),
    ],
)
def test_sticky_does_not_apply(last_agent: tuple[int, float], agent_state: str, why: str) -> None:
    r = router(q=STICKY, other={})
    r.add_agent(agent(1, ["q"]))
    r.add_agent(agent(2, ["q"]))
    r.add_agent(agent(9, ["other"]))
    r.on_agent_free(1, 0.0)
    for agent_id in (2, 9):
        (r.on_agent_busy if agent_state == "busy" else r.on_agent_away)(agent_id)
    assert assigned(r.on_call_queued(call("c", "q", 100.0, last_agent=last_agent), 100.0)) == ("c", (1,)), why


# -- announcements and callbacks ------------------------------------------------------


ANNOUNCING = {
    "comfort": {"every": 30, "prompt": "comfort.wav"},
    "announce": {"every": 60, "ewt": True, "position_prompt": "pos.wav", "ewt_prompt": "ewt.wav", "minutes_prompt": "min.wav"},
}


def test_position_at_entry_then_periodic_with_comfort() -> None:
    r = router(q=ANNOUNCING)
    r.on_call_queued(call("c", "q", 0.0), 0.0)
    kinds = []
    for now in (0.0, 30.0, 60.0, 90.0, 120.0):
        kinds += [(now, d.kind) for d in r.on_tick(now) if isinstance(d, Announce)]
    assert kinds == [(0.0, "position"), (30.0, "comfort"), (60.0, "position"), (60.0, "comfort"), (90.0, "comfort"), (120.0, "position"), (120.0, "comfort")]


def test_late_tick_announces_once() -> None:
    r = router(q=ANNOUNCING)
    r.on_call_queued(call("c", "q", 0.0), 0.0)
    decisions = r.on_tick(1000.0)
    assert sorted(d.kind for d in decisions if isinstance(d, Announce)) == ["comfort", "position"]


def test_ewt_is_said_only_when_confident() -> None:
    r = router(q=ANNOUNCING)
    r.add_agent(agent(1, ["q"]))
    r.on_agent_busy(1)  # staffed, on a call
    r.on_call_queued(call("c", "q", 0.0, language="en"), 0.0)
    (first,) = r.on_tick(0.0)
    assert isinstance(first, Announce) and len(first.steps) == 2  # position only
    for _ in range(5):
        r.observe_handle_time("q", 120.0)
    assert r.estimate("c").confident and r.estimate("c").seconds == pytest.approx(120.0)
    assert r.wait_estimator("q").handle_samples == 5
    (later,) = [d for d in r.on_tick(60.0) if isinstance(d, Announce) and d.kind == "position"]
    assert later.steps[2:] == (
        Execute("playback", "ewt.wav"),
        Execute("say", "en NUMBER pronounced 2"),
        Execute("playback", "min.wav"),
    )


def test_callback_offer_and_acceptance_keep_the_place() -> None:
    r = router(q={"callback": {"after": 60, "prompt": "press1.wav"}, "max_wait": 300, "overflow": "voicemail:queue:q", **ANNOUNCING})
    r.add_agent(agent(1, ["q"]))
    r.on_call_queued(call("c", "q", 0.0), 0.0)
    r.on_call_queued(call("later", "q", 10.0), 10.0)
    offers = [d for d in r.on_tick(60.0) if isinstance(d, OfferCallback)]
    assert [(o.call_id, o.digit) for o in offers] == [("c", "1")]
    assert offers[0].step.app == "play_and_get_digits" and "press1.wav" in offers[0].step.args
    r.on_callback_accepted("c", "+15550100", 62.0)
    later = r.on_tick(400.0)
    assert all(d.call_id != "c" for d in later)  # no announcements, no max-wait overflow
    decision = r.on_agent_free(1, 401.0)
    assert isinstance(decision, Assignment) and decision.call_id == "c" and decision.callback_number == "+15550100"


# -- queries, rules, errors -------------------------------------------------------------


def test_queue_status() -> None:
    r = router(q={})
    r.add_agent(agent(1, ["q"]))
    r.add_agent(agent(2, ["q"]))
    r.on_agent_busy(1)
    r.on_call_queued(call("a", "q", 10.0, priority=5), 10.0)
    r.on_call_queued(call("b", "q", 5.0), 5.0)
    status = r.queue_status("q", 20.0)
    assert (status.waiting, status.longest_wait, status.free_agents, status.staffed_agents) == (2, 15.0, 0, 1)


def test_set_rules_reorders_and_rebalances() -> None:
    r = router(q={"skills": {"s": 9}})
    r.add_agent(agent(1, ["q"], {"s": 1}))
    r.on_agent_free(1, 0.0)
    r.on_call_queued(call("c", "q", 1.0), 1.0)
    decisions = r.set_rules({"q": parse_queue_rules("q", {})}, {}, 2.0)
    assert [assigned(d) for d in decisions] == [("c", (1,))]


def test_removing_a_queue_with_calls_is_refused() -> None:
    r = router(q={}, other={})
    r.on_call_queued(call("c", "q", 1.0), 1.0)
    with pytest.raises(RouterStateError, match="still has 1 waiting and 0 ringing"):
        r.set_rules({"other": parse_queue_rules("other", {})}, {}, 2.0)


ERRORS: list[tuple[str, Any]] = [
    ("unknown queue 'nope'", lambda r: r.on_call_queued(call("x", "nope", 0.0), 0.0)),
    ("already in queue", lambda r: r.on_call_queued(call("waiting", "q", 0.0), 0.0)),
    ("neither waiting nor ringing", lambda r: r.on_call_left("ghost")),
    ("is not ringing agent 2", lambda r: r.on_offer_answered("ringing", 2, 5.0)),
    ("is not ringing agent 1", lambda r: r.on_offer_failed("waiting", 1, "no_answer", 5.0)),
    ("unknown ring outcome", lambda r: r.on_offer_failed("ringing", 1, "lost", 5.0)),
    ("ringing for call ringing", lambda r: r.on_agent_free(1, 5.0)),
    ("not waiting in any queue", lambda r: r.position("ringing")),
    ("agent 42 is not known", lambda r: r.on_agent_free(42, 5.0)),
    ("agent 1 is ringing for call ringing; end that ring", lambda r: r.remove_agent(1)),
    ("0 waiting and 1 ringing", lambda r: r.set_rules({}, {}, 5.0) if r.on_call_left("waiting") == [] else None),
]


@pytest.mark.parametrize(("message", "action"), ERRORS)
def test_inconsistent_reports_raise(message: str, action: Any) -> None:
    r = router(q={})
    r.add_agent(agent(1, ["q"]))
    r.add_agent(agent(2, ["q"]))
    r.on_agent_free(1, 0.0)
    r.on_call_queued(call("ringing", "q", 1.0), 1.0)
    r.on_call_queued(call("waiting", "q", 2.0), 2.0)
    with pytest.raises(RouterStateError, match=message):
        action(r)
