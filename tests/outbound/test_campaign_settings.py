"""A campaign's settings JSON: defaults, validation messages, and what the dialer gets."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest

from outbound.campaign_settings import parse_campaign
from outbound.compliance import MachineAction
from outbound.errors import CampaignSettingsError
from outbound.pacing import DialMode
from outbound.retries import CallOutcome


def test_defaults() -> None:
    rules = parse_campaign("predictive", "default", {}, site_zone="Asia/Shanghai")
    assert rules.mode is DialMode.PREDICTIVE and rules.default_zone == "Asia/Shanghai"
    assert (rules.window.start, rules.window.end, rules.window.weekdays) == (time(8), time(21), frozenset(range(7)))
    assert rules.ring_seconds == 25 and rules.max_lines_per_agent == 3.0 and rules.abandon_limit == 0.03
    assert not rules.amd_enabled and rules.machine_action is MachineAction.HANG_UP
    config = rules.pacing_config()
    assert config.mode is DialMode.PREDICTIVE and config.max_lines_per_agent == 3.0
    assert rules.dial_rules().max_attempts_per_day == 3


def test_everything_set() -> None:
    settings: dict[str, Any] = {
        "timezone": "Europe/London",
        "window": {"start": "09:30", "end": "20:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
        "ring_seconds": 20,
        "max_lines_per_agent": 2.5,
        "abandon_limit": 0.02,
        "max_dials_per_second": 5,
        "amd": {"enabled": True, "machine_action": "leave_message", "false_positive_rate": 0.03},
        "retries": {"no_answer": {"delay_minutes": 30}, "busy": {"max_attempts": 2}},
        "max_attempts": 4,
        "max_attempts_per_day": 2,
        "agentless": {"lines": 40, "collect_digit": True},
    }
    rules = parse_campaign("agentless", "uk_ofcom", settings, site_zone="UTC")
    assert rules.window.weekdays == frozenset(range(5)) and rules.window.start == time(9, 30)
    assert rules.profile.name == "uk_ofcom" and rules.abandon_limit == 0.02
    assert rules.machine_action is MachineAction.LEAVE_MESSAGE and rules.amd_false_positive_rate == 0.03
    assert rules.retry.rules[CallOutcome.NO_ANSWER].delay == timedelta(minutes=30)
    assert rules.retry.rules[CallOutcome.NO_ANSWER].max_attempts == 4          # default kept
    assert rules.retry.rules[CallOutcome.BUSY].max_attempts == 2
    assert rules.retry.max_attempts == 4 and rules.max_attempts_per_day == 2
    assert rules.agentless_lines == 40 and rules.collect_digit
    assert rules.pacing_config().agentless_lines == 40


@pytest.mark.parametrize(
    ("mode", "profile", "settings", "field", "hint"),
    [
        ("robocall", "default", {}, "mode", "predictive, progressive, preview, agentless"),
        ("predictive", "fcc", {}, "compliance_profile", "default, uk_ofcom"),
        ("predictive", "default", {"ring_secs": 20}, "ring_secs", "known ones are"),
        ("predictive", "default", {"ring_seconds": 10}, "ring_seconds", "from 15 to 120"),
        ("predictive", "default", {"abandon_limit": 0.05}, "abandon_limit", "from 0.001 to 0.03"),
        ("predictive", "default", {"max_lines_per_agent": 12}, "max_lines_per_agent", "from 1 to 10"),
        ("predictive", "default", {"max_lines_per_agent": True}, "max_lines_per_agent", "expected a number"),
        ("predictive", "default", {"timezone": "Moon/Base"}, "timezone", "IANA zone"),
        ("predictive", "default", {"window": {"start": "8am"}}, "window.start", "24-hour time"),
        ("predictive", "default", {"window": {"start": "09:00", "end": "09:00"}}, "window", "must differ"),
        ("predictive", "default", {"window": {"days": ["monday"]}}, "window.days", "mon, tue"),
        ("predictive", "default", {"window": []}, "window", "expected an object"),
        ("predictive", "default", {"amd": {"machine_action": "shout"}}, "amd.machine_action", "hang_up"),
        ("predictive", "default", {"amd": {"false_positive_rate": 2}}, "amd.false_positive_rate", "0 to 1"),
        ("predictive", "default", {"retries": {"connected": {}}}, "retries.connected", "no_answer"),
        ("predictive", "default", {"retries": {"busy": {"delay_minutes": -5}}}, "retries.busy.delay_minutes", "from 0"),
    ],
)
def test_mistakes_name_the_field_and_what_to_change(mode: str, profile: str, settings: dict[str, Any],
                                                    field: str, hint: str) -> None:
    with pytest.raises(CampaignSettingsError) as info:
        parse_campaign(mode, profile, settings, site_zone="UTC")
    assert info.value.field == field
    assert hint in info.value.message
    assert info.value.error_id == "invalid-campaign-settings"
