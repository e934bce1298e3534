"""Queue rules: parsed and validated from the ``queues.settings`` JSON column.

Rules are data so new ones need no schema change; every field is checked here, once,
when the rules are loaded (``cti provision`` and the engine use the same code), and a
mistake raises :class:`~routing.errors.QueueConfigError` naming the queue and the
field. Unknown fields are errors too: a typo must not silently mean "default".

Settings (all optional; defaults in brackets)::

    strategy: longest_idle | least_talk_time | round_robin | skills_best_match | ring_all
    skills: {billing: 5, french: {min_level: 7, relax: [{after: 60, min_level: 4}]}}
    priority: 0..100 [0]                 aging_per_minute: 0.01..100 [1.0]
    max_wait: seconds                     max_length: calls
    overflow: "queue:NAME" | "voicemail:BOX" | "flow:NAME" | "number:+E164"
    calendar: NAME                        closed: target as overflow [= overflow]
    ring_timeout: 5..300 [20]             rona_not_ready: bool [true]
    wrapup: 0..3600 [10]                  sticky_agent: {window: s [604800], wait: s [10]}
    announce_agent: {prompt: FILE}        callback: {after: s [60], digit: "1", prompt: FILE}
    comfort: {every: s, prompt: FILE}
    announce: {every: s, position: bool, ewt: bool, position_prompt: FILE,
               ewt_prompt: FILE, minutes_prompt: FILE}
    recording: always | never | agent_choice [never]
    voicemail_box: BOX ["queue:<name>"]   disposition_required: bool [false]
    service_level: 1..600 [20]            screen_pop_url / crm_lookup_url: URL template
    transfers_keep_wait: bool [true]      a call an agent transfers here ranks by its first
                                          arrival (false: as a new arrival)

Who may take a call: an agent who is a member of the queue (``queue_agents``) AND
meets every required skill at the level in force for that call (levels relax with the
call's wait), and who is free. Membership decides who works a queue; skills decide
which of its calls they can take.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from routing.errors import QueueConfigError
from routing.steps import prompt_name_problem

__all__ = [
    "CallbackOffer",
    "Comfort",
    "OverflowTarget",
    "PositionAnnouncement",
    "QueueConfigError",
    "QueueRules",
    "Recording",
    "SkillRequirement",
    "Sticky",
    "Strategy",
    "URL_FIELDS",
    "parse_queue_rules",
    "render_url",
]


class Strategy(enum.Enum):
    LONGEST_IDLE = "longest_idle"
    LEAST_TALK_TIME = "least_talk_time"
    ROUND_ROBIN = "round_robin"
    SKILLS_BEST_MATCH = "skills_best_match"
    RING_ALL = "ring_all"


class Recording(enum.Enum):
    ALWAYS = "always"
    NEVER = "never"
    AGENT_CHOICE = "agent_choice"


OVERFLOW_KINDS = ("queue", "voicemail", "flow", "number")

#: Placeholders a URL template may use; ``var_<name>`` placeholders are call variables.
URL_FIELDS = frozenset(
    {"interaction_id", "caller_number", "caller_name", "did", "queue", "agent_id", "agent_code", "customer_id"}
)


@dataclass(frozen=True, slots=True)
class SkillRequirement:
    """``skill`` at ``min_level`` or more, relaxing to lower levels as the call waits.

    ``relax`` is ``((after_seconds, min_level), ...)`` sorted by time, levels falling.
    """

    skill: str
    min_level: int
    relax: tuple[tuple[float, int], ...] = ()

    def level_after(self, waited: float) -> int:
        """The minimum level accepted for a call that has waited ``waited`` seconds."""
        level = self.min_level
        for after, relaxed in self.relax:
            if waited >= after:
                level = relaxed
        return level


@dataclass(frozen=True, slots=True)
class OverflowTarget:
    kind: str
    target: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"


@dataclass(frozen=True, slots=True)
class Sticky:
    window: float
    wait: float


@dataclass(frozen=True, slots=True)
class CallbackOffer:
    after: float
    digit: str
    prompt: str


@dataclass(frozen=True, slots=True)
class Comfort:
    every: float
    prompt: str


@dataclass(frozen=True, slots=True)
class PositionAnnouncement:
    every: float
    position: bool
    ewt: bool
    position_prompt: str
    ewt_prompt: str
    minutes_prompt: str


@dataclass(frozen=True, slots=True)
class QueueRules:
    name: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    skills: tuple[SkillRequirement, ...] = ()
    priority: int = 0
    aging_per_minute: float = 1.0
    max_wait: float | None = None
    max_length: int | None = None
    overflow: OverflowTarget | None = None
    calendar: str | None = None
    closed: OverflowTarget | None = None
    ring_timeout: int = 20
    rona_not_ready: bool = True
    wrapup: int = 10
    sticky: Sticky | None = None
    announce_agent_prompt: str | None = None
    callback: CallbackOffer | None = None
    comfort: Comfort | None = None
    announce: PositionAnnouncement | None = None
    recording: Recording = Recording.NEVER
    voicemail_box: str = ""
    disposition_required: bool = False
    service_level: int = 20
    screen_pop_url: str = ""
    crm_lookup_url: str = ""
    transfers_keep_wait: bool = True

    @property
    def required_skills(self) -> tuple[str, ...]:
        return tuple(s.skill for s in self.skills)

    def relax_times(self) -> tuple[float, ...]:
        """Wait times (seconds) at which some skill level relaxes, sorted."""
        return tuple(sorted({after for s in self.skills for after, _ in s.relax}))


_T = TypeVar("_T")


class _Reader:
    """Typed access to one queue's settings; every failure names queue and field."""

    def __init__(self, queue: str, settings: Mapping[str, Any]) -> None:
        self.queue = queue
        self.settings = settings

    def fail(self, field: str, problem: str) -> QueueConfigError:
        return QueueConfigError(self.queue, field, problem)

    def number(self, where: str, value: Any, lo: float, hi: float, *, integer: bool) -> float:
        kind = "an integer" if integer else "a number"
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or not lo <= value <= hi:
            raise self.fail(where, f"must be {kind} between {lo:g} and {hi:g} (got {value!r})")
        return float(value)

    def boolean(self, where: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"must be true or false (got {value!r})")
        return value

    def text(self, where: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"must be a non-empty string (got {value!r})")
        return value

    def prompt(self, where: str, value: Any) -> str:
        problem = prompt_name_problem(value)
        if problem:
            raise self.fail(where, problem)
        return str(value)

    def choice(self, where: str, value: Any, enum_type: type[enum.Enum]) -> Any:
        allowed = [m.value for m in enum_type]
        if value not in allowed:
            raise self.fail(where, f"must be one of {', '.join(allowed)} (got {value!r})")
        return enum_type(value)

    def mapping(
        self, where: str, value: Any, known: frozenset[str], required: frozenset[str] = frozenset()
    ) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"must be a mapping with keys {', '.join(sorted(known))} (got {value!r})")
        for key in value:
            if key not in known:
                raise self.fail(f"{where}.{key}", f"unknown field; known fields: {', '.join(sorted(known))}")
        for key in sorted(required - set(value)):
            raise self.fail(f"{where}.{key}", "is required")
        return value

    def optional(self, key: str, parse: Callable[[str, Any], _T], default: _T) -> _T:
        if key not in self.settings or self.settings[key] is None:
            return default
        return parse(key, self.settings[key])


