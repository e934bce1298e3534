"""IVR flow definitions: YAML (or the ``flows.definition`` JSON) -> :class:`Flow`.

A flow::

    name: main
    version: 3                      # optional; the database assigns versions
    start: welcome
    language: en                    # default prompt language
    languages: [en, zh]             # every prompt must exist in each of them
    callers: {blacklist: {action: reject, prompt: rejected.wav}, vip_priority_boost: 10}
    shortcuts:                      # optional, see routing.ivr
      menu: main_menu
      offer: {digit: "*", prompt: shortcut_offer.wav}
      direct: false
      save: {digit: "0", prompt: shortcut_saved.wav}
      quick_menu: {size: 3, prompt: quick_intro.wav, min_requests: 20}
    nodes:
      welcome: {type: play, prompt: {en: welcome.wav, zh: 欢迎.wav}, next: main_menu}
      main_menu:
        type: menu
        prompt: main_menu.wav
        options: {1: sales, 2: support}
        on_failure: bye
      ...

A prompt is a file name, or a mapping from language to file name (with an optional
``default`` key). Menu keys are ``0``-``9`` and ``*`` (quote ``"*"`` in YAML); ``#``
ends input and cannot be an option. The field table of every node type is
:data:`routing.flow_fields.NODE_FIELDS`.

Validation reports every problem at once in one :class:`~routing.errors.FlowError`,
each naming the node: unknown node types and fields, missing or mistyped fields,
dangling targets, unreachable nodes, loops without input (a cycle through no menu,
collect or asking language node would spin forever), missing prompts (per language),
and, when the caller passes the names that exist, unknown queues, calendars and flows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from routing import flow_nodes as n
from routing.callers import BlacklistAction, CallerPolicy
from routing.errors import FlowError, FlowProblem
from routing.flow_fields import (
    LANG,
    NAME,
    NODE_FIELDS,
    Invalid,
    Problem,
    Problems,
    integer,
    parse_node,
    read_key,
    read_prompt,
)

__all__ = [
    "NODE_FIELDS", "Flow", "FlowError", "QuickMenu", "Shortcuts", "load_flow_yaml", "needs_caller_facts", "parse_flow",
]


@dataclass(frozen=True, slots=True)
class QuickMenu:
    """A menu of the ``size`` most requested services, offered before the anchor menu."""

    size: int
    prompt: n.Prompt
    min_requests: int
    timeout_ms: int


@dataclass(frozen=True, slots=True)
class Shortcuts:
    menu: str
    offer_digit: str | None
    offer_prompt: n.Prompt | None
    direct: bool
    save_digit: str | None
    save_prompt: n.Prompt | None
    quick_menu: QuickMenu | None


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    version: int
    start: str
    language: str
    languages: tuple[str, ...]
    nodes: Mapping[str, n.Node]
    callers: CallerPolicy
    shortcuts: Shortcuts | None


_TOP_LEVEL = frozenset({"name", "version", "start", "language", "languages", "nodes", "callers", "shortcuts", "description"})


def needs_caller_facts(flow: Flow, sticky_queues: Collection[str]) -> bool:
    """Whether what the directory says about the caller can change the flow's course:
    shortcuts and the quick menu, a condition on being a known customer, or a queue
    that keeps callers for their last agent (``sticky_queues``). A flow that needs
    none of these can start the moment the caller is parked."""
    if flow.shortcuts is not None:
        return True
    for node in flow.nodes.values():
        if isinstance(node, n.ConditionNode) and isinstance(node.test, n.CallerIn) and node.test.list_name == "customers":
            return True
        if isinstance(node, n.QueueNode) and node.queue in sticky_queues:
            return True
    return False


def load_flow_yaml(text: str, **known: Collection[str] | None) -> Flow:
    """Parse a flow from YAML text; see :func:`parse_flow` for ``known``."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FlowError("?", [FlowProblem("", f"not valid YAML: {exc}")]) from None
    return parse_flow(data, **known)


