"""The pure parts of the report pages: formatting, the form, role scoping, the Erlang
calculator and the IVR tree (table-driven and property tests, no database)."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.errors import ReportError
from routing.flows import parse_flow
from webapp.reports_calc import read_input, staffing_rows
from webapp.reports_form import QUICK_RANGES, quick_range, read_query
from webapp.reports_format import EMPTY, column_kind, format_cell, format_duration, format_time
from webapp.reports_ivr import build_tree, build_trees
from webapp.reports_scope import Scope, ScopeError, restrict

PURE = ("reports_format", "reports_form", "reports_scope", "reports_calc", "reports_ivr")


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_do_no_io(module: str) -> None:
    source = (Path(__file__).resolve().parents[2] / "webapp" / f"{module}.py").read_text(encoding="utf-8")
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(ast.parse(source))
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"gevent", "socket", "psycopg2", "flask", "socketio", "flask_socketio"}


# -- formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "dtype", "kind"), [
    ("service_level", "f", "percent"), ("abandon_rate", "f", "percent"), ("occupancy_erlang_c", "f", "percent"),
    ("asa_s", "f", "duration"), ("talk_s", "O", "duration"), ("seconds", "O", "duration"),
    ("interval_start", "M", "time"), ("entered_at", "M", "time"), ("offered", "i", "int"),
    ("short_abandon", "b", "bool"), ("erlangs", "f", "decimal"), ("queue", "O", "text"),
])
def test_column_kinds(name: str, dtype: str, kind: str) -> None:
    assert column_kind(name, dtype) == kind


@pytest.mark.parametrize(("kind", "value", "interval", "text"), [
    ("percent", 0.8534, "day", "85.3%"),
    ("percent", None, "day", EMPTY),
    ("percent", float("nan"), "day", EMPTY),
    ("duration", 75, "day", "1:15"),
    ("duration", 3725.4, "day", "1:02:05"),
    ("duration", 0.0, "day", "0:00"),
    ("time", "2026-01-05T08:30:00+08:00", "30min", "2026-01-05 08:30"),
    ("time", "2026-01-05T00:00:00+08:00", "day", "2026-01-05"),
    ("time", "2026-02-01T00:00:00+08:00", "month", "2026-02"),
    ("time", "2026-04-01T00:00:00+08:00", "quarter", "2026 Q2"),
    ("time", "2026-01-01T00:00:00+08:00", "year", "2026"),
    ("bool", True, "day", "yes"),
    ("decimal", 2.0, "day", "2"),
    ("decimal", 2.345, "day", "2.35"),
    ("int", 0, "day", "0"),
])
def test_cells(kind: str, value: object, interval: str, text: str) -> None:
    assert format_cell(kind, value, interval=interval) == text


@given(st.integers(min_value=0, max_value=10**7))
def test_durations_read_back_to_the_same_seconds(seconds: int) -> None:
    parts = [int(p) for p in format_duration(seconds).split(":")]
    total = 0
    for part in parts:
        total = total * 60 + part
    assert total == seconds
    assert all(p < 60 for p in parts[1:])


@given(st.sampled_from(["30min", "hour"]), st.integers(0, 23), st.sampled_from([0, 30]))
def test_sub_day_times_keep_the_wall_clock(interval: str, hour: int, minute: int) -> None:
    assert format_time(f"2026-03-29T{hour:02d}:{minute:02d}:00+02:00", interval) == f"2026-03-29 {hour:02d}:{minute:02d}"


# -- the form ------------------------------------------------------------------------------

TODAY = date(2026, 1, 14)  # a Wednesday


@pytest.mark.parametrize(("name", "first", "end"), [
    ("today", date(2026, 1, 14), date(2026, 1, 15)),
    ("yesterday", date(2026, 1, 13), date(2026, 1, 14)),
    ("this_week", date(2026, 1, 12), date(2026, 1, 15)),
    ("last_7_days", date(2026, 1, 7), date(2026, 1, 14)),
    ("this_month", date(2026, 1, 1), date(2026, 1, 15)),
    ("last_month", date(2025, 12, 1), date(2026, 1, 1)),
    ("tomorrow", date(2026, 1, 15), date(2026, 1, 16)),
    ("next_7_days", date(2026, 1, 15), date(2026, 1, 22)),
])
def test_quick_ranges(name: str, first: date, end: date) -> None:
    assert quick_range(name, TODAY) == (first, end)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.sampled_from(QUICK_RANGES))
def test_quick_ranges_are_whole_nonempty_ranges(today: date, name: str) -> None:
    first, end = quick_range(name, today)
    assert first < end and (end - first).days <= 31


def test_the_query_string_becomes_a_run() -> None:
    query = read_query("inbound_summary", {"quick": ["yesterday"], "interval": ["hour"], "queue": ["sales", "vip"],
                                           "did": [""], "page": ["3"]}, TODAY)
    assert (query.start, query.end, query.interval) == ("2026-01-13T00:00", "2026-01-14T00:00", "hour")
    assert query.filters == {"queue": "sales,vip"} and query.page == 3
    assert query.args(page=4) == {"from": "2026-01-13T00:00", "to": "2026-01-14T00:00", "interval": "hour",
                                  "queue": "sales,vip", "page": "4"}


def test_defaults_and_mistakes() -> None:
    query = read_query("staffing", {}, TODAY)
    assert (query.start, query.end, query.interval, query.page) == ("2026-01-14T00:00", "2026-01-15T00:00", "30min", 1)
    with pytest.raises(ReportError, match="page must be a whole number"):
        read_query("inbound_summary", {"page": "-1"}, TODAY)


# -- role scoping --------------------------------------------------------------------------

SUP = Scope(("supervisor",), ("sales", "vip"), (7, 9))


@pytest.mark.parametrize(("scope", "name", "filters", "limited"), [
    (Scope(("admin",), None, None), "inbound_summary", {}, {}),
    (SUP, "inbound_summary", {}, {"queue": "sales,vip"}),
    (SUP, "inbound_summary", {"queue": "vip"}, {"queue": "vip"}),
    (SUP, "call_detail", {"direction": "inbound"}, {"direction": "inbound", "queue": "sales,vip"}),
    (SUP, "agent_performance", {}, {"agent_id": "7,9"}),
    (SUP, "agent_performance", {"agent_id": "9", "queue": "sales"}, {"agent_id": "9", "queue": "sales"}),
    (Scope(("campaign_manager",)), "campaign_results", {"campaign_id": "3"}, {"campaign_id": "3"}),
])
def test_filters_limited_to_the_scope(scope: Scope, name: str, filters: dict[str, str], limited: dict[str, str]) -> None:
    assert restrict(scope, name, filters) == limited


@pytest.mark.parametrize(("scope", "name", "filters", "message"), [
    (SUP, "inbound_summary", {"queue": "sales,support"}, "queue support: yours are sales, vip"),
    (SUP, "agent_state_detail", {"agent_id": "8"}, "agent 8: yours are 7, 9"),
    (SUP, "agent_performance", {"queue": "support"}, "queue support"),
    (Scope(("supervisor",), (), ()), "repeat_calls", {}, "no queues are assigned to you"),
])
def test_outside_the_scope_is_refused(scope: Scope, name: str, filters: dict[str, str], message: str) -> None:
    with pytest.raises(ScopeError, match=message):
        restrict(scope, name, filters)


@pytest.mark.parametrize(("roles", "report", "allowed"), [
    (("agent",), "inbound_summary", False),
    (("supervisor",), "inbound_summary", True),
    (("supervisor",), "ivr_tree", False),
    (("supervisor",), "campaign_results", False),
    (("campaign_manager",), "campaign_results", True),
    (("campaign_manager",), "call_detail", False),
    (("supervisor", "campaign_manager"), "outbound_summary", True),
    (("admin",), "voicemail_handling", True),
])
def test_who_sees_which_report(roles: tuple[str, ...], report: str, allowed: bool) -> None:
    assert Scope(roles).can_see(report) is allowed


# -- the Erlang calculator -------------------------------------------------------------------


def test_the_classic_erlang_c_example() -> None:
    data = read_input({"calls": "100, 0\n50", "minutes": "30", "aht": "180", "target": "80", "threshold": "20",
                       "start": "23:30"})
    rows = staffing_rows(data)
    assert [r["interval"] for r in rows] == ["23:30", "00:00", "00:30"]
    assert rows[0]["agents_erlang_c"] == 14 and rows[0]["sl_erlang_c"] >= 0.8
    assert rows[1]["agents_erlang_c"] == 0 and rows[1]["sl_erlang_c"] is None
    assert rows[0]["agents_erlang_a"] is None  # no patience given: Erlang C only


@given(st.floats(min_value=1, max_value=400), st.floats(min_value=10, max_value=600))
def test_erlang_a_never_needs_more_agents_than_erlang_c(calls: float, patience: float) -> None:
    data = read_input({"calls": str(calls), "aht": "200", "target": "80", "threshold": "20",
                       "patience": str(patience)})
    row = staffing_rows(data)[0]
    assert 0 < row["agents_erlang_a"] <= row["agents_erlang_c"]


@pytest.mark.parametrize(("args", "message"), [
    ({"calls": ""}, "enter one number per interval"),
    ({"calls": "5 -3"}, "value 2 .* must be 0 or more"),
    ({"calls": "5", "target": "120"}, "service-level target"),
    ({"calls": "5", "minutes": "20"}, "use one of 15, 30, 60"),
    ({"calls": "5", "start": "25:00"}, "expected a time such as 08:00"),
    ({"calls": "5", "aht": "abc"}, "handle time .*expected a number"),
])
def test_calculator_mistakes(args: dict[str, str], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        read_input(args)


# -- the IVR tree ----------------------------------------------------------------------------

FLOW = parse_flow({"name": "main", "start": "menu", "nodes": {
    "menu": {"type": "menu", "prompt": "m.wav", "options": {"1": "sales", "9": "menu2"}, "on_failure": "bye"},
    "menu2": {"type": "menu", "prompt": "m2.wav", "options": {"0": "menu"}, "on_failure": "bye"},
    "sales": {"type": "queue", "queue": "sales"},
    "bye": {"type": "hangup"},
}})


def stats(node: str, visits: int, drops: int = 0, **exits: int) -> dict[str, object]:
    return {"node": node, "version": 1, "visits": visits, "drop_offs": drops,
            "drop_off_rate": drops / visits if visits else None, "exits": {**exits, **({"hangup": drops} if drops else {})}}


def test_tree_follows_the_definition_with_counts_and_stops_at_loops() -> None:
    tree = build_tree("main", 1, FLOW, [stats("menu", 10, 2, **{"1": 6, "9": 2}), stats("menu2", 2, **{"0": 2}),
                                        stats("sales", 6), stats("gone", 1)])
    root = tree["root"]
    assert (root["node"], root["type"], root["visits"], root["drop_offs"]) == ("menu", "menu", 10, 2)
    branches = {b["label"]: b for b in root["branches"]}
    assert list(branches) == ["1", "9", "failure", "hangup"]
    assert branches["1"]["count"] == 6 and branches["1"]["child"]["node"] == "sales"
    loop = branches["9"]["child"]["branches"][0]
    assert loop["label"] == "0" and loop["count"] == 2 and loop["ref"] == "menu" and loop["child"] is None
    # bye was drawn first under menu2 (depth first): here it is a reference.
    assert branches["9"]["child"]["branches"][1]["child"]["node"] == "bye"
    assert branches["failure"]["ref"] == "bye" and branches["hangup"]["count"] == 2
    assert [n["node"] for n in tree["others"]] == ["gone"]


def test_without_a_definition_every_node_is_listed() -> None:
    trees = build_trees({"main": [stats("menu", 3, 1, **{"1": 2})]}, {})
    assert trees[0]["root"] is None
    assert trees[0]["others"][0]["branches"] == [{"label": "1", "count": 2, "child": None, "ref": None},
                                                 {"label": "hangup", "count": 1, "child": None, "ref": None}]
