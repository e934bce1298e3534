"""A campaign's settings (the ``settings`` JSON of ``outbound_campaigns``), validated once.

:func:`parse_campaign` turns the stored JSON plus the campaign's ``mode`` and
``compliance_profile`` columns into a frozen :class:`CampaignRules` that the dialer
passes around; a wrong value raises :class:`CampaignSettingsError` naming the field
and what to change. Every key is optional::

    {
      "timezone": "America/New_York",      # zone for numbers whose zone is unknown (default: the site's)
      "window": {"start": "08:00", "end": "21:00", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
      "ring_seconds": 25,                  # at least the rule set's minimum (15 s)
      "max_lines_per_agent": 3,
      "abandon_limit": 0.03,               # may be stricter than the rule set, never looser
      "max_dials_per_second": 10,
      "amd": {"enabled": false, "machine_action": "hang_up", "false_positive_rate": 0.0},
      "retries": {"no_answer": {"delay_minutes": 120, "max_attempts": 4}},
      "max_attempts": 6,
      "max_attempts_per_day": 3,
      "agentless": {"lines": 10, "collect_digit": false}
    }
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from outbound.compliance import ComplianceProfile, DialRules, MachineAction, get_profile
from outbound.errors import CampaignSettingsError
from outbound.pacing import DialMode, PacingConfig
from outbound.phone import is_known_zone
from outbound.retries import DEFAULT_RULES, CallOutcome, RetryPolicy, RetryRule
from outbound.windows import CallingWindow

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_KEYS = frozenset({
    "timezone", "window", "ring_seconds", "max_lines_per_agent", "abandon_limit", "max_dials_per_second",
    "amd", "retries", "max_attempts", "max_attempts_per_day", "agentless",
})
_OUTCOMES = {o.value: o for o in DEFAULT_RULES}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class CampaignRules:
    """Everything the dialer needs to know about how a campaign may dial."""

    mode: DialMode
    profile: ComplianceProfile
    default_zone: str
    window: CallingWindow
    ring_seconds: int
    max_lines_per_agent: float
    abandon_limit: float
    max_dials_per_second: float
    amd_enabled: bool
    machine_action: MachineAction
    amd_false_positive_rate: float
    retry: RetryPolicy
    max_attempts_per_day: int
    agentless_lines: int
    collect_digit: bool

    def pacing_config(self) -> PacingConfig:
        return PacingConfig(
            mode=self.mode,
            max_lines_per_agent=self.max_lines_per_agent,
            abandon_limit=self.abandon_limit,
            max_dials_per_second=self.max_dials_per_second,
            agentless_lines=self.agentless_lines,
        )

    def dial_rules(self) -> DialRules:
        return DialRules(self.profile, self.window, self.max_attempts_per_day)


def parse_campaign(mode: str, profile_name: str, settings: Mapping[str, Any], *, site_zone: str) -> CampaignRules:
    """Validate a campaign's mode, rule set and settings JSON."""
    try:
        dial_mode = DialMode(mode)
    except ValueError:
        raise CampaignSettingsError("mode", f"unknown mode {mode!r}; choose one of "
                                    + ", ".join(m.value for m in DialMode)) from None
    profile = get_profile(profile_name)
    unknown = sorted(set(settings) - _KEYS)
    if unknown:
        raise CampaignSettingsError(unknown[0], f"unknown setting; known ones are {', '.join(sorted(_KEYS))}")
    zone = settings.get("timezone", site_zone)
    if not isinstance(zone, str) or not is_known_zone(zone):
        raise CampaignSettingsError("timezone", f"expected an IANA zone such as Europe/London, got {zone!r}")
    amd = _section(settings, "amd")
    agentless = _section(settings, "agentless")
    return CampaignRules(
        mode=dial_mode,
        profile=profile,
        default_zone=zone,
        window=_window(_section(settings, "window")),
        ring_seconds=int(_number(settings, "ring_seconds", 25, profile.min_ring_seconds, 120)),
        max_lines_per_agent=_number(settings, "max_lines_per_agent", 3.0, 1.0, 10.0),
        abandon_limit=_number(settings, "abandon_limit", profile.abandon_limit, 0.001, profile.abandon_limit),
        max_dials_per_second=_number(settings, "max_dials_per_second", 10.0, 0.1, 200.0),
        amd_enabled=bool(amd.get("enabled", False)),
        machine_action=_choice(amd, "amd.machine_action", "machine_action", MachineAction, MachineAction.HANG_UP),
        amd_false_positive_rate=_number(amd, "false_positive_rate", 0.0, 0.0, 1.0, prefix="amd."),
        retry=RetryPolicy(_retries(_section(settings, "retries")),
                          int(_number(settings, "max_attempts", 6, 1, 100))),
        max_attempts_per_day=int(_number(settings, "max_attempts_per_day", 3, 1, 50)),
        agentless_lines=int(_number(agentless, "lines", 10, 1, 1000, prefix="agentless.")),
        collect_digit=bool(agentless.get("collect_digit", False)),
    )


def _section(settings: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = settings.get(key, {})
    if not isinstance(value, Mapping):
        raise CampaignSettingsError(key, "expected an object")
    return value


def _number(
    section: Mapping[str, Any], key: str, default: float, low: float, high: float, *, prefix: str = ""
) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise CampaignSettingsError(prefix + key, f"expected a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _choice(section: Mapping[str, Any], field: str, key: str, kind: type[MachineAction],
            default: MachineAction) -> MachineAction:
    value = section.get(key, default.value)
    try:
        return kind(value)
    except ValueError:
        raise CampaignSettingsError(field, f"expected one of {', '.join(m.value for m in kind)}, got {value!r}") from None


def _clock(section: Mapping[str, Any], key: str, default: str) -> time:
    value = section.get(key, default)
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise CampaignSettingsError(f"window.{key}", f"expected a 24-hour time such as 08:00, got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _window(section: Mapping[str, Any]) -> CallingWindow:
    days = section.get("days", list(_DAYS))
    if not isinstance(days, list) or not days or any(d not in _DAYS for d in days):
        raise CampaignSettingsError("window.days", f"expected a list of days from {', '.join(_DAYS)}, got {days!r}")
    start, end = _clock(section, "start", "08:00"), _clock(section, "end", "21:00")
    if start == end:
        raise CampaignSettingsError("window", "start and end must differ")
    return CallingWindow(start, end, frozenset(_DAYS.index(d) for d in days))


def _retries(section: Mapping[str, Any]) -> dict[CallOutcome, RetryRule]:
    rules = dict(DEFAULT_RULES)
    for name, rule in section.items():
        outcome = _OUTCOMES.get(name)
        if outcome is None or not isinstance(rule, Mapping):
            raise CampaignSettingsError(f"retries.{name}", "expected one of "
                                        + ", ".join(o.value for o in DEFAULT_RULES) + " with an object")
        field, base = f"retries.{name}.", DEFAULT_RULES[outcome]
        minutes = _number(rule, "delay_minutes", base.delay / timedelta(minutes=1), 0, 60 * 24 * 30, prefix=field)
        attempts = int(_number(rule, "max_attempts", base.max_attempts, 1, 100, prefix=field))
        rules[outcome] = RetryRule(timedelta(minutes=minutes), attempts)
    return rules
