"""Security of the web app as a whole: every route and the Socket.IO handshake refuse a
visitor without a session (the routes are enumerated from ``app.url_map``, so a new
route cannot escape), every state-changing page endpoint needs the CSRF token, the
token API never accepts the session cookie, and an agent cannot reach another agent's
recordings or voicemail by changing an id."""

from __future__ import annotations

import re
import uuid
import wave
from pathlib import Path

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter, UUIDConverter

from cti.config import load_settings
from cti.services import build_services
from tests.webapp.agent_web import sign_in
from webapp import create_app

pytestmark = pytest.mark.slow

#: Routes anyone may use: signing in, probes, static files, the language switch (which
#: only sets a session preference) and the token API's own description (OpenAPI).
PUBLIC = {"auth.login", "ops.healthz", "ops.readyz", "static", "vendor", "i18n.switch",
          "api.openapi_document", "favicon"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def web(site_db_url, tmp_path_factory):
    settings = load_settings({"CTI_DATA_DIR": str(tmp_path_factory.mktemp("security")), "CTI_DATABASE_URL": site_db_url,
                              "CTI_HTTP": "127.0.0.1:0"})
    services = build_services(settings)
    app, socketio = create_app(services)
    yield app, socketio, services
    services.stop()


def _value(converter):
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, AnyConverter):
        return next(iter(converter.items)) if hasattr(converter, "items") else re.findall(r"\w+", converter.regex)[0]
    if isinstance(converter, PathConverter):
        return "x/y"
    return "x"


def routes(app):
    """(endpoint, method, url) for every route of the app."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        values = {name: _value(conv) for name, conv in rule._converters.items()}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, adapter.build(rule.endpoint, values, method=method)))
    return found


def _refused(response) -> bool:
    if response.status_code in (401, 403, 429):   # 429: the token API's budget of failed authentications
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def test_the_url_map_is_enumerated(web) -> None:
    endpoints = {endpoint for endpoint, _, _ in routes(web[0])}
    assert {"agent.desktop", "agent.call_action", "media.recording", "media.voicemail"} <= endpoints
    assert len(endpoints) > 30


def test_every_route_refuses_a_visitor_without_a_session(web) -> None:
    app = web[0]
    visitor = app.test_client()
    leaks = []
    for endpoint, method, url in routes(app):
        if endpoint in PUBLIC:
            continue
        # a valid CSRF token (some routes, such as sign-out, clear the session), so the
        # refusal seen is the sign-in check and not the CSRF one
        page = visitor.get("/login").get_data(as_text=True)
        headers = {"X-CSRFToken": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)}
        response = visitor.open(url, method=method, headers=headers, json={} if method in WRITES else None)
        if not _refused(response):
            leaks.append(f"{method} {url} ({endpoint}) -> {response.status_code}")
    assert leaks == [], "routes answering without a session:\n" + "\n".join(leaks)


def test_the_socket_handshake_needs_a_session(web) -> None:
    app, socketio, _ = web
    anonymous = socketio.test_client(app)
    assert not anonymous.is_connected()
    agent = sign_in(app, "agent1001")
    signed = socketio.test_client(app, flask_test_client=agent.client)
    assert signed.is_connected()
    signed.disconnect()


def test_every_page_write_needs_the_csrf_token(web) -> None:
    app = web[0]
    admin = sign_in(app, "admin")
    missing = []
    for endpoint, method, url in routes(app):
        if method not in WRITES or endpoint.startswith("api.") or url.startswith("/api/"):
            continue
        response = admin.client.open(url, method=method, json={}, headers={"Accept": "application/json"})
        body = response.get_json(silent=True) or {}
        if response.status_code != 400 or body.get("error", {}).get("code") != "csrf-failed":
            missing.append(f"{method} {url} ({endpoint}) -> {response.status_code}")
    assert missing == [], "writes accepted without the CSRF token:\n" + "\n".join(missing)


def test_the_token_api_ignores_the_session_cookie(web) -> None:
    app = web[0]
    admin = sign_in(app, "admin")
    for endpoint, method, url in routes(app):
        if not url.startswith("/api/") or endpoint in PUBLIC:
            continue
        response = admin.client.open(url, method=method, json={} if method in WRITES else None)
        assert response.status_code in (401, 429), f"{method} {url} answered {response.status_code} to a session cookie"


def _wav(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 800)


def test_an_agent_cannot_reach_another_agents_audio_by_changing_the_id(web) -> None:
    app, _, services = web
    db, folder = services.db, services.settings.recordings_dir
    agent_of = {row["code"]: row["id"] for row in db.fetchall("SELECT id, code FROM agents")}
    rec_a, rec_b, vm_a, vm_b = (str(uuid.uuid4()) for _ in range(4))
    for rec, code in ((rec_a, "1000"), (rec_b, "1001")):
        _wav(folder / f"{rec}.wav")
        db.execute("""INSERT INTO recordings (id, interaction_id, agent_id, queue_name, path, started_at)
                      VALUES (%s, %s, %s, 'sales', %s, now())""", (rec, str(uuid.uuid4()), agent_of[code],
                                                                  str(folder / f"{rec}.wav")))
    for vm, code in ((vm_a, "1000"), (vm_b, "1001")):
        _wav(folder / f"{vm}.wav")
        db.execute("""INSERT INTO voicemails (id, box, caller_number, path, created_at)
                      VALUES (%s, %s, '+8613800000002', %s, now())""", (vm, f"agent:{code}", str(folder / f"{vm}.wav")))
    a = sign_in(app, "agent1000")
    assert a.client.get(f"/media/recordings/{rec_a}").status_code == 200
    assert a.client.get(f"/media/voicemail/{vm_a}").status_code == 200
    assert a.client.get(f"/media/recordings/{rec_b}").status_code == 404
    assert a.client.get(f"/media/voicemail/{vm_b}").status_code == 404
    assert a.post(f"/agent/api/voicemail/{vm_b}/take").status_code == 404
    assert a.post(f"/agent/api/voicemail/{vm_b}/call-back").status_code == 404
    assert vm_b not in {v["id"] for v in a.get("/agent/api/voicemail").get_json()["voicemails"]}
    assert sign_in(app, "super1").client.get(f"/media/recordings/{rec_b}").status_code == 200, "supervisor of sales"
    assert sign_in(app, "super2").client.get(f"/media/recordings/{rec_b}").status_code == 404, "not their queue"
    assert sign_in(app, "admin").client.get(f"/media/voicemail/{vm_b}").status_code == 200
