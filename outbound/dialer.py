"""The outbound dialer at run time: one component per site that runs every campaign.

Three kinds of greenlet touch it, each with one job:

* **the pacing tick** (:meth:`Dialer.tick`, once a second per running campaign, from
  the site scheduler): builds the :class:`~outbound.pacing.PacingSnapshot` from the
  live state (the campaign's agents, the lines in flight) and today's abandon
  figures, asks :meth:`PacingState.decide <outbound.pacing.PacingState.decide>`, then
  claims due contacts (``SKIP LOCKED``), runs the check before dialling on each
  (:func:`outbound.store.check_before_dial`: DNC, calling window in the contact's
  time zone, daily cap, abandon-rate rules), records the attempt and originates. It
  also publishes ``campaign.changed`` with the live figures and finishes the campaign
  when no contact is left to call;
* **the event worker**: every switch event about our lines (answer, AMD beep,
  bridge, hangup) and every routing event about them (an agent rings, answers,
  fails) is posted to one inbox and applied there (:mod:`outbound.line_events`),
  through the line state machine (:mod:`outbound.line_states`); effects go to the
  switch from greenlets of their own (:mod:`outbound.lines`) and to the database
  through the writer;
* **the writer** (:class:`outbound.outcomes.Writer`): outcomes, counters, retries.

An answered person is queued for an agent through routing at the campaign's priority;
if no agent answers for the call within the rule set's deadline (2 s,
:func:`outbound.compliance.abandon_deadline`) the abandon message plays and the call
is counted abandoned. Pausing or stopping stops new dials at once; calls in progress
finish and are recorded, so no contact loses its state. Campaign state changes go
through :meth:`Dialer.control` (:mod:`outbound.campaign_control`), which the pages, the
REST API and the scheduler call. Preview mode is :mod:`outbound.preview`; what a
restart leaves open is closed by :mod:`outbound.sweeps`. One dialer runs a site: two
would not dial a contact twice (claims use ``SKIP LOCKED``) but would each pace as if
alone.
"""

from __future__ import annotations

import logging
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import gevent
import gevent.queue

from cti.bus import DomainEvent
from cti.core import COMMAND_REFUSALS
from esl.protocol import CommandArgumentError
from outbound import campaign_sql
from outbound import store as sql
from outbound.abandon import governing
from outbound.campaign_config import CampaignConfig
from outbound.campaign_control import CampaignControl
from outbound.campaign_run import (
    AGENTS_RELOAD_SECONDS,
    COUNTS_RELOAD_SECONDS,
    STATS_EVERY_SECONDS,
    SWEEP_EVERY_SECONDS,
    CampaignRun,
    agent_view,
)
from outbound.campaign_states import (
    CampaignEvent,
    CampaignState,
    ContactEvent,
    ContactState,
    contact_transition,
)
from outbound.campaign_stats import live_figures
from outbound.compliance import (
    Refusal,
    ring_timeout,
)
from outbound.errors import OutboundError
from outbound.line_events import Awaiting, LineEvents
from outbound.line_states import LinePhase
from outbound.lines import Line, LineCommands, agent_endpoint, agent_originate, customer_originate
from outbound.outcomes import (
    Writer,
    refuse_dial,
)
from outbound.phone import contact_zones
from outbound.preview import Previews
from outbound.sweeps import sweep

log = logging.getLogger(__name__)

DEFAULT_GATEWAY = "cti_gateway"
#: Contacts claimed beyond the lines wanted, to make up for the ones the check refuses.
CLAIM_SLACK = 5
READY_CAP = 10_000
#: Why a recorded line may fail to reach the switch (it then ends as failed).
_PLACE_ERRORS: tuple[type[Exception], ...] = (*COMMAND_REFUSALS, CommandArgumentError)
_NEED_AGENT = frozenset({Refusal.ABANDONED_RECENTLY, Refusal.MACHINE_RECENTLY})


@dataclass
class DialerStats:
    dials: int = 0
    refused: int = 0
    illegal_inputs: int = 0
    originate_errors: int = 0
    tick_errors: int = 0


