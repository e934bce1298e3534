"""The IVR node types of a flow, as parsed by :mod:`routing.flows`.

Each node is a frozen dataclass; :func:`targets` lists the nodes a node can lead to
(the edges of the flow graph) and :func:`waits_for_input` says whether the caller is
asked for input there (what makes a cycle through it safe: a caller who keeps
pressing keys is still in control, a loop of plays and lookups is not).
Service nodes (queue, voicemail, transfer) are where a caller's request ends: they
are what shortcuts and the quick menu point at, and what node statistics count as
"requests".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt file per language, with an optional fallback for the others."""

    default: str | None
    by_language: Mapping[str, str] = field(default_factory=dict)

    def file(self, language: str) -> str:
        found = self.by_language.get(language, self.default)
        if found is None:
            raise KeyError(f"no prompt for language {language!r}")
        return found

    def files(self) -> tuple[str, ...]:
        values = tuple(self.by_language.values())
        return values if self.default is None else (self.default, *values)


# -- condition tests ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """True while the calendar is open."""

    calendar: str


@dataclass(frozen=True, slots=True)
class Holiday:
    """True on a listed holiday of the calendar (full or partial)."""

    calendar: str


@dataclass(frozen=True, slots=True)
class CallerIn:
    """True if the caller is on the blacklist or the VIP list, or (``customers``) is
    a known customer in the directory."""

    list_name: str


@dataclass(frozen=True, slots=True)
class VariableTest:
    """``op`` is ``equals``, ``matches`` (a regular expression, whole value), ``in``
    (one of ``values``) or ``present`` (set and not empty)."""

    variable: str
    op: str
    values: tuple[str, ...] = ()


Test = BusinessHours | Holiday | CallerIn | VariableTest


# -- nodes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlayNode:
    name: str
    prompt: Prompt
    next: str


@dataclass(frozen=True, slots=True)
class MenuNode:
    name: str
    prompt: Prompt
    options: Mapping[str, str]
    on_failure: str
    timeout_ms: int = 5000
    retries: int = 3
    invalid_prompt: Prompt | None = None
    timeout_prompt: Prompt | None = None


@dataclass(frozen=True, slots=True)
class CollectNode:
    name: str
    prompt: Prompt
    variable: str
    next: str
    on_failure: str
    min_length: int = 1
    max_length: int = 16
    pattern: str | None = None
    timeout_ms: int = 5000
    digit_timeout_ms: int = 3000
    retries: int = 3
    invalid_prompt: Prompt | None = None
    secret: bool = False  # mask the digits on the timeline (PINs, card numbers)


@dataclass(frozen=True, slots=True)
class ConditionNode:
    name: str
    test: Test
    then: str
    otherwise: str


@dataclass(frozen=True, slots=True)
class SetNode:
    name: str
    variables: Mapping[str, str]
    next: str


@dataclass(frozen=True, slots=True)
class HttpLookupNode:
    name: str
    url: str
    next: str
    on_failure: str
    timeout_ms: int = 2000
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LanguageNode:
    """Either sets ``language`` outright, or asks: ``options`` maps a key to a
    language, ``default`` is used when the caller presses nothing valid."""

    name: str
    next: str
    language: str | None = None
    prompt: Prompt | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None
    timeout_ms: int = 5000


@dataclass(frozen=True, slots=True)
class QueueNode:
    name: str
    queue: str
    priority: int | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    label: Prompt | None = None


@dataclass(frozen=True, slots=True)
class VoicemailNode:
    """Record a message for ``box``; with ``event_codes`` the caller first picks what
    the message is about (a key per event code)."""

    name: str
    box: str
    greeting: Prompt
    max_seconds: int = 120
    event_codes: Mapping[str, str] = field(default_factory=dict)
    event_prompt: Prompt | None = None
    label: Prompt | None = None


@dataclass(frozen=True, slots=True)
class TransferNode:
    """``kind`` is ``number`` (an extension or E.164 number) or ``flow``."""

    name: str
    kind: str
    target: str
    label: Prompt | None = None


@dataclass(frozen=True, slots=True)
class HangupNode:
    name: str
    cause: str = "NORMAL_CLEARING"
    prompt: Prompt | None = None


Node = (
    PlayNode
    | MenuNode
    | CollectNode
    | ConditionNode
    | SetNode
    | HttpLookupNode
    | LanguageNode
    | QueueNode
    | VoicemailNode
    | TransferNode
    | HangupNode
)
ServiceNode = QueueNode | VoicemailNode | TransferNode
SERVICE_TYPES = (QueueNode, VoicemailNode, TransferNode)


def targets(node: Node) -> tuple[str, ...]:
    """The nodes ``node`` can lead to, in a stable order."""
    if isinstance(node, MenuNode):
        return (*node.options.values(), node.on_failure)
    if isinstance(node, CollectNode | HttpLookupNode):
        return (node.next, node.on_failure)
    if isinstance(node, ConditionNode):
        return (node.then, node.otherwise)
    if isinstance(node, PlayNode | SetNode | LanguageNode):
        return (node.next,)
    return ()


def waits_for_input(node: Node) -> bool:
    return isinstance(node, MenuNode | CollectNode) or (isinstance(node, LanguageNode) and bool(node.options))


def prompts_of(node: Node) -> tuple[tuple[str, Prompt], ...]:
    """Every prompt a node uses, with the field it comes from."""
    found: list[tuple[str, Prompt]] = []
    for name in ("prompt", "invalid_prompt", "timeout_prompt", "greeting", "event_prompt", "label"):
        value = getattr(node, name, None)
        if isinstance(value, Prompt):
            found.append((name, value))
    return tuple(found)
