"""Quality review over HTTP: a supervisor builds a form, finds a recording of their
queue, scores it (audited); the agent reads the score of their own call; nobody reaches
a recording outside their scope, not even by its id."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest

from cti.audit import AuditFilter, search
from cti.config import load_settings
from cti.provision import provision
from webapp import create_app

JSON = {"Accept": "application/json"}
WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SITE = {
    "teams": ["T1"],
    "queues": [{"name": "q1"}, {"name": "q2"}],
    "dispositions": [{"code": "resolved", "label": "Resolved"}],
    "users": [
        {"username": "lead", "password": "lead-pw-123", "roles": ["supervisor"], "queues": ["q1"]},
        {"username": "other", "password": "other-pw-123", "roles": ["supervisor"], "queues": ["q2"]},
    ],
    "agents": [
        {"username": "amy", "password": "amy-pw-1234", "name": "Amy", "code": "2101", "extension": "2101", "queues": ["q1"]},
        {"username": "bob", "password": "bob-pw-1234", "name": "Bob", "code": "2102", "extension": "2102", "queues": ["q2"]},
    ],
}


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    return load_settings({"CTI_DATA_DIR": str(tmp_path_factory.mktemp("cti-data")), "CTI_DATABASE_URL": database_url,
                          "CTI_HTTP": "127.0.0.1:0", "CTI_REPORTS_WORKERS": "1", "CTI_SITE_TIMEZONE": "UTC"})


@pytest.fixture(scope="module")
def app(services):
    provision(services.db, SITE)
    recordings = {}
    for code, queue in (("2101", "q1"), ("2102", "q2")):
        agent = services.db.fetchone("SELECT id FROM agents WHERE code = %s", (code,))["id"]
        iid, rid = str(uuid.uuid4()), str(uuid.uuid4())
        services.db.execute("""INSERT INTO interactions (id, direction, started_at, queue_name, agent_id, disposition,
                               caller_number) VALUES (%s, 'inbound', %s, %s, %s, 'resolved', '+15550999')""",
                            (iid, WHEN, queue, agent))
        services.db.execute("""INSERT INTO recordings (id, interaction_id, agent_id, queue_name, caller_number, path,
                               started_at, duration_ms) VALUES (%s, %s, %s, %s, '+15550999', '/r.wav', %s, 95000)""",
                            (rid, iid, agent, queue, WHEN))
        recordings[queue] = rid
    app, _ = create_app(services)
    app.config["recordings"] = recordings
    return app


def client_for(app, services, username: str):
    import re

    client = app.test_client()
    user = services.db.fetchone("SELECT id FROM users WHERE username = %s", (username,))
    with client.session_transaction() as session:
        session["user_id"] = user["id"]
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client


FORM = {"name": "Inbound", "description": "Basics", "criteria": [
    {"label": "Greeting", "weight": 1, "max_points": 5}, {"label": "Resolution", "weight": 3, "max_points": 10}]}


def test_score_a_recording_and_the_agent_reads_it(app, services) -> None:
    lead = client_for(app, services, "lead")
    created = lead.post("/quality/api/forms", json=FORM, headers=JSON)
    assert created.status_code == 201
    form_id = created.get_json()["id"]
    page = lead.get("/quality/").get_data(as_text=True)
    assert 'value="q1"' in page and 'value="q2"' not in page     # filter choices are the scope too
    headers = re.findall(r'<th scope="col">([^<]*)</th>', page.split('id="qa-results"', 1)[1].split("</thead>", 1)[0])
    assert "Caller" in headers and "Caller number contains" not in headers   # a column, not the filter's label
    found = lead.get("/quality/api/recordings?from=2026-11-20&to=2026-11-20&min_duration=60", headers=JSON).get_json()
    assert [r["id"] for r in found["recordings"]] == [app.config["recordings"]["q1"]]
    assert found["recordings"][0]["agent_name"] == "Amy" and found["recordings"][0]["disposition"] == "resolved"
    rid = app.config["recordings"]["q1"]
    assert found["recordings"][0]["audio_url"] == f"/media/recordings/{rid}"   # played through the media area
    scored = lead.post(f"/quality/api/recordings/{rid}/scores", headers=JSON, json={
        "form_id": form_id, "comments": "Clear and kind",
        "items": [{"position": 0, "points": 5, "comment": "warm"}, {"position": 1, "points": 8}]})
    assert scored.status_code == 201 and scored.get_json()["total"] == 85.0
    detail = lead.get(f"/quality/api/recordings/{rid}", headers=JSON).get_json()
    assert [(s["total"], s["scorer_name"]) for s in detail["scores"]] == [(85.0, "lead")]
    row = search(services.db, AuditFilter(action="quality.score"))[0]
    assert (row["actor_name"], row["target_id"], row["result"]) == ("lead", rid, "ok")
    assert row["details"]["total"] == 85.0

    amy = client_for(app, services, "amy")
    mine = amy.get("/quality/mine").get_data(as_text=True)
    assert "Inbound" in mine and "85.00" in mine and "Clear and kind" in mine and "warm" in mine
    assert [s["total"] for s in amy.get("/quality/api/mine", headers=JSON).get_json()["scores"]] == [85.0]
    bob = client_for(app, services, "bob")
    assert bob.get("/quality/api/mine", headers=JSON).get_json()["scores"] == []
    assert amy.get("/quality/", headers=JSON).status_code == 403


def test_a_recording_outside_the_scope_is_not_found(app, services) -> None:
    other = client_for(app, services, "other")
    rid = app.config["recordings"]["q1"]
    assert other.get(f"/quality/api/recordings/{rid}", headers=JSON).status_code == 404
    form_id = other.post("/quality/api/forms", headers=JSON, json={**FORM, "name": "Other's"}).get_json()["id"]
    refused = other.post(f"/quality/api/recordings/{rid}/scores", headers=JSON,
                         json={"form_id": form_id, "items": [{"position": 0, "points": 1}, {"position": 1, "points": 1}]})
    assert refused.status_code == 404
    assert search(services.db, AuditFilter(action="quality.score", actor="other"))[0]["result"].startswith("refused")
    listed = other.get("/quality/api/recordings", headers=JSON).get_json()["recordings"]
    assert [r["id"] for r in listed] == [app.config["recordings"]["q2"]]


def test_mistakes_say_what_to_change(app, services) -> None:
    lead = client_for(app, services, "lead")
    bad_form = lead.post("/quality/api/forms", headers=JSON, json={"name": "Empty", "criteria": []})
    assert bad_form.status_code == 400 and "at least one criterion" in bad_form.get_json()["error"]["message"]
    rid = app.config["recordings"]["q1"]
    form_id = lead.get("/quality/api/forms", headers=JSON).get_json()["forms"][0]["id"]
    missing = lead.post(f"/quality/api/recordings/{rid}/scores", headers=JSON,
                        json={"form_id": form_id, "items": [{"position": 0, "points": 1}]})
    assert missing.status_code == 400 and "missing" in missing.get_json()["error"]["message"]
    bad_filter = lead.get("/quality/api/recordings?from=someday", headers=JSON)
    assert bad_filter.status_code == 400 and "give a date" in bad_filter.get_json()["error"]["message"]


def test_editing_a_form(app, services) -> None:
    lead = client_for(app, services, "lead")
    forms = lead.get("/quality/api/forms", headers=JSON).get_json()["forms"]
    form = next(f for f in forms if f["name"] == "Inbound")
    edited = lead.put(f"/quality/api/forms/{form['id']}", headers=JSON, json={
        "name": "Inbound v2", "active": False, "criteria": [{"label": "Empathy", "weight": 2, "max_points": 4}]})
    assert edited.status_code == 200
    after = next(f for f in lead.get("/quality/api/forms", headers=JSON).get_json()["forms"] if f["id"] == form["id"])
    assert (after["name"], after["active"], [c["label"] for c in after["criteria"]]) == ("Inbound v2", False, ["Empathy"])
    assert lead.put("/quality/api/forms/99999", headers=JSON, json=FORM | {"name": "Ghost"}).status_code == 404
