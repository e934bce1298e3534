"""Preview dialling in the agent desktop, over the whole stack: a running preview
campaign of the demo site's vip queue offers contacts to the available agents; each
offer reaches that agent's desktop only (Flask-SocketIO test clients: real packets),
never another agent, a campaign manager, an admin or a supervisor; the desktop shows
it, skips it and dials it through the same endpoints as the preview page."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.webapp.agent_calls import (
    CUSTOMERS,
    PREVIEW_SCRIPT,
    agent_state,
    end,
    fast_stack,
    preview_campaign,
    ready,
)
from tests.webapp.agent_web import Inbox, sign_in, socket_for
from webapp import create_app

pytestmark = pytest.mark.slow

AGENTS = ("1000", "1001")      # Chinese-speaking agents of the vip queue
NUMBERS = CUSTOMERS[30:36]


@pytest.fixture(scope="module")
def stack(site_db_url, tmp_path_factory):
    yield from fast_stack(site_db_url, tmp_path_factory.mktemp("preview"))


@pytest.fixture(scope="module")
def web(stack):
    return create_app(stack.services, {"TESTING": True})


@pytest.fixture(scope="module")
def inboxes(web) -> dict[str, Inbox]:
    """Live connections opened before any offer: the two agents and three onlookers."""
    app, socketio = web
    boxes = {}
    for username in ("agent1000", "agent1001", "manager", "admin", "super1"):
        sock = socket_for(socketio, app, sign_in(app, username))
        assert sock.is_connected()
        if username == "manager":
            assert "error" not in sock.emit("campaigns_hello", {}, callback=True)
        boxes[username] = Inbox(sock)
    return boxes


@pytest.fixture(scope="module")
def campaign(stack, inboxes) -> int:
    """A running preview campaign over NUMBERS; both agents available."""
    for code in AGENTS:
        ready(stack, code)
    return preview_campaign(stack, NUMBERS)


def offers(box: Inbox) -> list[dict[str, Any]]:
    return [p for p in box.named("outbound.preview") if p["data"]["kind"] == "preview"]


def test_each_offer_reaches_its_agent_and_nobody_else(stack, campaign, inboxes) -> None:
    ids = {code: stack.agent_id(code) for code in AGENTS}
    got = stack.wait_for(lambda: all(offers(inboxes[f"agent{code}"]) for code in AGENTS) and
                         {code: offers(inboxes[f"agent{code}"])[0] for code in AGENTS}, timeout=30,
                         what="an offer on each desktop")
    for code, offer in got.items():
        assert offer["agent_id"] == ids[code]
        assert offer["data"]["campaign_id"] == campaign and offer["data"]["script"] == PREVIEW_SCRIPT
        assert offer["data"]["contact"]["e164"] in NUMBERS and offer["data"]["contact"]["fields"]["plan"] == "gold"
    first, second = (inboxes[f"agent{code}"] for code in AGENTS)
    assert all(p["agent_id"] == ids["1000"] for p in first.named("outbound.preview"))
    assert all(p["agent_id"] == ids["1001"] for p in second.named("outbound.preview"))
    assert got["1000"]["data"]["contact"]["id"] != got["1001"]["data"]["contact"]["id"]

    for onlooker in ("manager", "admin", "super1"):
        box = inboxes[onlooker]
        assert box.named("outbound.preview") == [], f"{onlooker} received a preview offer"
        leaked = [m for m in box.all() if m["args"] and isinstance(m["args"][0], dict)
                  and (m["args"][0].get("data") or {}).get("kind") in ("preview", "preview_withdrawn")]
        assert leaked == [], f"{onlooker} received {leaked[0]['name']}"
    assert inboxes["manager"].named("outbound.campaign"), "managers still get the campaign's own pushes"


def test_the_desktop_shows_the_offer_in_the_agents_language(web, campaign) -> None:
    app, _ = web
    agent = sign_in(app, "agent1000")
    page = agent.client.get("/agent/").get_data(as_text=True)
    assert 'id="ag-preview"' in page and 'data-shortcut="g"' in page and 'data-shortcut="b"' in page
    labels = json.loads(page.split('<script type="application/json" id="labels">')[1].split("</script>")[0])
    assert labels["ag_pv_dial"] == "呼叫此联系人" and labels["ag_pv_skip"] == "跳过"
    assert "<kbd>G</kbd>" in page and "<kbd>B</kbd>" in page


def test_skip_then_dial_from_the_desktop(web, stack, campaign, inboxes) -> None:
    app, _ = web
    agent = sign_in(app, "agent1000")
    agent_id = stack.agent_id("1000")
    box = inboxes["agent1000"]
    shown = agent.get("/campaigns/preview/data").get_json()["offer"]
    assert shown["campaign_id"] == campaign and shown["script"] == PREVIEW_SCRIPT
    assert shown["contact"]["id"] == offers(box)[-1]["data"]["contact"]["id"]

    skipped = agent.post("/campaigns/preview/skip", {"contact_id": shown["contact"]["id"]})
    assert skipped.status_code == 200, skipped.get_json()
    nxt = stack.wait_for(lambda: [o for o in offers(box) if o["data"]["contact"]["id"] != shown["contact"]["id"]],
                         timeout=30, what="the next contact offered")[-1]["data"]["contact"]
    again = agent.post("/campaigns/preview/dial", {"contact_id": shown["contact"]["id"]})
    assert again.status_code == 404, "a skipped contact is no longer the agent's to dial"

    dialled = agent.post("/campaigns/preview/dial", {"contact_id": nxt["id"]})
    assert dialled.status_code == 200, dialled.get_json()
    iid = dialled.get_json()["interaction_id"]
    stack.wait_event("call.answered", timeout=30, interaction_id=iid)
    state = agent.get("/agent/api/state").get_json()
    assert state["call"]["interaction_id"] == iid and state["agent"]["state"] == "on_call"
    assert agent.get("/campaigns/preview/data").get_json()["offer"] is None, "no offer while on a call"
    end(stack, iid)
    stack.wait_for(lambda: agent_state(stack, agent_id) == "wrap_up", what="wrap-up")
    agent.post("/agent/api/wrapup", {"interaction_id": iid})


def test_going_not_ready_takes_the_offer_back(web, stack, campaign, inboxes) -> None:
    app, _ = web
    agent = sign_in(app, "agent1001")
    box = inboxes["agent1001"]
    offered = stack.wait_for(lambda: agent.get("/campaigns/preview/data").get_json()["offer"], timeout=30,
                             what="an offer for agent 1001")
    assert agent.post("/agent/api/state", {"state": "not_ready", "reason": "break"}).status_code == 200
    withdrawn = stack.wait_for(lambda: [p for p in box.named("outbound.preview")
                                        if p["data"]["kind"] == "preview_withdrawn"], what="the offer withdrawn")
    assert withdrawn[-1]["data"]["contact_id"] == offered["contact"]["id"]
    for name in ("manager", "admin", "super1"):
        assert inboxes[name].named("outbound.preview") == [], f"{name} received a withdrawal"
    assert all(p["agent_id"] != stack.agent_id("1001") for p in inboxes["agent1000"].named("outbound.preview"))
