"""The dialer end to end: the simulated switch over TCP, the real services (core,
routing, dialer, scheduler) and PostgreSQL, a small site of four agents.

Customers are scripted by number (human, machine, busy, no answer, invalid) so every
outcome is known in advance; the simulator decides only ring and talk times.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import gevent
import pytest

from esl.simulator.endpoints import CustomerProfile
from outbound import store
from outbound.campaign_config import load_config
from outbound.campaign_states import CampaignEvent
from tests.stack import Stack, start_stack

pytestmark = pytest.mark.slow

AGENTS = ("1000", "1001", "1002", "1003")
SITE: dict[str, Any] = {
    "skills": ["sales"],
    "reason_codes": {"break": "Break"},
    "queues": [{"name": "outbound", "display_name": "Outbound", "wrapup": 1, "ring_timeout": 10}],
    "users": [{"username": "manager", "password": "manager123", "roles": ["campaign_manager"]}],
    "agents": [
        {"username": f"agent{code}", "password": f"agent{code}pw", "name": f"Agent {code}", "code": code,
         "extension": code, "queues": ["outbound"], "skills": {"sales": 5}}
        for code in AGENTS
    ],
}
_campaigns = itertools.count(1)


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(database_url, tmp_path_factory.mktemp("dialer"), site=SITE)
    try:
        for code in AGENTS:
            stack.login(code)
        yield stack
    finally:
        stack.close()


def around_now(zone: str, hours: int = 3) -> dict[str, str]:
    """A calling window open now (and for ``hours`` either side) in ``zone``."""
    local = datetime.now(ZoneInfo(zone))
    return {"start": (local - timedelta(hours=hours)).strftime("%H:%M"),
            "end": (local + timedelta(hours=hours)).strftime("%H:%M")}


def campaign(stack: Stack, numbers: dict[str, str], *, mode: str = "progressive", zone: str = "UTC",
             contact_zone: dict[str, str] | None = None, **settings: Any) -> int:
    """A campaign of the ``outbound`` queue over ``numbers`` (number -> scripted kind)."""
    stack.switch.set_customer_profile(CustomerProfile(
        ring_time=(0.3, 1.0), talk_time=(3.0, 4.0), greeting_time=(0.4, 0.6), scripted=numbers,
    ))
    n = next(_campaigns)
    base = {"timezone": zone, "window": around_now(zone), "ring_seconds": 15,
            "retries": {k: {"delay_minutes": 0, "max_attempts": 1}
                        for k in ("no_answer", "busy", "failed", "machine", "abandoned")}}
    db = stack.db
    row = db.fetchone(
        "INSERT INTO outbound_campaigns (name, mode, queue_name, caller_id_number, settings) "
        "VALUES (%s, %s, 'outbound', '+442071234567', %s::jsonb) RETURNING id",
        (f"e2e-{n}", mode, json.dumps({**base, **settings})),
    )
    assert row is not None
    list_row = db.fetchone("INSERT INTO outbound_contact_lists (name, campaign_id) VALUES (%s, %s) RETURNING id",
                           (f"e2e-{n}", row["id"]))
    assert list_row is not None
    for number in numbers:
        db.execute("INSERT INTO outbound_contacts (list_id, e164, timezone) VALUES (%s, %s, %s)",
                   (list_row["id"], number, (contact_zone or {}).get(number, zone)))
    return int(row["id"])


def numbers(prefix: int, kinds: list[str]) -> dict[str, str]:
    return {f"+44207{prefix:02d}{i:05d}": kind for i, kind in enumerate(kinds)}


def states(stack: Stack, campaign_id: int) -> dict[str, str]:
    rows = stack.db.fetchall(
        "SELECT c.e164, c.state FROM outbound_contacts c JOIN outbound_contact_lists l ON l.id = c.list_id "
        "WHERE l.campaign_id = %s", (campaign_id,))
    return {r["e164"]: r["state"] for r in rows}


def outcomes(stack: Stack, campaign_id: int) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for r in stack.db.fetchall("SELECT e164, outcome FROM outbound_attempts WHERE campaign_id = %s ORDER BY id",
                               (campaign_id,)):
        found.setdefault(r["e164"], []).append(r["outcome"])
    return found


def campaign_state(stack: Stack, campaign_id: int) -> str:
    row = stack.db.fetchone("SELECT state FROM outbound_campaigns WHERE id = %s", (campaign_id,))
    assert row is not None
    return str(row["state"])


def drained(stack: Stack) -> bool:
    dialer = stack.services.dialer
    return not dialer.lines and not dialer.awaiting and all(
        stack.core.state.agent(stack.agent_id(code)).state.value == "available" for code in AGENTS)


def interleaved(**counts: int) -> list[str]:
    """Kinds spread evenly through the list, as in a real list (not all humans first)."""
    slots = [((i + 0.5) / n, kind) for kind, n in counts.items() for i in range(n)]
    return [kind for _, kind in sorted(slots)]


def finished_campaign(stack: Stack, campaign_id: int, called: dict[str, str]) -> tuple[dict[str, str], Any]:
    """Run a campaign to its end; returns the last outcome per number and today's figures."""
    stack.services.dialer.control(campaign_id, CampaignEvent.START, actor="test")
    stack.wait_event("campaign.finished", timeout=120, campaign_id=campaign_id)
    assert campaign_state(stack, campaign_id) == "finished"
    assert set(states(stack, campaign_id).values()) <= {"done", "invalid", "dnc"}
    seen = outcomes(stack, campaign_id)
    row = stack.db.fetchone("SELECT * FROM outbound_campaigns WHERE id = %s", (campaign_id,))
    assert row is not None
    config = load_config(row, site_zone="UTC")
    with stack.db.transaction() as cur:
        figures = store.compliance_figures(cur, campaign_id, config.rules, store.counter_day(config.rules,
                                                                                            datetime.now(UTC)))
    assert figures[0].counts.dials == sum(len(v) for v in seen.values())
    assert figures[0].counts.late_message == 0
    stack.wait_for(lambda: drained(stack), 30, "agents free again")
    return {number: seen[number][-1] for number in called}, figures


