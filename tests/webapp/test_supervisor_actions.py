"""The wallboard's actions over HTTP, as the page calls them: every one checked on the
server against the supervisor's queues and teams before anything reaches the switch
or routing, answered with a message that says what to change, and audited."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from cti.audit import AuditFilter, search
from tests.stack import Stack
from tests.webapp.supervisor_site import (
    PHONES,
    CommandLog,
    call_into,
    ready,
    supervisor_stack,
    talking,
    web_client,
)
from webapp import create_app

pytestmark = pytest.mark.slow
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = supervisor_stack(database_url, tmp_path_factory.mktemp("supervisor-web"))
    yield stack
    stack.close()


@pytest.fixture(scope="module")
def app(site: Stack):
    app, _ = create_app(site.services)
    return app


@pytest.fixture(scope="module")
def red(app, site: Stack):
    client = web_client(app, site, "lead_red")
    assert client.post("/supervisor/api/extension", json={"extension": PHONES["lead_red"]}, headers=JSON).status_code == 200
    return client


@pytest.fixture(scope="module")
def blue(app, site: Stack):
    client = web_client(app, site, "lead_blue")
    client.post("/supervisor/api/extension", json={"extension": PHONES["lead_blue"]}, headers=JSON)
    return client


@pytest.fixture
def log(site: Stack) -> Iterator[CommandLog]:
    commands = CommandLog(site)
    yield commands
    commands.close()


def post(client, url: str, body: dict[str, Any] | None = None):
    return client.post(url, json=body or {}, headers=JSON)


def last_audit(site: Stack, **filters: str) -> dict[str, Any]:
    rows = search(site.db, AuditFilter.from_args(filters, "UTC"))
    assert rows, f"no audit row for {filters}"
    return rows[0]


def hang_up(site: Stack, iid: str) -> None:
    ix = site.core.state.interaction(iid)
    if ix.customer is not None and ix.customer.up:
        site.switch.hangup(ix.customer_leg)
    site.wait_event("call.ended", interaction_id=iid)


def test_listen_switch_and_leave_from_the_page(site: Stack, red, log: CommandLog) -> None:
    _, iid = talking(site, "1001", "+15550201")
    reply = post(red, f"/supervisor/api/calls/{iid}/listen")
    assert reply.status_code == 200, reply.get_json()
    leg = reply.get_json()["session"]["leg_uuid"]
    site.wait_event("call.supervisor_joined", interaction_id=iid, leg_uuid=leg)
    row = last_audit(site, action="call.listen")
    assert (row["actor_name"], row["target_type"], row["target_id"], row["result"]) == ("lead_red", "call", iid, "ok")
    assert row["details"] == {"mode": "listen", "leg_uuid": leg, "extension": PHONES["lead_red"]}

    site.wait_for(lambda: any(s.state.value == "active" for s in site.services.supervision.sessions()), what="joined")
    switched = post(red, f"/supervisor/api/sessions/{leg}/mode", {"mode": "whisper"})
    assert switched.status_code == 200 and switched.get_json()["session"]["mode"] == "whisper"
    site.wait_for(lambda: log.matching("uuid_recv_dtmf", leg, " 2"), what="the whisper key")
    assert last_audit(site, action="call.switch_mode")["details"] == {"mode": "whisper", "interaction_id": iid}
    bad = post(red, f"/supervisor/api/sessions/{leg}/mode", {"mode": "shout"})
    assert bad.status_code == 409 and "listen, whisper or barge" in bad.get_json()["error"]["message"]

    assert post(red, f"/supervisor/api/sessions/{leg}/end").status_code == 200
    site.wait_event("call.supervisor_left", interaction_id=iid, leg_uuid=leg)
    assert last_audit(site, action="call.leave")["result"] == "ok"
    hang_up(site, iid)


def test_force_hangup_and_intercept_from_the_page(site: Stack, red) -> None:
    _, iid = talking(site, "1002", "+15550202")
    customer = site.core.state.interaction(iid).customer_leg
    reply = post(red, f"/supervisor/api/calls/{iid}/hangup")
    assert reply.status_code == 200 and reply.get_json()["hung_up"][0] == customer
    site.wait_event("call.ended", interaction_id=iid)
    assert last_audit(site, action="call.force_hangup", target_id=iid)["result"] == "ok"

    _, waiting = call_into(site, "sup_wait", "+15550203")
    taken = post(red, f"/supervisor/api/calls/{waiting}/intercept")
    assert taken.status_code == 200 and taken.get_json()["session"]["kind"] == "intercept"
    site.wait_event("call.supervisor_joined", interaction_id=waiting, mode="intercept")
    assert last_audit(site, action="call.intercept", target_id=waiting)["result"] == "ok"
    hang_up(site, waiting)


#: Commands that only read the switch's state.
READ_ONLY = frozenset({"show", "uuid_dump", "uuid_exists", "uuid_getvar", "status"})


def test_a_supervisor_without_rights_is_refused_and_nothing_reaches_the_switch(
        site: Stack, blue, log: CommandLog) -> None:
    _, iid = talking(site, "1001", "+15550204")
    marker = len(log.commands())
    for action in ("listen", "whisper", "barge", "intercept", "hangup"):
        reply = post(blue, f"/supervisor/api/calls/{iid}/{action}")
        assert reply.status_code == 403, action
        assert reply.get_json()["error"] == {"code": "forbidden", "message": "this call is not in your queues or teams",
                                            "field": None}
        row = last_audit(site, target_id=iid, actor="lead_blue")
        assert row["action"] in (f"call.{action}", "call.force_hangup")
        assert row["result"] == "refused: this call is not in your queues or teams"
    site.switch.engine.core.fire_plain("API", "API", [("API-Command", "barrier")])
    site.wait_for(lambda: "barrier" in log.commands(), what="the barrier event")
    # The client's own resyncs read the switch (show channels, uuid_dump) at any time;
    # what must not reach it is anything that acts on a call.
    acted = [c for c in log.commands()[marker:] if c.split(" ", 1)[0] not in READ_ONLY]
    assert acted == ["barrier"]
    assert site.core.state.interaction(iid).supervisors == ()
    hang_up(site, iid)


def test_refusals_say_what_to_change(app, site: Stack, red) -> None:
    _, waiting = call_into(site, "sup_wait", "+15550205")
    reply = post(red, f"/supervisor/api/calls/{waiting}/listen")
    assert reply.status_code == 409
    assert "listen, whisper and barge need an agent on the call" in reply.get_json()["error"]["message"]
    assert post(red, "/supervisor/api/calls/no-such-call/listen").status_code == 404

    newcomer = web_client(app, site, "root")     # an admin who never set a phone
    reply = post(newcomer, f"/supervisor/api/calls/{waiting}/intercept")
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "extension-required"
    assert last_audit(site, actor="root")["result"].startswith("refused: set your phone's extension")
    bad = post(newcomer, "/supervisor/api/extension", {"extension": "12 34"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "extension"
    hang_up(site, waiting)


def test_forcing_agents(site: Stack, red) -> None:
    agent = ready(site, "1002")
    reply = post(red, f"/supervisor/api/agents/{agent}/state", {"state": "not_ready", "reason": "coaching"})
    assert reply.status_code == 200
    live = site.core.state.agent(agent)
    assert (live.state.value, live.reason, live.forced_by) == ("not_ready", "coaching", "supervisor:lead_red")
    row = last_audit(site, action="agent.force_not_ready")
    assert (row["target_type"], row["target_id"], row["details"]) == ("agent", str(agent), {"state": "not_ready",
                                                                                           "reason": "coaching"})
    assert post(red, f"/supervisor/api/agents/{agent}/state", {"state": "logged_out"}).status_code == 200
    assert site.core.state.agent(agent).state.value == "logged_out"
    assert last_audit(site, action="agent.force_logged_out")["result"] == "ok"
    again = post(red, f"/supervisor/api/agents/{agent}/state", {"state": "not_ready"})
    assert again.status_code == 409                               # the agent model says why
    assert again.get_json()["error"]["message"] == f"agent {agent} cannot be forced not_ready while logged_out"

    blue_agent = site.agent_id("1004")                           # team Blue, queue sup_other
    assert post(red, f"/supervisor/api/agents/{blue_agent}/state", {"state": "not_ready"}).status_code == 403
    assert post(red, "/supervisor/api/agents/99999/state", {"state": "not_ready"}).status_code == 404
    assert post(red, f"/supervisor/api/agents/{agent}/state", {"state": "dancing"}).status_code == 409


def test_moving_and_prioritising_waiting_calls_through_routing(site: Stack, red) -> None:
    _, iid = call_into(site, "sup_wait", "+15550206")
    moved = post(red, f"/supervisor/api/calls/{iid}/queue", {"queue": "sup_ring"})
    assert moved.status_code == 200, moved.get_json()
    site.wait_event("call.queued", interaction_id=iid, queue="sup_ring")
    assert last_audit(site, action="call.move")["details"] == {"queue": "sup_ring"}
    refused = post(red, f"/supervisor/api/calls/{iid}/queue", {"queue": "sup_other"})
    assert refused.status_code == 403 and "sup_other" in refused.get_json()["error"]["message"]

    assert post(red, f"/supervisor/api/calls/{iid}/priority", {"priority": 90}).status_code == 200
    site.wait_for(lambda: [c["priority"] for c in site.services.routing.waiting_calls("sup_ring")
                           if c["interaction_id"] == iid] == [90], what="priority applied by routing")
    bad = post(red, f"/supervisor/api/calls/{iid}/priority", {"priority": 500})
    assert bad.status_code == 409 and "0 to 100" in bad.get_json()["error"]["message"]
    assert last_audit(site, action="call.priority")["result"].startswith("refused: priority must be")
    hang_up(site, iid)


def test_changing_an_agents_skills(site: Stack, red) -> None:
    agent = site.agent_id("1003")
    assert red.get(f"/supervisor/api/agents/{agent}/skills", headers=JSON).get_json()["skills"] == {}
    assert red.put(f"/supervisor/api/agents/{agent}/skills", json={"skills": {"sales": 7}}, headers=JSON).status_code == 200
    assert red.get(f"/supervisor/api/agents/{agent}/skills", headers=JSON).get_json()["skills"] == {"sales": 7}
    assert site.services.routing.site.agents[agent].skills == {"sales": 7}   # routing applies it at once
    bad = red.put(f"/supervisor/api/agents/{agent}/skills", json={"skills": {"sales": 11}}, headers=JSON)
    assert bad.status_code == 409 and "from 1 to 10" in bad.get_json()["error"]["message"]
    unknown = red.put(f"/supervisor/api/agents/{agent}/skills", json={"skills": {"juggling": 3}}, headers=JSON)
    assert "unknown skill" in unknown.get_json()["error"]["message"]
    blue_agent = site.agent_id("1004")
    assert red.put(f"/supervisor/api/agents/{blue_agent}/skills", json={"skills": {}}, headers=JSON).status_code == 403
    assert red.get(f"/supervisor/api/agents/{blue_agent}/skills", headers=JSON).status_code == 403
    assert last_audit(site, action="agent.skills", target_id=str(agent))["result"].startswith("refused")


def test_the_snapshot_holds_only_the_supervisors_scope(app, site: Stack, red, blue) -> None:
    _, iid = call_into(site, "sup_wait", "+15550207")
    mine = red.get("/supervisor/api/snapshot", headers=JSON).get_json()
    assert [q["name"] for q in mine["queues"]] == ["sup_ring", "sup_talk", "sup_wait"]
    codes = {a["code"] for a in mine["agents"]}
    assert codes == {"1001", "1002", "1003", "1005"}             # team Red + members of their queues
    assert iid in {c["id"] for c in mine["calls"]}
    call = next(c for c in mine["calls"] if c["id"] == iid)
    assert call["state"] == "queued" and call["actions"]["intercept"] is None and call["actions"]["listen"]
    assert mine["extension"] == PHONES["lead_red"]
    theirs = blue.get("/supervisor/api/snapshot", headers=JSON).get_json()
    assert [q["name"] for q in theirs["queues"]] == ["sup_other"]
    assert iid not in {c["id"] for c in theirs["calls"]} and {a["code"] for a in theirs["agents"]} == {"1004", "1005"}
    everything = web_client(app, site, "root").get("/supervisor/api/snapshot", headers=JSON).get_json()
    assert len(everything["queues"]) == 4 and len(everything["agents"]) == 5
    hang_up(site, iid)


def test_pages_and_roles(app, site: Stack, red) -> None:
    assert red.get("/supervisor/").status_code == 200
    assert b'id="wallboard"' in red.get("/supervisor/wall").data
    agent = web_client(app, site, "agent1001")
    assert agent.get("/supervisor/").status_code == 403
    assert post(agent, f"/supervisor/api/agents/{site.agent_id('1002')}/state", {"state": "not_ready"}).status_code == 403
    anonymous = app.test_client().get("/supervisor/api/snapshot", headers=JSON)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_writes_need_the_csrf_token(app, site: Stack) -> None:
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = site.user_id("lead_red")
    reply = client.post(f"/supervisor/api/agents/{site.agent_id('1001')}/state", json={"state": "not_ready"},
                        headers=JSON)
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "csrf-failed"
    time.sleep(0)
