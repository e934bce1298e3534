"""A whole site for end-to-end tests: the simulated switch over real TCP, the real
services (core, store, routing ...) exactly as ``cti serve`` builds them, a real
PostgreSQL database, and the demo site provisioned.

Used by the ``stack`` fixture (tests/conftest.py) and by tests that need several
stacks or to restart one (``Stack.restart_services``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cti.bus import DomainEvent
from cti.config import Settings, load_settings
from cti.provision import load_site_file, provision
from cti.services import Services, build_services
from esl.events import Event
from esl.simulator import FakeSwitch
from tests.polling import wait_for

SITE_FILE = Path(__file__).resolve().parents[1] / "examples" / "site.yaml"
ESL_PASSWORD = "stack-test-secret"


@dataclass
class Stack:
    switch: FakeSwitch
    settings: Settings
    services: Services
    site: dict[str, Any]
    events: list[DomainEvent] = field(default_factory=list)
    #: The channel events the core read, once :meth:`record_channel_events` is called.
    raw: list[Event] = field(default_factory=list)

    @property
    def db(self):
        return self.services.db

    @property
    def core(self):
        return self.services.core

    def agent_id(self, code: str) -> int:
        row = self.db.fetchone("SELECT id FROM agents WHERE code = %s", (code,))
        assert row is not None, f"no agent with code {code}"
        return int(row["id"])

    def user_id(self, username: str) -> int:
        row = self.db.fetchone("SELECT id FROM users WHERE username = %s", (username,))
        assert row is not None, f"no user {username}"
        return int(row["id"])

    def login(self, code: str, *, ready: bool = True, extension: str | None = None) -> int:
        """Log an agent in on their default extension (or ``extension``)."""
        agent_id = self.agent_id(code)
        self.core.command(self.core.state.agent_login, agent_id, extension or code, now=time.time(), ready=ready)
        return agent_id

    def use_switch_clock(self) -> None:
        """Stamp what the core does with the simulator's clock (it runs ``speed`` times
        faster than real time), as ``cti simulate`` does."""
        self.core.clock = lambda: self.switch.engine.core.now_us() / 1_000_000

    def record_channel_events(self) -> None:
        """Keep every channel event the core reads from now on in :attr:`raw`."""
        self.core.add_channel_listener(self.raw.append)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
        """Poll ``predicate`` until it returns something truthy (see :func:`tests.polling.wait_for`)."""
        return wait_for(predicate, timeout, what)

    def wait_event(self, type_: str, timeout: float = 10.0, **match: Any) -> DomainEvent:
        """The first published domain event of ``type_`` whose fields/data match."""

        def found() -> DomainEvent | None:
            for event in self.events:
                if event.type != type_:
                    continue
                record = {**event.data, "interaction_id": event.interaction_id, "agent_id": event.agent_id,
                          "queue": event.queue}
                if all(record.get(k) == v for k, v in match.items()):
                    return event
            return None

        return self.wait_for(found, timeout, f"{type_} {match}")

    def restart_services(self) -> None:
        """Stop the middleware and start a new one on the same database and data dir
        (calls on the switch carry on, as after a real restart)."""
        self.services.stop()
        self.services = _start_services(self.settings, self.events)

    def close(self) -> None:
        try:
            self.services.stop()
        finally:
            self.switch.stop()


def _start_services(settings: Settings, sink: list[DomainEvent], site: dict[str, Any] | None = None) -> Services:
    services = build_services(settings)
    if site is not None:
        provision(services.db, site)
    services.bus.subscribe("*", sink.append)
    services.start()
    assert services.core.switches.wait_connected(15), "middleware did not connect to the simulator"
    return services


def start_stack(
    database_url: str,
    data_dir: Path,
    *,
    site: dict[str, Any] | None = None,
    speed: float = 1.0,
    seed: int | None = 1,
    environ: dict[str, str] | None = None,
    provisioned: bool = False,
) -> Stack:
    """Start a simulator and a site on ``database_url``, provisioning ``site`` (default:
    the demo site) unless the database already holds it (``provisioned``)."""
    switch = FakeSwitch(password=ESL_PASSWORD, speed=speed, seed=seed)
    switch.start()
    try:
        settings = load_settings({
            "CTI_DATA_DIR": str(data_dir),
            "CTI_DATABASE_URL": database_url,
            "CTI_ESL": f"esl://fs1:{ESL_PASSWORD}@127.0.0.1:{switch.port}",
            "CTI_HTTP": "127.0.0.1:0",
            "CTI_RECORDINGS_DIR": str(data_dir / "recordings"),
            **(environ or {}),
        })
        site = site if site is not None else load_site_file(SITE_FILE)
        events: list[DomainEvent] = []
        services = _start_services(settings, events, None if provisioned else site)
    except BaseException:
        switch.stop()
        raise
    return Stack(switch=switch, settings=settings, services=services, site=site, events=events)
