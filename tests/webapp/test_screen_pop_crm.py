"""The queue's CRM lookup reaches the screen-pop: a real HTTP CRM answers, its fields are
merged; when it fails the agent still gets the local directory's screen-pop."""

from __future__ import annotations

import json

import gevent
import pytest
from gevent.pywsgi import WSGIServer

from cti.crm_lookup import CrmLookup
from cti.customers import CustomerDirectory
from webapp.rooms import Directory
from webapp.screen_pop import ScreenPops

RECORD = {"id": "i-crm-1", "direction": "inbound", "caller_number": "+15550009999", "caller_name": "",
          "did": "4008001000", "queue": "crmpop", "flow_name": "", "ivr_path": [], "digits": ""}


@pytest.fixture
def crm_server():
    seen: list[str] = []

    def app(environ, start_response):
        seen.append(environ.get("QUERY_STRING", ""))
        body = json.dumps({"name": "Grace Hopper", "company": "Navy", "fields": {"Plan": "Gold"}}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    server = WSGIServer(("127.0.0.1", 0), app, log=None)
    server.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.stop()


def _queue(db, url: str) -> None:
    db.execute("""INSERT INTO queues (name, settings) VALUES ('crmpop', %s::jsonb)
                  ON CONFLICT (name) DO UPDATE SET settings = EXCLUDED.settings""",
               (json.dumps({"crm_lookup_url": url}),))


def test_crm_answer_is_merged_into_the_screen_pop(db, crm_server) -> None:
    base, seen = crm_server
    _queue(db, base + "/lookup?phone={caller_number}&call={interaction_id}")
    pops = ScreenPops(db, CustomerDirectory(db), crm=CrmLookup(db))
    pop = gevent.spawn(pops.build, RECORD, Directory(), agent_id=None).get(timeout=10)
    assert pop["customer"]["name"] == "Grace Hopper"
    assert pop["crm"]["fields"] == {"Plan": "Gold"}
    assert seen == ["phone=%2B15550009999&call=i-crm-1"]


def test_crm_down_falls_back_to_the_local_screen_pop(db) -> None:
    _queue(db, "http://127.0.0.1:9/lookup?phone={caller_number}")
    pops = ScreenPops(db, CustomerDirectory(db), crm=CrmLookup(db, timeout=0.5))
    pop = pops.build(RECORD, Directory(), agent_id=None)
    assert pop["customer"] is None
    assert pop["new_customer"] == {"number": "+15550009999"}
    assert pop["crm"] is None