def parse_flow(
    data: Any,
    *,
    known_queues: Collection[str] | None = None,
    known_calendars: Collection[str] | None = None,
    known_flows: Collection[str] | None = None,
) -> Flow:
    """Validate a flow definition (a mapping as loaded from YAML or JSON).

    ``known_*``, when given, are the names that exist: queue, calendar and flow
    references to anything else are problems too.

    Raises:
        FlowError: listing every problem found, each naming its node.
    """
    if not isinstance(data, Mapping):
        raise FlowError("?", [FlowProblem("", "a flow must be a mapping with name, start and nodes")])
    name = str(data.get("name", "?"))
    problems = Problems()
    problem = problems.add
    if not NAME.match(name):
        problem("", f"name {name!r} must be 1-64 letters, digits, '_', '.' or '-'")
    for key in data:
        if key not in _TOP_LEVEL:
            problem("", f"unknown field {key!r}; known fields: {', '.join(sorted(_TOP_LEVEL))}")
    version = _flow_field(problem, "version", data.get("version", 1), integer(1, 1_000_000), 1)
    language = _flow_field(problem, "language", data.get("language", "en"), LANG, "en")
    languages = _languages(problem, data.get("languages", [language]), language)
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, Mapping) or not raw_nodes:
        problem("", "nodes must be a non-empty mapping of node name -> node")
        raise FlowError(name, problems)
    nodes: dict[str, n.Node] = {}
    for node_name, raw in raw_nodes.items():
        if not isinstance(node_name, str) or not NAME.match(node_name):
            problem(str(node_name), "node names must be strings of letters, digits, '_', '.' or '-'")
            continue
        node = parse_node(node_name, raw, problems)
        if node is not None:
            nodes[node_name] = node
    start = data.get("start")
    if start not in raw_nodes:
        problem("", f"start must name a node (got {start!r})")
    callers = _callers(problem, data.get("callers") or {})
    shortcuts = _shortcuts(problem, data.get("shortcuts"), nodes)

    _check_targets(problem, nodes, raw_nodes)
    _check_prompts(problem, nodes, languages, shortcuts, callers.reject_prompt)
    _check_known(problem, nodes, known_queues, known_calendars, known_flows)
    if not problems and isinstance(start, str):
        _check_reachable(problem, nodes, start)
        _check_loops(problem, nodes)
    if problems:
        raise FlowError(name, problems)
    assert isinstance(start, str)
    return Flow(name, version, start, language, languages, nodes, callers, shortcuts)


def _flow_field(problem: Problem, key: str, value: Any, read: Callable[[Any], Any], default: Any) -> Any:
    try:
        return read(value)
    except Invalid as exc:
        problem("", f"{key}: {exc}")
        return default


