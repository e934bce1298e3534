"""The IVR starts at the caller's park without waiting on the database, unless what the
directory says can change the flow's course -- and then only for a bounded time.

The directory lookups are held up on purpose (a database busy with other work), and
the call must reach an agent's phone anyway: at once for a flow that needs nothing
from the directory, after the bound for one that does (shortcuts, or a queue that
keeps callers for their last agent).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gevent.event
import pytest

from esl.simulator import CallerBehaviour
from routing.flows import needs_caller_facts, parse_flow
from routing.site import CallerFacts
from tests.routing.engine_site import engine_stack, interaction_of
from tests.stack import Stack


def _flow(**extra: Any) -> dict[str, Any]:
    return {"name": "f", "start": "q", "nodes": {"q": {"type": "queue", "queue": "plain"}}, **extra}


@pytest.mark.parametrize(("flow", "sticky", "needed"), [
    (_flow(), set(), False),
    (_flow(), {"plain"}, True),
    (_flow(shortcuts={"menu": "m", "offer": {"digit": "*", "prompt": "s.wav"}}) | {
        "start": "m", "nodes": {"m": {"type": "menu", "prompt": "m.wav", "options": {"1": "q"}, "on_failure": "q"},
                                "q": {"type": "queue", "queue": "plain", "label": "plain.wav"}}}, set(), True),
    ({"name": "f", "start": "c", "nodes": {
        "c": {"type": "condition", "test": {"caller_in": "customers"}, "then": "q", "else": "q"},
        "q": {"type": "queue", "queue": "plain"}}}, set(), True),
    ({"name": "f", "start": "c", "nodes": {
        "c": {"type": "condition", "test": {"caller_in": "vip"}, "then": "q", "else": "q"},
        "q": {"type": "queue", "queue": "plain"}}}, set(), False),
])
def test_which_flows_need_the_directory(flow: dict[str, Any], sticky: set[str], needed: bool) -> None:
    assert needs_caller_facts(parse_flow(flow), sticky) is needed


SITE: dict[str, Any] = {
    "queues": [{"name": "plain", "ring_timeout": 20, "wrapup": 0},
               {"name": "kept", "ring_timeout": 20, "wrapup": 0, "sticky_agent": {"window": 3600, "wait": 5}}],
    "flows": [{"name": "f_plain", "start": "q", "nodes": {"q": {"type": "queue", "queue": "plain"}}},
              {"name": "f_kept", "start": "q", "nodes": {"q": {"type": "queue", "queue": "kept"}}}],
    "dids": [{"number": "5557001", "flow": "f_plain"}, {"number": "5557002", "flow": "f_kept"}],
    "agents": [{"username": f"arr{code}", "password": f"pw{code}pw", "code": code, "extension": code, "queues": [q]}
               for code, q in (("7101", "plain"), ("7102", "kept"))],
}


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = engine_stack(database_url, tmp_path_factory.mktemp("engine-arrivals"), SITE)
    for code in ("7101", "7102"):
        stack.switch.register_phone(code, answer_after=0.5)
        stack.login(code)
    yield stack
    stack.close()


@pytest.fixture
def slow_directory(site: Stack) -> Iterator[gevent.event.Event]:
    """The directory lookups wait until the test lets them go."""
    engine = site.services.routing
    release = gevent.event.Event()
    lookup = engine.loader.caller_facts

    def held(number: str, flow: str) -> CallerFacts:
        release.wait(30)
        return lookup(number, flow)

    engine.loader.caller_facts = held  # type: ignore[method-assign]
    yield release
    release.set()
    engine.loader.caller_facts = lookup  # type: ignore[method-assign]


@pytest.mark.slow
def test_a_flow_that_needs_nothing_from_the_directory_does_not_wait_for_it(
    site: Stack, slow_directory: gevent.event.Event,
) -> None:
    leg = site.switch.place_inbound_call(did="5557001", caller_number="+15557001",
                                         behaviour=CallerBehaviour(talk_time=1.0))
    iid = interaction_of(site, leg)
    site.wait_event("call.offered", interaction_id=iid)
    assert not slow_directory.is_set() and site.services.routing.stats.lookups_late == 0
    slow_directory.set()
    site.wait_event("call.ended", interaction_id=iid, timeout=15)


@pytest.mark.slow
def test_a_flow_that_needs_the_directory_waits_for_it_only_so_long(
    site: Stack, slow_directory: gevent.event.Event,
) -> None:
    engine = site.services.routing
    late = engine.stats.lookups_late
    leg = site.switch.place_inbound_call(did="5557002", caller_number="+15557002",
                                         behaviour=CallerBehaviour(talk_time=1.0))
    iid = interaction_of(site, leg)
    site.wait_event("call.offered", interaction_id=iid)
    assert not slow_directory.is_set() and engine.stats.lookups_late == late + 1
    slow_directory.set()
    site.wait_event("call.ended", interaction_id=iid, timeout=15)
