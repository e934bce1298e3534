"""A campaign as the run-time sees it: its dial rules plus the settings only the
dialer, the scheduler and the agent's page use.

A campaign's ``settings`` JSON (``outbound_campaigns.settings``) holds two groups of
keys. The dial rules -- calling window, ring time, pacing, AMD, retries, caps -- are
:func:`outbound.campaign_settings.parse_campaign`'s. The run-time keys below are this
module's; :func:`check_settings` splits the two and validates both, so a stored
campaign is always checked as one document (callers that write ``settings``, the web
pages and the REST API, must use it rather than ``parse_campaign`` alone, which
refuses keys it does not know)::

    {
      "schedule": [{"days": ["mon", "tue"], "start": "09:00", "end": "17:30"}],
      "messages": {"abandon": "cti/outbound_abandon.wav", "machine": "cti/outbound_machine.wav",
                   "agentless": "cti/outbound_message.wav"},
      "script": "Hello, this is ... calling about ...",
      "dispositions": [{"code": "sale", "label": "Sale", "outcome": "connected"},
                       {"code": "callback", "label": "Call back", "outcome": "callback"}],
      "skills": {"english": 5},
      "priority": 100,
      "daily_dials": 5000
    }

``schedule``
    When the campaign dials, in the campaign's time zone (the rule's ``timezone``):
    windows a week long, cron-like; outside them a running campaign places no calls.
    Empty: whenever it runs. The contact's own calling window (local time of the
    number) applies on top.
``messages``
    Media the switch plays: the abandon message (no agent free within the deadline),
    the message left on answering machines, the agentless message (which asks for a
    digit when ``agentless.collect_digit``).
``dispositions``
    Codes agents choose after a call and what each means for the contact: a final
    ``connected``, a ``callback`` (retried at the callback rule's delay), ``machine``
    (the agent reached an answering machine), ``do_not_call`` (added to the
    campaign's DNC list) or ``invalid_number``. A code not listed is ``connected``.
``skills``
    Skill levels an answered call requires on top of the queue's (routing honours
    them; pacing counts only the agents who have them).
``priority``
    Queue priority of answered calls (0-100, routing's scale): the top by default,
    since a customer we called must reach an agent within seconds.
``daily_dials``
    The campaign's daily cap: no more calls once this many were placed today (the
    rule set's day). The per-contact daily cap is the dial rules' ``max_attempts_per_day``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from esl.commands import playback
from esl.protocol import CommandArgumentError
from outbound.campaign_settings import CampaignRules, parse_campaign
from outbound.campaign_states import CampaignState
from outbound.errors import CampaignSettingsError
from outbound.pacing import DialDecision, DialMode
from outbound.retries import CallOutcome
from outbound.windows import CallingWindow

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RUNTIME_KEYS = frozenset({"schedule", "messages", "script", "dispositions", "skills", "priority", "daily_dials"})
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_CODE = re.compile(r"^[a-z0-9_-]{1,32}$")
_SKILL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")
_MESSAGE_KEYS = ("abandon", "machine", "agentless")
#: Outcomes an agent's disposition may give a contact.
DISPOSITION_OUTCOMES = (CallOutcome.CONNECTED, CallOutcome.CALLBACK, CallOutcome.MACHINE,
                        CallOutcome.DO_NOT_CALL, CallOutcome.INVALID_NUMBER)
MAX_SCRIPT = 20_000


@dataclass(frozen=True)
class Messages:
    abandon: str = "cti/outbound_abandon.wav"
    machine: str = "cti/outbound_machine.wav"
    agentless: str = "cti/outbound_message.wav"


@dataclass(frozen=True)
class Disposition:
    code: str
    label: str
    outcome: CallOutcome


DEFAULT_DISPOSITIONS = (
    Disposition("completed", "Completed", CallOutcome.CONNECTED),
    Disposition("callback", "Call back later", CallOutcome.CALLBACK),
    Disposition("machine", "Answering machine", CallOutcome.MACHINE),
    Disposition("do_not_call", "Do not call again", CallOutcome.DO_NOT_CALL),
    Disposition("wrong_number", "Wrong number", CallOutcome.INVALID_NUMBER),
)


@dataclass(frozen=True)
class RuntimeSettings:
    """The run-time keys of a campaign's settings (see the module docstring)."""

    schedule: tuple[CallingWindow, ...] = ()
    messages: Messages = field(default_factory=Messages)
    script: str = ""
    dispositions: tuple[Disposition, ...] = DEFAULT_DISPOSITIONS
    skills: Mapping[str, int] = field(default_factory=dict)
    priority: int = 100
    daily_dials: int | None = None

    def within_daily_cap(self, decision: DialDecision, dialled_today: int) -> DialDecision:
        """The pacing decision, trimmed to the campaign's daily cap (previews included)."""
        cap = self.daily_dials
        if cap is None or dialled_today + decision.lines_to_dial + decision.previews_to_offer <= cap:
            return decision
        room = max(0, cap - dialled_today)
        return DialDecision(min(decision.lines_to_dial, room), f"{decision.reason}; daily cap of {cap} calls",
                            min(decision.previews_to_offer, room), decision.abandon_risk)

    def disposition_outcome(self, code: str) -> CallOutcome:
        """What an agent's disposition means for the contact (unknown codes: connected)."""
        for disposition in self.dispositions:
            if disposition.code == code:
                return disposition.outcome
        return CallOutcome.CONNECTED


