"""The campaign pages through Flask's test client and Flask-SocketIO's test client:
create, edit, upload a list (a bad row reported with its row number), start, live
figures, DNC lists, compliance figures and the agent's preview panel."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gevent
import pytest

from cti.users import upsert_user
from webapp import create_app

PASSWORD = "Campaigns-Test-1"
GOOD = {
    "name": "autumn", "display_name": "Autumn renewals", "mode": "progressive", "queue_name": "",
    "compliance_profile": "default", "caller_id_number": "+442071234567",
    "settings": {"timezone": "Europe/London", "ring_seconds": 20, "script": "Hello!",
                 "dispositions": [{"code": "sale", "label": "Sale"}]},
}


@pytest.fixture(scope="module")
def app(services: Any) -> Iterator[Any]:
    with services.db.transaction() as cur:
        upsert_user(cur, "cmp-manager", roles=("campaign_manager",), password=PASSWORD)
        upsert_user(cur, "cmp-admin", roles=("admin",), password=PASSWORD)
        agent_user = upsert_user(cur, "cmp-agent", roles=("agent",), password=PASSWORD)
        cur.execute("INSERT INTO agents (user_id, code, default_extension) VALUES (%s, '2001', '2001')", (agent_user,))
        cur.execute("INSERT INTO queues (name) VALUES ('cmp-queue')")
    services.start()
    flask_app, _socketio = create_app(services, {"TESTING": True})
    yield flask_app


def signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', home)
    assert meta is not None
    client.environ_base["HTTP_X_CSRFTOKEN"] = meta.group(1)
    return client


@pytest.fixture(scope="module")
def manager(app: Any) -> Any:
    return signed_in(app, "cmp-manager")


@pytest.fixture(scope="module")
def agent(app: Any) -> Any:
    return signed_in(app, "cmp-agent")


@pytest.fixture(scope="module")
def campaign_id(manager: Any) -> int:
    response = manager.post("/campaigns/data", json=GOOD)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["campaign"]["id"])


def live(app: Any, client: Any) -> Any:
    """A Socket.IO client on the user's session, joined to the campaign rooms."""
    sio = app.extensions["cti_socketio"].test_client(app, flask_test_client=client)
    assert sio.is_connected()
    reply = sio.emit("campaigns_hello", {}, callback=True)
    assert "error" not in reply
    return sio