def _skills(r: _Reader, key: str, value: Any) -> tuple[SkillRequirement, ...]:
    if not isinstance(value, Mapping):
        raise r.fail(key, f"must map skill names to a level 1-10 or {{min_level, relax}} (got {value!r})")
    requirements = []
    for skill in sorted(value):
        where = f"{key}.{skill}"
        spec = value[skill]
        if not isinstance(spec, Mapping):
            requirements.append(SkillRequirement(skill, int(r.number(where, spec, 1, 10, integer=True))))
            continue
        spec = r.mapping(where, spec, frozenset({"min_level", "relax"}), frozenset({"min_level"}))
        level = int(r.number(f"{where}.min_level", spec["min_level"], 1, 10, integer=True))
        requirements.append(SkillRequirement(skill, level, _relax_steps(r, f"{where}.relax", spec.get("relax") or [], level)))
    return tuple(requirements)


def _relax_steps(r: _Reader, where: str, value: Any, start_level: int) -> tuple[tuple[float, int], ...]:
    if not isinstance(value, list):
        raise r.fail(where, f"must be a list of {{after: seconds, min_level: n}} (got {value!r})")
    steps: list[tuple[float, int]] = []
    for i, item in enumerate(value):
        here = f"{where}[{i}]"
        item = r.mapping(here, item, frozenset({"after", "min_level"}), frozenset({"after", "min_level"}))
        after = r.number(f"{here}.after", item["after"], 1, 86400, integer=False)
        level = int(r.number(f"{here}.min_level", item["min_level"], 1, 10, integer=True))
        previous_after, previous_level = steps[-1] if steps else (0.0, start_level)
        if after <= previous_after or level >= previous_level:
            raise r.fail(here, "relax steps must come later and accept lower levels than the one before")
        steps.append((after, level))
    return tuple(steps)


