"""CRM lookups for the screen-pop: answer parsing, merging, the cache, failures that
stay invisible to the agent, and a real HTTP CRM that is too slow."""

from __future__ import annotations

import json
import logging

import gevent
import pytest
from gevent.pywsgi import WSGIServer

from cti.crm_lookup import CrmAnswerError, CrmLookup, TtlCache, merge, parse_answer

POP = {"number": "+14155550100", "customer": None, "history": []}


@pytest.mark.parametrize("answer, expected", [
    ({"name": " Ann ", "vip": True, "tags": ["gold", "", 3], "x": 1}, {"name": "Ann", "vip": True, "tags": ["gold"]}),
    ({"fields": {"Plan": "Premium", "Seats": 12, "bad": {"nested": 1}}}, {"fields": {"Plan": "Premium", "Seats": "12"}}),
    ({"vip": "yes", "name": ""}, {}),
])
def test_parse_answer_keeps_what_it_knows(answer, expected):
    assert parse_answer(answer) == expected


@pytest.mark.parametrize("answer", [[], "Ann", None, 3])
def test_parse_answer_refuses_non_objects(answer):
    with pytest.raises(CrmAnswerError):
        parse_answer(answer)


def test_merge_fills_an_unknown_caller_and_keeps_local_data():
    merged = merge(POP, {"name": "Ann", "company": "Acme", "url": "https://crm/1"})
    assert merged["crm"]["url"] == "https://crm/1" and merged["customer"]["source"] == "crm"
    local = {**POP, "customer": {"id": 5, "name": "Ann Lee"}}
    assert merge(local, {"name": "Someone else"})["customer"] == {"id": 5, "name": "Ann Lee"}
    assert merge(POP, None) == {**POP, "crm": None}


def test_ttl_cache_expires_and_is_bounded():
    cache = TtlCache(max_entries=2)
    cache.put("a", 1, expires_at=10.0)
    assert cache.get("a", 9.0) == (True, 1) and cache.get("a", 10.0) == (False, None)
    cache.put("b", 2, 100.0)
    cache.put("c", 3, 100.0)
    cache.put("d", 4, 100.0)
    assert cache.get("b", 0.0) == (False, None) and cache.get("d", 0.0) == (True, 4)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _with_queue(db, url: str) -> None:
    db.execute("""INSERT INTO queues (name, settings) VALUES ('crmq', %s::jsonb)
                  ON CONFLICT (name) DO UPDATE SET settings = EXCLUDED.settings""",
               (json.dumps({"crm_lookup_url": url}),))


def test_lookup_renders_caches_and_hides_failures(db, caplog):
    _with_queue(db, "https://crm.example/lookup?phone={caller_number}")
    calls: list[str] = []
    answers = iter([{"name": "Ann"}, OSError("connection refused")])

    def fetch(url: str, timeout: float):
        calls.append(url)
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    clock = Clock()
    lookup = CrmLookup(db, fetch=fetch, clock=clock, ttl=60, failure_ttl=10)
    values = {"caller_number": "+1 415", "interaction_id": "ix-1"}
    assert lookup.lookup("crmq", values) == {"name": "Ann"}
    assert calls == ["https://crm.example/lookup?phone=%2B1%20415"]
    assert lookup.lookup("crmq", values) == {"name": "Ann"} and len(calls) == 1
    assert lookup.lookup("other-queue", values) is None and len(calls) == 1
    clock.now = 61.0
    with caplog.at_level(logging.WARNING, logger="cti.crm_lookup"):
        popped = lookup.enrich(POP, "crmq", values)
    assert popped["crm"] is None and popped["customer"] is None
    assert "CRM lookup failed" in caplog.text and "415" not in caplog.text.split("CRM lookup failed")[1][:80]
    assert lookup.stats.failures == 1
    assert lookup.lookup("crmq", values) is None and len(calls) == 2     # failure cached briefly


@pytest.mark.slow
def test_a_slow_crm_is_cut_off(db):
    def slow(environ, start_response):
        gevent.sleep(2)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"name": "late"}']

    server = WSGIServer(("127.0.0.1", 0), slow, log=None)
    server.start()
    try:
        _with_queue(db, f"http://127.0.0.1:{server.server_port}/lookup?n={{caller_number}}")
        lookup = CrmLookup(db, timeout=0.2)
        assert lookup.lookup("crmq", {"caller_number": "+14155550100"}) is None
        assert lookup.stats.failures == 1
    finally:
        server.stop(timeout=0)
