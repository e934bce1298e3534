"""Who may call the API: tokens, scopes, expiry, revocation, IP allow-lists, rate
limits, the audit log, and that the session cookie opens nothing here."""

from __future__ import annotations

import uuid

import pytest

from tests.webapp.api.conftest import bearer

CALL = f"/api/v1/calls/{uuid.uuid4()}"


def test_no_token_is_401_with_a_challenge(client):
    response = client.get("/api/v1/customers")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "missing-token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_401(client):
    response = client.get("/api/v1/customers", headers=bearer("cti_not-a-real-token"))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid-token"


@pytest.mark.parametrize("method, path, body", [
    ("post", "/api/v1/calls", {"agent_id": 1, "number": "+14155550100"}),
    ("post", f"{CALL}/hangup", {}),
    ("post", f"{CALL}/hold", {}),
    ("post", f"{CALL}/transfer", {"target": "agent:2"}),
    ("post", "/api/v1/customers", {"name": "Ann"}),
    ("put", "/api/v1/agents/1/state", {"state": "available"}),
    ("post", "/api/v1/campaigns", {"name": "x"}),
    ("get", "/api/v1/tokens", None),
    ("get", "/api/v1/webhooks", None),
])
def test_a_read_token_cannot_act(client, make_token, method, path, body):
    response = getattr(client, method)(path, headers=bearer(make_token("read")), json=body)
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "insufficient-scope" and "scope" in error["message"]


def test_a_read_token_reads(client, make_token):
    assert client.get("/api/v1/customers", headers=bearer(make_token("read"))).status_code == 200


def test_media_needs_read_and_media(client, make_token):
    path = f"/api/v1/recordings/{uuid.uuid4()}/audio"
    assert client.get(path, headers=bearer(make_token("read"))).status_code == 403
    assert client.get(path, headers=bearer(make_token("media"))).status_code == 403
    assert client.get(path, headers=bearer(make_token("read", "media"))).status_code == 404


def test_an_expired_token_is_refused(client, make_token, services):
    token = make_token("read")
    assert client.get("/api/v1/customers", headers=bearer(token)).status_code == 200
    services.db.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = "
                        "encode(sha256(%s::bytea), 'hex')", (token,))
    response = client.get("/api/v1/customers", headers=bearer(token))
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "token-expired"


def test_a_revoked_token_is_refused_at_once(client, make_token, admin_headers):
    token = make_token("read", name="to-revoke")
    listed = client.get("/api/v1/tokens?limit=500", headers=admin_headers).get_json()["items"]
    token_id = next(t["id"] for t in listed if t["prefix"] == token[:10])
    revoked = client.delete(f"/api/v1/tokens/{token_id}", headers=admin_headers)
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    response = client.get("/api/v1/customers", headers=bearer(token))
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "token-revoked"


def test_an_address_outside_the_allow_list_is_refused(client, make_token):
    token = make_token("read", allowed_cidrs=["10.0.0.0/8"])
    outside = client.get("/api/v1/customers", headers=bearer(token))
    assert outside.status_code == 403 and outside.get_json()["error"]["code"] == "address-not-allowed"
    inside = client.get("/api/v1/customers", headers=bearer(token), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert inside.status_code == 200


def test_over_the_rate_is_429_with_retry_after(client, make_token):
    token = make_token("read", rate_per_minute=3)
    codes = [client.get("/api/v1/customers", headers=bearer(token)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/v1/customers", headers=bearer(token))
    assert response.get_json()["error"]["code"] == "rate-limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 20


def test_an_address_that_keeps_failing_is_throttled(client):
    address = {"REMOTE_ADDR": "192.0.2.99"}
    codes = [client.get("/api/v1/customers", headers=bearer(f"cti_guess{n}"), environ_base=address).status_code
             for n in range(31)]
    assert codes[:30] == [401] * 30 and codes[30] == 429
    assert client.get("/api/v1/customers", headers=bearer("cti_x"), environ_base={"REMOTE_ADDR": "192.0.2.98"}
                      ).status_code == 401


def test_writes_and_refused_writes_are_audited_with_the_token(client, make_token, services):
    writer = make_token("customers", name="auditor")
    reader = make_token("read", name="nosy")
    created = client.post("/api/v1/customers", headers=bearer(writer), json={"name": "Audited"})
    assert created.status_code == 201
    client.post("/api/v1/customers", headers=bearer(reader), json={"name": "Refused"})
    rows = services.db.fetchall(
        "SELECT actor_type, actor_name, action, result FROM audit_log WHERE actor_name IN ('auditor', 'nosy') ORDER BY id")
    assert [(r["actor_type"], r["actor_name"], r["action"], r["result"]) for r in rows] == [
        ("token", "auditor", "api.create_customer", "ok"),
        ("token", "nosy", "api.create_customer", "refused 403"),
    ]


def test_the_session_cookie_opens_nothing(client, services):
    from cti.users import upsert_user

    with services.db.transaction() as cur:
        upsert_user(cur, "api-admin", roles=("admin",), password="correct horse battery")
    with client.session_transaction() as session:
        session["user_id"] = services.db.fetchone("SELECT id FROM users WHERE username = 'api-admin'")["id"]
    assert client.get("/api/v1/customers").status_code == 401


def test_the_document_is_public(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.get_json()["openapi"].startswith("3.1")