@dataclass(frozen=True)
class CampaignConfig:
    """One campaign row, validated: everything the dialer needs to run it."""

    id: int
    name: str
    display_name: str
    state: CampaignState
    queue: str
    caller_id_number: str
    caller_id_name: str
    rules: CampaignRules
    runtime: RuntimeSettings
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @property
    def mode(self) -> DialMode:
        return self.rules.mode

    @property
    def needs_agents(self) -> bool:
        return self.rules.mode is not DialMode.AGENTLESS

    def problems(self) -> list[str]:
        """What must be fixed before the campaign can dial (empty when it can)."""
        found = []
        if self.needs_agents and not self.queue:
            found.append("choose the queue whose agents work this campaign")
        if not self.caller_id_number:
            found.append("set the caller id number the customers will see")
        return found

    def in_schedule(self, now: datetime) -> bool:
        """Whether ``now`` falls in one of the campaign's dialling windows."""
        if not self.runtime.schedule:
            return True
        local = now.astimezone(ZoneInfo(self.rules.default_zone))
        return any(window.is_open_local(local) for window in self.runtime.schedule)


def cron_fields(window: CallingWindow) -> tuple[dict[str, str | int], dict[str, str | int]]:
    """The cron fields (``day_of_week``, ``hour``, ``minute``) at which a schedule
    window opens and closes. An overnight window closes on the following day."""
    opens = sorted(window.weekdays)
    closes = sorted({(d + 1) % 7 for d in opens}) if window.overnight else opens
    return (
        {"day_of_week": ",".join(DAYS[d] for d in opens), "hour": window.start.hour, "minute": window.start.minute},
        {"day_of_week": ",".join(DAYS[d] for d in closes), "hour": window.end.hour, "minute": window.end.minute},
    )