class Dialer:
    """See the module docstring. Built by :func:`cti.services.build_services`."""

    def __init__(self, services: Any) -> None:
        self.db = services.db
        self.bus = services.bus
        self.settings = services.settings
        self.core = getattr(services, "core", None)
        self.routing = getattr(services, "routing", None)
        self.site_zone: str = services.settings.site_timezone
        self.gateway = services.settings.extra.get("CTI_GATEWAY", DEFAULT_GATEWAY)
        self.runs: dict[int, CampaignRun] = {}
        self.lines: dict[str, Line] = {}
        self.agent_legs: dict[str, Line] = {}
        self.by_interaction: dict[str, Line] = {}
        self.awaiting: dict[str, Awaiting] = {}
        self.events = LineEvents(self)
        self.writer = Writer(self.db)
        self.stats = DialerStats()
        self.commands = LineCommands(self.core.switches, self.post) if self.core is not None else None
        self._inbox: gevent.queue.Queue[tuple[Callable[..., None], tuple[Any, ...]]] = gevent.queue.Queue()
        self._worker: gevent.Greenlet | None = None
        self.running = False
        self.previews = Previews(self)
        self.campaigns = CampaignControl(self)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        self.running = True
        self.writer.start()
        self._worker = gevent.spawn(self._work)
        self.bus.subscribe("call.*", self.events.on_domain_event)
        self.bus.subscribe("agent.state_changed", self.events.on_domain_event)
        self.bus.subscribe("system.resynced", self.events.on_domain_event)
        self.bus.subscribe("campaign.changed", self.campaigns.on_campaign_event)
        if self.core is not None:
            self.core.add_channel_listener(self.events.on_channel_event)
        with self.db.transaction() as cur:
            rows = campaign_sql.campaigns(cur, (CampaignState.RUNNING, CampaignState.PAUSED))
        for row in rows:
            self.campaigns.activate(row)

    def stop(self) -> None:
        self.running = False
        self.bus.unsubscribe(self.events.on_domain_event)
        self.bus.unsubscribe(self.campaigns.on_campaign_event)
        for line in list(self.lines.values()):
            if line.deadline is not None:
                line.deadline.kill()
        if self._worker is not None:
            self._worker.kill()
        self.writer.stop()

    def post(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` in the event worker (the one place lines change)."""
        self._inbox.put((fn, args))

    def _work(self) -> None:
        while True:
            fn, args = self._inbox.get()
            try:
                fn(*args)
            except Exception:
                log.exception("outbound: event handling failed", extra={"handler": getattr(fn, "__name__", "?")})

    # -- campaign control (outbound.campaign_control) ---------------------------------------

    def control(self, campaign_id: int, event: CampaignEvent, *, actor: str = "", actor_id: int | None = None,
                actor_type: str = "user") -> dict[str, Any]:
        """Apply a campaign event; see :meth:`outbound.campaign_control.CampaignControl.control`."""
        return self.campaigns.control(campaign_id, event, actor=actor, actor_id=actor_id, actor_type=actor_type)

    def sync_campaign(self, campaign_id: int) -> None:
        """See :meth:`outbound.campaign_control.CampaignControl.sync`."""
        self.campaigns.sync(campaign_id)

    def add_state_listener(self, listener: Callable[[int], None]) -> None:
        """``listener(campaign_id)`` after every campaign state change (the scheduler)."""
        self.campaigns.listeners.append(listener)

    # -- the pacing tick ------------------------------------------------------------------

    def tick(self, campaign_id: int) -> None:
        """One pacing decision for a running campaign (the scheduler calls it every second)."""
        run = self.runs.get(campaign_id)
        if run is None or run.config.state is not CampaignState.RUNNING or not self.running:
            return
        try:
            self._tick(run)
        except Exception:
            self.stats.tick_errors += 1
            log.exception("outbound: pacing tick failed", extra={"campaign": campaign_id})

    def _tick(self, run: CampaignRun) -> None:
        now, wall = time.monotonic(), time.time()
        at = datetime.now(UTC)
        ready = self._refresh(run, wall, at)
        agents = self._agent_views(run, wall)
        if run.last_tick is not None:
            run.occupancy.sample(agents, now - run.last_tick)
        run.last_tick = now
        run.finish.start(wall)
        if not run.config.in_schedule(at) or self.node() is None:
            run.decision = None
        else:
            run.decision = run.config.runtime.within_daily_cap(
                run.pacing.decide(run.snapshot(agents, wall, ready), now), run.today.dials)
            if run.decision.lines_to_dial > 0:
                self._dial(run, run.decision.lines_to_dial, at)
            if run.decision.previews_to_offer > 0:
                self.previews.offer(run, at)
        if wall - run.published_at >= STATS_EVERY_SECONDS:
            self.publish_stats(run, agents)
        if run.contacts_left == 0 and not run.lines and run.counts_loaded_at == wall:
            self._exhausted(run.id)

    def _refresh(self, run: CampaignRun, wall: float, at: datetime) -> int:
        """Reload what the tick reads from the database; returns the contacts ready now."""
        config = run.config
        with self.db.transaction() as cur:
            if wall - run.agents_loaded_at >= AGENTS_RELOAD_SECONDS:
                run.agent_ids = tuple(campaign_sql.campaign_agent_ids(cur, config.queue, config.runtime.skills))
                run.agents_loaded_at = wall
            if wall - run.counts_loaded_at >= COUNTS_RELOAD_SECONDS:
                run.contacts = campaign_sql.contact_counts(cur, config.id)
                run.contacts_left = campaign_sql.unfinished_count(cur, config.id)
                run.counts_loaded_at = wall
            figures = sql.compliance_figures(cur, config.id, config.rules, sql.counter_day(config.rules, at))
            ready = campaign_sql.due_count(cur, config.id, at, cap=READY_CAP)
        run.today = figures[0].counts
        run.rate = governing(figures)
        if wall - run.swept_at >= SWEEP_EVERY_SECONDS:
            run.swept_at = wall
            self.writer.submit(lambda cur: sweep(cur, config, self._tracked_attempts(), self._live_interactions()),
                               lambda finals: self.note_finals(run.id, finals))
        return ready

    def _agent_views(self, run: CampaignRun, wall: float) -> list[Any]:
        if not run.config.needs_agents or self.core is None:
            return []
        held = {offer.agent_id for offer in run.previews.values()}
        views = []
        for agent_id in run.agent_ids:
            try:
                agent = self.core.state.agent(agent_id)
            except KeyError:
                continue
            view = agent_view(agent, wall, held=agent_id in held)
            if view is not None:
                views.append(view)
        return views

    def publish_stats(self, run: CampaignRun, agents: list[Any] | None = None) -> dict[str, Any]:
        """``campaign.changed`` with the live figures (``kind: "stats"``); returns its data."""
        wall = time.time()
        run.published_at = wall
        agents = agents if agents is not None else self._agent_views(run, wall)
        figures = live_figures(
            today=run.today, rate=run.rate, limit=run.config.rules.abandon_limit, lines=run.line_counts(),
            agents=agents, occupancy=run.occupancy.occupancy, contacts=run.contacts,
            contacts_left=run.contacts_left, finish_in=run.finish.estimate(run.contacts_left, wall),
            decision=run.decision, estimates=run.pacing.estimates(),
        )
        config = run.config
        data = {"campaign_id": config.id, "name": config.name, "state": config.state.value, "kind": "stats",
                "in_schedule": config.in_schedule(datetime.now(UTC)), **figures}
        self.bus.publish(DomainEvent("campaign.changed", queue=config.queue or None, data=data))
        return data

    def _exhausted(self, campaign_id: int) -> None:
        try:
            self.campaigns.control(campaign_id, CampaignEvent.EXHAUSTED, actor="dialer", actor_type="system")
        except OutboundError as exc:
            log.info("campaign not finished", extra={"campaign": campaign_id, "why": exc.message})

    def note_finals(self, campaign_id: int, finals: int) -> None:
        run = self.runs.get(campaign_id)
        if run is None or not finals:
            return
        run.finish.final(time.time(), finals)
        run.counts_loaded_at = 0.0

    # -- dialling -------------------------------------------------------------------------

    def node(self) -> str | None:
        if self.core is None:
            return None
        for client in self.core.switches:
            if client.connected:
                return str(client.node.name)
        return None

    def _dial(self, run: CampaignRun, wanted: int, at: datetime) -> None:
        config, node = run.config, self.node()
        assert node is not None
        placed: list[Line] = []
        finals = 0
        free = [a for a in self.previews.ready_agents(run) if a not in run.previews] if config.needs_agents else []
        with self.db.transaction() as cur:
            for row in sql.claim_due_contacts(cur, config.id, at, wanted + CLAIM_SLACK):
                if len(placed) >= wanted:
                    break
                line = self.start_line(cur, config, row, node, at, reserve=lambda: free.pop(0) if free else None)
                if isinstance(line, Line):
                    placed.append(line)
                else:
                    finals += int(line)
        for line in placed:
            self.place(run, line)
        if finals:
            self.note_finals(config.id, finals)

    def start_line(self, cur: Any, config: CampaignConfig, contact: dict[str, Any], node: str, at: datetime, *,
                   agent_id: int | None = None, reserve: Callable[[], int | None] | None = None) -> Line | bool:
        """Check one claimed contact and, if it may be called, record the attempt (same
        transaction) and return its line; otherwise move the contact on and return
        whether it became final. ``agent_id``: an agent is reserved for this call;
        ``reserve``: where to find one when only the rule set's redial rules (UK: 72 h
        after an abandoned call, 24 h after a machine) stand in the way."""
        rules = config.rules
        zones = contact_zones(contact["e164"], contact.get("timezone"), rules.default_zone)
        verdict = sql.check_before_dial(cur, campaign_id=config.id, contact_id=contact["id"], e164=contact["e164"],
                                        zones=zones, rules=rules.dial_rules(), now=at,
                                        agent_reserved=agent_id is not None)
        row = {**contact, "campaign_id": config.id}
        if not verdict.allowed and reserve is not None and set(verdict.refusals) <= _NEED_AGENT:
            reserved = reserve()
            if reserved is not None:
                return self.start_line(cur, config, contact, node, at, agent_id=reserved)
        if not verdict.allowed:
            self.stats.refused += 1
            return refuse_dial(cur, row, verdict)
        state, _effects = contact_transition(ContactState(contact["state"]), ContactEvent.DIAL)
        line = Line(campaign_id=config.id, contact_id=int(contact["id"]), attempt_id=0, e164=contact["e164"],
                    node=node, queue=config.queue, agent_id=agent_id)
        if agent_id is not None:
            line.agent_leg = str(uuidlib.uuid4())
            line.phase = LinePhase.CALLING_AGENT
        line.attempt_id = sql.start_attempt(cur, campaign_id=config.id, contact_id=line.contact_id, e164=line.e164,
                                            mode=config.mode.value, started_at=at,
                                            interaction_id=line.interaction_id, agent_reserved=agent_id is not None)
        sql.set_contact_state(cur, line.contact_id, state)
        sql.bump_counters(cur, config.id, sql.counter_day(rules, at), dials=1)
        return line

    def place(self, run: CampaignRun, line: Line) -> None:
        """Put a recorded line on the switch (the customer, or first the reserved agent)."""
        assert self.core is not None and self.commands is not None
        config = run.config
        self.stats.dials += 1
        self.lines[line.uuid] = line
        self.by_interaction[line.interaction_id] = line
        run.lines[line.uuid] = line
        state = self.core.state
        try:
            self.core.command(state.dial, line.interaction_id, line.uuid, line.e164, now=line.dialled_at,
                              node=line.node, caller_number=config.caller_id_number, campaign_id=config.id,
                              contact_id=line.contact_id, queue=config.queue)
            if line.reserved:
                assert line.agent_id is not None and line.agent_leg is not None
                self.agent_legs[line.agent_leg] = line
                self.core.command(state.offer, line.interaction_id, line.agent_id, line.agent_leg,
                                  now=line.dialled_at, queue=config.queue)
                command = agent_originate(line, endpoint=agent_endpoint(state.agent(line.agent_id)),
                                          caller_number=config.caller_id_number)
                self.commands.originate(line.node, command, 40, lambda leg, cause: self.events.agent_answered(line, leg,
                                                                                                        cause))
            else:
                self._originate_customer(run, line)
        except _PLACE_ERRORS as exc:
            self.stats.originate_errors += 1
            log.warning("outbound: line not placed", extra={"campaign": config.id, "contact": line.contact_id,
                                                             "why": str(exc)})
            self.post(self.events.originate_failed, line, "NORMAL_TEMPORARY_FAILURE")

    def ring_seconds(self, config: CampaignConfig) -> int:
        return ring_timeout(config.rules.ring_seconds, config.rules.profile)

    def _originate_customer(self, run: CampaignRun, line: Line) -> None:
        assert self.commands is not None
        config = run.config
        seconds = self.ring_seconds(config)
        command = customer_originate(line, gateway=self.gateway, ring_seconds=seconds,
                                     caller_number=config.caller_id_number, caller_name=config.caller_id_name)
        self.commands.originate(line.node, command, seconds + 15,
                                lambda leg, cause: None if leg else self.events.originate_failed(line, cause))

    # -- reading --------------------------------------------------------------------------

    def _tracked_attempts(self) -> set[int]:
        return {line.attempt_id for line in self.lines.values()} | {p.line.attempt_id for p in self.awaiting.values()}

    def _live_interactions(self) -> set[str]:
        if self.core is None:
            return set()
        return {record["id"] for record in self.core.state.live_calls()}

    def campaign_stats(self, campaign_id: int) -> dict[str, Any] | None:
        """The live figures of a running or paused campaign (None when it has no run
        here), read afresh when no pacing tick did (paused, outside its windows)."""
        run = self.runs.get(campaign_id)
        if run is None:
            return None
        if run.last_tick is None or time.monotonic() - run.last_tick > STATS_EVERY_SECONDS:
            self._refresh(run, time.time(), datetime.now(UTC))
        return self.publish_stats(run)
