"""The admin pages for tokens and webhooks: admins only, CSRF enforced, the token and
the signing secret shown once, private targets refused without the explicit box."""

from __future__ import annotations

import re

import pytest

from cti.users import upsert_user


@pytest.fixture(scope="module")
def people(services):
    with services.db.transaction() as cur:
        upsert_user(cur, "int-admin", roles=("admin",), password="admin-password-1")
        upsert_user(cur, "int-agent", roles=("agent",), password="agent-password-1")
    return {name: services.db.fetchone("SELECT id FROM users WHERE username = %s", (name,))["id"]
            for name in ("int-admin", "int-agent")}


def signed_in(app, user_id: int):
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user_id
    page = client.get("/admin/integrations/")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    return client, (match.group(1) if match else "")


def test_only_admins_see_the_page(app, people):
    client, _ = signed_in(app, people["int-agent"])
    assert client.get("/admin/integrations/").status_code == 403
    assert app.test_client().get("/admin/integrations/").status_code == 302


def test_create_and_revoke_a_token(app, people, services):
    client, csrf = signed_in(app, people["int-admin"])
    refused = client.post("/admin/integrations/tokens", data={"name": "crm", "scopes": ["read"]})
    assert refused.status_code == 400, "CSRF must be enforced on the admin pages"
    created = client.post("/admin/integrations/tokens", data={"name": "crm", "scopes": ["read", "calls"],
                                                              "allowed_cidrs": "", "rate_per_minute": "60",
                                                              "csrf_token": csrf})
    assert created.status_code == 303, "POST/redirect/GET: a reload must not create a second token"
    shown = client.get(created.headers["Location"])
    token = re.search(r'<code id="new-token">([^<]+)</code>', shown.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert token not in client.get(created.headers["Location"]).get_data(as_text=True), "shown once"
    assert token not in client.get("/admin/integrations/").get_data(as_text=True)
    assert services.db.fetchone("SELECT count(*) AS n FROM api_tokens WHERE name = 'crm'")["n"] == 1
    token_id = services.db.fetchone("SELECT id FROM api_tokens WHERE name = 'crm' ORDER BY id DESC")["id"]
    client.post(f"/admin/integrations/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    audit = services.db.fetchall("SELECT action FROM audit_log WHERE actor_name = 'int-admin' ORDER BY id")
    assert [a["action"] for a in audit][-2:] == ["admin.token.create", "admin.token.revoke"]
    bad = client.post("/admin/integrations/tokens", data={"name": "x", "csrf_token": csrf})
    assert bad.status_code == 422 and "scopes" in bad.get_data(as_text=True)


def test_webhooks_need_the_private_box_for_local_targets(app, people, services):
    client, csrf = signed_in(app, people["int-admin"])
    form = {"name": "lab", "url": "http://127.0.0.1:8099/hook", "events": "call.*, agent.state_changed",
            "csrf_token": csrf}
    refused = client.post("/admin/integrations/webhooks", data=form)
    assert refused.status_code == 422 and "allow private target" in refused.get_data(as_text=True)
    refusal = services.db.fetchone("SELECT result FROM audit_log WHERE action = 'admin.webhook.create' "
                                   "ORDER BY id DESC LIMIT 1")
    assert refusal["result"].startswith("refused: ") and "allow private target" in refusal["result"]
    created = client.post("/admin/integrations/webhooks", data={**form, "allow_private": "on", "active": "on"})
    assert created.status_code == 303
    shown = client.get(created.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<code id="new-secret">[^<]{16,}</code>', shown)
    assert "new-secret" not in client.get(created.headers["Location"]).get_data(as_text=True), "shown once"
    hook_id = services.db.fetchone("SELECT id FROM webhook_subscriptions WHERE name = 'lab'")["id"]
    detail = client.get(f"/admin/integrations/webhooks/{hook_id}")
    assert detail.status_code == 200 and "call.*" in detail.get_data(as_text=True)
    updated = client.post(f"/admin/integrations/webhooks/{hook_id}", data={
        "name": "lab", "url": "http://127.0.0.1:8099/hook", "events": "*", "active": "on", "allow_private": "on",
        "csrf_token": csrf})
    assert updated.status_code == 302
    assert services.db.fetchone("SELECT events FROM webhook_subscriptions WHERE id = %s", (hook_id,))["events"] == ["*"]
    assert client.post(f"/admin/integrations/webhooks/{hook_id}/redeliver-failed",
                       data={"csrf_token": csrf}).status_code == 302
    assert client.post(f"/admin/integrations/webhooks/{hook_id}/delete", data={"csrf_token": csrf}).status_code == 302
    assert client.get(f"/admin/integrations/webhooks/{hook_id}").status_code == 404


def _field(page: str, name: str) -> str:
    found = re.search(rf'<input name="{name}"[^>]*value="([^"]*)"', page)
    assert found is not None, f"no {name} field"
    return found.group(1)


def test_a_refused_form_comes_back_as_it_was_sent(app, people):
    """After a mistake the admin fixes the one field; they do not type everything again."""
    client, csrf = signed_in(app, people["int-admin"])
    refused = client.post("/admin/integrations/tokens", data={
        "name": "erp", "scopes": ["read", "calls"], "allowed_cidrs": "10.0.0.0/33", "rate_per_minute": "60",
        "csrf_token": csrf}).get_data(as_text=True)
    assert "10.0.0.0/33" in refused and _field(refused, "name") == "erp"
    audited = client.application.extensions["cti"].db.fetchone(
        "SELECT result, details FROM audit_log WHERE action = 'admin.token.create' ORDER BY id DESC LIMIT 1")
    assert audited["result"].startswith("refused: ") and audited["details"] == {"name": "erp"}
    assert _field(refused, "allowed_cidrs") == "10.0.0.0/33"
    assert re.findall(r'value="(\w+)" style="width:auto" checked', refused) == ["read", "calls"]
    hook = client.post("/admin/integrations/webhooks", data={
        "name": "erp-hook", "url": "http://127.0.0.1:8099/erp", "events": "call.*, nonsense",
        "allow_private": "on", "csrf_token": csrf}).get_data(as_text=True)
    hooks_part = hook.split('id="hooks-h"', 1)[1]
    assert "nonsense" in hooks_part and _field(hooks_part, "name") == "erp-hook"
    assert 'name="allow_private" style="width:auto" checked' in hook
    blank = client.get("/admin/integrations/").get_data(as_text=True)
    assert _field(blank, "name") == "" and "checked" not in blank


def test_token_states_are_labelled(app, people, services):
    client, csrf = signed_in(app, people["int-admin"])
    client.post("/lang/zh", data={"csrf_token": csrf})
    try:
        client.post("/admin/integrations/tokens", data={"name": "zh-token", "scopes": ["read"], "csrf_token": csrf})
        assert "有效" in client.get("/admin/integrations/").get_data(as_text=True)
    finally:
        client.post("/lang/en", data={"csrf_token": csrf})
