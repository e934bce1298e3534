"""``cti demo``: the whole product on one machine with nothing to configure.

Embedded PostgreSQL in ``CTI_DATA_DIR``, the demo site from ``examples/site.yaml``, the
built-in FreeSWITCH simulator on a free local port (unless ``CTI_ESL`` names a real
switch), synthetic callers walking the IVR, synthetic agents answering and wrapping up,
and the web app on ``CTI_HTTP``. The services are exactly those of ``cti serve``: only
the switch and the people differ.

Agents 1000-1002 are left logged out for the people trying the demo: sign in as one of
them, confirm the extension, go available, and a caller who chooses one of your queues
soon rings your (simulated) phone, which answers by itself after a second.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import gevent

from cti.agent_states import AgentState
from cti.bus import DomainEvent
from cti.config import ESLNode, Settings
from cti.core import COMMAND_REFUSALS
from cti.provision import load_site_file, provision
from cti.runtime import run_until_signalled
from cti.services import Services, build_services

log = logging.getLogger(__name__)

DEFAULT_SITE = Path(__file__).resolve().parent.parent / "examples" / "site.yaml"

#: Agents the demo leaves to people (signed in through the browser).
HUMAN_AGENTS = 3
#: Extra phones on the simulated switch for supervisors trying listen/whisper/barge.
SUPERVISOR_PHONES = ("1100", "1101")
#: Mean calls per second arriving at the demo's DIDs.
CALLER_RATE = 0.15
#: What synthetic callers key in at the prompts of the demo flows (language, menu).
CALLER_SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("1", "1"), ("1", "2"), ("1", "3"), ("2", "1"), ("2", "2"), ("2", "3"), ("1", "9"),
)


def demo_logins(site: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(username, password, roles) of the demo site's people, printed at start."""
    people = [(u["username"], u.get("password", ""), ",".join(u.get("roles", []))) for u in site.get("users") or []]
    agents = site.get("agents") or []
    people += [(a["username"], a.get("password", ""), "agent") for a in agents[:HUMAN_AGENTS]]
    return people


class DemoFloor:
    """Synthetic agents and callers for the demo (a component of the services).

    Bots are the site's agents after the first :data:`HUMAN_AGENTS`: they log in ready,
    finish wrap-up with a disposition after a few seconds, and come back from a missed
    call after a short break, as real agents would.
    """

    def __init__(self, services: Services, site: dict[str, Any], switch: Any | None) -> None:
        self.services = services
        self.site = site
        self.switch = switch
        self.bots: set[int] = set()
        self._generators: list[Any] = []
        self._random = random.Random(2026)

    def start(self) -> None:
        rows = self.services.db.fetchall("SELECT id, code FROM agents ORDER BY code")
        for row in rows[HUMAN_AGENTS:]:
            self.bots.add(row["id"])
            self._to_work(row["id"], row["code"])
        self.services.bus.subscribe("agent.state_changed", self._on_agent_state)
        if self.switch is not None:
            self._start_callers()

    def _to_work(self, agent_id: int, extension: str) -> None:
        """Log a bot in ready. On a demo started again over the same data, the core has
        already logged in the bots that were busy when it stopped, as not ready
        ("restored", as it must for people); a bot goes back to work instead."""
        core = self.services.core
        state = core.state.agent(agent_id).state
        try:
            if state is AgentState.LOGGED_OUT:
                core.command(core.state.agent_login, agent_id, extension, now=time.time(), ready=True)
            elif state is AgentState.NOT_READY:
                core.command(core.state.agent_set_state, agent_id, "available", now=time.time())
        except COMMAND_REFUSALS as exc:
            log.info("demo agent not at work", extra={"agent": agent_id, "why": str(exc)})

    def _start_callers(self) -> None:
        from esl.simulator.traffic import CallerGenerator

        dids = [str(d["number"]) for d in self.site.get("dids") or []]
        for index, script in enumerate(CALLER_SCRIPTS):
            generator = CallerGenerator(
                self.switch, rate_per_second=CALLER_RATE / len(CALLER_SCRIPTS), dids=dids,
                patience=(30.0, 180.0), talk_time=(20.0, 90.0), dtmf_script=script, seed=100 + index,
            )
            generator.start()
            self._generators.append(generator)

    def stop(self) -> None:
        for generator in self._generators:
            generator.stop()
        self.services.bus.unsubscribe(self._on_agent_state)

    def _on_agent_state(self, event: DomainEvent) -> None:
        if event.agent_id not in self.bots:
            return
        state = event.data.get("state")
        if state == "wrap_up":
            gevent.spawn_later(self._random.uniform(3, 8), self._finish_wrapup, event.agent_id)
        elif state == "not_ready" and event.data.get("reason") in ("missed", "unreachable"):
            gevent.spawn_later(10, self._back_to_work, event.agent_id)

    def _finish_wrapup(self, agent_id: int) -> None:
        codes = [d["code"] for d in self.site.get("dispositions") or [] if not d.get("queue")]
        core = self.services.core
        try:
            core.command(core.state.wrapup_done, agent_id, self._random.choice(codes), "demo agent", now=time.time())
        except COMMAND_REFUSALS:
            pass  # the timer or a supervisor ended it first

    def _back_to_work(self, agent_id: int) -> None:
        core = self.services.core
        try:
            core.command(core.state.agent_set_state, agent_id, "available", now=time.time())
        except COMMAND_REFUSALS:
            pass


def _start_simulator(settings: Settings) -> tuple[Settings, Any]:
    """A simulated switch on a free local port, and settings pointing at it."""
    from esl.simulator import FakeSwitch

    password = secrets.token_urlsafe(12)
    switch = FakeSwitch(password=password, recordings_dir=str(settings.recordings_dir))
    switch.start()
    for extension in SUPERVISOR_PHONES:
        switch.register_phone(extension, answer_after=1.0)
    node = ESLNode("demo-switch", "127.0.0.1", switch.port, password)
    return replace(settings, esl_nodes=(node,)), switch


def run_demo(settings: Settings, site_file: Path | None = None) -> None:
    from webapp import create_app

    site_path = site_file or DEFAULT_SITE
    site = load_site_file(site_path)
    switch = None
    if not settings.esl_nodes:
        settings, switch = _start_simulator(settings)
    try:
        services = build_services(settings)
    except BaseException:
        if switch is not None:
            switch.stop()
        raise
    try:
        provision(services.db, site)
    except BaseException:
        services.stop()
        if switch is not None:
            switch.stop()
        raise
    services.add("demo_floor", DemoFloor(services, site, switch))
    app, _socketio = create_app(services)

    def announce(url: str) -> None:
        click.echo(f"\nDemo running at {url}  (Ctrl-C stops everything)\n")
        click.echo("Sign in as:")
        for username, password, roles in demo_logins(site):
            click.echo(f"  {username:<12} password {password:<12} {roles}")
        if switch is not None:
            click.echo(f"\nSimulated FreeSWITCH on 127.0.0.1:{switch.port}; callers dial "
                       f"{', '.join(str(d['number']) for d in site.get('dids') or [])}.")
            click.echo(f"Supervisors: set your phone to {' or '.join(SUPERVISOR_PHONES)} on the wallboard "
                       "to listen, whisper or barge.")

    stops = (switch.stop,) if switch is not None else ()
    run_until_signalled(services, app, on_ready=announce, extra_stops=stops)
