"""Pacing: table-driven cases per mode, learning, the governor, and properties."""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound.pacing import (
    AgentPhase,
    AgentView,
    CallHandled,
    DialMode,
    DialResult,
    LiveCallFate,
    PacingConfig,
    PacingSnapshot,
    PacingState,
)

READY = AgentView(AgentPhase.READY)
TALKING_LONG = AgentView(AgentPhase.TALKING, elapsed=110.0)
TALKING_NEW = AgentView(AgentPhase.TALKING, elapsed=1.0)
PAUSED = AgentView(AgentPhase.PAUSED)


def state(mode: DialMode = DialMode.PREDICTIVE, **config: object) -> PacingState:
    return PacingState(PacingConfig(mode=mode, max_dials_per_second=1000.0, **config))  # type: ignore[arg-type]


def trained(mode: DialMode = DialMode.PREDICTIVE, live_every: int = 4, **config: object) -> PacingState:
    """A state that has seen a 25 % live list, ~8 s answers and 120 s talk times."""
    s = state(mode, **config)
    for i in range(400):
        live = i % live_every == 0
        s.observe(DialResult(needs_agent=live, seconds=6.0 + (i % 5) if live else 20.0))
    for i in range(200):
        s.observe(CallHandled(talk_seconds=90.0 + (i % 60), wrapup_seconds=10.0))
    return s


@pytest.mark.parametrize(
    ("mode", "snapshot", "lines", "reason"),
    [
        (DialMode.PREDICTIVE, PacingSnapshot(), 0, "no agents logged in"),
        (DialMode.PROGRESSIVE, PacingSnapshot(), 0, "no agents logged in"),
        (DialMode.PREDICTIVE, PacingSnapshot(agents=(PAUSED, PAUSED)), 0, "all agents paused"),
        (DialMode.PROGRESSIVE, PacingSnapshot(agents=(READY, READY, READY), ringing=(3.0,)), 2, "progressive"),
        (DialMode.PROGRESSIVE, PacingSnapshot(agents=(READY, READY), waiting=1), 1, "progressive"),
        (DialMode.PROGRESSIVE, PacingSnapshot(agents=(READY, TALKING_LONG), ringing=(1.0, 2.0)), 0, "none"),
        (DialMode.PROGRESSIVE, PacingSnapshot(agents=(READY,) * 5, contacts_ready=2), 2, "only 2 contacts"),
        (DialMode.PREVIEW, PacingSnapshot(agents=(READY, READY, TALKING_LONG)), 0, "preview"),
        (DialMode.PREDICTIVE, PacingSnapshot(agents=(TALKING_NEW,) * 4), 0, "P(no agent free)"),
    ],
)
def test_decisions(mode: DialMode, snapshot: PacingSnapshot, lines: int, reason: str) -> None:
    decision = state(mode).decide(snapshot, now=0.0)
    assert decision.lines_to_dial == lines
    assert reason in decision.reason


def test_preview_offers_a_contact_to_each_ready_agent() -> None:
    decision = state(DialMode.PREVIEW).decide(PacingSnapshot(agents=(READY, READY, TALKING_LONG)), 0.0)
    assert decision.previews_to_offer == 2 and decision.lines_to_dial == 0


def test_agentless_keeps_its_lines_busy_without_agents() -> None:
    s = state(DialMode.AGENTLESS, agentless_lines=10)
    assert s.decide(PacingSnapshot(ringing=(1.0,) * 3, playing=4), 0.0).lines_to_dial == 3
    assert s.decide(PacingSnapshot(ringing=(1.0,) * 6, playing=4), 1.0).lines_to_dial == 0


def test_predictive_overdials_when_agents_are_free() -> None:
    decision = trained().decide(PacingSnapshot(agents=(READY,) * 10), 0.0)
    assert 10 < decision.lines_to_dial <= 30
    assert decision.abandon_risk <= trained().estimates().alpha


