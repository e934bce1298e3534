"""The routing engine's IVR end to end: a caller walks a flow with DTMF, joins a queue,
hears the position announcement over the music, and is bridged to the agent whose
skills fit; the path shows on the interaction's timeline and in ``ivr_node_stats``.
Also: retries and the failure path, an HTTP lookup (answering and failing), a number
no flow answers, and ``queue.changed``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import gevent
import pytest
from gevent.pywsgi import WSGIServer

from esl.simulator import CallerBehaviour
from tests.routing.engine_site import SITE, engine_stack, interaction_of
from tests.stack import Stack

pytestmark = pytest.mark.slow


def _lookup_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A CRM answering ``{"tier": "gold"}`` for +15550021 and 404 for anyone else."""
    if "15550021" in environ.get("QUERY_STRING", ""):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"tier": "gold", "name": "Jane"}).encode()]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"unknown"]


@pytest.fixture(scope="module")
def crm() -> Iterator[str]:
    server = WSGIServer(("127.0.0.1", 0), _lookup_app, log=None)
    server.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.stop()


@pytest.fixture(scope="module")
def site(database_url, tmp_path_factory, crm) -> Iterator[Stack]:
    definition = copy.deepcopy(SITE)
    definition["flows"].append({
        "name": "lookup", "start": "crm", "language": "en", "languages": ["en"],
        "nodes": {
            "crm": {"type": "http_lookup", "url": crm + "/customer?number={caller_number}", "timeout_ms": 1000,
                    "fields": {"tier": "tier"}, "next": "gold_check", "on_failure": "unknown"},
            "gold_check": {"type": "condition", "test": {"variable": "tier", "equals": "gold"},
                           "then": "gold", "else": "unknown"},
            "gold": {"type": "queue", "queue": "ivr_support", "priority": 90},
            "unknown": {"type": "hangup", "prompt": "sorry.wav"},
        },
    })
    definition["dids"].append({"number": "5551099", "flow": "lookup"})
    stack = engine_stack(database_url, tmp_path_factory.mktemp("engine-ivr"), definition)
    stack.record_channel_events()
    yield stack
    stack.close()


def _playbacks(site: Stack, leg: str) -> list[str]:
    return [e.get("Playback-File-Path") for e in site.raw if e.name == "PLAYBACK_START" and e.uuid == leg]


def test_caller_walks_the_flow_and_is_bridged_to_the_skilled_agent(site: Stack) -> None:
    weak = site.login("1000")  # in the queue, but French 3 < the 5 the menu asks for
    leg = site.switch.place_inbound_call(did="5551000", caller_number="+15550001", caller_name="Jane",
                                         behaviour=CallerBehaviour(prompt_digits=("1",), talk_time=3))
    iid = interaction_of(site, leg)
    site.wait_for(lambda: "queue_position.wav" in _playbacks(site, leg), what="the position announcement")
    assert site.core.state.agent(weak).state.value == "available"  # not offered: skills do not fit
    site.wait_for(lambda: "local_stream://moh" in _playbacks(site, leg)[1:], what="music after the announcement")

    strong = site.login("1001")
    answered = site.wait_event("call.answered", interaction_id=iid)
    assert answered.agent_id == strong
    bridges = [e for e in site.raw if e.name == "CHANNEL_BRIDGE" and e.uuid == leg]
    assert bridges and bridges[0].get("Other-Leg-Unique-ID") == answered.data["leg_uuid"]

    record = site.core.state.interaction_snapshot(iid)
    assert [s["node"] for s in record["ivr_path"]] == ["welcome", "menu", "sales"]
    assert record["digits"] == "1"
    assert record["flow_name"] == "main"
    assert _playbacks(site, leg)[:2] == ["welcome.wav", "main_menu.wav"]
    steps = [(e.data["kind"], e.data["node"], e.data.get("exit"), e.data["flow"])
             for e in site.events if e.type == "call.ivr_step" and e.interaction_id == iid]
    assert steps == [
        ("node_entered", "welcome", None, "main"), ("node_left", "welcome", "next", "main"),
        ("node_entered", "menu", None, "main"), ("node_left", "menu", "1", "main"),
        ("node_entered", "sales", None, "main"), ("node_left", "sales", "service", "main"),
    ]
    left = [e.data for e in site.events if e.type == "call.ivr_step" and e.interaction_id == iid
            and e.data["kind"] == "node_left"]
    assert all(isinstance(d["seconds"], float) and d["seconds"] >= 0 for d in left)
    assert [d["digits"] for d in left] == ["", "1", ""]
    assert record["ivr_path"][1]["exit"] == "1" and record["ivr_path"][1]["digits"] == "1"
    offered = site.wait_event("call.offered", interaction_id=iid)
    assert offered.data["screen_pop"]["ivr_path"] == ["welcome", "menu", "sales"]

    rows = site.wait_for(lambda: site.db.fetchall(
        "SELECT node, visits, exits FROM ivr_node_stats WHERE flow_name = 'main' ORDER BY node"), what="node stats")
    stats = {r["node"]: (r["visits"], r["exits"]) for r in rows}
    assert stats["menu"][1].get("1", 0) >= 1 and stats["welcome"][0] >= 1