def test_progressive_campaign_runs_to_the_end_within_the_abandon_limit(site: Stack) -> None:
    called = numbers(1, interleaved(human=6, machine=3, busy=3, no_answer=2, invalid=1))
    campaign_id = campaign(site, called, amd={"enabled": True, "machine_action": "hang_up"})
    last, figures = finished_campaign(site, campaign_id, called)

    expected = {"human": {"connected"}, "machine": {"machine", "connected"}, "busy": {"busy"},
                "no_answer": {"no_answer"}, "invalid": {"invalid_number"}}
    for number, kind in called.items():
        assert last[number] in expected[kind], (number, kind, last[number])
    assert figures[0].counts.abandoned == 0
    assert all(f.within_limit for f in figures)


def test_predictive_campaign_gives_every_contact_an_outcome(site: Stack) -> None:
    called = numbers(8, interleaved(human=4, machine=4, busy=4, no_answer=4, invalid=2))
    campaign_id = campaign(site, called, mode="predictive", amd={"enabled": True, "machine_action": "hang_up"},
                           retries={"no_answer": {"delay_minutes": 0, "max_attempts": 1},
                                    "busy": {"delay_minutes": 0, "max_attempts": 1},
                                    "machine": {"delay_minutes": 0, "max_attempts": 1},
                                    "abandoned": {"delay_minutes": 0, "max_attempts": 2}})
    last, figures = finished_campaign(site, campaign_id, called)

    for number, kind in called.items():
        if kind in ("busy", "no_answer"):
            assert last[number] == kind
        elif kind == "invalid":
            assert last[number] == "invalid_number"
        else:
            assert last[number] in ("connected", "machine", "abandoned")
    counts = figures[0].counts
    every = [outcome for attempts in outcomes(site, campaign_id).values() for outcome in attempts]
    assert (counts.connected, counts.abandoned, counts.amd_machine, counts.busy, counts.no_answer) == (
        every.count("connected"), every.count("abandoned"), every.count("machine"), every.count("busy"),
        every.count("no_answer"))


def test_dnc_added_after_import_is_honoured_at_dial_time(site: Stack) -> None:
    called = numbers(2, ["human", "human", "human"])
    global_hit, campaign_hit, free = list(called)
    campaign_id = campaign(site, called)
    with site.db.transaction() as cur:
        cur.execute("INSERT INTO outbound_dnc_lists (name) VALUES ('e2e-global') RETURNING id")
        store.add_to_dnc(cur, cur.fetchone()["id"], global_hit, reason="test")
        store.add_to_dnc(cur, store.campaign_dnc_list(cur, campaign_id), campaign_hit, reason="test")
    site.services.dialer.control(campaign_id, CampaignEvent.START, actor="test")
    site.wait_event("campaign.finished", timeout=60, campaign_id=campaign_id)

    final = states(site, campaign_id)
    assert final == {global_hit: "dnc", campaign_hit: "dnc", free: "done"}
    assert set(outcomes(site, campaign_id)) == {free}
    site.wait_for(lambda: drained(site), 30, "agents free again")


