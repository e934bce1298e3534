"""Shorter paths for callers: node statistics, shortcuts and the quick menu.

The IVR timeline (:class:`routing.ivr_state.TimelineEntry`) is the single source: the
engine folds it into ``ivr_node_stats`` rows with :func:`node_stats` (visits, exits
by key, hang-ups, retries, time spent per node) and into ``caller_shortcuts`` rows
with :func:`shortcut_updates` (the service a caller used last, and the one they
chose to save). Reading back, the number of times each service node was reached
recently ("requests") feeds :func:`quick_menu_entries`: the most requested services,
offered first to every caller of a flow that enables the quick menu.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from routing.flow_nodes import SERVICE_TYPES
from routing.flows import Flow, QuickMenu
from routing.ivr_state import TimelineEntry


@dataclass(slots=True)
class NodeStats:
    """Counters for one node; ``exits`` counts how callers left it (a menu key,
    ``next``, ``then``/``else``, ``failure``, ``hangup``, ``shortcut``, ``quick``...)."""

    visits: int = 0
    hangups: int = 0
    retries: int = 0
    seconds: float = 0.0
    exits: Counter[str] = field(default_factory=Counter)

    def add(self, other: NodeStats) -> None:
        self.visits += other.visits
        self.hangups += other.hangups
        self.retries += other.retries
        self.seconds += other.seconds
        self.exits.update(other.exits)


def node_stats(timeline: Iterable[TimelineEntry]) -> dict[str, NodeStats]:
    """Per-node counters contributed by these timeline entries."""
    stats: dict[str, NodeStats] = {}
    for entry in timeline:
        if not entry.node:
            continue
        if entry.kind == "node_entered":
            stats.setdefault(entry.node, NodeStats()).visits += 1
        elif entry.kind == "node_left":
            node = stats.setdefault(entry.node, NodeStats())
            exit_label = str(entry.data["exit"])
            node.exits[exit_label] += 1
            node.seconds += float(entry.data["seconds"])
            if exit_label == "hangup":
                node.hangups += 1
        elif entry.kind in ("invalid_input", "no_input"):
            stats.setdefault(entry.node, NodeStats()).retries += 1
    return stats


@dataclass(frozen=True, slots=True)
class ShortcutUpdate:
    """``kind`` is ``last`` (the service just used) or ``saved`` (chosen by the caller)."""

    kind: str
    node: str


def shortcut_updates(timeline: Iterable[TimelineEntry]) -> list[ShortcutUpdate]:
    updates = []
    for entry in timeline:
        if entry.kind == "service":
            updates.append(ShortcutUpdate("last", entry.node))
        elif entry.kind == "shortcut_saved":
            updates.append(ShortcutUpdate("saved", entry.node))
    return updates


def quick_menu_entries(flow: Flow, requests: Mapping[str, int], quick: QuickMenu) -> tuple[str, ...]:
    """The most requested service nodes of ``flow`` (at least ``min_requests`` each),
    most requested first, ties by node name; at most ``quick.size`` of them."""
    ranked = sorted(
        (
            (-count, name)
            for name, count in requests.items()
            if count >= quick.min_requests and isinstance(flow.nodes.get(name), SERVICE_TYPES)
        ),
    )
    return tuple(name for _, name in ranked[: quick.size])