def test_no_input_retries_then_takes_the_failure_path(site: Stack) -> None:
    leg = site.switch.place_inbound_call(did="5551000", caller_number="+15550011",
                                         behaviour=CallerBehaviour(prompt_digits=("9", "")))
    iid = interaction_of(site, leg)
    ended = site.wait_event("call.ended", interaction_id=iid, timeout=20)
    assert [step["node"] for step in ended.data["ivr_path"]] == ["welcome", "menu", "bye"]
    assert ended.data["digits"] == "9"
    assert ended.data["outcome"] == "self_service"
    assert "goodbye.wav" in _playbacks(site, leg)


def test_an_http_lookup_fills_variables_and_a_failed_one_falls_through(site: Stack) -> None:
    agent = site.login("1010")
    gold = site.switch.place_inbound_call(did="5551099", caller_number="+15550021",
                                          behaviour=CallerBehaviour(talk_time=2))
    iid = interaction_of(site, gold)
    assert site.wait_event("call.answered", interaction_id=iid).agent_id == agent
    assert [s["node"] for s in site.core.state.interaction_snapshot(iid)["ivr_path"]] == ["crm", "gold_check", "gold"]
    assert _playbacks(site, gold)[-1] == "agent_is.wav"  # the queue announces the agent's id, then bridges
    said = [e for e in site.raw if e.uuid == gold and e.name == "CHANNEL_EXECUTE" and e.get("Application") == "say"]
    assert said and said[-1].get("Application-Data") == "en NUMBER iterated 1010"

    stranger = site.switch.place_inbound_call(did="5551099", caller_number="+15550022")
    other = interaction_of(site, stranger)
    ended = site.wait_event("call.ended", interaction_id=other, timeout=15)
    assert [step["node"] for step in ended.data["ivr_path"]] == ["crm", "unknown"]
    assert "sorry.wav" in _playbacks(site, stranger)


def test_a_number_no_flow_answers_goes_to_the_fallback(site: Stack) -> None:
    leg = site.switch.place_inbound_call(did="5559999", caller_number="+15550031")
    interaction_of(site, leg)
    site.wait_for(lambda: any(e.uuid == leg and e.name == "CHANNEL_EXECUTE" and e.get("Application") == "multiset"
                              and "cti_fallback_reason=park_timeout" in e.get("Application-Data")
                              for e in site.raw), what="the fallback")
    assert site.services.routing.stats.unrouted >= 1
    site.switch.hangup(leg)


def test_queue_changes_are_published_at_a_bounded_rate(site: Stack) -> None:
    engine = site.services.routing
    before = engine.figures.published
    legs = [site.switch.place_inbound_call(did="5551005", caller_number=f"+1555004{i}") for i in range(3)]
    site.wait_for(lambda: len(engine.waiting_calls("nobody")) == 3, what="three waiting calls")
    gevent.sleep(0.6)
    changes = [e for e in site.events if e.type == "queue.changed" and e.queue == "nobody"]
    assert changes[-1].data["waiting"] == 3 and changes[-1].data["offered_today"] >= 3
    assert engine.figures.published - before <= 20
    for leg in legs:
        site.switch.hangup(leg)
    site.wait_for(lambda: not engine.waiting_calls("nobody"), what="the queue to empty")
    site.wait_for(lambda: [e for e in site.events if e.type == "queue.changed" and e.queue == "nobody"][-1]
                  .data["abandoned_today"] >= 3, what="abandons counted")