def _target(r: _Reader, key: str, value: Any) -> OverflowTarget:
    text = r.text(key, value)
    kind, sep, target = text.partition(":")
    if not sep or kind not in OVERFLOW_KINDS or not target:
        raise r.fail(key, f"must be KIND:TARGET with KIND one of {', '.join(OVERFLOW_KINDS)}, e.g. 'queue:sales' (got {text!r})")
    return OverflowTarget(kind, target)


def _sticky(r: _Reader, key: str, value: Any) -> Sticky | None:
    if value is False:
        return None
    if value is True:
        value = {}
    spec = r.mapping(key, value, frozenset({"window", "wait"}))
    return Sticky(
        window=r.number(f"{key}.window", spec.get("window", 604800), 60, 90 * 86400, integer=False),
        wait=r.number(f"{key}.wait", spec.get("wait", 10), 0, 300, integer=False),
    )


def _callback(r: _Reader, key: str, value: Any) -> CallbackOffer:
    spec = r.mapping(key, value, frozenset({"after", "digit", "prompt"}), frozenset({"prompt"}))
    digit = spec.get("digit", "1")
    if not isinstance(digit, str | int) or str(digit) not in set("0123456789*"):
        raise r.fail(f"{key}.digit", f"must be one key 0-9 or * (got {digit!r})")
    return CallbackOffer(
        after=r.number(f"{key}.after", spec.get("after", 60), 5, 3600, integer=False),
        digit=str(digit),
        prompt=r.prompt(f"{key}.prompt", spec["prompt"]),
    )


def _comfort(r: _Reader, key: str, value: Any) -> Comfort:
    spec = r.mapping(key, value, frozenset({"every", "prompt"}), frozenset({"every", "prompt"}))
    return Comfort(
        every=r.number(f"{key}.every", spec["every"], 10, 3600, integer=False),
        prompt=r.prompt(f"{key}.prompt", spec["prompt"]),
    )


def _announce(r: _Reader, key: str, value: Any) -> PositionAnnouncement:
    known = frozenset({"every", "position", "ewt", "position_prompt", "ewt_prompt", "minutes_prompt"})
    spec = r.mapping(key, value, known, frozenset({"every"}))
    position = r.boolean(f"{key}.position", spec.get("position", True))
    ewt = r.boolean(f"{key}.ewt", spec.get("ewt", False))
    if not position and not ewt:
        raise r.fail(key, "announces nothing: set position or ewt to true, or remove it")
    prompts = {}
    for name, needed in (("position_prompt", position), ("ewt_prompt", ewt), ("minutes_prompt", ewt)):
        if needed and name not in spec:
            raise r.fail(f"{key}.{name}", "is required when the announcement includes it")
        prompts[name] = r.prompt(f"{key}.{name}", spec[name]) if name in spec else ""
    return PositionAnnouncement(
        every=r.number(f"{key}.every", spec["every"], 15, 3600, integer=False),
        position=position,
        ewt=ewt,
        **prompts,
    )


def _url(r: _Reader, key: str, value: Any) -> str:
    text = r.text(key, value)
    if not text.startswith(("http://", "https://")):
        raise r.fail(key, f"must start with http:// or https:// (got {text!r})")
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise r.fail(key, f"is not a valid template ({exc}); write literal braces as {{{{ and }}}}") from exc
    for name in names:
        if name not in URL_FIELDS and not (name.startswith("var_") and len(name) > 4):
            allowed = ", ".join(sorted(URL_FIELDS))
            raise r.fail(key, f"unknown placeholder {{{name}}}; use one of {allowed} or {{var_<call variable>}}")
    return text


_FIELDS = frozenset(
    {
        "strategy", "skills", "priority", "aging_per_minute", "max_wait", "max_length", "overflow",
        "calendar", "closed", "ring_timeout", "rona_not_ready", "wrapup", "sticky_agent",
        "announce_agent", "callback", "comfort", "announce", "recording", "voicemail_box",
        "disposition_required", "service_level", "screen_pop_url", "crm_lookup_url", "transfers_keep_wait",
    }
)


