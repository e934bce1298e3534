"""What the dialer writes when calls end, campaign control and the clean-up after a
restart, against the real PostgreSQL (no switch)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import gevent
import pytest

from cti.db import Database, DatabaseUnavailable
from outbound import campaign_sql
from outbound import store as sql
from outbound.campaign_config import CampaignConfig, load_config
from outbound.campaign_states import CampaignEvent
from outbound.compliance import DialVerdict, Refusal
from outbound.errors import CampaignNotReady, IllegalTransition, UnknownCampaign
from outbound.outcomes import LineResult, Writer, record_disposition, record_result, refuse_dial
from outbound.retries import CallOutcome
from outbound.sweeps import sweep

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def make_campaign(db: Database, contacts: int = 1, **columns: Any) -> tuple[CampaignConfig, list[int]]:
    n = next(_ids)
    settings = columns.pop("settings", {"timezone": "UTC"})
    fields = {"mode": "progressive", "queue_name": "", "caller_id_number": "+442071234567",
              "settings": settings, **columns}
    with db.transaction() as cur:
        campaign_id = campaign_sql.create_campaign(cur, f"db-{n}", fields)
        list_id = sql.contact_list_id(cur, f"db-list-{n}", create=True)
        assert list_id is not None
        campaign_sql.attach_list(cur, list_id, campaign_id)
        ids = []
        for i in range(contacts):
            cur.execute("INSERT INTO outbound_contacts (list_id, e164, state) VALUES (%s, %s, 'dialing') RETURNING id",
                        (list_id, f"+4420799{n:03d}{i:02d}"))
            ids.append(int(cur.fetchone()["id"]))
        row = campaign_sql.campaign(cur, campaign_id)
    assert row is not None
    return load_config(row, site_zone="UTC"), ids


def attempt(db: Database, config: CampaignConfig, contact_id: int, started: datetime = NOW,
            interaction_id: str | None = None) -> int:
    with db.transaction() as cur:
        contact = campaign_sql.contact(cur, contact_id)
        assert contact is not None
        return sql.start_attempt(cur, campaign_id=config.id, contact_id=contact_id, e164=contact["e164"],
                                 mode="progressive", started_at=started, interaction_id=interaction_id)


def finish(db: Database, config: CampaignConfig, contact_id: int, outcome: CallOutcome, **kw: Any) -> bool:
    attempt_id = attempt(db, config, contact_id)
    result = LineResult(campaign_id=config.id, contact_id=contact_id, attempt_id=attempt_id, outcome=outcome,
                        ended_at=NOW, **kw)
    with db.transaction() as cur:
        return record_result(cur, result, config)


def contact(db: Database, contact_id: int) -> dict[str, Any]:
    row = db.fetchone("SELECT * FROM outbound_contacts WHERE id = %s", (contact_id,))
    assert row is not None
    return row


def counters(db: Database, config: CampaignConfig) -> dict[str, int]:
    row = db.fetchone("SELECT * FROM outbound_daily_counters WHERE campaign_id = %s", (config.id,))
    return {} if row is None else {k: v for k, v in row.items() if isinstance(v, int) and k != "campaign_id"}


def test_no_answer_is_retried_and_counted(db: Database) -> None:
    config, (contact_id,) = make_campaign(db)
    assert finish(db, config, contact_id, CallOutcome.NO_ANSWER, cause="NO_ANSWER") is False
    row = contact(db, contact_id)
    assert (row["state"], row["last_outcome"], row["attempts"]) == ("scheduled_retry", "no_answer", 1)
    assert row["next_attempt_at"] == NOW + timedelta(hours=2)
    assert counters(db, config)["no_answer"] == 1


def test_a_final_outcome_makes_the_contact_final(db: Database) -> None:
    config, (a, b) = make_campaign(db, 2)
    assert finish(db, config, a, CallOutcome.INVALID_NUMBER, cause="UNALLOCATED_NUMBER") is True
    assert finish(db, config, b, CallOutcome.AGENTLESS_DONE) is True
    assert (contact(db, a)["state"], contact(db, a)["final_outcome"]) == ("invalid", "invalid_number")
    assert (contact(db, b)["state"], contact(db, b)["final_outcome"]) == ("done", "agentless_done")
    assert counters(db, config)["failed"] == 1 and counters(db, config)["connected"] == 1


def test_an_abandon_counts_and_the_late_message_too(db: Database) -> None:
    config, (contact_id,) = make_campaign(db)
    finish(db, config, contact_id, CallOutcome.ABANDONED, late_message=True)
    assert (counters(db, config)["abandoned"], counters(db, config)["late_message"]) == (1, 1)
    assert contact(db, contact_id)["state"] == "scheduled_retry"


@pytest.mark.parametrize(("disposition", "state", "final", "extra"), [
    ("completed", "done", "connected", {}),
    ("callback", "scheduled_retry", "", {}),
    ("do_not_call", "dnc", "do_not_call", {}),
    ("wrong_number", "done", "invalid_number", {}),
    ("machine", "scheduled_retry", "", {"connected": 0, "agent_machine": 1}),
])
def test_the_agents_disposition_decides_the_contacts_next_step(
    db: Database, disposition: str, state: str, final: str, extra: dict[str, int],
) -> None:
    config, (contact_id,) = make_campaign(db)
    assert finish(db, config, contact_id, CallOutcome.CONNECTED, agent_id=None) is False
    assert contact(db, contact_id)["state"] == "connected"
    attempt_row = db.fetchone("SELECT id FROM outbound_attempts WHERE contact_id = %s", (contact_id,))
    assert attempt_row is not None
    with db.transaction() as cur:
        became_final = record_disposition(cur, config.id, attempt_row["id"], contact_id, disposition, config, NOW)
    row = contact(db, contact_id)
    assert (row["state"], row["final_outcome"], became_final) == (state, final, state in ("done", "dnc"))
    stored = db.fetchone("SELECT outcome, disposition FROM outbound_attempts WHERE id = %s", (attempt_row["id"],))
    assert stored is not None and stored["disposition"] == disposition
    for name, value in extra.items():
        assert counters(db, config)[name] == value
    if state == "dnc":
        with db.transaction() as cur:
            assert sql.dnc_hits(cur, config.id, row["e164"]) == (False, True)


@pytest.mark.parametrize(("refusals", "state", "final_outcome"), [
    ((Refusal.GLOBAL_DNC,), "dnc", "do_not_call"),
    ((Refusal.NO_WINDOW, Refusal.OUTSIDE_WINDOW), "invalid", "no_calling_window"),
    ((Refusal.OUTSIDE_WINDOW,), "scheduled_retry", ""),
])
def test_a_refused_dial_moves_the_contact(db: Database, refusals: tuple[Refusal, ...], state: str,
                                          final_outcome: str) -> None:
    config, (contact_id,) = make_campaign(db)
    db.execute("UPDATE outbound_contacts SET state = 'new' WHERE id = %s", (contact_id,))
    opens = NOW + timedelta(hours=5)
    verdict = DialVerdict(refusals, None if state != "scheduled_retry" else opens)
    with db.transaction() as cur:
        refuse_dial(cur, campaign_sql.contact(cur, contact_id), verdict)
    row = contact(db, contact_id)
    assert (row["state"], row["final_outcome"], row["attempts"]) == (state, final_outcome, 0)
    if state == "scheduled_retry":
        assert row["next_attempt_at"] == opens


def test_sweep_closes_what_a_restart_left_open(db: Database) -> None:
    config, (orphan, live, young, stale) = make_campaign(db, 4)
    long_ago = datetime.now(UTC) - timedelta(minutes=30)
    interaction = "6f1c9d8e-0000-4000-8000-000000000001"
    db.execute("INSERT INTO interactions (id, direction, started_at, outcome, hangup_cause) "
               "VALUES (%s, 'outbound', %s, 'busy', 'USER_BUSY')", (interaction, long_ago))
    attempt(db, config, orphan, long_ago, interaction)
    attempt(db, config, live, long_ago, "6f1c9d8e-0000-4000-8000-000000000002")
    attempt(db, config, young, datetime.now(UTC))
    db.execute("UPDATE outbound_contacts SET state = 'connected' WHERE id = %s", (stale,))
    db.execute("INSERT INTO outbound_attempts (campaign_id, contact_id, e164, mode, started_at, ended_at, outcome) "
               "SELECT %s, id, e164, 'progressive', %s, %s, 'connected' FROM outbound_contacts WHERE id = %s",
               (config.id, long_ago, long_ago, stale))
    with db.transaction() as cur:
        finals = sweep(cur, config, tracked=set(), live={"6f1c9d8e-0000-4000-8000-000000000002"})
    assert finals == 1
    assert contact(db, orphan)["state"] == "scheduled_retry" and contact(db, orphan)["last_outcome"] == "busy"
    assert contact(db, live)["state"] == "dialing" and contact(db, young)["state"] == "dialing"
    assert contact(db, stale)["state"] == "done"


# -- the writer --------------------------------------------------------------------------


class FlakyDatabase:
    """The outermost edge: a pool whose first transactions fail as if the server were down."""

    def __init__(self, real: Database, failures: int) -> None:
        self.real, self.failures = real, failures

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        if self.failures:
            self.failures -= 1
            raise DatabaseUnavailable("down for the test")
        with self.real.transaction() as cur:
            yield cur


def test_the_writer_keeps_work_while_the_database_is_down(db: Database) -> None:
    writer = Writer(FlakyDatabase(db, failures=2))  # type: ignore[arg-type]
    writer.RETRY_SECONDS = (0.01,)
    done: list[Any] = []
    writer.start()
    try:
        writer.submit(lambda cur: cur.execute("SELECT 41 + 1 AS n") or cur.fetchone()["n"], done.append)
        writer.submit(lambda cur: 1 / 0)
        writer.submit(lambda cur: "after", done.append)
        with gevent.Timeout(5):
            while len(done) < 2:
                gevent.sleep(0.01)
    finally:
        writer.stop()
    assert done == [42, "after"] and writer.failed == 1


# -- campaign control --------------------------------------------------------------------


def test_control_applies_the_campaign_machine_and_audits(services: Any) -> None:
    dialer = services.dialer
    config, _contacts = make_campaign(services.db, queue_name="", caller_id_number="")
    published: list[Any] = []
    services.bus.subscribe("campaign.*", published.append)
    with pytest.raises(CampaignNotReady, match="caller id"):
        dialer.control(config.id, CampaignEvent.START, actor="ann")
    services.db.execute("UPDATE outbound_campaigns SET mode = 'agentless', caller_id_number = '+442071234567' "
                        "WHERE id = %s", (config.id,))
    assert dialer.control(config.id, CampaignEvent.START, actor="ann")["state"] == "running"
    assert config.id in dialer.runs
    assert dialer.control(config.id, CampaignEvent.PAUSE, actor="ann")["state"] == "paused"
    with pytest.raises(IllegalTransition):
        dialer.control(config.id, CampaignEvent.PAUSE, actor="ann")
    assert dialer.control(config.id, CampaignEvent.STOP, actor="ann")["state"] == "stopped"
    assert config.id not in dialer.runs
    with pytest.raises(UnknownCampaign):
        dialer.control(10_000_000, CampaignEvent.START)
    states = [(e.data["previous"], e.data["state"]) for e in published if e.data.get("kind") == "state"]
    assert states == [("draft", "running"), ("running", "paused"), ("paused", "stopped")]
    audit = services.db.fetchall("SELECT action, actor_name, details FROM audit_log WHERE target_id = %s "
                                 "ORDER BY id", (str(config.id),))
    assert [a["action"] for a in audit] == ["campaign.start", "campaign.pause", "campaign.stop"]
    assert audit[0]["actor_name"] == "ann" and audit[0]["details"] == {"from": "draft", "to": "running"}


def test_a_state_written_by_another_part_is_picked_up(services: Any) -> None:
    """The REST API may write the state and publish campaign.changed without a kind."""
    from cti.bus import DomainEvent

    dialer = services.dialer
    config, _contacts = make_campaign(services.db, mode="agentless")
    dialer.start()
    try:
        services.db.execute("UPDATE outbound_campaigns SET state = 'running' WHERE id = %s", (config.id,))
        services.bus.publish(DomainEvent("campaign.changed", data={"campaign_id": config.id, "state": "running"}))
        with gevent.Timeout(5):
            while config.id not in dialer.runs:
                gevent.sleep(0.01)
    finally:
        dialer.stop()
    assert dialer.runs[config.id].config.state.value == "running"
