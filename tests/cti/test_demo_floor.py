"""The demo's synthetic agents: at work from the start, also when the demo is started
again over the data of an earlier run (the core restores agents who were busy when it
stopped as not ready, which must not leave the demo's bots idle forever)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cti.agent_states import AgentState
from cti.db import Database
from cti.demo import HUMAN_AGENTS, DemoFloor
from tests.stack import Stack, start_stack


def _agents(url: str) -> list[dict]:
    database = Database(url, size=1)
    try:
        return database.fetchall("SELECT id, code FROM agents ORDER BY code")
    finally:
        database.close()


def _was_busy_when_stopped(url: str, agents: list[dict]) -> None:
    """History as an earlier run leaves it: these agents were on a call at the stop."""
    database = Database(url, size=1)
    try:
        for row in agents:
            database.execute(
                "INSERT INTO agent_state_history (event_id, agent_id, at, state, extension) "
                "VALUES (%s, %s, now(), 'on_call', %s)", (str(uuid.uuid4()), row["id"], row["code"]))
    finally:
        database.close()


@pytest.fixture(scope="module")
def restarted(site_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, list[dict]]]:
    agents = _agents(site_db_url)
    _was_busy_when_stopped(site_db_url, [agents[0], agents[HUMAN_AGENTS], agents[HUMAN_AGENTS + 1]])
    site = start_stack(site_db_url, Path(tmp_path_factory.mktemp("demo_floor")), provisioned=True)
    yield site, agents
    site.close()


def test_restored_bots_go_back_to_work_and_people_are_left_alone(restarted: tuple[Stack, list[dict]]) -> None:
    site, agents = restarted
    state = site.core.state
    human, busy_bots = agents[0], agents[HUMAN_AGENTS:HUMAN_AGENTS + 2]
    for row in (human, *busy_bots):   # what the core did on start, as for any site
        assert (state.agent(row["id"]).state, state.agent(row["id"]).reason) == (AgentState.NOT_READY, "restored")

    floor = DemoFloor(site.services, site.site, switch=None)
    floor.start()
    try:
        assert {state.agent(row["id"]).state for row in agents[HUMAN_AGENTS:]} == {AgentState.AVAILABLE}
        assert state.agent(human["id"]).state is AgentState.NOT_READY
        assert {state.agent(row["id"]).state for row in agents[1:HUMAN_AGENTS]} == {AgentState.LOGGED_OUT}
        assert state.agent(busy_bots[0]["id"]).extension == busy_bots[0]["code"]
    finally:
        floor.stop()
