"""The agent desktop's endpoints and pushes, over the whole stack: Flask's test client,
Flask-SocketIO's test client (real Socket.IO packets), the simulated switch over TCP
and a real PostgreSQL."""

from __future__ import annotations

import uuid
import wave
from pathlib import Path

import pytest

from tests.webapp.agent_calls import CUSTOMERS, KNOWN_CUSTOMER, agent_state, end, fast_stack, ready
from tests.webapp.agent_web import Inbox, sign_in, socket_for
from webapp import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(site_db_url, tmp_path_factory):
    yield from fast_stack(site_db_url, tmp_path_factory.mktemp("desktop"))


@pytest.fixture(scope="module")
def web(stack):
    app, socketio = create_app(stack.services, {"TESTING": True})
    return app, socketio


def wait_ok(stack, predicate, what):
    return stack.wait_for(predicate, what=what)


def test_the_page_is_for_agents(web) -> None:
    app, _ = web
    agent = sign_in(app, "agent1003")
    page = agent.client.get("/agent/")
    assert page.status_code == 200 and 'id="ag-controls"' in page.get_data(as_text=True)
    assert sign_in(app, "super1").client.get("/agent/").status_code == 403
    admin_page = sign_in(app, "admin").client.get("/agent/").get_data(as_text=True)
    assert "not set up as an agent" in admin_page
    assert sign_in(app, "admin").get("/agent/api/state").status_code == 403


def test_log_in_on_a_phone_and_change_state(web, stack) -> None:
    app, _ = web
    agent = sign_in(app, "agent1002")
    logged = agent.post("/agent/api/login", {})
    assert logged.status_code == 200, logged.get_json()
    assert logged.get_json()["agent"]["state"] == "not_ready"
    assert logged.get_json()["agent"]["extension"] == "1002"
    assert agent.post("/agent/api/state", {"state": "available"}).get_json()["agent"]["state"] == "available"
    busy = agent.post("/agent/api/state", {"state": "not_ready", "reason": "break"}).get_json()["agent"]
    assert (busy["state"], busy["reason"]) == ("not_ready", "break")
    refused = agent.post("/agent/api/state", {"state": "not_ready", "reason": "nap"})
    assert refused.status_code == 409 and "lunch" in refused.get_json()["error"]["message"]
    assert agent.post("/agent/api/state", {"state": "on_call"}).status_code == 400
    me = agent.get("/agent/api/me").get_json()
    assert {q["name"] for q in me["profile"]["queues"]} == {"sales", "vip"}
    assert "missed" not in {r["code"] for r in me["reason_codes"]}
    assert agent.post("/agent/api/state", {"state": "logged_out"}).get_json()["agent"]["state"] == "logged_out"
    desk = agent.post("/agent/api/login", {"extension": "1009"}).get_json()["agent"]
    assert desk["extension"] == "1009", "hot-desking: the phone is chosen at login"
    clash = sign_in(app, "agent1009").post("/agent/api/login", {})
    assert clash.status_code == 409 and clash.get_json()["error"]["code"] == "extension-in-use"
    assert "in use by 李娜 (1002)" in clash.get_json()["error"]["message"], "the colleague by name, not an id"
    agent.post("/agent/api/state", {"state": "logged_out"})


def test_pushes_reach_only_those_allowed(web, stack) -> None:
    app, socketio = web
    me, other = sign_in(app, "agent1011"), sign_in(app, "agent1012")
    super_b, super_a = sign_in(app, "super2"), sign_in(app, "super1")
    socks = {name: Inbox(socket_for(socketio, app, b)) for name, b in
             (("me", me), ("other", other), ("super_b", super_b), ("super_a", super_a))}
    assert all(box.sock.is_connected() for box in socks.values())
    hello = socks["me"].named("hello")[0]
    assert hello["agent"]["id"] == stack.agent_id("1011") and hello["call"] is None
    ready(stack, "1012")
    me.post("/agent/api/login", {})
    me.post("/agent/api/state", {"state": "available"})
    dialled = me.post("/agent/api/dial", {"number": KNOWN_CUSTOMER, "queue": "billing"})
    assert dialled.status_code == 200, dialled.get_json()
    iid = dialled.get_json()["interaction_id"]
    stack.wait_event("call.answered", interaction_id=iid)
    pops = wait_ok(stack, lambda: [p for p in socks["me"].named("screen_pop") if p["interaction_id"] == iid],
                   "screen-pop pushed")
    assert pops[0]["customer"]["name"] == "李雷"
    end(stack, iid)
    wait_ok(stack, lambda: socks["me"].named("call.ended"), "call.ended pushed")
    names = {m["name"] for m in socks["me"].all()}
    assert {"call.offered", "call.answered", "call.ended", "agent.state_changed"} <= names
    offered = socks["me"].named("call.offered")[0]
    assert offered["interaction_id"] == iid and offered["data"]["screen_pop"]["callee_number"] == KNOWN_CUSTOMER

    mine = stack.agent_id("1011")

    def about_the_call(box):
        return [m for m in box.all() if m["args"] and isinstance(m["args"][0], dict)
                and (m["args"][0].get("interaction_id") == iid or m["args"][0].get("agent_id") == mine)]

    assert about_the_call(socks["other"]) == [], "another agent never sees the call"
    assert about_the_call(socks["super_a"]) == [], "nor a supervisor of other queues and teams"
    seen_by_b = {m["name"] for m in about_the_call(socks["super_b"])}
    assert {"call.offered", "agent.state_changed"} <= seen_by_b


