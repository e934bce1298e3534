"""The IVR tree drawn on the ivr_tree report: the flow's nodes from its start, each
with its visits and drop-offs, and under it one branch per way out with the number of
callers who took it.

Pure. The statistics (:func:`reports.charts.ivr_tree_nodes`) count exits by label
only (a menu key, ``next``, ``failure`` ...); which node a label leads to comes from
the flow definition, read the way :mod:`routing.ivr` leaves nodes:

==============  ==========================================================
node type       exit label -> next node
==============  ==========================================================
menu            its option keys -> their nodes; ``failure`` -> on_failure
collect         ``next`` -> next; ``failure`` -> on_failure
http            ``success`` -> next; ``failure`` -> on_failure
condition       ``then`` -> then; ``else`` -> otherwise
play, set       ``next`` -> next
language        ``next``, ``default`` and its option keys -> next
==============  ==========================================================

Other labels (``hangup`` -- the drop-offs --, ``service``, ``end``, ``shortcut``,
``quick``) end the branch. A node reached a second time (a menu looping back) is
drawn once; later branches to it show a reference instead, so loops stay finite.
Nodes with statistics that the definition cannot place (an older version, or a flow
whose definition is gone) are listed under the tree, so no count is ever hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from routing import flow_nodes as n
from routing.flows import Flow

Stats = Mapping[str, Any]


def exits_of(node: n.Node) -> dict[str, str]:
    """``{exit label: next node}`` of one node (see the module docstring)."""
    if isinstance(node, n.MenuNode):
        return {**{str(k): v for k, v in node.options.items()}, "failure": node.on_failure}
    if isinstance(node, n.CollectNode):
        return {"next": node.next, "failure": node.on_failure}
    if isinstance(node, n.HttpLookupNode):
        return {"success": node.next, "failure": node.on_failure}
    if isinstance(node, n.ConditionNode):
        return {"then": node.then, "else": node.otherwise}
    if isinstance(node, n.LanguageNode):
        return {"next": node.next, "default": node.next, **{str(k): node.next for k in node.options}}
    if isinstance(node, n.PlayNode | n.SetNode):
        return {"next": node.next}
    return {}


def _type_name(node: n.Node | None) -> str:
    return type(node).__name__.removesuffix("Node").lower() if node is not None else ""


def _blank(name: str) -> dict[str, Any]:
    return {"node": name, "visits": 0, "drop_offs": 0, "drop_off_rate": None, "exits": {}}


class _Builder:
    def __init__(self, flow: Flow, stats: Mapping[str, Stats]) -> None:
        self.flow = flow
        self.stats = stats
        self.drawn: set[str] = set()

    def node(self, name: str) -> dict[str, Any]:
        self.drawn.add(name)
        stats = self.stats.get(name) or _blank(name)
        definition = self.flow.nodes.get(name)
        counted: Mapping[str, int] = stats.get("exits") or {}
        targets = exits_of(definition) if definition is not None else {}
        branches = []
        for label in [*targets, *sorted(k for k in counted if k not in targets)]:
            target = targets.get(label)
            branch: dict[str, Any] = {"label": label, "count": int(counted.get(label, 0)), "child": None, "ref": None}
            if target is not None and target in self.drawn:
                branch["ref"] = target
            elif target is not None:
                branch["child"] = self.node(target)
            branches.append(branch)
        return {"node": name, "type": _type_name(definition), "visits": int(stats.get("visits", 0)),
                "drop_offs": int(stats.get("drop_offs", 0)), "drop_off_rate": stats.get("drop_off_rate"),
                "branches": branches}


def _flat(stats: Stats) -> dict[str, Any]:
    counted: Mapping[str, int] = stats.get("exits") or {}
    return {"node": str(stats["node"]), "type": "", "visits": int(stats.get("visits", 0)),
            "drop_offs": int(stats.get("drop_offs", 0)), "drop_off_rate": stats.get("drop_off_rate"),
            "branches": [{"label": k, "count": int(v), "child": None, "ref": None} for k, v in sorted(counted.items())]}


def build_tree(flow_name: str, version: int | None, flow: Flow | None, nodes: Sequence[Stats]) -> dict[str, Any]:
    """One flow version's tree: ``{"flow", "version", "root", "others"}``.

    ``root`` is None when ``flow`` (the parsed definition) is unknown; ``others`` lists
    the nodes with statistics that the tree does not show.
    """
    stats = {str(s["node"]): s for s in nodes}
    if flow is None:
        return {"flow": flow_name, "version": version, "root": None, "others": [_flat(s) for s in nodes]}
    builder = _Builder(flow, stats)
    root = builder.node(flow.start)
    others = [_flat(s) for name, s in stats.items() if name not in builder.drawn]
    return {"flow": flow_name, "version": version, "root": root, "others": others}


def build_trees(nodes_by_flow: Mapping[str, Sequence[Stats]],
                flows: Mapping[tuple[str, int | None], Flow]) -> list[dict[str, Any]]:
    """Every flow version of the report, each as :func:`build_tree` draws it.

    ``flows`` maps (flow name, version) to its parsed definition; version None (the
    report read timeline events, which carry no version) maps to the latest one.
    """
    trees = []
    for flow_name in sorted(nodes_by_flow):
        versions: dict[int | None, list[Stats]] = {}
        for stats in nodes_by_flow[flow_name]:
            versions.setdefault(stats.get("version"), []).append(stats)
        for version in sorted(versions, key=lambda v: -1 if v is None else v):
            trees.append(build_tree(flow_name, version, flows.get((flow_name, version)), versions[version]))
    return trees
