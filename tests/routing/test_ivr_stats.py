"""Node statistics, shortcut updates and the quick menu."""

from __future__ import annotations

from collections import Counter

from routing.flows import load_flow_yaml
from routing.ivr import DigitsEntered, PlaybackFinished, TimelineEntry, resume, start
from routing.ivr_stats import (
    NodeStats,
    ShortcutUpdate,
    node_stats,
    quick_menu_entries,
    shortcut_updates,
)
from tests.routing.sample_flows import MAIN
from tests.routing.test_ivr import T0, context

FLOW = load_flow_yaml(MAIN)


def test_stats_from_a_real_walk() -> None:
    timeline: list[TimelineEntry] = []
    step = start(FLOW, context())
    timeline += step.timeline
    for result in (
        PlaybackFinished(T0 + 4),
        DigitsEntered("1", T0 + 6),
        DigitsEntered("7", T0 + 9),
        DigitsEntered("", T0 + 14),
        DigitsEntered("0", T0 + 16),
        DigitsEntered("1", T0 + 18),
    ):
        step = resume(FLOW, step.state, result)
        timeline += step.timeline
    stats = node_stats(timeline)
    assert stats["welcome"] == NodeStats(visits=1, seconds=4.0, exits=Counter({"next": 1}))
    assert stats["hours"].exits == Counter({"then": 1})
    assert stats["language"] == NodeStats(visits=1, seconds=2.0, exits=Counter({"1": 1}))
    assert stats["main_menu"] == NodeStats(visits=1, retries=2, seconds=12.0, exits=Counter({"1": 1}))
    assert stats["sales"] == NodeStats(visits=1, exits=Counter({"service": 1}))
    assert shortcut_updates(timeline) == [ShortcutUpdate("last", "sales"), ShortcutUpdate("saved", "sales")]


def test_hangups_and_merging() -> None:
    timeline = [
        TimelineEntry(0, "node_entered", "menu"),
        TimelineEntry(7, "node_left", "menu", {"exit": "hangup", "seconds": 7}),
        TimelineEntry(7, "caller_hangup", "menu"),
        TimelineEntry(7, "caller_rejected", ""),
    ]
    stats = node_stats(timeline)
    assert stats == {"menu": NodeStats(visits=1, hangups=1, seconds=7.0, exits=Counter({"hangup": 1}))}
    total = NodeStats()
    total.add(stats["menu"])
    total.add(stats["menu"])
    assert total == NodeStats(visits=2, hangups=2, seconds=14.0, exits=Counter({"hangup": 2}))


def test_quick_menu_entries_rank_and_filter() -> None:
    assert FLOW.shortcuts is not None and FLOW.shortcuts.quick_menu is not None
    quick = FLOW.shortcuts.quick_menu  # size 2, min_requests 5
    requests = {"sales": 30, "support": 30, "operator": 50, "leave_message": 4, "main_menu": 99, "removed": 80}
    # ties broken by name; non-services, unknown nodes and rare ones are left out
    assert quick_menu_entries(FLOW, requests, quick) == ("operator", "sales")
    assert quick_menu_entries(FLOW, {}, quick) == ()