def wait_for(sio: Any, name: str, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for packet in sio.get_received():
            if packet["name"] == name and predicate(packet["args"][0]):
                return dict(packet["args"][0])
        gevent.sleep(0.05)
    raise AssertionError(f"no {name} push matched within {timeout} s")


# -- pages and access ----------------------------------------------------------------------


def test_pages_render_for_managers_only(app: Any, manager: Any, agent: Any, campaign_id: int) -> None:
    for path in ("/campaigns/", "/campaigns/new", f"/campaigns/{campaign_id}", f"/campaigns/{campaign_id}/edit"):
        page = manager.get(path)
        assert page.status_code == 200 and 'src="/static/js/campaigns.js"' in page.get_data(as_text=True)
    assert "Autumn renewals" in manager.get("/campaigns/").get_data(as_text=True)
    assert agent.get("/campaigns/").status_code == 403
    assert app.test_client().get("/campaigns/").status_code == 302
    assert manager.get("/campaigns/preview").status_code == 403
    assert agent.get("/campaigns/preview").status_code == 200


def test_state_changes_need_the_csrf_token(app: Any, manager: Any, campaign_id: int) -> None:
    plain = app.test_client()
    plain.set_cookie("session", manager.get_cookie("session").value)
    response = plain.post(f"/campaigns/{campaign_id}/start", headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf-failed"


@pytest.mark.parametrize(("change", "field"), [
    ({"name": "Bad Name"}, "name"),
    ({"mode": "robocall"}, "mode"),
    ({"settings": {"ring_seconds": 5}}, "ring_seconds"),
    ({"settings": {"schedule": [{"start": "9", "end": "17:00"}]}}, "schedule.0.start"),
    ({"caller_id_number": "call-me"}, "caller_id_number"),
    ({"queue_name": "nowhere"}, "queue_name"),
    ({"starts_at": "tomorrow"}, "starts_at"),
])
def test_create_explains_what_to_change(manager: Any, change: dict[str, Any], field: str) -> None:
    response = manager.post("/campaigns/data", json={**GOOD, "name": "other", **change})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_create_and_edit(manager: Any, campaign_id: int) -> None:
    data = manager.get(f"/campaigns/{campaign_id}/data").get_json()
    assert data["campaign"]["settings"]["script"] == "Hello!" and data["campaign"]["state"] == "draft"
    assert data["campaign"]["problems"] == ["choose the queue whose agents work this campaign"]
    duplicate = manager.post("/campaigns/data", json=GOOD)
    assert duplicate.status_code == 400 and duplicate.get_json()["error"]["field"] == "name"
    edited = manager.put(f"/campaigns/{campaign_id}/data", json={
        "queue_name": "cmp-queue", "starts_at": "2030-01-02T09:30"})
    assert edited.status_code == 200
    campaign = edited.get_json()["campaign"]
    assert campaign["queue_name"] == "cmp-queue" and campaign["problems"] == []
    assert campaign["starts_at"] == "2030-01-02T09:30:00+00:00" and campaign["starts_at_local"] == "2030-01-02T09:30"


def test_upload_import_and_the_bad_row_report(app: Any, services: Any, manager: Any, campaign_id: int) -> None:
    sio = live(app, manager)
    rows = [["Mobile", "Full name", "Plan"], ["+44 7911 123456", "Ann", "gold"], ["12345", "Bob", ""],
            ["+44 7911 123457", "Cid", "silver"]]
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    sent = manager.post(f"/campaigns/{campaign_id}/upload",
                        data={"file": (io.BytesIO(text.getvalue().encode()), "people.csv")},
                        content_type="multipart/form-data")
    assert sent.status_code == 200, sent.get_json()
    upload = sent.get_json()
    assert upload["columns"] == ["Mobile", "Full name", "Plan"]
    bad_mapping = manager.post(f"/campaigns/{campaign_id}/import", json={
        "upload": upload["upload"], "mapping": {"phone": "Phone"}})
    assert bad_mapping.status_code == 400
    started = manager.post(f"/campaigns/{campaign_id}/import", json={
        "upload": upload["upload"], "list_name": "autumn-people", "region": "GB",
        "mapping": {"phone": "Mobile", "name": "Full name", "fields": {"plan": "Plan"}}})
    assert started.status_code == 202

    wait_for(sio, "outbound.import", lambda m: m["status"] == "running")
    done = wait_for(sio, "outbound.import", lambda m: m["status"] == "done")
    assert (done["rows_read"], done["imported"], done["bad"]) == (3, 2, 1)
    assert done["issues"] == [{"row_number": 3, "kind": "bad", "reason": done["issues"][0]["reason"]}]
    assert done["issues"][0]["reason"].startswith("Mobile:")
    job = manager.get(f"/campaigns/imports/{done['job_id']}").get_json()
    assert job["job"]["status"] == "done" and job["issues"][0]["row_number"] == 3
    report = manager.get(f"/campaigns/imports/{done['job_id']}/issues.csv").get_data(as_text=True)
    lines = list(csv.reader(io.StringIO(report)))
    assert lines[0] == ["row", "kind", "reason", "cells"] and lines[1][:2] == ["3", "bad"]
    data = manager.get(f"/campaigns/{campaign_id}/data").get_json()
    assert [(lst["name"], lst["contacts"]) for lst in data["lists"]] == [("autumn-people", 2)]
    assert data["contacts"]["new"] == 2
    # The job shows the file by the name the manager gave it, not the stored upload's.
    assert job["job"]["file_name"] == "people.csv" and data["imports"][0]["file_name"] == "people.csv"
    assert not list(Path(services.settings.data_dir, "imports").glob(upload["upload"] + "*"))


def test_start_then_live_figures_are_pushed(app: Any, manager: Any, campaign_id: int) -> None:
    sio = live(app, manager)
    started = manager.post(f"/campaigns/{campaign_id}/start")
    assert started.status_code == 200 and started.get_json()["campaign"]["state"] == "running"
    state = wait_for(sio, "outbound.campaign", lambda e: e["data"].get("kind") == "state")
    assert (state["data"]["previous"], state["data"]["state"]) == ("draft", "running")
    stats = wait_for(sio, "outbound.campaign", lambda e: e["data"].get("kind") == "stats"
                     and e["data"]["campaign_id"] == campaign_id)
    assert stats["data"]["contacts_left"] == 2 and stats["data"]["abandon_limit"] == 0.03
    assert manager.put(f"/campaigns/{campaign_id}/data", json={"display_name": "x"}).status_code == 409
    again = manager.post(f"/campaigns/{campaign_id}/start")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "illegal-transition"
    assert manager.post(f"/campaigns/{campaign_id}/pause").get_json()["campaign"]["state"] == "paused"
    assert manager.post(f"/campaigns/{campaign_id}/explode").status_code == 404


def test_dnc_numbers_typed_and_uploaded(manager: Any, campaign_id: int) -> None:
    typed = manager.post("/campaigns/dnc/numbers", json={
        "scope": campaign_id, "region": "GB", "numbers": "07911 123456\nnot-a-number\n+44 7911 123456"})
    assert typed.status_code == 200
    result = typed.get_json()
    assert result["added"] == 1 and [i["line"] for i in result["invalid"]] == [2]
    uploaded = manager.post("/campaigns/dnc/upload", data={
        "file": (io.BytesIO(b"+447911000001\n+447911000002,extra\n"), "dnc.csv"), "scope": "global", "region": "GB"},
        content_type="multipart/form-data")
    assert uploaded.get_json()["added"] == 2
    lists = manager.get(f"/campaigns/dnc/data?campaign_id={campaign_id}").get_json()["lists"]
    assert sorted((lst["campaign_id"] is None, lst["numbers"]) for lst in lists) == [(False, 1), (True, 2)]
    bad_scope = manager.post("/campaigns/dnc/numbers", json={"scope": "everyone", "numbers": "+447911000003"})
    assert bad_scope.status_code == 400 and bad_scope.get_json()["error"]["field"] == "scope"


def test_compliance_figures_and_their_csv(manager: Any, campaign_id: int) -> None:
    figures = manager.get(f"/campaigns/{campaign_id}/compliance?from=2026-11-01&to=2026-11-03").get_json()["figures"]
    assert [(f["period"], f["end"]) for f in figures] == [
        ("day", "2026-11-01"), ("rolling_30_days", "2026-11-01"), ("day", "2026-11-02"),
        ("rolling_30_days", "2026-11-02"), ("day", "2026-11-03"), ("rolling_30_days", "2026-11-03")]
    assert all(f["within_limit"] and f["abandon_rate"] == 0 for f in figures)
    exported = manager.get(f"/campaigns/{campaign_id}/compliance.csv?from=2026-11-01&to=2026-11-01")
    assert exported.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["period"] for r in rows] == ["day", "rolling_30_days"] and rows[0]["formula"] == "standard"
    wrong = manager.get(f"/campaigns/{campaign_id}/compliance?from=2026-11-05&to=2026-11-01")
    assert wrong.status_code == 400 and wrong.get_json()["error"]["field"] == "from"


def test_the_agents_preview_panel_without_an_offer(agent: Any) -> None:
    assert agent.get("/campaigns/preview/data").get_json() == {"offer": None}
    refused = agent.post("/campaigns/preview/dial", json={"contact_id": 1})
    assert refused.status_code == 404 and "no longer offered" in refused.get_json()["error"]["message"]


def test_the_edit_page_in_chinese(manager: Any, campaign_id: int) -> None:
    """Weekdays and retry outcomes were shown as codes (mon, no_answer) in Chinese."""
    assert manager.post("/lang/zh").status_code == 302
    try:
        page = manager.get(f"/campaigns/{campaign_id}/edit").get_data(as_text=True)
    finally:
        manager.post("/lang/en")
    assert "周一" in page and "周日" in page and "> mon</label>" not in page
    assert '<th scope="row">无人接听</th>' in page and '<th scope="row">no_answer</th>' not in page


def test_the_preview_page_tells_a_user_without_an_agent(app: Any, agent: Any) -> None:
    """An admin sees "Preview dialling" in the menu but has no agent: the page says so
    (in their language) instead of loading a panel whose data call answers 404."""
    page = signed_in(app, "cmp-admin").get("/campaigns/preview").get_data(as_text=True)
    assert "not set up as an agent" in page and "campaigns.js" not in page
    assert "campaigns.js" in agent.get("/campaigns/preview").get_data(as_text=True)


def test_a_socket_without_a_session_is_refused(app: Any) -> None:
    sio = app.extensions["cti_socketio"].test_client(app)
    assert not sio.is_connected()