def test_a_calling_window_closed_in_the_contacts_zone_is_honoured(site: Stack) -> None:
    called = numbers(3, ["human", "human"])
    here, far = list(called)
    # The window is open now in UTC; in Tokyo (UTC+9) it is closed.
    campaign_id = campaign(site, called, contact_zone={far: "Asia/Tokyo"})
    site.services.dialer.control(campaign_id, CampaignEvent.START, actor="test")
    site.wait_for(lambda: states(site, campaign_id)[here] == "done", 60, "the UTC contact done")

    assert states(site, campaign_id)[far] == "scheduled_retry"
    assert set(outcomes(site, campaign_id)) == {here}
    row = site.db.fetchone("SELECT next_attempt_at FROM outbound_contacts WHERE e164 = %s", (far,))
    assert row is not None
    opens = row["next_attempt_at"].astimezone(ZoneInfo("Asia/Tokyo"))
    stored = site.db.fetchone("SELECT settings FROM outbound_campaigns WHERE id = %s", (campaign_id,))
    assert stored is not None
    assert opens.strftime("%H:%M") == stored["settings"]["window"]["start"]
    site.services.dialer.control(campaign_id, CampaignEvent.STOP, actor="test")
    site.wait_for(lambda: drained(site), 30, "agents free again")


def test_pause_then_resume_keeps_every_contacts_state(site: Stack) -> None:
    called = numbers(4, ["human"] * 8)
    campaign_id = campaign(site, called)
    dialer = site.services.dialer
    dialer.control(campaign_id, CampaignEvent.START, actor="test")
    site.wait_for(lambda: outcomes(site, campaign_id), 30, "a first call placed")
    dialer.control(campaign_id, CampaignEvent.PAUSE, actor="test")
    site.wait_for(lambda: "dialing" not in states(site, campaign_id).values()
                  and "connected" not in states(site, campaign_id).values(), 60, "calls in progress finished")
    paused = states(site, campaign_id)
    attempts = sum(len(v) for v in outcomes(site, campaign_id).values())
    gevent.sleep(3)   # several pacing ticks while paused
    assert states(site, campaign_id) == paused
    assert sum(len(v) for v in outcomes(site, campaign_id).values()) == attempts
    assert "new" in paused.values() and "done" in paused.values()

    dialer.control(campaign_id, CampaignEvent.RESUME, actor="test")
    site.wait_event("campaign.finished", timeout=90, campaign_id=campaign_id)
    assert set(states(site, campaign_id).values()) == {"done"}
    assert all(v == ["connected"] for v in outcomes(site, campaign_id).values())
    site.wait_for(lambda: drained(site), 30, "agents free again")


def test_preview_offers_a_contact_and_dials_the_agent_first(site: Stack) -> None:
    called = numbers(5, ["human"])
    (number,) = called
    campaign_id = campaign(site, called, mode="preview")
    dialer = site.services.dialer
    dialer.control(campaign_id, CampaignEvent.START, actor="test")
    offer = site.wait_event("campaign.changed", timeout=20, campaign_id=campaign_id, kind="preview")
    assert offer.agent_id is not None and offer.data["contact"]["e164"] == number
    line = dialer.previews.dial(offer.agent_id, offer.data["contact"]["id"])
    site.wait_event("campaign.finished", timeout=60, campaign_id=campaign_id)

    row = site.db.fetchone("SELECT outcome, agent_id, agent_reserved, interaction_id FROM outbound_attempts "
                           "WHERE campaign_id = %s", (campaign_id,))
    assert row is not None
    assert (row["outcome"], row["agent_id"], row["agent_reserved"]) == ("connected", offer.agent_id, True)
    assert str(row["interaction_id"]) == line.interaction_id
    site.wait_for(lambda: drained(site), 30, "agents free again")


