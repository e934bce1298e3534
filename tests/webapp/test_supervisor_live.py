"""The wallboard's live connection (Flask-SocketIO's test client round-trips real
packets): the ``supervisor_hello`` snapshot, then ``wallboard.*`` pushes -- each one
only to supervisors whose queues or teams it concerns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.stack import Stack
from tests.webapp.supervisor_site import call_into, ready, supervisor_stack, web_client
from webapp import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = supervisor_stack(database_url, tmp_path_factory.mktemp("supervisor-live"))
    yield stack
    stack.close()


@pytest.fixture(scope="module")
def app(site: Stack):
    app, _ = create_app(site.services)
    return app


def socket_for(app, site: Stack, username: str):
    client = app.extensions["cti_socketio"].test_client(app, flask_test_client=web_client(app, site, username))
    assert client.is_connected()
    return client


def received(site: Stack, client, name: str, predicate=lambda data: True) -> list[dict[str, Any]]:
    """Everything named ``name`` the client got so far (kept across calls)."""
    store = client.__dict__.setdefault("_seen", [])
    store += [(p["name"], p["args"][0]) for p in client.get_received()]
    return [data for kind, data in store if kind == name and predicate(data)]


def eventually(site: Stack, client, name: str, predicate) -> dict[str, Any]:
    return site.wait_for(lambda: (received(site, client, name, predicate) or [None])[-1], what=f"{name} push")


@pytest.fixture(scope="module")
def red(app, site: Stack):
    client = socket_for(app, site, "lead_red")
    hello = client.emit("supervisor_hello", {}, callback=True)
    assert "error" not in hello
    return client


@pytest.fixture(scope="module")
def blue(app, site: Stack):
    client = socket_for(app, site, "lead_blue")
    client.emit("supervisor_hello", {}, callback=True)
    return client


def test_hello_is_the_scoped_snapshot(app, site: Stack) -> None:
    client = socket_for(app, site, "lead_red")
    hello = client.emit("supervisor_hello", {}, callback=True)
    assert [q["name"] for q in hello["queues"]] == ["sup_ring", "sup_talk", "sup_wait"]
    assert sorted(hello["rooms"]) == ["queue:sup_ring", "queue:sup_talk", "queue:sup_wait", "team:1"]
    assert {r["code"] for r in hello["reasons"]} == {"break", "coaching"}
    # A team agent's call on a queue outside the scope is still shown by its display name.
    assert hello["queue_names"]["sup_other"] == "Sup Other"
    assert hello["alerts"] == {"sl_target": 0.8, "max_wait_s": 60.0}
    tile = next(q for q in hello["queues"] if q["name"] == "sup_talk")
    assert {"waiting", "longest_waiting_since", "service_level", "abandon_rate", "agents_by_state",
            "sl_threshold_s"} <= set(tile)
    client.disconnect()


def test_an_agent_gets_no_wallboard(app, site: Stack) -> None:
    client = socket_for(app, site, "agent1001")
    assert client.emit("supervisor_hello", {}, callback=True)["error"]["code"] == "forbidden"
    client.disconnect()


def test_a_queued_call_reaches_only_the_supervisors_of_its_queue(site: Stack, red, blue) -> None:
    _, iid = call_into(site, "sup_wait", "+15550301")
    call = eventually(site, red, "wallboard.call", lambda c: c["id"] == iid and c["state"] == "queued")
    assert call["queue"] == "sup_wait" and call["waiting_since"] and call["actions"]["intercept"] is None
    tile = eventually(site, red, "wallboard.queue", lambda q: q["name"] == "sup_wait" and q["waiting"] == 1)
    assert tile["offered"] >= 1
    site.switch.hangup(site.core.state.interaction(iid).customer_leg)
    eventually(site, red, "wallboard.call", lambda c: c["id"] == iid and c.get("gone"))
    emptied = eventually(site, red, "wallboard.queue", lambda q: q["name"] == "sup_wait" and q["waiting"] == 0)
    assert emptied["longest_waiting_since"] is None
    assert received(site, blue, "wallboard.call", lambda c: c["id"] == iid) == []
    assert received(site, blue, "wallboard.queue", lambda q: q["name"] == "sup_wait") == []


def test_agent_state_changes_reach_the_supervisors_of_their_team_and_queues(site: Stack, red, blue) -> None:
    agent = ready(site, "1003")                     # team Red, queue sup_ring
    pushed = eventually(site, red, "wallboard.agent", lambda a: a["id"] == agent and a["state"] == "available")
    assert (pushed["code"], pushed["team"], pushed["queues"]) == ("1003", "Red", ["sup_ring"])
    ring = eventually(site, red, "wallboard.queue", lambda q: q["name"] == "sup_ring"
                      and q["agents_by_state"].get("available") == 1)
    assert ring["display_name"] == "Sup Ring"
    assert received(site, blue, "wallboard.agent", lambda a: a["id"] == agent) == []
    shared = ready(site, "1005")                    # team Blue but a member of sup_talk: both see it
    eventually(site, red, "wallboard.agent", lambda a: a["id"] == shared and a["state"] == "available")
    eventually(site, blue, "wallboard.agent", lambda a: a["id"] == shared and a["state"] == "available")


def test_the_supervisor_hears_about_their_own_session(site: Stack, app, red) -> None:
    from tests.webapp.supervisor_site import PHONES, talking

    http = web_client(app, site, "lead_red")
    http.post("/supervisor/api/extension", json={"extension": PHONES["lead_red"]}, headers={"Accept": "application/json"})
    _, iid = talking(site, "1001", "+15550302")
    reply = http.post(f"/supervisor/api/calls/{iid}/barge", json={}, headers={"Accept": "application/json"})
    leg = reply.get_json()["session"]["leg_uuid"]
    joined = eventually(site, red, "supervision.session", lambda s: s["leg_uuid"] == leg and s["what"] == "joined")
    assert (joined["mode"], joined["state"], joined["interaction_id"]) == ("barge", "active", iid)
    call = eventually(site, red, "wallboard.call", lambda c: c["id"] == iid and c["supervisors"])
    assert call["supervisors"][0]["mode"] == "barge"
    # today's figures move with the answer: the agent's calls and the queue's service level
    agent = site.agent_id("1001")
    assert eventually(site, red, "wallboard.agent", lambda a: a["id"] == agent and a["calls_today"] >= 1)
    tile = eventually(site, red, "wallboard.queue", lambda q: q["name"] == "sup_talk" and q["answered"] >= 1)
    assert tile["service_level"] == 1.0 and tile["answered_within"] == tile["answered"]
    site.switch.hangup(site.core.state.interaction(iid).customer_leg)
    ended = eventually(site, red, "supervision.session", lambda s: s["leg_uuid"] == leg and s["what"] == "ended")
    assert ended["state"] == "ended"
