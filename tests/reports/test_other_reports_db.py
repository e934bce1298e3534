"""Agent, call, voicemail, outbound, IVR and staffing reports end to end on the real
PostgreSQL. Site zone Asia/Shanghai (UTC+8), day 10 March 2026 unless stated."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from cti.db import Database
from reports.catalog import run_report
from reports.charts import ivr_tree_nodes
from reports.errors import ReportError
from tests.reports.store import Store

TZ = "Asia/Shanghai"
DAY = "2026-03-10"


def t(local: str) -> pd.Timestamp:
    return pd.Timestamp(f"{DAY} {local}", tz=TZ)


def seed_campaign(s: Store, agent: int) -> int:
    """Campaign "spring" (outbound schema of sql/004): five contacts, six attempts.

    09:00 contact 1 connected (talk 100, sale)   09:10 contact 2 no answer
    09:20 contact 3 abandoned (live, no agent)   09:30 contact 1 connected (talk 50, callback)
    09:40 contact 4 answering machine            09:50 contact 2 failed (never a call)
    Contact 5 is not dialled yet. Interactions exist for the first four dials only.
    """
    with s.db.transaction() as cur:
        cur.execute("INSERT INTO outbound_campaigns (name, display_name) VALUES ('spring', 'Spring offer') RETURNING id")
        campaign = int(cur.fetchone()["id"])
        cur.execute("INSERT INTO outbound_contact_lists (name, campaign_id) VALUES ('spring-list', %s) RETURNING id",
                    (campaign,))
        list_id = cur.fetchone()["id"]
        contacts = []
        for n, state in enumerate(["done", "scheduled_retry", "done", "done", "new"], start=1):
            cur.execute("INSERT INTO outbound_contacts (list_id, e164, state) VALUES (%s, %s, %s) RETURNING id",
                        (list_id, f"+8613800000{n:03d}", state))
            contacts.append(int(cur.fetchone()["id"]))
    dials = [("09:00", 0, 5, "connected", "completed", 100, "sale"), ("09:10", 1, None, "no_answer", "no_answer", 0, ""),
             ("09:20", 2, 4, "abandoned", "abandoned", 0, ""), ("09:30", 0, 6, "connected", "completed", 50, "callback"),
             ("09:40", 3, 3, "machine", "", 0, ""), ("09:50", 1, None, "failed", "", 0, "")]
    for local, contact, answered, attempt_outcome, call_outcome, talk, disposition in dials:
        iid = None
        if call_outcome:
            iid = s.interaction(f"{DAY} {local}", direction="outbound", caller="+862100000000",
                                callee=f"+8613800000{contact + 1:03d}", did="", answered=answered,
                                outcome=call_outcome, campaign=campaign, contact=contacts[contact], talk=talk,
                                agent=agent if talk else None, disposition=disposition)
        s.db.execute("""INSERT INTO outbound_attempts (campaign_id, contact_id, e164, interaction_id, agent_id, mode,
                            started_at, answered_at, outcome) VALUES (%s, %s, %s, %s, %s, 'predictive', %s, %s, %s)""",
                     (campaign, contacts[contact], f"+8613800000{contact + 1:03d}", iid, agent if talk else None,
                      s.t(f"{DAY} {local}"), None if answered is None else s.t(f"{DAY} {local}", answered),
                      attempt_outcome))
    return campaign


@pytest.fixture(scope="module")
def store(db: Database) -> Iterator[Store]:
    s = Store(db, TZ)
    s.queue("sales", 20)
    agent = s.agent("1001", "Ann")
    s.agents["ann"] = agent
    for local, state, reason in [("08:55", "available", ""), ("09:10", "reserved", ""), ("09:10:10", "on_call", ""),
                                 ("09:15:10", "wrap_up", ""), ("09:16:10", "available", ""),
                                 ("09:50", "not_ready", "break"), ("10:10", "available", ""),
                                 ("10:20", "logged_out", "")]:
        s.state(agent, f"{DAY} {local}", state, reason)
    call = s.interaction(f"{DAY} 09:09:55", queue="sales", agent=agent, answered=15)
    s.offer(call, agent, "sales", f"{DAY} 09:10", "answered")
    s.offer(call, agent, "sales", f"{DAY} 09:40", "no_answer")
    s.segment(call, agent, "talk", f"{DAY} 09:10:10", 240, "sales")
    s.segment(call, agent, "hold", f"{DAY} 09:14:10", 60, "sales")
    s.segment(call, agent, "wrapup", f"{DAY} 09:15:10", 60, "sales")
    s.voicemail("queue:sales", f"{DAY} 09:05", status="handled", handled_after=3600)
    s.voicemail("queue:sales", f"{DAY} 09:20", status="handled", handled_after=30 * 3600)
    s.voicemail("queue:sales", f"{DAY} 10:30")
    campaign = seed_campaign(s, agent)
    s.agents["campaign"] = campaign
    for iid, exit_label, seconds in [("a", "1", 5.0), ("b", "hangup", 8.0)]:
        interaction = s.interaction(f"{DAY} 11:00", caller=f"+8610000000{iid == 'a'}")
        s.ivr_event(interaction, f"{DAY} 11:00", {"flow": "main", "node": "menu", "kind": "node_entered"})
        s.ivr_event(interaction, f"{DAY} 11:00:05",
                    {"flow": "main", "node": "menu", "kind": "node_left", "exit": exit_label, "seconds": seconds})
    yield s


def test_agent_performance_hourly(store: Store) -> None:
    """09:00-10:00: available 600 + 2030 s and ringing 10 s, handling 300 + 60 s, break
    600 s -> occupancy 360 / 3000 = 0.12, utilisation 360 / 3600 = 0.1; one call of
    240 + 60 + 60 s; 2 rings, 1 answered. 10:00-11:00: break 600 s, available 600 s,
    then logged out -> utilisation 0, logged in 1200 s."""
    frame = run_report(store.db, "agent_performance", start=f"{DAY} 09:00", end=f"{DAY} 11:00", interval="hour", tz=TZ)
    nine, ten = frame.iloc[0], frame.iloc[1]
    assert (nine["agent_code"], nine["agent_name"], nine["interval_start"]) == ("1001", "Ann", t("09:00"))
    assert nine["available_s"] == pytest.approx(2640) and nine["handling_s"] == pytest.approx(360)
    assert nine["not_ready_s"] == pytest.approx(600) and nine["logged_in_s"] == pytest.approx(3600)
    assert nine["occupancy"] == pytest.approx(0.12) and nine["utilisation"] == pytest.approx(0.1)
    assert (nine["offers"], nine["offers_answered"], nine["no_answer"], nine["handled"]) == (2, 1, 1, 1)
    assert nine["aht_s"] == pytest.approx(360) and nine["answer_rate"] == 0.5
    assert ten["logged_in_s"] == pytest.approx(1200) and ten["utilisation"] == 0.0 and ten["handled"] == 0


def test_agent_state_detail_cuts_time_at_interval_edges(store: Store) -> None:
    frame = run_report(store.db, "agent_state_detail", start=f"{DAY} 09:00", end=f"{DAY} 11:00", interval="hour",
                       tz=TZ)
    breaks = frame[(frame["state"] == "not_ready") & (frame["reason"] == "break")]
    assert breaks["seconds"].tolist() == pytest.approx([600, 600])
    assert breaks["entries"].tolist() == [1, 0]                 # entered once, carried into 10:00
    available_nine = frame[(frame["state"] == "available") & (frame["interval_start"] == t("09:00"))].iloc[0]
    assert available_nine["seconds"] == pytest.approx(2630) and available_nine["entries"] == 1


def test_voicemail_handling(store: Store) -> None:
    row = run_report(store.db, "voicemail_handling", start=DAY, end="2026-03-11", tz=TZ).iloc[0]
    assert (row["received"], row["handled"], row["new"], row["handled_within_24h"]) == (3, 2, 1, 1)
    assert row["avg_handle_s"] == pytest.approx((3600 + 30 * 3600) / 2)
    assert row["longest_handle_s"] == pytest.approx(30 * 3600)


def test_outbound_summary_counts_every_outbound_call(store: Store) -> None:
    """Four outbound calls, 3 live answers (one abandoned: no agent), handled 2 with
    talk 100 + 50 s -> AHT 75 s."""
    out = run_report(store.db, "outbound_summary", start=DAY, end="2026-03-11", tz=TZ).iloc[0]
    assert (out["campaign_id"], out["attempts"], out["answered"], out["abandoned"]) == (
        store.agents["campaign"], 4, 3, 1)
    assert out["connect_rate"] == 0.75 and out["abandon_rate"] == pytest.approx(1 / 3) and out["aht_s"] == 75.0
    by_agent = run_report(store.db, "outbound_summary", start=DAY, end="2026-03-11", tz=TZ, by="agent_id")
    assert by_agent.set_index("agent_id").loc[store.agents["ann"], "handled"] == 2


def test_campaign_results_from_the_dialer_attempts(store: Store) -> None:
    """Six dials to four contacts: live answers 3 (the machine is not one), abandoned
    1, handled 2 (AHT 75 s); the campaign has 5 contacts, 2 still to dial, 3 done."""
    row = run_report(store.db, "campaign_results", start=DAY, end="2026-03-11", tz=TZ).iloc[0]
    assert (row["campaign_name"], row["display_name"], row["attempts"], row["contacts"]) == (
        "spring", "Spring offer", 6, 4)
    assert (row["answered"], row["abandoned"], row["handled"], row["aht_s"]) == (3, 1, 2, 75.0)
    assert (row["outcome_connected"], row["outcome_machine"], row["outcome_failed"]) == (2, 1, 1)
    assert row["connect_rate"] == 0.5 and row["disposition_sale"] == 1
    assert (row["contacts_total"], row["contacts_remaining"], row["contacts_done"]) == (5, 2, 3)


def test_campaign_results_from_interactions_when_asked(store: Store) -> None:
    row = run_report(store.db, "campaign_results", start=DAY, end="2026-03-11", tz=TZ,
                     filters={"source": "interactions"}).iloc[0]
    assert (row["attempts"], row["answered"], row["contacts"], row["outcome_completed"]) == (4, 3, 3, 2)
    assert row["disposition_(none)"] == 2


def test_call_detail_with_filters(store: Store) -> None:
    frame = run_report(store.db, "call_detail", start=DAY, end="2026-03-11", tz=TZ,
                       filters={"direction": "outbound", "outcome": "completed"})
    assert len(frame) == 2 and (frame["campaign_id"] == store.agents["campaign"]).all()
    assert frame["started_at"].tolist() == [t("09:00"), t("09:30")]
    one = run_report(store.db, "call_detail", start=DAY, end="2026-03-11", tz=TZ,
                     filters={"caller_number": "+8613800000003"})
    assert one["outcome"].tolist() == ["abandoned"]
    with pytest.raises(ReportError, match="cannot be grouped"):
        run_report(store.db, "call_detail", start=DAY, end="2026-03-11", by="queue", tz=TZ)


def test_ivr_tree_from_timeline_events_then_from_node_statistics(store: Store) -> None:
    frame = run_report(store.db, "ivr_tree", start=DAY, end="2026-03-11", tz=TZ)
    menu = frame[frame["node"] == "menu"].iloc[0]
    assert (menu["visits"], menu["exit_1"], menu["exit_hangup"], menu["drop_offs"]) == (2, 1, 1, 1)
    assert menu["drop_off_rate"] == 0.5 and menu["avg_seconds"] == 6.5
    store.db.execute("""INSERT INTO ivr_node_stats (flow_name, flow_version, node, day, visits, hangups, retries,
                            seconds_total, exits) VALUES ('main', 3, 'menu', %s, 10, 2, 1, 50, %s)""",
                     (DAY, '{"1": 6, "2": 2, "hangup": 2}'))
    stats = run_report(store.db, "ivr_tree", start=DAY, end="2026-03-11", tz=TZ)
    menu = stats.iloc[0]
    assert (menu["flow_version"], menu["visits"], menu["exit_2"], menu["drop_offs"], menu["exits_total"]) == (
        3, 10, 2, 2, 10)
    assert ivr_tree_nodes(stats)["main"][0]["exits"] == {"1": 6, "2": 2, "hangup": 2}
    events = run_report(store.db, "ivr_tree", start=DAY, end="2026-03-11", tz=TZ, filters={"source": "events"})
    assert events.iloc[0]["visits"] == 2


def test_staffing_reproduces_the_classic_erlang_c_example(store: Store) -> None:
    """Four past Tuesdays each had 100 calls between 09:00 and 09:30 handled in 180 s:
    the forecast is 100 calls / 30 min at AHT 180 s -- the Call Centre Helper example,
    which needs 14 agents for 80% in 20 s. Nobody abandoned, so Erlang A = Erlang C."""
    with store.db.transaction() as cur:
        cur.execute("""CREATE TEMP TABLE seed ON COMMIT DROP AS
                       SELECT gen_random_uuid() AS id,
                              (%s::timestamp AT TIME ZONE %s) - w * interval '7 days' + k * interval '15 seconds' AS t
                         FROM generate_series(1, 4) w, generate_series(0, 99) k""", (f"{DAY} 09:00", TZ))
        cur.execute("""INSERT INTO interactions (id, direction, started_at, queue_name)
                       SELECT id, 'inbound', t, 'staff' FROM seed""")
        cur.execute("""INSERT INTO queue_visits (interaction_id, seq, queue_name, entered_at, answered_at, left_at, outcome)
                       SELECT id, 1, 'staff', t, t + interval '10 s', t + interval '10 s', 'answered' FROM seed""")
        cur.execute("""INSERT INTO agent_segments (interaction_id, agent_id, kind, started_at, ended_at, queue_name)
                       SELECT id, 1, 'talk', t + interval '10 s', t + interval '190 s', 'staff' FROM seed""")
    frame = run_report(store.db, "staffing", start=f"{DAY} 09:00", end=f"{DAY} 10:00", interval="30min", tz=TZ,
                       filters={"queue": "staff"})
    first, second = frame.iloc[0], frame.iloc[1]
    assert first["forecast_calls"] == 100 and first["forecast_aht_s"] == 180 and first["weeks_used"] == 4
    assert first["agents_erlang_c"] == 14 and first["agents_erlang_a"] == 14
    assert first["sl_erlang_c"] == pytest.approx(0.8884, abs=5e-5)
    assert second["forecast_calls"] == 0 and second["agents_erlang_c"] == 0
    assert first["method"] == "same weekday and interval, mean of the last 4 weeks of history"
    with pytest.raises(ReportError, match="30min or hour"):
        run_report(store.db, "staffing", start=DAY, end="2026-03-11", interval="day", tz=TZ)


def test_daylight_saving_day_has_23_hours_and_calls_land_on_the_local_hour(pg_cluster: object, db: Database) -> None:
    paris = Store(db, "Europe/Paris")
    iid = paris.interaction("2026-03-29 03:30", queue="dst")
    paris.visit(iid, 1, "dst", "2026-03-29 03:30", wait=12, outcome="answered")
    frame = run_report(db, "inbound_summary", start="2026-03-29", end="2026-03-30", interval="hour",
                       tz="Europe/Paris", filters={"queue": "dst"})
    assert len(frame) == 23
    hit = frame[frame["offered"] == 1]
    assert hit["interval_start"].tolist() == [pd.Timestamp("2026-03-29T03:00+02:00")]
    assert frame["interval_start"].iloc[2] == pd.Timestamp("2026-03-29T03:00+02:00")   # 02:00 does not exist