def test_agentless_plays_the_message_and_leaves_one_for_machines(site: Stack) -> None:
    called = numbers(6, ["human", "machine", "busy"])
    human, machine, _busy = list(called)
    played: list[tuple[str, str, str]] = []
    site.core.add_channel_listener(lambda e: played.append((e.name, e.get("Caller-Destination-Number"), e.get(
        "Application-Data") or e.get("Playback-File-Path"))) if e.name in ("CHANNEL_EXECUTE", "PLAYBACK_START") else None)
    campaign_id = campaign(site, called, mode="agentless", agentless={"lines": 3, "collect_digit": True},
                           amd={"enabled": True, "machine_action": "leave_message"})
    site.services.dialer.control(campaign_id, CampaignEvent.START, actor="test")
    site.wait_event("campaign.finished", timeout=60, campaign_id=campaign_id)

    kinds = {n: outcomes(site, campaign_id)[n] for n in called}
    assert sorted(v[-1] for v in kinds.values()) == ["agentless_done", "busy", "machine"]
    assert kinds[human] == ["agentless_done"] and kinds[machine] == ["machine"]
    asked = [data for name, _to, data in played if name == "CHANNEL_EXECUTE" and "outbound_message.wav" in data]
    assert asked and all(data.startswith("1 1 1 5000") for data in asked)   # the message asks for one digit
    assert any(name == "PLAYBACK_START" and data == "cti/outbound_machine.wav" for name, _to, data in played)


def test_stats_are_published_while_running(site: Stack) -> None:
    called = numbers(7, ["no_answer"])
    campaign_id = campaign(site, called)
    started = time.time()
    site.services.dialer.control(campaign_id, CampaignEvent.START, actor="test")
    event = site.wait_event("campaign.changed", timeout=20, campaign_id=campaign_id, kind="stats")
    assert event.at >= started and event.data["state"] == "running"
    assert event.data["agents"]["logged_in"] == len(AGENTS)
    assert event.data["contacts_left"] == 1 and event.data["abandon_limit"] == 0.03
    assert event.data["pacing"]["reason"].startswith("progressive")
    site.services.dialer.control(campaign_id, CampaignEvent.STOP, actor="test")
    site.wait_for(lambda: drained(site), 30, "agents free again")


def test_uk_redial_after_an_abandon_reserves_an_agent_first(site: Stack) -> None:
    """Ofcom: no new call within 72 h to a number whose call was abandoned, unless an
    agent is reserved for it -- so the dialer calls a free agent first."""
    called = numbers(10, ["human"])
    (number,) = called
    campaign_id = campaign(site, called, zone="Europe/London")
    site.db.execute("UPDATE outbound_campaigns SET compliance_profile = 'uk_ofcom' WHERE id = %s", (campaign_id,))
    site.db.execute(
        "INSERT INTO outbound_attempts (campaign_id, contact_id, e164, mode, started_at, outcome) "
        "SELECT %s, id, e164, 'progressive', now() - interval '1 hour', 'abandoned' FROM outbound_contacts "
        "WHERE e164 = %s", (campaign_id, number))
    site.services.dialer.control(campaign_id, CampaignEvent.START, actor="test")
    site.wait_event("campaign.finished", timeout=60, campaign_id=campaign_id)
    row = site.db.fetchone("SELECT outcome, agent_reserved, agent_id FROM outbound_attempts "
                           "WHERE campaign_id = %s AND outcome <> 'abandoned'", (campaign_id,))
    assert row is not None and (row["outcome"], row["agent_reserved"]) == ("connected", True)
    assert row["agent_id"] in {site.agent_id(code) for code in AGENTS}
    site.wait_for(lambda: drained(site), 30, "agents free again")


def test_a_call_lost_in_a_switch_restart_is_closed_at_the_resync(site: Stack) -> None:
    """Runs last: the switch crashes while a customer rings; the hangup is never sent,
    so the resync after the reconnection is what ends the line."""
    called = numbers(9, ["no_answer"])
    (number,) = called
    campaign_id = campaign(site, called)
    site.services.dialer.control(campaign_id, CampaignEvent.START, actor="test")
    site.wait_for(lambda: site.services.dialer.lines, 20, "the call placed")
    site.switch.restart()
    site.wait_event("campaign.finished", timeout=60, campaign_id=campaign_id)
    assert outcomes(site, campaign_id) == {number: ["failed"]}
    assert states(site, campaign_id) == {number: "done"}