def test_screen_pop_shows_the_customer(web, stack) -> None:
    app, _ = web
    me = sign_in(app, "agent1013")
    agent_id = ready(stack, "1013")
    iid = me.post("/agent/api/dial", {"number": KNOWN_CUSTOMER}).get_json()["interaction_id"]
    stack.wait_event("call.answered", interaction_id=iid)
    pop = me.get(f"/agent/api/calls/{iid}/screen-pop").get_json()
    assert pop["customer"]["name"] == "李雷" and pop["customer"]["company"] == "个人客户"
    assert pop["new_customer"] is None and pop["direction"] == "outbound"
    assert sign_in(app, "agent1014").get(f"/agent/api/calls/{iid}/screen-pop").status_code in (403, 404)
    state = me.get("/agent/api/state").get_json()
    assert state["call"]["interaction_id"] == iid and state["call"]["actions"]["hold"] is None
    end(stack, iid)
    wait_ok(stack, lambda: agent_state(stack, agent_id) == "wrap_up", "wrap-up")
    me.post("/agent/api/wrapup", {"disposition": "resolved"})


def test_call_control_and_wrap_up_over_http(web, stack) -> None:
    app, _ = web
    me = sign_in(app, "agent1015")
    agent_id = ready(stack, "1015")
    iid = me.post("/agent/api/dial", {"number": CUSTOMERS[20], "queue": "sales"}).get_json()["interaction_id"]
    stack.wait_event("call.answered", interaction_id=iid)
    assert me.post(f"/agent/api/calls/{iid}/hold").status_code == 200
    stack.wait_event("call.held", interaction_id=iid)
    again = me.post(f"/agent/api/calls/{iid}/hold")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already-on-hold"
    assert me.post(f"/agent/api/calls/{iid}/resume").status_code == 200
    stack.wait_event("call.resumed", interaction_id=iid)
    assert me.post(f"/agent/api/calls/{iid}/fly").status_code == 404
    stranger = sign_in(app, "agent1016")
    refused = stranger.post(f"/agent/api/calls/{iid}/hangup")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not-on-this-call"

    assert me.post(f"/agent/api/calls/{iid}/hangup").status_code == 200
    stack.wait_event("call.ended", interaction_id=iid)
    wait_ok(stack, lambda: agent_state(stack, agent_id) == "wrap_up", "wrap-up")
    missing = me.post("/agent/api/wrapup", {})
    assert missing.status_code == 400 and missing.get_json()["error"]["code"] == "disposition-required"
    wrong = me.post("/agent/api/wrapup", {"disposition": "refund"})
    assert wrong.status_code == 400 and wrong.get_json()["error"]["field"] == "disposition"
    done = me.post("/agent/api/wrapup", {"disposition": "sale", "notes": "upgrade to pro",
                                         "callback": {"number": CUSTOMERS[20], "at": "2099-01-01T10:00"}})
    assert done.status_code == 400 and done.get_json()["error"]["field"] == "callback_at"
    done = me.post("/agent/api/wrapup", {"disposition": "sale", "notes": "upgrade to pro",
                                         "callback": {"number": CUSTOMERS[20], "at": ""}})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["agent"]["state"] == "available"
    ended = stack.wait_event("call.wrapup_ended", interaction_id=iid)
    assert ended.data["disposition"] == "sale" and ended.data["notes"] == "upgrade to pro"
    row = stack.db.fetchone("SELECT queue_name, number, status FROM callbacks WHERE interaction_id = %s", (iid,))
    assert row == {"queue_name": "sales", "number": CUSTOMERS[20], "status": "waiting"}
    wait_ok(stack, lambda: me.get("/agent/api/figures").get_json()["handled"] >= 1, "figures from the store")
    wait_ok(stack, lambda: any(c["interaction_id"] == iid for c in me.get("/agent/api/recent").get_json()["calls"]),
            "the call in recent calls")


