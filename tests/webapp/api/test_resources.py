"""The resources of the API that need no switch: customers, campaigns and contacts,
tokens, webhooks, reports, history, and the shared validation and pagination rules."""

from __future__ import annotations

import uuid

import pytest

from tests.webapp.api.conftest import bearer

V1 = "/api/v1"


def test_bad_json_unknown_fields_and_unstorable_text(client, admin_headers):
    bad = client.post(f"{V1}/customers", headers={**admin_headers, "Content-Type": "application/json"},
                      data=b"{not json")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad-json"
    empty = client.post(f"{V1}/customers", headers=admin_headers)
    assert empty.status_code == 400
    nan = client.post(f"{V1}/customers", headers={**admin_headers, "Content-Type": "application/json"},
                      data=b'{"name": NaN}')
    assert nan.status_code == 400
    for body, field in (({"name": "x\u0000y"}, "name"), ({"name": 7}, "name"), ({}, "name"),
                        ({"name": "A", "tags": ["ok", ""]}, "tags[1]"),
                        ({"name": "A", "numbers": [{"number": "+1", "label": 3}]}, None)):
        response = client.post(f"{V1}/customers", headers=admin_headers, json=body)
        assert response.status_code == 422, body
        if field is not None:
            assert response.get_json()["error"]["field"] == field, body


def test_unknown_query_parameters_and_bad_values_are_named(client, admin_headers):
    unknown = client.get(f"{V1}/customers?colour=red", headers=admin_headers)
    assert unknown.status_code == 422 and unknown.get_json()["error"]["field"] == "colour"
    wrong = client.get(f"{V1}/customers?limit=0", headers=admin_headers)
    assert wrong.status_code == 422 and wrong.get_json()["error"]["field"] == "limit"
    assert client.get(f"{V1}/customers/abc", headers=admin_headers).status_code == 404
    assert client.get(f"{V1}/customers/{2**70}", headers=admin_headers).status_code == 404


def test_customer_lifecycle_and_lookup(client, admin_headers, services):
    created = client.post(f"{V1}/customers", headers=admin_headers, json={
        "name": "Ann Lee", "company": "Acme", "vip": True, "tags": ["gold"],
        "numbers": ["+1 415 555 0101", {"number": "+14155550102", "label": "mobile"}]})
    assert created.status_code == 201, created.get_json()
    customer = created.get_json()
    assert {n["number"]: n["label"] for n in customer["numbers"]} == {"+14155550101": "", "+14155550102": "mobile"}
    cid = customer["id"]
    taken = client.post(f"{V1}/customers", headers=admin_headers, json={"name": "Bob", "numbers": ["+14155550101"]})
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "number-taken"
    lookup = client.get(f"{V1}/customers/lookup?number=%2B14155550102", headers=admin_headers).get_json()
    assert lookup["customer"]["id"] == cid and lookup["history"] == []
    unknown = client.get(f"{V1}/customers/lookup?number=%2B14155550199", headers=admin_headers).get_json()
    assert unknown["customer"] is None
    changed = client.patch(f"{V1}/customers/{cid}", headers=admin_headers, json={"notes": "prefers email"})
    assert changed.status_code == 200 and changed.get_json()["notes"] == "prefers email"
    search = client.get(f"{V1}/customers?q=acme", headers=admin_headers).get_json()
    assert [c["id"] for c in search["items"]] == [cid]
    added = client.post(f"{V1}/customers/{cid}/numbers", headers=admin_headers, json={"number": "+14155550103"})
    assert len(added.get_json()["numbers"]) == 3
    removed = client.delete(f"{V1}/customers/{cid}/numbers/%2B14155550103", headers=admin_headers)
    assert len(removed.get_json()["numbers"]) == 2
    assert client.delete(f"{V1}/customers/{cid}", headers=admin_headers).status_code == 204
    assert client.get(f"{V1}/customers/{cid}", headers=admin_headers).status_code == 404


def test_pagination_follows_next_links(client, admin_headers):
    for n in range(5):
        client.post(f"{V1}/customers", headers=admin_headers, json={"name": f"Paged {n}"})
    seen, url = [], f"{V1}/customers?q=Paged&limit=2"
    while url:
        page = client.get(url, headers=admin_headers).get_json()
        assert len(page["items"]) <= 2
        seen += [c["name"] for c in page["items"]]
        url = page["next"]
    assert seen == [f"Paged {n}" for n in range(5)]