def test_predictive_counts_agents_about_to_finish_wrap_up() -> None:
    s = trained()
    ending = AgentView(AgentPhase.WRAPUP, elapsed=9.0, wrapup_remaining=1.0)
    long_wrap = AgentView(AgentPhase.WRAPUP, elapsed=1.0, wrapup_remaining=60.0)
    soon = copy.deepcopy(s).decide(PacingSnapshot(agents=(ending,) * 5), 0.0).lines_to_dial
    later = copy.deepcopy(s).decide(PacingSnapshot(agents=(long_wrap,) * 5), 0.0).lines_to_dial
    assert soon > 0 and later == 0


def test_agents_near_the_end_of_a_call_attract_dials_new_calls_do_not() -> None:
    s = trained()
    for _ in range(600):     # wrap-up now takes no time, so a talking agent can be free within the horizon
        s.observe(CallHandled(talk_seconds=150.0, wrapup_seconds=0.0))
    near_end = copy.deepcopy(s).decide(PacingSnapshot(agents=(AgentView(AgentPhase.TALKING, 148.0),) * 10), 0.0)
    just_started = copy.deepcopy(s).decide(PacingSnapshot(agents=(TALKING_NEW,) * 10), 0.0)
    assert near_end.lines_to_dial > just_started.lines_to_dial == 0


def test_a_lower_answer_rate_means_more_lines_per_free_agent() -> None:
    snapshot = PacingSnapshot(agents=(READY,) * 3 + (TALKING_LONG,) * 7)
    rich = trained(live_every=2).decide(snapshot, 0.0).lines_to_dial
    poor = trained(live_every=10).decide(snapshot, 0.0).lines_to_dial
    assert poor > rich


def test_governor_learns_from_abandons() -> None:
    snapshot = PacingSnapshot(agents=(READY,) * 6 + (TALKING_LONG,) * 4)
    calm, burnt = trained(), trained()
    for _ in range(300):
        calm.observe(LiveCallFate(abandoned=False))
    for i in range(300):
        burnt.observe(LiveCallFate(abandoned=i % 5 == 0))
    assert calm.estimates().alpha > burnt.estimates().alpha
    assert calm.decide(snapshot, 0.0).lines_to_dial > burnt.decide(snapshot, 0.0).lines_to_dial


def test_at_the_abandon_limit_the_engine_stops_overdialling() -> None:
    snapshot = PacingSnapshot(agents=(READY,) * 4 + (TALKING_LONG,) * 6, abandoned=40, live=1000)
    decision = trained().decide(snapshot, 0.0)
    assert decision.lines_to_dial == 4
    assert "no overdial" in decision.reason


def test_dial_rate_limit() -> None:
    s = PacingState(PacingConfig(mode=DialMode.PROGRESSIVE, max_dials_per_second=2.0))
    snapshot = PacingSnapshot(agents=(READY,) * 10)
    assert s.decide(snapshot, 100.0).lines_to_dial == 2
    limited = s.decide(snapshot, 100.2)
    assert limited.lines_to_dial == 0 and "dial rate limited" in limited.reason
    assert s.decide(snapshot, 101.2).lines_to_dial == 2


def test_the_engine_is_deterministic() -> None:
    snapshots = [PacingSnapshot(agents=(READY,) * (i % 4) + (TALKING_LONG,) * 5, ringing=(float(i % 7),))
                 for i in range(50)]
    a, b = trained(), trained()
    assert [a.decide(s, float(i)) for i, s in enumerate(snapshots)] == [
        b.decide(s, float(i)) for i, s in enumerate(snapshots)]


def test_config_is_validated() -> None:
    with pytest.raises(ValueError):
        PacingConfig(max_lines_per_agent=0.5)
    with pytest.raises(ValueError):
        PacingConfig(abandon_limit=0.0)


# -- properties --------------------------------------------------------------------

AGENTS = st.one_of(
    st.builds(AgentView, st.just(AgentPhase.READY)),
    st.builds(AgentView, st.just(AgentPhase.PAUSED)),
    st.builds(AgentView, st.just(AgentPhase.RESERVED)),
    st.builds(AgentView, st.just(AgentPhase.TALKING), st.floats(0, 900)),
    st.builds(AgentView, st.just(AgentPhase.WRAPUP), st.floats(0, 60),
              st.one_of(st.none(), st.floats(0, 60))),
)


