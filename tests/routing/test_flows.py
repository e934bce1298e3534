"""Flow parsing and validation: every error class names the flow and the node."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from routing import flow_nodes as n
from routing.callers import BlacklistAction
from routing.errors import FlowError
from routing.flows import load_flow_yaml, parse_flow
from tests.routing.sample_flows import MAIN, SMALL


def main_definition() -> dict[str, Any]:
    data = yaml.safe_load(MAIN)
    assert isinstance(data, dict)
    return data


def problems_of(data: Any, **known: Any) -> list[tuple[str, str]]:
    with pytest.raises(FlowError) as caught:
        parse_flow(data, **known)
    return [(p.node, p.message) for p in caught.value.problems]


def test_main_flow_parses() -> None:
    flow = load_flow_yaml(MAIN)
    assert (flow.name, flow.version, flow.start, flow.languages) == ("main", 2, "welcome", ("en", "zh"))
    menu = flow.nodes["main_menu"]
    assert isinstance(menu, n.MenuNode) and menu.options == {"1": "sales", "2": "account", "3": "leave_message", "9": "operator"}
    assert menu.prompt.file("zh") == "主菜单.wav" and menu.prompt.file("en") == "main_menu.wav"
    assert flow.callers.blacklist_action is BlacklistAction.REJECT and flow.callers.vip_priority_boost == 20
    assert flow.shortcuts is not None and flow.shortcuts.quick_menu is not None and flow.shortcuts.quick_menu.size == 2
    transfer = flow.nodes["operator"]
    assert isinstance(transfer, n.TransferNode) and (transfer.kind, transfer.target) == ("number", "+15550000")
    condition = flow.nodes["tier"]
    assert isinstance(condition, n.ConditionNode) and condition.test == n.VariableTest("tier", "in", ("gold", "platinum"))


def test_known_names_are_checked_when_given() -> None:
    assert load_flow_yaml(SMALL, known_flows={"other_flow"}).name == "small"
    assert problems_of(yaml.safe_load(SMALL), known_flows={"main"}) == [("transfer", "flow 'other_flow' does not exist")]
    found = problems_of(main_definition(), known_queues={"sales"}, known_calendars={"home"})
    assert ("vip_support", "queue 'support' does not exist") in found
    assert ("hours", "calendar 'office' does not exist") in found
    assert ("holiday_check", "calendar 'office' does not exist") in found


def edit(path: list[Any], value: Any) -> dict[str, Any]:
    """The main flow with one value replaced (``value=...`` deletes it)."""
    data = copy.deepcopy(main_definition())
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown node type", edit(["nodes", "goodbye"], {"type": "dance"}), "goodbye", "unknown node type 'dance'"),
    ("unknown field", edit(["nodes", "welcome", "volume"], 11), "welcome", "unknown field 'volume' for a play node"),
    ("missing field", edit(["nodes", "welcome", "next"], ...), "welcome", "a play node needs field 'next'"),
    ("bad value", edit(["nodes", "main_menu", "retries"], 0), "main_menu", "field 'retries': must be an integer between 1 and 10"),
    ("# key", edit(["nodes", "main_menu", "options"], {"#": "sales"}), "main_menu", "'#' ends input"),
    ("dangling target", edit(["nodes", "main_menu", "on_failure"], "good_bye"), "main_menu", "goes to 'good_bye', which is not a node"),
    ("missing prompt", edit(["nodes", "welcome", "prompt"], {"en": "welcome.wav"}), "welcome", "no file for language(s) ['zh']"),
    ("foreign prompt language", edit(["nodes", "closed", "prompt"], {"default": "c.wav", "fr": "f.wav"}), "closed", "files for ['fr']"),
    ("bad prompt name", edit(["nodes", "closed", "prompt"], "closed today.wav"), "closed", "rename the file"),
    ("bad regex", edit(["nodes", "account", "pattern"], "[0-9"), "account", "not a valid regular expression"),
    ("min over max", edit(["nodes", "account", "min_length"], 9), "account", "min_length is larger than max_length"),
    ("bad test", edit(["nodes", "hours", "test"], {"weather": "sunny"}), "hours", "unknown test"),
    ("bad url", edit(["nodes", "lookup", "url"], "https://crm/{password}"), "lookup", "unknown placeholder {password}"),
    ("transfer both", edit(["nodes", "operator", "flow"], "main"), "operator", "exactly one of 'number' or 'flow'"),
    ("language both", edit(["nodes", "language", "language"], "en"), "language", "either 'language'"),
    ("language not spoken", edit(["nodes", "language", "options"], {1: "en", 2: "fr"}), "language", "language 'fr' is not in the flow's languages"),
    ("event codes need a prompt", edit(["nodes", "leave_message", "event_prompt"], ...), "leave_message", "event_prompt"),
    ("label needed for shortcuts", edit(["nodes", "sales", "label"], ...), "sales", "needs a 'label' prompt"),
    ("shortcut key clash", edit(["shortcuts", "offer"], {"digit": 1, "prompt": "x.wav"}), "main_menu", "both a menu option and the shortcuts.offer key"),
    ("shortcut menu", edit(["shortcuts", "menu"], "welcome"), "", "shortcuts.menu must name a menu node"),
    ("reject needs prompt", edit(["callers", "blacklist"], {"action": "reject"}), "", "action reject needs a prompt"),
    ("bad start", edit(["start"], "begin"), "", "start must name a node"),
    ("unknown top-level field", edit(["owner"], "ops"), "", "unknown field 'owner'"),
    ("bad default language", edit(["language"], "fr"), "", "default language 'fr' must be one of"),
]


@pytest.mark.parametrize(("case", "data", "node", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_each_error_class(case: str, data: dict[str, Any], node: str, message: str) -> None:
    found = problems_of(data)
    assert any(p_node == node and message in p_message for p_node, p_message in found), found


def test_unreachable_nodes() -> None:
    data = edit(["nodes", "orphan"], {"type": "hangup"})
    assert problems_of(data) == [("orphan", "cannot be reached from the start node 'welcome'; link it or remove it")]


def test_loops_without_input() -> None:
    data = edit(["nodes", "closed"], {"type": "set", "variables": {"x": "1"}, "next": "hours"})
    found = problems_of(data)
    # Both cycles through the new node are reported (hours -> closed, and via holiday_check).
    assert sorted(m.split(")")[0] for _, m in found) == [
        "loop without input (closed -> hours -> closed",
        "loop without input (closed -> hours -> holiday_check -> closed",
    ]


def test_loops_through_a_menu_are_fine() -> None:
    # SMALL loops menu -> play -> set -> check -> menu: the menu waits for the caller.
    flow = load_flow_yaml(SMALL)
    assert n.waits_for_input(flow.nodes["menu"])


def test_self_loop_and_http_loop() -> None:
    data = edit(["nodes", "lookup", "on_failure"], "lookup")
    assert any("loop without input (lookup -> lookup)" in m for _, m in problems_of(data))


def test_all_problems_are_reported_at_once() -> None:
    data = edit(["nodes", "welcome", "next"], "nowhere")
    data["nodes"]["goodbye"]["cause"] = "bye bye"
    data["nodes"]["sales"]["queue"] = "Sales Team"
    found = problems_of(data)
    assert {node for node, _ in found} >= {"welcome", "goodbye", "sales"}
    with pytest.raises(FlowError) as caught:
        parse_flow(data)
    assert str(caught.value).startswith("flow 'main': node ")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("just text", "a flow must be a mapping"),
        ({"name": "x", "start": "a", "nodes": {}}, "nodes must be a non-empty mapping"),
        ({"name": "bad name!", "start": "a", "nodes": {"a": {"type": "hangup"}}}, "name 'bad name!'"),
    ],
)
def test_flow_level_shape(data: Any, message: str) -> None:
    with pytest.raises(FlowError, match=message):
        parse_flow(data)


def test_yaml_errors() -> None:
    with pytest.raises(FlowError, match="not valid YAML"):
        load_flow_yaml("name: [unclosed")