def test_campaign_lifecycle_contacts_and_stats(client, admin_headers, services):
    created = client.post(f"{V1}/campaigns", headers=admin_headers, json={
        "name": "spring", "mode": "progressive", "settings": {"window": {"start": "09:00", "end": "18:00"}}})
    assert created.status_code == 201, created.get_json()
    campaign = created.get_json()
    assert campaign["state"] == "draft"
    cid = campaign["id"]
    again = client.post(f"{V1}/campaigns", headers=admin_headers, json={"name": "spring"})
    assert again.status_code == 409
    bad = client.patch(f"{V1}/campaigns/{cid}", headers=admin_headers, json={"settings": {"ring_seconds": 2}})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "settings.ring_seconds"

    added = client.post(f"{V1}/campaigns/{cid}/contacts", headers=admin_headers, json={
        "default_region": "US",
        "contacts": [
            {"phone": "(415) 555-0111", "name": "One", "fields": {"account": "A1"}},
            {"phone": "not a number"},
            {"phone": "+1 415 555 0111", "fields": {"plan": "gold"}},
            {"phone": "+14155550112", "timezone": "Mars/Base"},
            {"phone": "+14155550113", "timezone": "America/New_York"},
        ]})
    assert added.status_code == 200, added.get_json()
    result = added.get_json()
    assert (result["received"], result["added"], result["merged"]) == (5, 2, 1)
    assert [b["index"] for b in result["bad"]] == [1, 3]
    assert "phone" in result["bad"][0]["reason"] and "time zone" in result["bad"][1]["reason"]
    row = services.db.fetchone("SELECT fields FROM outbound_contacts WHERE e164 = '+14155550111'")
    assert row["fields"] == {"account": "A1", "plan": "gold"}
    repeat = client.post(f"{V1}/campaigns/{cid}/contacts", headers=admin_headers,
                         json={"contacts": [{"phone": "+14155550113"}]}).get_json()
    assert (repeat["added"], repeat["merged"]) == (0, 1)

    events = []
    services.bus.subscribe("campaign.changed", events.append)
    assert client.post(f"{V1}/campaigns/{cid}/pause", headers=admin_headers).status_code == 409
    unready = client.post(f"{V1}/campaigns/{cid}/start", headers=admin_headers)
    assert unready.status_code == 409
    error = unready.get_json()["error"]
    assert error["code"] == "campaign-not-ready" and "queue" in error["message"] and "caller id" in error["message"]
    assert client.patch(f"{V1}/campaigns/{cid}", headers=admin_headers,
                        json={"queue": "sales", "caller_id_number": "+14155550100"}).status_code == 200
    started = client.post(f"{V1}/campaigns/{cid}/start", headers=admin_headers).get_json()
    assert started["state"] == "running", started
    assert client.post(f"{V1}/campaigns/{cid}/pause", headers=admin_headers).get_json()["state"] == "paused"
    assert client.delete(f"{V1}/campaigns/{cid}", headers=admin_headers).status_code == 409
    assert client.post(f"{V1}/campaigns/{cid}/start", headers=admin_headers).get_json()["state"] == "running"
    assert client.post(f"{V1}/campaigns/{cid}/stop", headers=admin_headers).get_json()["state"] == "stopped"
    assert [(e.data["previous"], e.data["state"]) for e in events if e.data.get("kind") == "state"] == [
        ("draft", "running"), ("running", "paused"), ("paused", "running"), ("running", "stopped")]
    stats = client.get(f"{V1}/campaigns/{cid}/stats", headers=admin_headers).get_json()
    assert stats["contacts"]["new"] == 2 and stats["state"] == "stopped"
    assert client.delete(f"{V1}/campaigns/{cid}", headers=admin_headers).status_code == 204


