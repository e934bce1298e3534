"""Voicemail end to end (simulated switch, real services, real PostgreSQL): a caller
picks an event code and leaves a message; the file exists, the row is stored and
``voicemail.created`` is published. Then handling (assign, close, who sees what), a
queue overflowing to voicemail, and a message left while the database is down.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cti.bus import EventBus
from cti.db import Database
from cti.voicemail import VoicemailError, VoicemailService
from esl.simulator import CallerBehaviour
from routing.persistence import RoutingStore
from tests.routing.engine_site import interaction_of, module_stack

pytestmark = pytest.mark.slow


site = module_stack("voicemail")


def _leave_message(site, did: str, number: str, digits: tuple[str, ...]) -> tuple[str, dict]:
    leg = site.switch.place_inbound_call(did=did, caller_number=number, hangup_after=14,
                                         behaviour=CallerBehaviour(prompt_digits=digits, think_time=0.5))
    iid = interaction_of(site, leg)
    created = site.wait_event("voicemail.created", interaction_id=iid, timeout=20)
    row = site.wait_for(lambda: site.db.fetchone("SELECT * FROM voicemails WHERE id = %s", (created.data["id"],)),
                        what="the voicemail row")
    return iid, {"event": created, "row": row}


def test_a_caller_leaves_a_message_with_an_event_code(site) -> None:
    iid, found = _leave_message(site, "5551001", "+15550041", ("3",))
    event, row = found["event"], found["row"]
    assert event.data["box"] == "queue:vm" and event.queue == "vm"
    assert event.data["event_code"] == "complaint"
    assert event.data["caller_number"] == "+15550041"
    assert row["status"] == "new" and row["event_code"] == "complaint" and str(row["interaction_id"]) == iid
    assert row["duration_ms"] > 0
    assert os.path.isfile(row["path"]) and os.path.getsize(row["path"]) > 44
    assert row["path"].startswith(str(site.settings.recordings_dir / "voicemail"))
    ended = site.wait_event("call.ended", interaction_id=iid)
    assert [step["node"] for step in ended.data["ivr_path"]] == ["message"]


def test_a_queue_overflowing_to_voicemail_uses_the_box_of_the_flow(site) -> None:
    iid, found = _leave_message(site, "5551009", "+15550042", ("2",))
    assert found["event"].data["event_code"] == "suggestion"
    assert found["row"]["box"] == "queue:vm"
    ended = site.wait_event("call.ended", interaction_id=iid)
    assert [(v["queue"], v["outcome"]) for v in ended.data["queue_visits"]] == [("vm_overflow", "voicemail")]


def test_messages_are_assigned_handled_and_listed_by_role(site) -> None:
    service = site.services.routing.voicemail
    _, found = _leave_message(site, "5551001", "+15550043", ("1",))
    message = str(found["row"]["id"])
    root, boss = site.user_id("root"), site.user_id("boss")
    member, outsider = site.user_id("agent1011"), site.user_id("agent1000")

    assert message in {m["id"] for m in service.list_for(root)}
    assert message in {m["id"] for m in service.list_for(boss, status="new")}
    assert message in {m["id"] for m in service.list_for(member)}
    assert message not in {m["id"] for m in service.list_for(outsider)}

    assigned = service.assign(message, site.agent_id("1000"))
    assert assigned["status"] == "assigned"
    assert message in {m["id"] for m in service.list_for(outsider)}
    handled = service.mark_handled(message, boss)
    assert handled["status"] == "handled" and handled["handled_by"] == boss and handled["handled_at"]
    assert message not in {m["id"] for m in service.list_for(root, status="new")}

    with pytest.raises(VoicemailError, match="handled already"):
        service.mark_handled(message, boss)
    with pytest.raises(VoicemailError, match="there is no agent"):
        service.assign(message, 999999)
    with pytest.raises(VoicemailError, match="not a voicemail id"):
        service.assign("nope", 1)
    with pytest.raises(VoicemailError, match="status 'open' does not exist"):
        service.list_for(root, status="open")


def test_a_message_left_while_the_database_is_down_is_written_later(db, tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    down = Database("postgresql://nobody@127.0.0.1:1/none", size=1, acquire_timeout=1)
    store = RoutingStore(down, journal)
    bus = EventBus()
    seen: list = []
    bus.subscribe("voicemail.created", seen.append)
    voicemail_id = VoicemailService(down, bus, store=store).leave(
        box="agent:1001", interaction_id=None, caller_number="+15550099", event_code="", path="/tmp/m.wav",
        seconds=3.2,
    )
    assert [e.data["id"] for e in seen] == [voicemail_id]   # announced at once
    store.start()
    assert store.flush() is False                            # the database is away: kept
    store.stop()
    down.close()

    back = RoutingStore(db, journal)
    VoicemailService(db, EventBus(), store=back)            # registers the writer
    back.start()
    assert back.stats.durable_pending == 1
    assert back.flush() is True
    back.stop()
    row = db.fetchone("SELECT box, duration_ms, status FROM voicemails WHERE id = %s", (voicemail_id,))
    assert row == {"box": "agent:1001", "duration_ms": 3200, "status": "new"}