def split_settings(settings: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the dial-rule keys for ``parse_campaign``, the run-time keys of this module)."""
    dial = {k: v for k, v in settings.items() if k not in RUNTIME_KEYS}
    runtime = {k: v for k, v in settings.items() if k in RUNTIME_KEYS}
    return dial, runtime


def check_settings(
    mode: str, profile: str, settings: Mapping[str, Any], *, site_zone: str
) -> tuple[CampaignRules, RuntimeSettings]:
    """Validate a whole settings document; :class:`CampaignSettingsError` names the field."""
    if not isinstance(settings, Mapping):
        raise CampaignSettingsError("settings", "expected an object")
    dial, runtime = split_settings(settings)
    return parse_campaign(mode, profile, dial, site_zone=site_zone), parse_runtime(runtime)


def load_config(row: Mapping[str, Any], *, site_zone: str) -> CampaignConfig:
    """Build the config of one ``outbound_campaigns`` row (raises on invalid settings)."""
    rules, runtime = check_settings(row["mode"], row["compliance_profile"], row["settings"] or {},
                                    site_zone=site_zone)
    return CampaignConfig(
        id=int(row["id"]),
        name=row["name"],
        display_name=row.get("display_name") or row["name"],
        state=CampaignState(row["state"]),
        queue=row.get("queue_name") or "",
        caller_id_number=row.get("caller_id_number") or "",
        caller_id_name=row.get("caller_id_name") or "",
        rules=rules,
        runtime=runtime,
        starts_at=row.get("starts_at"),
        ends_at=row.get("ends_at"),
    )


def check_caller_id(number: str, name: str) -> None:
    """The caller id shown to customers: digits (optionally +) and a plain-text name."""
    if number and not _NUMBER.match(number):
        raise CampaignSettingsError("caller_id_number", f"expected digits such as +442071234567, got {number!r}")
    if len(name) > 64 or any(c in name for c in "{}[]<>^'\"\\`,$") or any(ord(c) < 32 for c in name):
        raise CampaignSettingsError("caller_id_name", "up to 64 characters without quotes, brackets, commas or $")


# -- the run-time keys ---------------------------------------------------------------


def parse_runtime(settings: Mapping[str, Any]) -> RuntimeSettings:
    script = settings.get("script", "")
    if not isinstance(script, str) or len(script) > MAX_SCRIPT:
        raise CampaignSettingsError("script", f"expected text of at most {MAX_SCRIPT} characters")
    priority = settings.get("priority", 100)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 100:
        raise CampaignSettingsError("priority", f"expected a whole number from 0 to 100, got {priority!r}")
    daily = settings.get("daily_dials")
    if daily is not None and (isinstance(daily, bool) or not isinstance(daily, int) or not 1 <= daily <= 10_000_000):
        raise CampaignSettingsError("daily_dials", f"expected a whole number of calls per day, got {daily!r}")
    return RuntimeSettings(
        schedule=_schedule(settings.get("schedule", [])),
        messages=_messages(settings.get("messages", {})),
        script=script,
        dispositions=_dispositions(settings.get("dispositions")),
        skills=_skills(settings.get("skills", {})),
        priority=priority,
        daily_dials=daily,
    )


def _clock(value: Any, field_name: str) -> time:
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise CampaignSettingsError(field_name, f"expected a 24-hour time such as 09:00, got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _schedule(value: Any) -> tuple[CallingWindow, ...]:
    if not isinstance(value, list):
        raise CampaignSettingsError("schedule", "expected a list of windows {days, start, end}")
    windows = []
    for index, item in enumerate(value):
        where = f"schedule.{index}"
        if not isinstance(item, Mapping):
            raise CampaignSettingsError(where, "expected an object with days, start and end")
        days = item.get("days", list(DAYS))
        if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
            raise CampaignSettingsError(f"{where}.days", f"expected a list of days from {', '.join(DAYS)}, got {days!r}")
        start, end = _clock(item.get("start"), f"{where}.start"), _clock(item.get("end"), f"{where}.end")
        if start == end:
            raise CampaignSettingsError(where, "start and end must differ")
        windows.append(CallingWindow(start, end, frozenset(DAYS.index(d) for d in days)))
    return tuple(windows)


def _messages(value: Any) -> Messages:
    if not isinstance(value, Mapping):
        raise CampaignSettingsError("messages", "expected an object with abandon, machine and agentless")
    unknown = sorted(set(value) - set(_MESSAGE_KEYS))
    if unknown:
        raise CampaignSettingsError(f"messages.{unknown[0]}", f"unknown message; known: {', '.join(_MESSAGE_KEYS)}")
    defaults = Messages()
    chosen = {}
    for key in _MESSAGE_KEYS:
        media = value.get(key, getattr(defaults, key))
        try:
            playback(media if isinstance(media, str) else "")
        except CommandArgumentError:
            raise CampaignSettingsError(f"messages.{key}", "expected a sound file path such as "
                                        f"cti/outbound_abandon.wav (no spaces or quotes), got {media!r}") from None
        chosen[key] = media
    return Messages(**chosen)


def _dispositions(value: Any) -> tuple[Disposition, ...]:
    if value is None:
        return DEFAULT_DISPOSITIONS
    outcomes = {o.value: o for o in DISPOSITION_OUTCOMES}
    if not isinstance(value, list) or not value:
        raise CampaignSettingsError("dispositions", "expected a non-empty list of {code, label, outcome}")
    found: dict[str, Disposition] = {}
    for index, item in enumerate(value):
        where = f"dispositions.{index}"
        if not isinstance(item, Mapping):
            raise CampaignSettingsError(where, "expected an object with code, label and outcome")
        code, label, outcome = item.get("code"), item.get("label", item.get("code")), item.get("outcome", "connected")
        if not isinstance(code, str) or not _CODE.match(code):
            raise CampaignSettingsError(f"{where}.code", "expected lower-case letters, digits, _ or - (up to 32)")
        if code in found:
            raise CampaignSettingsError(f"{where}.code", f"code {code!r} is listed twice")
        if not isinstance(label, str) or not label.strip() or len(label) > 100:
            raise CampaignSettingsError(f"{where}.label", "expected a label of 1 to 100 characters")
        if outcome not in outcomes:
            raise CampaignSettingsError(f"{where}.outcome", f"expected one of {', '.join(outcomes)}, got {outcome!r}")
        found[code] = Disposition(code, label.strip(), outcomes[outcome])
    return tuple(found.values())


def _skills(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise CampaignSettingsError("skills", "expected an object such as {\"english\": 5}")
    skills = {}
    for name, level in value.items():
        if not isinstance(name, str) or not _SKILL.match(name):
            raise CampaignSettingsError("skills", f"skill name {name!r}: letters, digits, _ or -")
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
            raise CampaignSettingsError(f"skills.{name}", f"expected a level from 1 to 10, got {level!r}")
        skills[name] = level
    return skills
