"""Helpers for the resilience tests (this module holds no tests itself).

A :class:`Site` is the shared test stack (tests/stack.py: the simulator over real TCP,
the real services on a real PostgreSQL) provisioned with the small generated site of
``cti simulate`` (agents with phones 7000..., one queue per DID) and routed by the
real routing engine. The core and the engine stamp what they do with the switch's
clock (it runs ``speed`` times faster than real time).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cti.bus import DomainEvent
from cti.db import Database
from cti.simulate import DIDS, FIRST_EXTENSION, SimulationOptions, generated_site
from cti.users import hash_password
from esl.simulator import CallerBehaviour
from tests.polling import wait_for
from tests.stack import Stack, start_stack


class Site:
    def __init__(self, database_url: str, data_dir: Path, *, agents: int = 2, speed: float = 1.0,
                 wrapup: int = 1) -> None:
        site = generated_site(SimulationOptions(agents=agents, wrapup=wrapup), hash_password("not-for-sign-in-1"))
        self.extensions = [str(FIRST_EXTENSION + n) for n in range(agents)]
        self.stack: Stack = start_stack(database_url, data_dir, site=site, speed=speed,
                                        environ={"CTI_ROUTING_SPEED": str(speed)})
        for extension in self.extensions:
            self.stack.switch.register_phone(extension, answer_after=0.5)
        self._use_switch_clock()
        self.agent_ids = [self.stack.login(ext) for ext in self.extensions]

    # -- plumbing ------------------------------------------------------------------------

    @property
    def services(self) -> Any:
        return self.stack.services

    @property
    def core(self) -> Any:
        return self.stack.services.core

    @property
    def db(self) -> Database:
        return self.stack.services.db

    @property
    def switch(self) -> Any:
        return self.stack.switch

    @property
    def events(self) -> list[DomainEvent]:
        return self.stack.events

    def _use_switch_clock(self) -> None:
        assert getattr(self.services, "routing", None) is not None, "the services have no routing engine"
        self.stack.use_switch_clock()

    def restart_services(self) -> None:
        self.stack.restart_services()
        self._use_switch_clock()

    def close(self) -> None:
        self.stack.close()

    # -- calls ----------------------------------------------------------------------------

    def call(self, n: int, *, talk: float, patience: float | None = None) -> str:
        """Caller ``n`` (numbers are unique per ``n``) dials the DID of queue ``n % 2``:
        agent ``k`` serves queue ``k % 2``, so calls spread over the agents."""
        return self.switch.place_inbound_call(did=DIDS[n % len(DIDS)], caller_number=f"+1555{n:07d}",
                                              behaviour=CallerBehaviour(talk_time=talk, patience=patience))

    def answered_calls(self, first: int, count: int, *, talk: float) -> set[str]:
        """Callers ``first`` to ``first + count - 1`` (see :meth:`call`), once agents have
        answered them all: their interaction ids."""
        for n in range(first, first + count):
            self.call(n, talk=talk)
        self.wait(lambda: len(self.of("call.answered")) == count, what=f"{count} calls answered")
        return {e.interaction_id for e in self.of("call.answered") if e.interaction_id}

    def ended_normally(self, calls: set[str], since: int = 0) -> list[DomainEvent]:
        """Once the switch is empty and every one of ``calls`` has ended: the
        ``call.ended`` events published after ``since``, each an answered call the
        customer hung up normally."""
        self.wait(self.drained, timeout=30, what="calls to end")
        self.wait(lambda: self.ended_ids(since) >= calls, what="call.ended for every call")
        ended = self.of("call.ended", since)
        for event in ended:
            assert (event.data["hangup_cause"], event.data["outcome"]) == ("NORMAL_CLEARING", "answered")
        return ended

    def wait(self, predicate: Any, timeout: float = 20.0, what: str = "condition") -> Any:
        return self.stack.wait_for(predicate, timeout, what)

    def of(self, type_: str, since: int = 0) -> list[DomainEvent]:
        return [e for e in self.events[since:] if e.type == type_]

    def ended_ids(self, since: int = 0) -> set[str]:
        return {e.interaction_id for e in self.of("call.ended", since) if e.interaction_id}

    def agent_state(self, agent_id: int) -> str:
        return str(self.core.state.agent(agent_id).state.value)

    def drained(self) -> bool:
        return not self.switch.channels() and not self.core.state.live_calls()

    def client_stats(self) -> Any:
        return next(iter(self.core.switches.stats().values()))


def wait_for_database(db: Database, timeout: float = 30.0) -> None:
    """Until a query succeeds (the first use of a pool after a restart discards its
    broken connections)."""
    wait_for(db.ping, timeout, "the database to be back")


def stored_rows(db: Database, interaction_ids: set[str]) -> dict[str, dict[str, Any]]:
    rows = db.fetchall(
        """SELECT id::text AS id, outcome, ended_at, hangup_cause, agent_id,
                  (SELECT count(*) FROM legs l WHERE l.interaction_id = i.id) AS legs,
                  (SELECT count(*) FROM interaction_events e WHERE e.interaction_id = i.id) AS timeline
             FROM interactions i WHERE id = ANY(%s::uuid[])""",
        (sorted(interaction_ids),),
    )
    return {r["id"]: r for r in rows}