def parse_queue_rules(name: str, settings: Mapping[str, Any]) -> QueueRules:
    """Validate ``settings`` (the ``queues.settings`` JSON) into :class:`QueueRules`.

    Raises:
        QueueConfigError: on the first invalid field, naming queue and field.
    """
    if not isinstance(settings, Mapping):
        raise QueueConfigError(name, "settings", f"must be a mapping (got {type(settings).__name__})")
    r = _Reader(name, settings)
    for key in settings:
        if key not in _FIELDS:
            raise r.fail(str(key), f"unknown field; known fields: {', '.join(sorted(_FIELDS))}")

    def num(lo: float, hi: float, integer: bool = True) -> Callable[[str, Any], float]:
        return lambda key, v: r.number(key, v, lo, hi, integer=integer)

    max_wait = r.optional("max_wait", num(5, 86400, integer=False), None)
    max_length = r.optional("max_length", num(1, 100000), None)
    overflow = r.optional("overflow", lambda k, v: _target(r, k, v), None)
    if (max_wait is not None or max_length is not None) and overflow is None:
        raise r.fail("overflow", "is required when max_wait or max_length is set (where do those calls go?)")
    calendar = r.optional("calendar", r.text, None)
    closed = r.optional("closed", lambda k, v: _target(r, k, v), overflow)
    if calendar is not None and closed is None:
        raise r.fail("closed", "is required with a calendar (where do calls go while the queue is closed?)")
    announce_agent = r.optional(
        "announce_agent",
        lambda k, v: r.prompt(f"{k}.prompt", r.mapping(k, v, frozenset({"prompt"}), frozenset({"prompt"}))["prompt"]),
        None,
    )
    return QueueRules(
        name=name,
        strategy=r.optional("strategy", lambda k, v: r.choice(k, v, Strategy), Strategy.LONGEST_IDLE),
        skills=r.optional("skills", lambda k, v: _skills(r, k, v), ()),
        priority=int(r.optional("priority", num(0, 100), 0.0)),
        aging_per_minute=r.optional("aging_per_minute", num(0.01, 100, integer=False), 1.0),
        max_wait=max_wait,
        max_length=None if max_length is None else int(max_length),
        overflow=overflow,
        calendar=calendar,
        closed=closed,
        ring_timeout=int(r.optional("ring_timeout", num(5, 300), 20.0)),
        rona_not_ready=r.optional("rona_not_ready", r.boolean, True),
        wrapup=int(r.optional("wrapup", num(0, 3600), 10.0)),
        sticky=r.optional("sticky_agent", lambda k, v: _sticky(r, k, v), None),
        announce_agent_prompt=announce_agent,
        callback=r.optional("callback", lambda k, v: _callback(r, k, v), None),
        comfort=r.optional("comfort", lambda k, v: _comfort(r, k, v), None),
        announce=r.optional("announce", lambda k, v: _announce(r, k, v), None),
        recording=r.optional("recording", lambda k, v: r.choice(k, v, Recording), Recording.NEVER),
        voicemail_box=r.optional("voicemail_box", r.text, f"queue:{name}"),
        disposition_required=r.optional("disposition_required", r.boolean, False),
        service_level=int(r.optional("service_level", num(1, 600), 20.0)),
        screen_pop_url=r.optional("screen_pop_url", lambda k, v: _url(r, k, v), ""),
        crm_lookup_url=r.optional("crm_lookup_url", lambda k, v: _url(r, k, v), ""),
        transfers_keep_wait=r.optional("transfers_keep_wait", r.boolean, True),
    )


def render_url(template: str, values: Mapping[str, object], variables: Mapping[str, str]) -> str:
    """Fill a validated URL template; every value is percent-encoded, a missing one is ``""``.

    ``values`` holds the :data:`URL_FIELDS`; ``variables`` the call variables that
    ``{var_<name>}`` placeholders refer to.
    """
    filled: dict[str, str] = {}
    for _, name, _, _ in string.Formatter().parse(template):
        if name is None:
            continue
        raw = variables.get(name[4:], "") if name.startswith("var_") else values.get(name, "")
        filled[name] = quote(str(raw if raw is not None else ""), safe="")
    return template.format(**filled)
