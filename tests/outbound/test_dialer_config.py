"""A campaign's run-time settings, its live figures and the pacing snapshot (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.agent_states import AgentState
from cti.agents import Agent
from outbound.abandon import AbandonRate, CallCounts
from outbound.campaign_config import (
    DEFAULT_DISPOSITIONS,
    check_caller_id,
    check_settings,
    cron_fields,
    load_config,
    split_settings,
)
from outbound.campaign_run import CampaignRun, agent_view
from outbound.campaign_states import CampaignState
from outbound.campaign_stats import FinishEstimator, LineCounts, OccupancyMeter, live_figures
from outbound.errors import CampaignSettingsError
from outbound.line_states import LinePhase
from outbound.lines import Line
from outbound.pacing import AgentPhase, AgentView, DialDecision, DialMode, PacingState
from outbound.retries import CallOutcome
from outbound.windows import CallingWindow


def row(**overrides: Any) -> dict[str, Any]:
    return {"id": 7, "name": "spring", "display_name": "", "state": "draft", "mode": "progressive",
            "compliance_profile": "default", "queue_name": "sales", "caller_id_number": "+442071234567",
            "caller_id_name": "", "settings": {}, "starts_at": None, "ends_at": None, **overrides}


def test_defaults() -> None:
    config = load_config(row(), site_zone="Europe/London")
    assert config.runtime.priority == 100 and config.runtime.schedule == ()
    assert config.runtime.dispositions == DEFAULT_DISPOSITIONS
    assert config.runtime.messages.abandon == "cti/outbound_abandon.wav"
    assert config.rules.default_zone == "Europe/London" and config.display_name == "spring"
    assert config.problems() == [] and config.state is CampaignState.DRAFT


@pytest.mark.parametrize(("settings", "field"), [
    ({"schedule": {"days": []}}, "schedule"),
    ({"schedule": [{"days": ["mon"], "start": "9:00", "end": "17:00"}]}, "schedule.0.start"),
    ({"schedule": [{"days": ["monday"], "start": "09:00", "end": "17:00"}]}, "schedule.0.days"),
    ({"schedule": [{"start": "09:00", "end": "09:00"}]}, "schedule.0"),
    ({"messages": {"abandon": "has space.wav"}}, "messages.abandon"),
    ({"messages": {"greeting": "x.wav"}}, "messages.greeting"),
    ({"dispositions": [{"code": "Sale!"}]}, "dispositions.0.code"),
    ({"dispositions": [{"code": "a"}, {"code": "a"}]}, "dispositions.1.code"),
    ({"dispositions": [{"code": "a", "outcome": "busy"}]}, "dispositions.0.outcome"),
    ({"skills": {"english": 11}}, "skills.english"),
    ({"priority": 101}, "priority"),
    ({"script": 5}, "script"),
    ({"ring_seconds": 10}, "ring_seconds"),          # the dial rules are checked too
    ({"colour": "red"}, "colour"),
])
def test_a_bad_setting_names_its_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(CampaignSettingsError) as caught:
        check_settings("progressive", "default", settings, site_zone="UTC")
    assert caught.value.field == field


def test_runtime_keys_are_split_from_the_dial_rules() -> None:
    dial, runtime = split_settings({"ring_seconds": 20, "script": "hi", "schedule": []})
    assert dial == {"ring_seconds": 20} and runtime == {"script": "hi", "schedule": []}


def test_dispositions_map_to_contact_outcomes() -> None:
    _rules, runtime = check_settings("progressive", "default", {"dispositions": [
        {"code": "sale", "label": "Sale"}, {"code": "cb", "label": "Later", "outcome": "callback"},
        {"code": "dnc", "label": "Stop", "outcome": "do_not_call"}]}, site_zone="UTC")
    assert runtime.disposition_outcome("sale") is CallOutcome.CONNECTED
    assert runtime.disposition_outcome("cb") is CallOutcome.CALLBACK
    assert runtime.disposition_outcome("dnc") is CallOutcome.DO_NOT_CALL
    assert runtime.disposition_outcome("anything else") is CallOutcome.CONNECTED


def test_schedule_windows_in_the_campaign_zone() -> None:
    config = load_config(row(settings={"timezone": "Asia/Shanghai", "schedule": [
        {"days": ["mon", "tue"], "start": "09:00", "end": "12:00"}]}), site_zone="UTC")
    monday_10_shanghai = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert config.in_schedule(monday_10_shanghai)
    assert not config.in_schedule(datetime(2026, 11, 23, 5, 0, tzinfo=UTC))       # 13:00 there
    assert not config.in_schedule(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))       # a Wednesday


@pytest.mark.parametrize(("window", "opens", "closes"), [
    (CallingWindow(time(9, 0), time(17, 30), frozenset({0, 4})),
     {"day_of_week": "mon,fri", "hour": 9, "minute": 0}, {"day_of_week": "mon,fri", "hour": 17, "minute": 30}),
    (CallingWindow(time(22, 0), time(2, 0), frozenset({6, 2})),
     {"day_of_week": "wed,sun", "hour": 22, "minute": 0}, {"day_of_week": "mon,thu", "hour": 2, "minute": 0}),
])
def test_cron_fields_of_a_window(window: CallingWindow, opens: dict[str, Any], closes: dict[str, Any]) -> None:
    assert cron_fields(window) == (opens, closes)


def test_what_a_campaign_lacks_to_start() -> None:
    assert load_config(row(queue_name="", caller_id_number=""), site_zone="UTC").problems() == [
        "choose the queue whose agents work this campaign", "set the caller id number the customers will see"]
    assert load_config(row(mode="agentless", queue_name=""), site_zone="UTC").problems() == []


@pytest.mark.parametrize(("number", "name", "field"), [
    ("12ab", "", "caller_id_number"), ("+4420", "Acme, Ltd", "caller_id_name"), ("", "x" * 65, "caller_id_name"),
])
def test_caller_id_checks(number: str, name: str, field: str) -> None:
    with pytest.raises(CampaignSettingsError) as caught:
        check_caller_id(number, name)
    assert caught.value.field == field


# -- live figures ------------------------------------------------------------------------


def test_occupancy_counts_working_time_only() -> None:
    meter = OccupancyMeter()
    assert meter.occupancy is None
    meter.sample([AgentView(AgentPhase.READY), AgentView(AgentPhase.TALKING), AgentView(AgentPhase.PAUSED)], 2.0)
    meter.sample([AgentView(AgentPhase.WRAPUP), AgentView(AgentPhase.TALKING)], 1.0)
    assert meter.occupancy == pytest.approx(4.0 / 6.0)


@given(st.lists(st.tuples(st.lists(st.sampled_from(list(AgentPhase)), max_size=5), st.floats(0, 10)), max_size=20))
def test_occupancy_is_a_share(samples: list[tuple[list[AgentPhase], float]]) -> None:
    meter = OccupancyMeter()
    for phases, seconds in samples:
        meter.sample([AgentView(p) for p in phases], seconds)
    assert meter.occupancy is None or 0.0 <= meter.occupancy <= 1.0


def test_finish_estimate_needs_a_known_rate() -> None:
    finish = FinishEstimator()
    assert finish.estimate(10, 0.0) is None
    finish.start(0.0)
    finish.final(60.0, 2)
    assert finish.estimate(10, 100.0) is None          # too early, too few
    finish.final(200.0, 4)
    assert finish.estimate(30, 300.0) == pytest.approx(30 / (6 / 300.0))
    assert finish.estimate(0, 300.0) == 0.0
    assert finish.estimate(30, 300.0 + 3700.0) is None  # the hour-old finals dropped out


def test_live_figures_shape() -> None:
    figures = live_figures(
        today=CallCounts(dials=10, connected=4, abandoned=1, amd_machine=2), rate=AbandonRate(1, 5), limit=0.03,
        lines=LineCounts(ringing=2), agents=[AgentView(AgentPhase.READY)], occupancy=0.5, contacts={"new": 3},
        contacts_left=3, finish_in=61.4, decision=DialDecision(2, "progressive"), estimates=None,
    )
    assert figures["abandon_rate"] == 0.2 and figures["machines"] == 2 and figures["finish_in_seconds"] == 61
    assert figures["agents"]["ready"] == 1 and figures["lines"]["ringing"] == 2
    assert figures["pacing"]["lines_to_dial"] == 2 and figures["estimates"] is None


# -- the pacing snapshot ------------------------------------------------------------------


@pytest.mark.parametrize(("state", "held", "phase"), [
    (AgentState.AVAILABLE, False, AgentPhase.READY),
    (AgentState.AVAILABLE, True, AgentPhase.RESERVED),
    (AgentState.RESERVED, False, AgentPhase.RESERVED),
    (AgentState.ON_CALL, False, AgentPhase.TALKING),
    (AgentState.IN_CONSULT, False, AgentPhase.TALKING),
    (AgentState.NOT_READY, False, AgentPhase.PAUSED),
])
def test_agent_view(state: AgentState, held: bool, phase: AgentPhase) -> None:
    view = agent_view(Agent(1, state, since=90.0), 100.0, held=held)
    assert view is not None and view.phase is phase and view.elapsed == 10.0


def test_agent_view_of_wrapup_and_logged_out() -> None:
    view = agent_view(Agent(1, AgentState.WRAP_UP, since=90.0, wrapup_ends_at=104.0), 100.0)
    assert view == AgentView(AgentPhase.WRAPUP, 10.0, 4.0)
    assert agent_view(Agent(1), 100.0) is None


def test_snapshot_counts_paced_lines_only() -> None:
    config = load_config(row(mode="predictive"), site_zone="UTC")
    run = CampaignRun(config, PacingState(config.rules.pacing_config()))
    phases = [LinePhase.RINGING, LinePhase.WAITING, LinePhase.OFFERED, LinePhase.AGENTLESS, LinePhase.CONNECTED]
    for index, phase in enumerate(phases):
        line = Line(7, index, index, "+442071234567", "fs1", "sales", phase=phase, dialled_at=90.0)
        run.lines[line.uuid] = line
    reserved = Line(7, 9, 9, "+442071234567", "fs1", "sales", phase=LinePhase.RINGING, agent_leg="x", agent_id=3)
    run.lines[reserved.uuid] = reserved
    run.rate = AbandonRate(1.0, 20.0)
    snap = run.snapshot([AgentView(AgentPhase.READY)], 100.0, 50)
    assert snap.ringing == (10.0,) and snap.waiting == 2 and snap.playing == 1
    assert (snap.abandoned, snap.live, snap.contacts_ready) == (1.0, 20.0, 50)
    assert run.line_counts() == LineCounts(ringing=2, waiting=2, connected=1, playing=1)
    assert config.mode is DialMode.PREDICTIVE


@pytest.mark.parametrize(("cap", "dialled", "wanted", "lines"), [
    (None, 10_000, 5, 5), (100, 90, 5, 5), (100, 98, 5, 2), (100, 100, 5, 0), (100, 120, 5, 0),
])
def test_the_daily_cap_trims_the_pacing(cap: int | None, dialled: int, wanted: int, lines: int) -> None:
    _rules, runtime = check_settings("progressive", "default", {} if cap is None else {"daily_dials": cap},
                                     site_zone="UTC")
    decided = runtime.within_daily_cap(DialDecision(wanted, "progressive"), dialled)
    assert decided.lines_to_dial == lines
    assert ("daily cap" in decided.reason) == (lines < wanted)
