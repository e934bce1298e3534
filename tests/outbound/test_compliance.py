"""The check before each dial (DNC, windows, daily cap, the UK redial rules), AMD handling
and the timing rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from outbound.compliance import (
    PROFILES,
    AmdResult,
    AnswerAction,
    DialContext,
    DialRules,
    MachineAction,
    Refusal,
    abandon_deadline,
    evaluate_dial,
    get_profile,
    on_answer,
    ring_timeout,
)
from outbound.errors import CampaignSettingsError
from outbound.windows import CallingWindow

LONDON = ZoneInfo("Europe/London")
NOON = datetime(2026, 6, 3, 12, 0, tzinfo=LONDON)
DEFAULT = DialRules(PROFILES["default"], CallingWindow(), max_attempts_per_day=3)
UK = DialRules(PROFILES["uk_ofcom"], CallingWindow(), max_attempts_per_day=3)


def ctx(**changes: object) -> DialContext:
    base: dict[str, object] = {"e164": "+447911123456", "zones": ("Europe/London",), "now": NOON}
    base.update(changes)
    return DialContext(**base)  # type: ignore[arg-type]


def test_a_clean_contact_in_the_window_may_be_dialled() -> None:
    verdict = evaluate_dial(ctx(), DEFAULT)
    assert verdict.allowed and verdict.reason == "allowed" and verdict.not_before is None


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"on_global_dnc": True}, Refusal.GLOBAL_DNC),
        ({"on_campaign_dnc": True}, Refusal.CAMPAIGN_DNC),
    ],
)
def test_dnc_hits_are_final(changes: dict[str, object], refusal: Refusal) -> None:
    verdict = evaluate_dial(ctx(**changes), DEFAULT)
    assert not verdict.allowed and verdict.final
    assert verdict.refusals == (refusal,)
    assert verdict.not_before is None
    assert refusal.value in verdict.reason


def test_dnc_wins_even_with_a_reserved_agent_and_inside_the_window() -> None:
    verdict = evaluate_dial(ctx(on_global_dnc=True, agent_reserved=True), UK)
    assert verdict.final and verdict.not_before is None


def test_outside_the_window_waits_for_the_next_opening() -> None:
    evening = datetime(2026, 6, 3, 21, 30, tzinfo=LONDON)
    verdict = evaluate_dial(ctx(now=evening), DEFAULT)
    assert verdict.refusals == (Refusal.OUTSIDE_WINDOW,)
    assert verdict.not_before == datetime(2026, 6, 4, 8, 0, tzinfo=LONDON)


def test_window_is_the_contacts_local_time_not_ours() -> None:
    # 12:00 in London is 04:00 in Los Angeles.
    verdict = evaluate_dial(ctx(e164="+14155550100", zones=("America/Los_Angeles",)), DEFAULT)
    assert verdict.refusals == (Refusal.OUTSIDE_WINDOW,)
    assert verdict.not_before == datetime(2026, 6, 3, 8, 0, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_daily_cap_waits_for_the_next_local_day_and_window() -> None:
    verdict = evaluate_dial(ctx(attempts_today=3), DEFAULT)
    assert verdict.refusals == (Refusal.DAILY_CAP,)
    assert verdict.not_before == datetime(2026, 6, 4, 8, 0, tzinfo=LONDON)
    assert evaluate_dial(ctx(attempts_today=2), DEFAULT).allowed


def test_uk_no_redial_within_72_hours_of_an_abandoned_call_without_a_reserved_agent() -> None:
    abandoned = NOON - timedelta(hours=24)
    verdict = evaluate_dial(ctx(last_abandoned_at=abandoned), UK)
    assert verdict.refusals == (Refusal.ABANDONED_RECENTLY,)
    assert verdict.needs_reserved_agent
    assert verdict.not_before == abandoned + timedelta(hours=72)   # noon on the 5th: inside the window
    reserved = evaluate_dial(ctx(last_abandoned_at=abandoned, agent_reserved=True), UK)
    assert reserved.allowed and reserved.needs_reserved_agent


def test_uk_72_hours_is_exact_and_then_the_window_applies() -> None:
    abandoned = datetime(2026, 6, 1, 22, 0, tzinfo=LONDON)      # 72 h later is 22:00, after the window
    just_before = evaluate_dial(ctx(now=abandoned + timedelta(hours=72) - timedelta(seconds=1),
                                    last_abandoned_at=abandoned), UK)
    assert Refusal.ABANDONED_RECENTLY in just_before.refusals
    assert just_before.not_before == datetime(2026, 6, 5, 8, 0, tzinfo=LONDON)
    later = evaluate_dial(ctx(now=datetime(2026, 6, 5, 8, 0, tzinfo=LONDON), last_abandoned_at=abandoned), UK)
    assert later.allowed


def test_uk_answer_machine_means_no_automatic_redial_for_24_hours() -> None:
    machine = NOON - timedelta(hours=2)
    verdict = evaluate_dial(ctx(last_machine_at=machine), UK)
    assert verdict.refusals == (Refusal.MACHINE_RECENTLY,)
    assert verdict.not_before == machine + timedelta(hours=24)
    assert evaluate_dial(ctx(last_machine_at=NOON - timedelta(hours=24)), UK).allowed


def test_default_profile_has_no_redial_blocks() -> None:
    verdict = evaluate_dial(ctx(last_abandoned_at=NOON - timedelta(hours=1), last_machine_at=NOON), DEFAULT)
    assert verdict.allowed and not verdict.needs_reserved_agent


def test_refusals_combine_and_the_latest_reopening_wins() -> None:
    evening = datetime(2026, 6, 3, 22, 0, tzinfo=LONDON)
    verdict = evaluate_dial(ctx(now=evening, attempts_today=5, last_machine_at=evening - timedelta(hours=1)), UK)
    assert set(verdict.refusals) == {Refusal.DAILY_CAP, Refusal.MACHINE_RECENTLY, Refusal.OUTSIDE_WINDOW}
    # The machine block ends at 21:00 on the 4th, when the window has just closed.
    assert verdict.not_before == datetime(2026, 6, 5, 8, 0, tzinfo=LONDON)


def test_a_window_that_never_opens_is_final() -> None:
    rules = DialRules(PROFILES["default"], CallingWindow(start=datetime(2026, 1, 1, 9).time(),
                                                          end=datetime(2026, 1, 1, 11).time()), 3)
    verdict = evaluate_dial(ctx(zones=("Asia/Shanghai", "America/New_York"),
                                now=datetime(2026, 6, 3, 5, 0, tzinfo=UTC)), rules)
    assert Refusal.NO_WINDOW in verdict.refusals and verdict.final and verdict.not_before is None


@pytest.mark.parametrize(
    ("amd", "action", "agentless", "expected"),
    [
        (None, MachineAction.HANG_UP, False, AnswerAction.CONNECT_AGENT),
        (AmdResult.HUMAN, MachineAction.HANG_UP, False, AnswerAction.CONNECT_AGENT),
        (AmdResult.NOTSURE, MachineAction.HANG_UP, False, AnswerAction.CONNECT_AGENT),
        (AmdResult.MACHINE, MachineAction.HANG_UP, False, AnswerAction.HANG_UP),
        (AmdResult.MACHINE, MachineAction.LEAVE_MESSAGE, False, AnswerAction.LEAVE_MESSAGE),
        (AmdResult.MACHINE, MachineAction.PASS_TO_AGENT, False, AnswerAction.CONNECT_AGENT),
        (AmdResult.HUMAN, MachineAction.HANG_UP, True, AnswerAction.PLAY_MESSAGE),
        (AmdResult.MACHINE, MachineAction.LEAVE_MESSAGE, True, AnswerAction.LEAVE_MESSAGE),
        (AmdResult.MACHINE, MachineAction.PASS_TO_AGENT, True, AnswerAction.PLAY_MESSAGE),
    ],
)
def test_answer_handling(amd: AmdResult | None, action: MachineAction, agentless: bool,
                         expected: AnswerAction) -> None:
    assert on_answer(amd, action, agentless=agentless) is expected


@pytest.mark.parametrize(
    ("value", "result"),
    [("HUMAN", AmdResult.HUMAN), ("machine", AmdResult.MACHINE), ("NOTSURE", AmdResult.NOTSURE),
     ("", AmdResult.NOTSURE), (None, AmdResult.NOTSURE), ("HANGUP", AmdResult.NOTSURE)],
)
def test_amd_variable_parsing(value: str | None, result: AmdResult) -> None:
    assert AmdResult.parse(value) is result


def test_timing_rules() -> None:
    for profile in PROFILES.values():
        assert ring_timeout(10, profile) == 15
        assert ring_timeout(30, profile) == 30
        assert abandon_deadline(100.0, profile) == 102.0


def test_profiles() -> None:
    uk = get_profile("uk_ofcom")
    assert uk.ofcom_formula and uk.rolling_days is None and uk.day_zone == "Europe/London"
    assert uk.abandoned_redial_block == timedelta(hours=72)
    default = get_profile("default")
    assert default.rolling_days == 30 and not default.ofcom_formula and default.abandon_limit == 0.03
    with pytest.raises(CampaignSettingsError, match="default, uk_ofcom"):
        get_profile("fcc")