def test_tokens_are_shown_once(client, admin_headers):
    created = client.post(f"{V1}/tokens", headers=admin_headers, json={
        "name": "crm", "scopes": ["read", "calls"], "allowed_cidrs": ["203.0.113.0/24"],
        "expires_at": "2099-01-01T00:00:00Z"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["token"].startswith("cti_") and body["status"] == "active"
    listed = client.get(f"{V1}/tokens/{body['id']}", headers=admin_headers).get_json()
    assert "token" not in listed and listed["allowed_cidrs"] == ["203.0.113.0/24"]
    bad = client.post(f"{V1}/tokens", headers=admin_headers, json={"name": "x", "scopes": ["read"],
                                                                    "allowed_cidrs": ["300.1.1.1"]})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "allowed_cidrs"


def test_webhook_subscriptions_refuse_private_targets_without_allowance(client, admin_headers):
    refused = client.post(f"{V1}/webhooks", headers=admin_headers, json={
        "name": "local", "url": "http://127.0.0.1:9000/hook", "events": ["call.*"]})
    assert refused.status_code == 422
    assert refused.get_json()["error"] == {"code": "private-target", "field": "url",
                                           "message": refused.get_json()["error"]["message"]}
    assert "allow private target" in refused.get_json()["error"]["message"]
    allowed = client.post(f"{V1}/webhooks", headers=admin_headers, json={
        "name": "local", "url": "http://127.0.0.1:9000/hook", "events": ["call.*"], "allow_private": True})
    assert allowed.status_code == 201 and len(allowed.get_json()["secret"]) >= 16
    hook_id = allowed.get_json()["id"]
    assert "secret" not in client.get(f"{V1}/webhooks/{hook_id}", headers=admin_headers).get_json()
    withdrawn = client.patch(f"{V1}/webhooks/{hook_id}", headers=admin_headers, json={"allow_private": False})
    assert withdrawn.status_code == 422
    typo = client.post(f"{V1}/webhooks", headers=admin_headers, json={
        "name": "x", "url": "https://8.8.8.8/h", "events": ["call.endd"]})
    assert typo.status_code == 422 and typo.get_json()["error"]["field"] == "events"
    assert client.get(f"{V1}/webhooks/{hook_id}/deliveries", headers=admin_headers).get_json() == {
        "items": [], "next": None}
    assert client.delete(f"{V1}/webhooks/{hook_id}", headers=admin_headers).status_code == 204


def test_stored_interactions_are_read_back(client, admin_headers, services):
    iid = str(uuid.uuid4())
    services.db.execute(
        """INSERT INTO interactions (id, direction, caller_number, queue_name, started_at, ended_at, outcome)
           VALUES (%s, 'inbound', '+14155550123', 'sales', now() - interval '5 minutes', now(), 'answered')""", (iid,))
    services.db.execute(
        """INSERT INTO interaction_events (event_id, interaction_id, at, type, data)
           VALUES (%s, %s, now(), 'call.ended', '{"cause": "NORMAL_CLEARING"}')""", (str(uuid.uuid4()), iid))
    record = client.get(f"{V1}/calls/{iid}", headers=admin_headers).get_json()
    assert record["id"] == iid and record["outcome"] == "answered" and record["queue"] == "sales"
    assert [e["type"] for e in record["timeline"]] == ["call.ended"] and record["legs"] == []
    listed = client.get(f"{V1}/interactions?queue=sales&from=2000-01-01T00:00:00Z", headers=admin_headers).get_json()
    assert iid in [r["id"] for r in listed["items"]]
    assert client.get(f"{V1}/calls/{uuid.uuid4()}", headers=admin_headers).status_code == 404


@pytest.mark.slow
def test_a_report_as_json(client, admin_headers):
    catalogue = client.get(f"{V1}/reports", headers=admin_headers).get_json()
    assert "inbound_summary" in {r["name"] for r in catalogue}
    report = client.get(f"{V1}/reports/inbound_summary?from=2026-01-01&to=2026-01-03&by=none",
                        headers=admin_headers)
    assert report.status_code == 200, report.get_json()
    body = report.get_json()
    assert body["report"] == "inbound_summary" and len(body["rows"]) == 2 and "answered" in body["columns"]
    too_long = client.get(f"{V1}/reports/inbound_summary?from=2020-01-01&to=2026-01-01&interval=30min",
                          headers=admin_headers)
    assert too_long.status_code == 422 and too_long.get_json()["error"]["field"] == "to"
    wrong = client.get(f"{V1}/reports/inbound_summary?from=2026-01-01&to=2026-01-03&queue=", headers=admin_headers)
    assert wrong.status_code == 422


def test_live_endpoints_say_when_there_is_no_switch(client, admin_headers):
    assert client.get(f"{V1}/calls", headers=admin_headers).get_json() == {"items": [], "next": None}
    refused = client.post(f"{V1}/calls", headers=admin_headers, json={"agent_id": 1, "number": "+14155550100"})
    assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "no-switch"


def test_read_scope_token_reads_events_catalogue(client, make_token):
    events = client.get(f"{V1}/events", headers=bearer(make_token("read"))).get_json()
    assert {"call.ended", "agent.state_changed"} <= {e["type"] for e in events}