def _languages(problem: Problem, value: Any, language: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        problem("", f"languages must be a list of language codes (got {value!r})")
        return (language,)
    found = tuple(_flow_field(problem, "languages", v, LANG, language) for v in value)
    if language not in found:
        problem("", f"the default language {language!r} must be one of languages {list(found)}")
    return found


def _callers(problem: Problem, value: Any) -> CallerPolicy:
    if not isinstance(value, Mapping) or not set(value) <= {"blacklist", "vip_priority_boost"}:
        problem("", "callers must be a mapping with blacklist: {action, prompt} and vip_priority_boost")
        return CallerPolicy()
    boost = _flow_field(problem, "callers.vip_priority_boost", value.get("vip_priority_boost", 10), integer(0, 100), 10)
    spec = value.get("blacklist") or {}
    if isinstance(spec, str):
        spec = {"action": spec}
    if not isinstance(spec, Mapping) or not set(spec) <= {"action", "prompt"}:
        problem("", "callers.blacklist must be {action: reject|hangup|ignore, prompt: FILE}")
        return CallerPolicy(vip_priority_boost=boost)
    actions = [a.value for a in BlacklistAction]
    if spec.get("action", "hangup") not in actions:
        problem("", f"callers.blacklist.action must be one of {', '.join(actions)}")
        return CallerPolicy(vip_priority_boost=boost)
    action = BlacklistAction(spec.get("action", "hangup"))
    prompt = None
    if "prompt" in spec:
        prompt = _flow_field(problem, "callers.blacklist.prompt", spec["prompt"], read_prompt, None)
    if action is BlacklistAction.REJECT and prompt is None:
        problem("", "callers.blacklist: action reject needs a prompt (the message played before hanging up)")
    return CallerPolicy(action, prompt, boost)


def _digit_and_prompt(problem: Problem, where: str, value: Any) -> tuple[str | None, n.Prompt | None]:
    if not isinstance(value, Mapping) or set(value) != {"digit", "prompt"}:
        problem("", f"{where} must be {{digit: KEY, prompt: FILE}}")
        return None, None
    return (
        _flow_field(problem, f"{where}.digit", value["digit"], read_key, None),
        _flow_field(problem, f"{where}.prompt", value["prompt"], read_prompt, None),
    )


def _shortcuts(problem: Problem, value: Any, nodes: Mapping[str, n.Node]) -> Shortcuts | None:
    if value is None:
        return None
    known = {"menu", "offer", "direct", "save", "quick_menu"}
    if not isinstance(value, Mapping) or not set(value) <= known or "menu" not in value:
        problem("", f"shortcuts must be a mapping with menu and any of {', '.join(sorted(known - {'menu'}))}")
        return None
    menu = nodes.get(str(value["menu"]))
    if not isinstance(menu, n.MenuNode):
        problem("", f"shortcuts.menu must name a menu node (got {value['menu']!r})")
        return None
    offer_digit, offer_prompt = _digit_and_prompt(problem, "shortcuts.offer", value["offer"]) if "offer" in value else (None, None)
    save_digit, save_prompt = _digit_and_prompt(problem, "shortcuts.save", value["save"]) if "save" in value else (None, None)
    for digit, what in ((offer_digit, "offer"), (save_digit, "save")):
        if digit is not None and digit in menu.options:
            problem(menu.name, f"key {digit!r} is both a menu option and the shortcuts.{what} key; pick another")
    if offer_digit is not None and offer_digit == save_digit:
        problem("", "shortcuts.offer and shortcuts.save use the same key")
    direct = value.get("direct", False)
    if not isinstance(direct, bool):
        problem("", "shortcuts.direct must be true or false")
        direct = False
    quick = _quick_menu(problem, value["quick_menu"]) if "quick_menu" in value else None
    return Shortcuts(menu.name, offer_digit, offer_prompt, direct, save_digit, save_prompt, quick)


def _quick_menu(problem: Problem, value: Any) -> QuickMenu | None:
    known = {"size", "prompt", "min_requests", "timeout_ms"}
    if not isinstance(value, Mapping) or not set(value) <= known or "prompt" not in value:
        problem("", "shortcuts.quick_menu must be a mapping with prompt and any of size, min_requests, timeout_ms")
        return None
    prompt = _flow_field(problem, "shortcuts.quick_menu.prompt", value["prompt"], read_prompt, None)
    if prompt is None:
        return None
    return QuickMenu(
        size=_flow_field(problem, "shortcuts.quick_menu.size", value.get("size", 3), integer(1, 9), 3),
        prompt=prompt,
        min_requests=_flow_field(problem, "shortcuts.quick_menu.min_requests", value.get("min_requests", 10), integer(1, 1_000_000), 10),
        timeout_ms=_flow_field(problem, "shortcuts.quick_menu.timeout_ms", value.get("timeout_ms", 3000), integer(1000, 60000), 3000),
    )


def _check_targets(problem: Problem, nodes: Mapping[str, n.Node], raw_nodes: Mapping[Any, Any]) -> None:
    for name, node in nodes.items():
        for target in n.targets(node):
            if target not in raw_nodes:
                problem(name, f"goes to {target!r}, which is not a node of this flow")


def _check_prompts(
    problem: Problem,
    nodes: Mapping[str, n.Node],
    languages: tuple[str, ...],
    shortcuts: Shortcuts | None,
    reject_prompt: n.Prompt | None,
) -> None:
    """Every prompt has a file for every language the flow speaks."""
    def check(node: str, where: str, prompt: n.Prompt) -> None:
        extra = sorted(set(prompt.by_language) - set(languages))
        if extra:
            problem(node, f"{where} has files for {extra}, which are not in the flow's languages {list(languages)}")
        missing = [lang for lang in languages if prompt.default is None and lang not in prompt.by_language]
        if missing:
            problem(node, f"{where} has no file for language(s) {missing}; add them or a 'default'")

    for name, node in nodes.items():
        for where, prompt in n.prompts_of(node):
            check(name, where, prompt)
        if isinstance(node, n.LanguageNode):
            for lang in {node.language, node.default, *node.options.values()} - {None, *languages}:
                problem(name, f"language {lang!r} is not in the flow's languages {list(languages)}")
    if reject_prompt is not None:
        check("", "callers.blacklist.prompt", reject_prompt)
    if shortcuts is None:
        return
    for where, maybe in (
        ("shortcuts.offer.prompt", shortcuts.offer_prompt),
        ("shortcuts.save.prompt", shortcuts.save_prompt),
        ("shortcuts.quick_menu.prompt", shortcuts.quick_menu.prompt if shortcuts.quick_menu else None),
    ):
        if maybe is not None:
            check("", where, maybe)
    if shortcuts.offer_digit is not None or shortcuts.quick_menu is not None:
        for name, node in nodes.items():
            if isinstance(node, n.SERVICE_TYPES) and node.label is None:
                problem(name, "needs a 'label' prompt naming the service: shortcuts and the quick menu announce it")


def _check_known(
    problem: Problem,
    nodes: Mapping[str, n.Node],
    queues: Collection[str] | None,
    calendars: Collection[str] | None,
    flows: Collection[str] | None,
) -> None:
    for name, node in nodes.items():
        if isinstance(node, n.QueueNode) and queues is not None and node.queue not in queues:
            problem(name, f"queue {node.queue!r} does not exist")
        if isinstance(node, n.ConditionNode) and isinstance(node.test, n.BusinessHours | n.Holiday):
            if calendars is not None and node.test.calendar not in calendars:
                problem(name, f"calendar {node.test.calendar!r} does not exist")
        if isinstance(node, n.TransferNode) and node.kind == "flow" and flows is not None and node.target not in flows:
            problem(name, f"flow {node.target!r} does not exist")


def _check_reachable(problem: Problem, nodes: Mapping[str, n.Node], start: str) -> None:
    seen = {start}
    todo = [start]
    while todo:
        for target in n.targets(nodes[todo.pop()]):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for name in nodes:
        if name not in seen:
            problem(name, f"cannot be reached from the start node {start!r}; link it or remove it")


def _check_loops(problem: Problem, nodes: Mapping[str, n.Node]) -> None:
    """Report cycles made only of nodes that do not wait for input (iterative DFS)."""
    silent = {name for name, node in nodes.items() if not n.waits_for_input(node)}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    reported: set[frozenset[str]] = set()
    for root in sorted(silent):
        if root in state:
            continue
        path = [root]
        state[root] = 1
        stack = [iter([t for t in n.targets(nodes[root]) if t in silent])]
        while stack:
            target = next(stack[-1], None)
            if target is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(target) == 1:
                cycle = path[path.index(target):]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    loop = " -> ".join([*cycle, target])
                    problem(target, f"loop without input ({loop}) would never end; put a menu or collect node in it")
            elif target not in state:
                state[target] = 1
                path.append(target)
                stack.append(iter([t for t in n.targets(nodes[target]) if t in silent]))