def _wav(path: Path, seconds: float = 1.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x01" * int(8000 * seconds))


def test_voicemail_inbox_and_audio(web, stack) -> None:
    app, _ = web
    folder = stack.settings.recordings_dir / "voicemail"
    shared, private = str(uuid.uuid4()), str(uuid.uuid4())
    for vid, box in ((shared, "queue:support"), (private, "agent:1014")):
        _wav(folder / f"{vid}.wav")
        stack.db.execute("""INSERT INTO voicemails (id, box, caller_number, event_code, path, duration_ms, created_at)
                            VALUES (%s, %s, '+8613800000001', 'complaint', %s, 1000, now())""",
                         (vid, box, str(folder / f"{vid}.wav")))
    member = sign_in(app, "agent1010")
    inbox = {v["id"] for v in member.get("/agent/api/voicemail?status=new").get_json()["voicemails"]}
    assert shared in inbox and private not in inbox
    part = member.client.get(f"/media/voicemail/{shared}", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100 and part.headers["Content-Type"] == "audio/wav"
    assert member.client.get(f"/media/voicemail/{private}").status_code == 404
    assert sign_in(app, "agent1000").client.get(f"/media/voicemail/{shared}").status_code == 404
    assert sign_in(app, "agent1014").client.get(f"/media/voicemail/{private}").status_code == 200
    assert sign_in(app, "super2").client.get(f"/media/voicemail/{shared}").status_code == 200
    taken = member.post(f"/agent/api/voicemail/{shared}/take")
    assert taken.status_code == 200 and taken.get_json()["status"] == "assigned"
    other = sign_in(app, "agent1011")
    assert other.client.get(f"/media/voicemail/{shared}").status_code == 404, "taken: no longer for every member"
    assert other.post(f"/agent/api/voicemail/{shared}/handled").status_code == 404
    assert member.post(f"/agent/api/voicemail/{shared}/handled").get_json()["status"] == "handled"
    assert member.post(f"/agent/api/voicemail/{private}/take").status_code == 404
    audited = stack.db.fetchone("SELECT count(*) AS n FROM audit_log WHERE action = 'voicemail.play' AND target_id = %s",
                                (shared,))
    assert audited["n"] >= 2


def test_recordings_only_for_who_may_hear_them(web, stack, tmp_path) -> None:
    app, _ = web
    owner = stack.agent_id("1017")
    iid, rid, outside = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    inside_path = stack.settings.recordings_dir / "2026" / f"{iid}_1.wav"
    _wav(inside_path)
    _wav(tmp_path / "elsewhere.wav")
    for row_id, path in ((rid, inside_path), (outside, tmp_path / "elsewhere.wav")):
        stack.db.execute("""INSERT INTO recordings (id, interaction_id, agent_id, queue_name, path, started_at)
                            VALUES (%s, %s, %s, 'vip', %s, now())""", (row_id, iid, owner, str(path)))
    mine = sign_in(app, "agent1017")
    full = mine.client.get(f"/media/recordings/{rid}")
    assert full.status_code == 200 and full.headers["Accept-Ranges"] == "bytes"
    seek = mine.client.get(f"/media/recordings/{rid}", headers={"Range": "bytes=1000-"})
    assert seek.status_code == 206 and len(seek.data) == len(full.data) - 1000
    assert sign_in(app, "agent1018").client.get(f"/media/recordings/{rid}").status_code == 404
    assert sign_in(app, "super1").client.get(f"/media/recordings/{rid}").status_code == 200
    assert sign_in(app, "super2").client.get(f"/media/recordings/{rid}").status_code in (200, 404)
    assert mine.client.get(f"/media/recordings/{outside}").status_code == 404, "files outside the folder are never served"
    assert mine.client.get(f"/media/recordings/{uuid.uuid4()}").status_code == 404


def test_unknown_caller_becomes_a_customer(web, stack) -> None:
    app, _ = web
    me = sign_in(app, "agent1019")
    created = me.post("/agent/api/customers", {"name": "Zhao Lei", "number": CUSTOMERS[30], "company": "Acme"})
    assert created.status_code == 201 and created.get_json()["numbers"][0]["number"] == CUSTOMERS[30]
    taken = me.post("/agent/api/customers", {"name": "Someone", "number": CUSTOMERS[30]})
    assert taken.status_code == 409 and "already belongs" in taken.get_json()["error"]["message"]
    nameless = me.post("/agent/api/customers", {"name": "", "number": CUSTOMERS[31]})
    assert nameless.status_code == 400


def test_colleagues_for_transfers(web, stack) -> None:
    app, _ = web
    listing = sign_in(app, "agent1019").get("/agent/api/colleagues").get_json()
    codes = {a["code"] for a in listing["agents"]}
    assert "1019" not in codes and "1000" in codes
    assert {"sales", "support", "billing", "vip"} <= {q["name"] for q in listing["queues"]}
