"""``cti simulate``: options checked with messages that say what to change, the
generated site is one ``cti provision`` accepts, and short runs with faults (event
socket drops, a PostgreSQL restart) lose nothing and leave nothing inconsistent."""

from __future__ import annotations

import pytest

from cti.provision import validate_site
from cti.simulate import (
    SimulationError,
    SimulationOptions,
    exit_status,
    generated_site,
    options_from,
    run_simulation,
)


@pytest.mark.parametrize(("changes", "message"), [
    ({"agents": 0}, "--agents must be 1-5000"),
    ({"rate": 0}, "--rate must be positive"),
    ({"speed": -1}, "--speed must be positive"),
    ({"kill_esl_every": 0}, "--kill-esl-every must be positive"),
    ({"restart_db_at": 500.0}, "--restart-db-at must be within the run"),
    ({"restart_db_at": 5.0, "database_url": "postgresql://x@h/db"}, "unset CTI_DATABASE_URL"),
    ({"router": "magic"}, "--router must be engine or direct"),
])
def test_bad_options_say_what_to_change(changes: dict, message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        options_from(changes).check()


def test_options_from_the_command_line() -> None:
    opts = options_from({"agents": 5, "rate": 1.5, "kill_esl_every": None})
    assert (opts.agents, opts.rate, opts.kill_esl_every, opts.speed) == (5, 1.5, None, SimulationOptions.speed)
    with pytest.raises(SimulationError, match="unknown simulation option"):
        options_from({"agnets": 5})


@pytest.mark.parametrize("agents", [1, 2, 7])
def test_the_generated_site_provisions(agents: int) -> None:
    site = generated_site(SimulationOptions(agents=agents), "hash")
    assert validate_site(site) == []
    assert len(site["agents"]) == agents
    assert {q["name"] for q in site["queues"]} == ({"sim_a"} if agents == 1 else {"sim_a", "sim_b"})


def test_exit_status_follows_ok() -> None:
    assert (exit_status({"ok": True}), exit_status({"ok": False}), exit_status({})) == (0, 1, 1)


def check_nothing_lost(summary: dict) -> None:
    calls, store = summary["calls"], summary["store"]
    assert summary["ok"], summary
    assert summary["drained"] and summary["events"]["lost"] == 0 and summary["agents"]["inconsistent"] == 0
    assert calls["placed"] >= 8 and calls["ended"] == calls["created"] == calls["placed"]
    assert calls["answered"] >= calls["outcomes"].get("answered", 0) > 0
    assert store["interactions_stored"] == calls["created"] and store["ended_not_stored"] == 0
    assert store["backlog"] == 0 and store["rejected"] == 0
    assert summary["latency"]["count"] == summary["events"]["applied"]


RUN = {"agents": 4, "rate": 0.5, "duration": 40.0, "speed": 8.0, "talk": 12.0, "patience": 40.0, "seed": 3,
       "drain_timeout": 60.0}


@pytest.mark.slow
@pytest.mark.parametrize("router", ["engine", "direct"])
def test_event_socket_drops_and_a_database_restart_lose_nothing(router: str) -> None:
    """Core, client, store and routing under both faults; the direct router tells a
    routing problem from one of the core, the client or the store."""
    summary = run_simulation({**RUN, "router": router, "kill_esl_every": 12.0, "restart_db_at": 15.0,
                              "db_down": 1.5})
    check_nothing_lost(summary)
    faults = summary["faults"]
    assert faults["esl_drops"] >= 2 and faults["reconnects"] >= 2 and faults["resyncs"] >= 3
    assert faults["db_restarts"] == 1 and summary["store"]["outages"] >= 1
    if router == "engine":
        assert faults["router"]["bridged"] == summary["calls"]["outcomes"]["answered"]


@pytest.mark.slow
def test_the_routing_engine_under_frequent_event_socket_drops() -> None:
    """The store engineer's reproduction: a drop every 15 s while agents are rung."""
    summary = run_simulation({"agents": 4, "duration": 60.0, "rate": 0.4, "talk": 15.0, "patience": 30.0,
                              "kill_esl_every": 15.0, "seed": 2, "drain_timeout": 60.0})
    check_nothing_lost(summary)
    assert summary["faults"]["esl_drops"] >= 3 and summary["faults"]["router"]["errors"] == 0


@pytest.mark.slow
def test_a_database_restart_under_the_routing_engine_loses_nothing() -> None:
    summary = run_simulation({**RUN, "restart_db_at": 15.0, "db_down": 1.5})
    check_nothing_lost(summary)
    assert summary["faults"]["router"]["bridged"] == summary["calls"]["outcomes"]["answered"]
    assert summary["store"]["outages"] >= 1
