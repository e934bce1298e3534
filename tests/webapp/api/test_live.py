"""The API over a running site (simulated switch, real services): agents log in and
change state, click-to-dial, call control, the live record then the stored one, queue
figures, metrics and readiness, and the call's events reaching a webhook receiver in
order."""

from __future__ import annotations

import json
import time

import pytest

from cti.tokens import TokenStore
from tests.cti.test_webhooks import Receiver, wait_for
from tests.webapp.agent_calls import CUSTOMERS, fast_stack

V1 = "/api/v1"


@pytest.fixture(scope="module")
def live(site_db_url, tmp_path_factory):
    yield from fast_stack(site_db_url, tmp_path_factory.mktemp("api-live"))


@pytest.fixture(scope="module")
def api(live):
    from webapp import create_app

    app, _ = create_app(live.services, {"TESTING": True})
    token = TokenStore(live.db).create("live", ["admin"], rate_per_minute=100_000)[1]
    return app.test_client(), {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
def test_agent_dials_through_the_api_and_the_webhook_follows(live, api):
    client, headers = api
    receiver = Receiver()
    receiver.start()
    hook = client.post(f"{V1}/webhooks", headers=headers, json={
        "name": "crm", "url": receiver.url, "events": ["call.*"], "allow_private": True}).get_json()
    agent_id = live.agent_id("1013")

    login = client.post(f"{V1}/agents/{agent_id}/login", headers=headers, json={"ready": True})
    assert login.status_code == 200 and login.get_json()["live"]["state"] == "available"
    assert login.get_json()["live"]["extension"] == "1013"
    other = live.agent_id("1014")
    taken = client.post(f"{V1}/agents/{other}/login", headers=headers, json={"extension": "1013"})
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "extension-in-use"
    assert taken.get_json()["error"]["field"] == "extension"
    assert f"agent {agent_id}" not in taken.get_json()["error"]["message"], "the colleague by name, not an id"
    assert "(1013)" in taken.get_json()["error"]["message"]

    dialled = client.post(f"{V1}/calls", headers=headers, json={"agent_id": agent_id, "number": CUSTOMERS[20]})
    assert dialled.status_code == 201, dialled.get_json()
    iid = dialled.get_json()["interaction_id"]
    live.wait_event("call.answered", interaction_id=iid)
    live.wait_for(lambda: live.core.state.agent(agent_id).state.value == "on_call", what="agent on the call")

    assert iid in [c["id"] for c in client.get(f"{V1}/calls", headers=headers).get_json()["items"]]
    record = client.get(f"{V1}/calls/{iid}", headers=headers).get_json()
    assert record["state"] == "connected" and record["direction"] == "outbound" and record["timeline"]
    busy = client.post(f"{V1}/agents/{agent_id}/logout", headers=headers)
    assert busy.status_code == 409

    assert client.post(f"{V1}/calls/{iid}/hold", headers=headers).status_code == 200
    live.wait_event("call.held", interaction_id=iid)
    again = client.post(f"{V1}/calls/{iid}/hold", headers=headers, json={})
    assert again.status_code == 409 and "hold" in again.get_json()["error"]["message"]
    assert client.post(f"{V1}/calls/{iid}/resume", headers=headers).status_code == 200
    live.wait_event("call.resumed", interaction_id=iid)
    bad_target = client.post(f"{V1}/calls/{iid}/transfer", headers=headers, json={"target": "somewhere"})
    assert bad_target.status_code == 422 and bad_target.get_json()["error"]["field"] == "target"
    assert client.post(f"{V1}/calls/{iid}/hangup", headers=headers).status_code == 200
    live.wait_event("call.ended", interaction_id=iid)

    assert live.services.store.flush(10)
    stored = wait_for(lambda: (r := client.get(f"{V1}/calls/{iid}", headers=headers).get_json())
                      and r.get("ended_at") and r, what="stored record")
    assert stored["outcome"] == "answered" and stored["legs"]

    resting = client.put(f"{V1}/agents/{agent_id}/state", headers=headers, json={"state": "not_ready",
                                                                                  "reason": "break"})
    assert resting.status_code == 200 and resting.get_json()["live"]["reason"] == "break"
    unknown_reason = client.put(f"{V1}/agents/{agent_id}/state", headers=headers,
                                json={"state": "not_ready", "reason": "nap"})
    assert unknown_reason.status_code == 422

    wait_for(lambda: any(json.loads(r["body"])["type"] == "call.ended" and json.loads(r["body"])["interaction_id"]
                         == iid for r in receiver.accepted()), what="call.ended delivered")
    types = [json.loads(r["body"])["type"] for r in receiver.accepted()
             if json.loads(r["body"])["interaction_id"] == iid]
    assert types[0] == "call.created" and types[-1] in ("call.ended", "call.wrapup_ended")
    assert types.index("call.held") < types.index("call.resumed") < types.index("call.ended")
    client.delete(f"{V1}/webhooks/{hook['id']}", headers=headers)
    receiver.stop()


@pytest.mark.slow
def test_queues_metrics_and_readiness(live, api):
    client, headers = api
    queues = client.get(f"{V1}/queues", headers=headers).get_json()["items"]
    sales = next(q for q in queues if q["name"] == "sales")
    assert sales["members"] >= 1 and sum(sales["agents"].values()) == sales["members"]
    assert client.get(f"{V1}/queues/sales/calls", headers=headers).get_json()["items"] == []
    assert client.get(f"{V1}/queues/nope", headers=headers).status_code == 404

    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["switch:fs1"] == "connected"
    assert client.get("/metrics").status_code == 401
    scraped = client.get("/metrics", headers=headers)
    assert scraped.status_code == 200 and scraped.mimetype == "text/plain"
    text = scraped.get_data(as_text=True)
    for needle in ('cti_queue_calls_waiting{queue="sales"}', 'cti_agents{state="available"}',
                   'cti_esl_reconnects_total{node="fs1"}', "cti_webhook_outbox_pending", "cti_store_backlog_records",
                   'cti_event_latency_seconds{quantile="0.99"}', "cti_esl_events_per_second"):
        assert needle in text, needle
    time.sleep(0.01)