@st.composite
def snapshots(draw: st.DrawFn, max_agents: int = 25) -> PacingSnapshot:
    live = draw(st.integers(0, 3000))
    return PacingSnapshot(
        agents=tuple(draw(st.lists(AGENTS, max_size=max_agents))),
        ringing=tuple(draw(st.lists(st.floats(0, 40), max_size=60))),
        waiting=draw(st.integers(0, 3)),
        contacts_ready=draw(st.integers(0, 500)),
        abandoned=draw(st.integers(0, live)),
        live=live,
    )


MODES = st.sampled_from([DialMode.PREDICTIVE, DialMode.PROGRESSIVE, DialMode.PREVIEW])
CAPS = st.sampled_from([1.0, 1.5, 2.0, 3.0, 5.0])
TRAINED = trained()


@settings(max_examples=300, deadline=None)
@given(snapshot=snapshots(), mode=MODES, cap=CAPS)
def test_lines_never_exceed_the_cap_times_working_agents(snapshot: PacingSnapshot, mode: DialMode,
                                                          cap: float) -> None:
    decision = trained(mode, max_lines_per_agent=cap).decide(snapshot, 0.0)
    working = sum(1 for a in snapshot.agents if a.phase is not AgentPhase.PAUSED)
    assert 0 <= decision.lines_to_dial <= math.floor(cap * working)
    outstanding = len(snapshot.ringing) + snapshot.waiting
    assert decision.lines_to_dial + outstanding <= max(outstanding, math.floor(cap * working))
    assert decision.lines_to_dial <= snapshot.contacts_ready


@settings(max_examples=200, deadline=None)
@given(snapshot=snapshots(), mode=MODES)
def test_never_dials_without_working_agents(snapshot: PacingSnapshot, mode: DialMode) -> None:
    nobody = PacingSnapshot(agents=tuple(a for a in snapshot.agents if a.phase is AgentPhase.PAUSED),
                            ringing=snapshot.ringing, waiting=snapshot.waiting)
    decision = copy.deepcopy(TRAINED).decide(nobody, 0.0) if mode is DialMode.PREDICTIVE \
        else trained(mode).decide(nobody, 0.0)
    assert decision.lines_to_dial == 0 and decision.previews_to_offer == 0


@settings(max_examples=300, deadline=None)
@given(snapshot=snapshots(), extra=st.integers(1, 200))
def test_backs_off_as_the_abandon_rate_nears_the_limit(snapshot: PacingSnapshot, extra: int) -> None:
    worse = PacingSnapshot(agents=snapshot.agents, ringing=snapshot.ringing, waiting=snapshot.waiting,
                           contacts_ready=snapshot.contacts_ready, abandoned=snapshot.abandoned + extra,
                           live=snapshot.live + extra)
    before = copy.deepcopy(TRAINED).decide(snapshot, 0.0)
    after = copy.deepcopy(TRAINED).decide(worse, 0.0)
    assert after.lines_to_dial <= before.lines_to_dial


@settings(max_examples=300, deadline=None)
@given(snapshot=snapshots())
def test_predictive_is_never_below_progressive(snapshot: PacingSnapshot) -> None:
    predictive = copy.deepcopy(TRAINED).decide(snapshot, 0.0).lines_to_dial
    progressive = trained(DialMode.PROGRESSIVE).decide(snapshot, 0.0).lines_to_dial
    assert predictive >= progressive


@settings(max_examples=300, deadline=None)
@given(snapshot=snapshots(), age=st.floats(0, 40))
def test_another_call_ringing_never_means_more_dials(snapshot: PacingSnapshot, age: float) -> None:
    busier = PacingSnapshot(agents=snapshot.agents, ringing=(*snapshot.ringing, age), waiting=snapshot.waiting,
                            contacts_ready=snapshot.contacts_ready, abandoned=snapshot.abandoned, live=snapshot.live)
    assert copy.deepcopy(TRAINED).decide(busier, 0.0).lines_to_dial <= \
        copy.deepcopy(TRAINED).decide(snapshot, 0.0).lines_to_dial
