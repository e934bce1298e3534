"""A secret collection (a PIN) end to end: the digits the caller keys in reach the flow
(it goes on with them) and appear nowhere else -- not in the live record, the
screen-pop, the timeline events, the stored interaction or the logs, nor left behind
in the channel's variables. The timeline keeps only how many digits were keyed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from cti.call_media import SECRET_DIGIT
from esl.simulator import CallerBehaviour
from tests.routing.engine_site import engine_stack, interaction_of
from tests.stack import Stack

pytestmark = pytest.mark.slow

PIN = "4321"
SITE: dict[str, Any] = {
    "queues": [{"name": "s_q", "ring_timeout": 20, "wrapup": 0}],
    "flows": [{
        "name": "f_pin", "start": "pin", "language": "en", "languages": ["en"],
        "nodes": {
            "pin": {"type": "collect", "prompt": "enter_pin.wav", "variable": "pin", "min_length": 4, "max_length": 4,
                    "secret": True, "retries": 2, "next": "check", "on_failure": "bye"},
            "check": {"type": "condition", "test": {"variable": "pin", "equals": PIN}, "then": "q", "else": "bye"},
            "q": {"type": "queue", "queue": "s_q"},
            "bye": {"type": "hangup", "prompt": "bye.wav"},
        },
    }],
    "dids": [{"number": "5554001", "flow": "f_pin"}],
    "agents": [{"username": "sec5001", "password": "pw5001pw", "code": "5001", "extension": "5001", "queues": ["s_q"]}],
}


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = engine_stack(database_url, tmp_path_factory.mktemp("engine-secret"), SITE)
    stack.switch.register_phone("5001", answer_after=0.5)
    yield stack
    stack.close()


def test_the_digits_of_a_secret_collection_appear_nowhere(site: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    agent = site.login("5001")
    leg = site.switch.place_inbound_call(did="5554001", caller_number="+15554001",
                                         behaviour=CallerBehaviour(prompt_digits=(PIN,), think_time=0.5, talk_time=3.0))
    iid = interaction_of(site, leg)

    offered = site.wait_event("call.offered", interaction_id=iid, timeout=15)   # the flow checked the PIN
    assert offered.agent_id == agent
    assert offered.data["screen_pop"]["digits"] == SECRET_DIGIT * len(PIN)
    live = site.core.state.interaction_snapshot(iid)

    def variables() -> dict[str, str]:
        return next(c["variables"] for c in site.switch.channels() if c["uuid"] == leg)

    site.wait_for(lambda: "cti_dtmf_secret" not in variables(), what="the mask to be lifted")
    assert PIN not in json.dumps(variables())

    ended = site.wait_event("call.ended", interaction_id=iid, timeout=15)
    left = [e.data for e in site.events if e.type == "call.ivr_step" and e.interaction_id == iid
            and e.data["kind"] == "node_left" and e.data["node"] == "pin"]
    assert [(d["digits"], d["digits_length"]) for d in left] == [("", len(PIN))]
    assert site.services.store.flush(20)
    stored = site.db.fetchone("SELECT row_to_json(i)::text AS row FROM interactions i WHERE id = %s", (iid,))
    events = site.db.fetchall("SELECT type, data::text AS data FROM interaction_events WHERE interaction_id = %s",
                              (iid,))
    assert stored is not None and events
    published = [json.dumps(e.data, default=str) for e in site.events if e.interaction_id == iid]
    for where, text in [("live record", json.dumps(live)), ("call.ended", json.dumps(ended.data)),
                        ("interactions row", stored["row"]), ("logs", caplog.text),
                        *((f"event {e['type']}", e["data"]) for e in events), *(("bus", p) for p in published)]:
        assert PIN not in text, f"the PIN is in the {where}"
