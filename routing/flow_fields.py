"""The fields of each IVR node type, and the readers that validate them.

:data:`NODE_FIELDS` is the single table of what a node of each type may contain:
its YAML keys, which are required, and how each value is read. A reader returns the
parsed value or raises :class:`Invalid` with a message saying what to write instead;
:func:`parse_node` turns every failure into a :class:`~routing.errors.FlowProblem`
naming the node, so a flow reports all its problems at once.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from routing import flow_nodes as n
from routing.errors import FlowProblem
from routing.steps import prompt_name_problem

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
QUEUE_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
CAUSE = re.compile(r"^[A-Z][A-Z_]{2,40}$")
KEYS = frozenset("0123456789*")
URL_FIELDS = frozenset({"interaction_id", "caller_number", "caller_name", "did"})


class Invalid(Exception):
    """One field failed; collected as a FlowProblem by the caller."""


# -- field readers: value -> parsed value, or raise Invalid ---------------------------


def read_target(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(f"must name a node (got {value!r})")
    return value


def read_prompt(value: Any) -> n.Prompt:
    if isinstance(value, str):
        check_prompt_name(value)
        return n.Prompt(value)
    if isinstance(value, Mapping) and value:
        files = {str(k): v for k, v in value.items()}
        for file in files.values():
            check_prompt_name(file)
        default = files.pop("default", None)
        return n.Prompt(default, files)
    raise Invalid(f"must be a file name or a mapping language -> file name (got {value!r})")


def check_prompt_name(value: Any) -> None:
    problem = prompt_name_problem(value)
    if problem:
        raise Invalid(problem)


def integer(lo: int, hi: int) -> Callable[[Any], int]:
    def read(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise Invalid(f"must be an integer between {lo} and {hi} (got {value!r})")
        return value

    return read


def text(pattern: re.Pattern[str], what: str) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        if not isinstance(value, str | int) or isinstance(value, bool) or not pattern.match(str(value)):
            raise Invalid(f"must be {what} (got {value!r})")
        return str(value)

    return read


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false (got {value!r})")
    return value


def read_key(value: Any) -> str:
    key = str(value)
    if isinstance(value, bool) or key not in KEYS:
        raise Invalid(f"key {value!r} is not 0-9 or *; '#' ends input and cannot be an option")
    return key


def keyed(read_value: Callable[[Any], str]) -> Callable[[Any], Mapping[str, str]]:
    def read(value: Any) -> Mapping[str, str]:
        if not isinstance(value, Mapping) or not value:
            raise Invalid(f"must map keys (0-9, *) to values (got {value!r})")
        result: dict[str, str] = {}
        for raw_key, raw_value in value.items():
            key = read_key(raw_key)
            if key in result:
                raise Invalid(f"key {key!r} is listed twice")
            result[key] = read_value(raw_value)
        return result

    return read


def pattern(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a regular expression (got {value!r})")
    try:
        re.compile(value)
    except re.error as exc:
        raise Invalid(f"is not a valid regular expression: {exc}") from None
    return value


def str_map(key_pattern: re.Pattern[str], what: str) -> Callable[[Any], Mapping[str, str]]:
    def read(value: Any) -> Mapping[str, str]:
        if not isinstance(value, Mapping):
            raise Invalid(f"must map {what} to strings (got {value!r})")
        for k, v in value.items():
            if not isinstance(k, str) or not key_pattern.match(k):
                raise Invalid(f"{k!r} is not a valid {what}")
            if not isinstance(v, str | int | float) or isinstance(v, bool):
                raise Invalid(f"value of {k!r} must be a string or number (got {v!r})")
        return {k: str(v) for k, v in value.items()}

    return read


def skills(value: Any) -> Mapping[str, int]:
    if not isinstance(value, Mapping):
        raise Invalid(f"must map skill names to levels 1-10 (got {value!r})")
    level = integer(1, 10)
    return {str(skill): level(v) for skill, v in value.items()}


def url(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise Invalid(f"must be an http:// or https:// URL (got {value!r})")
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise Invalid(f"is not a valid template ({exc})") from None
    for name in names:
        if name not in URL_FIELDS and not name.startswith("var_"):
            raise Invalid(f"unknown placeholder {{{name}}}; use {', '.join(sorted(URL_FIELDS))} or {{var_<variable>}}")
    return value


def test(value: Any) -> n.Test:
    if not isinstance(value, Mapping):
        raise Invalid("must be one of {business_hours: CAL}, {holiday: CAL}, {caller_in: LIST}, {variable: NAME, equals|matches|in|present: ...}")
    keys = set(value)
    if keys == {"business_hours"}:
        return n.BusinessHours(text(NAME, "a calendar name")(value["business_hours"]))
    if keys == {"holiday"}:
        return n.Holiday(text(NAME, "a calendar name")(value["holiday"]))
    if keys == {"caller_in"}:
        if value["caller_in"] not in ("blacklist", "vip", "customers"):
            raise Invalid(f"caller_in must be blacklist, vip or customers (got {value['caller_in']!r})")
        return n.CallerIn(value["caller_in"])
    ops = keys - {"variable"}
    if "variable" in keys and len(ops) == 1:
        op = ops.pop()
        variable = text(VARIABLE, "a variable name")(value["variable"])
        operand = value[op]
        if op in ("equals", "matches") and isinstance(operand, str | int | float) and not isinstance(operand, bool):
            return n.VariableTest(variable, op, (pattern(operand) if op == "matches" else str(operand),))
        if op == "in" and isinstance(operand, list) and operand:
            return n.VariableTest(variable, op, tuple(str(v) for v in operand))
        if op == "present" and operand is True:
            return n.VariableTest(variable, op)
        raise Invalid(f"variable test {op!r} has an invalid operand {operand!r}")
    raise Invalid(f"unknown test {dict(value)!r}")


@dataclass(frozen=True, slots=True)
class Field:
    read: Callable[[Any], Any]
    required: bool = False
    attr: str = ""


PROMPT = Field(read_prompt)
REQUIRED_PROMPT = Field(read_prompt, required=True)
NEXT = Field(read_target, required=True)
TIMEOUT = Field(integer(1000, 60000))
RETRIES = Field(integer(1, 10))
LANG = text(re.compile(r"^[a-z]{2}(-[A-Za-z]{2})?$"), "a language code such as en or zh")

#: For each node type: its dataclass and its fields (YAML key -> reader).
NODE_FIELDS: Mapping[str, tuple[type[n.Node], Mapping[str, Field]]] = {
    "play": (n.PlayNode, {"prompt": REQUIRED_PROMPT, "next": NEXT}),
    "menu": (
        n.MenuNode,
        {
            "prompt": REQUIRED_PROMPT, "options": Field(keyed(read_target), required=True),
            "on_failure": NEXT, "timeout_ms": TIMEOUT, "retries": RETRIES,
            "invalid_prompt": PROMPT, "timeout_prompt": PROMPT,
        },
    ),
    "collect": (
        n.CollectNode,
        {
            "prompt": REQUIRED_PROMPT, "variable": Field(text(VARIABLE, "a variable name"), required=True),
            "next": NEXT, "on_failure": NEXT, "min_length": Field(integer(1, 64)),
            "max_length": Field(integer(1, 64)), "pattern": Field(pattern), "timeout_ms": TIMEOUT,
            "digit_timeout_ms": Field(integer(500, 20000)), "retries": RETRIES, "invalid_prompt": PROMPT,
            "secret": Field(boolean),
        },
    ),
    "condition": (
        n.ConditionNode,
        {"test": Field(test, required=True), "then": NEXT, "else": Field(read_target, required=True, attr="otherwise")},
    ),
    "set": (n.SetNode, {"variables": Field(str_map(VARIABLE, "variable name"), required=True), "next": NEXT}),
    "http_lookup": (
        n.HttpLookupNode,
        {
            "url": Field(url, required=True), "next": NEXT, "on_failure": NEXT,
            "timeout_ms": Field(integer(100, 10000)), "fields": Field(str_map(VARIABLE, "variable name")),
        },
    ),
    "language": (
        n.LanguageNode,
        {
            "next": NEXT, "language": Field(LANG), "prompt": PROMPT, "options": Field(keyed(LANG)),
            "default": Field(LANG), "timeout_ms": TIMEOUT,
        },
    ),
    "queue": (
        n.QueueNode,
        {
            "queue": Field(text(QUEUE_NAME, "a queue name (a-z, 0-9, _ and -)"), required=True),
            "priority": Field(integer(0, 100)), "skills": Field(skills), "label": PROMPT,
        },
    ),
    "voicemail": (
        n.VoicemailNode,
        {
            "box": Field(text(re.compile(r"^[A-Za-z0-9_:.@-]{1,80}$"), "a voicemail box such as queue:sales"), required=True),
            "greeting": REQUIRED_PROMPT, "max_seconds": Field(integer(5, 600)),
            "event_codes": Field(keyed(text(NAME, "an event code"))), "event_prompt": PROMPT, "label": PROMPT,
        },
    ),
    "transfer": (
        n.TransferNode,
        {
            "number": Field(text(NUMBER, "an extension or +E.164 number"), attr="target"),
            "flow": Field(text(NAME, "a flow name"), attr="target"), "label": PROMPT,
        },
    ),
    "hangup": (n.HangupNode, {"cause": Field(text(CAUSE, "a FreeSWITCH hangup cause such as NORMAL_CLEARING")), "prompt": PROMPT}),
}


class Problems(list[FlowProblem]):
    """Every problem found so far in one flow."""

    def add(self, node: str, message: str) -> None:
        self.append(FlowProblem(node, message))


#: How the flow-level checks report: ``problem(node, message)``.
Problem = Callable[[str, str], None]


def parse_node(name: str, raw: Any, problems: Problems) -> n.Node | None:
    """The node, or None if any of its fields is wrong (each problem is recorded)."""
    problem = problems.add
    if not isinstance(raw, Mapping):
        problem(name, "must be a mapping with a type")
        return None
    node_type = raw.get("type")
    if not isinstance(node_type, str) or node_type not in NODE_FIELDS:
        problem(name, f"unknown node type {node_type!r}; known types: {', '.join(NODE_FIELDS)}")
        return None
    cls, fields = NODE_FIELDS[node_type]
    before = len(problems)
    values: dict[str, Any] = {}
    for key in raw:
        if key != "type" and key not in fields:
            problem(name, f"unknown field {key!r} for a {node_type} node; known fields: {', '.join(fields)}")
    for key, spec in fields.items():
        if raw.get(key) is None:
            if spec.required:
                problem(name, f"a {node_type} node needs field {key!r}")
            continue
        try:
            values[spec.attr or key] = spec.read(raw[key])
        except Invalid as exc:
            problem(name, f"field {key!r}: {exc}")
    if node_type == "transfer":
        kinds = [k for k in ("number", "flow") if raw.get(k) is not None]
        if len(kinds) != 1:
            problem(name, "a transfer node needs exactly one of 'number' or 'flow'")
        else:
            values["kind"] = kinds[0]
    for message in node_rules(node_type, values):
        problem(name, message)
    if len(problems) != before:
        return None
    node: n.Node = cls(name=name, **values)
    return node


def node_rules(node_type: str, values: Mapping[str, Any]) -> list[str]:
    """Rules spanning several fields of one node."""
    found = []
    if node_type == "collect" and values.get("min_length", 1) > values.get("max_length", 16):
        found.append("min_length is larger than max_length")
    if node_type == "language":
        if ("language" in values) == bool(values.get("options")):
            found.append("a language node needs either 'language' (set it) or 'options' (ask), not both")
        elif values.get("options") and "prompt" not in values:
            found.append("a language node with options needs a 'prompt' asking for the language")
    if node_type == "voicemail" and values.get("event_codes") and "event_prompt" not in values:
        found.append("event_codes need an 'event_prompt' telling the caller which key is which")
    return found
