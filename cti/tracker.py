"""The live picture: every interaction, leg and agent, kept from channel events and commands.

:class:`LiveState` is the pure glue between the switch and the two models. The shell
feeds it every ESL event (:meth:`LiveState.apply_event`) and every decision of routing,
the dialer and the web (:meth:`~LiveState.queue_entered`, :meth:`~LiveState.offer`,
:meth:`~LiveState.originate_failed`, :meth:`~LiveState.wrapup_done` ...); each call
returns the domain events to publish, in order. It does no I/O and never blocks.

How it works:

* Legs are found by uuid in one dict; nothing scans all calls per event. A leg we do
  not know is claimed from our channel variables, from ``cti_managed`` (an inbound
  call our dialplan parked: its interaction id is the customer leg's uuid, which the
  shell then sets as ``cti_interaction_id``), or from FreeSWITCH linkage to a leg we
  know (:mod:`cti.legs`). Channels that are none of these are ignored.
* Each event is applied as one transaction over immutable values
  (:class:`cti.live_store.Transaction`): the call facts go through
  :func:`cti.calls.apply`, the agents follow through
  :func:`cti.agent_sync.agent_inputs`, and only then is anything stored. An
  :class:`~cti.call_states.IllegalTransition` leaves the state exactly as it was; the
  shell logs and counts it. An agent conflict caused by the switch (a fact the agent's
  state does not allow) is logged and counted here and never blocks the call side;
  the same conflict from a command raises to the caller.
* Replays are harmless: an event whose ``Event-Sequence`` is not newer than the last
  one applied to its leg is dropped, and legs and interactions that are over are
  remembered (bounded) so a late copy cannot resurrect them.
* Wrap-up timers are effects: after each call, :meth:`~LiveState.take_timers` returns
  the :class:`~cti.agents.StartWrapupTimer` s to schedule; when one fires the shell calls
  :meth:`~LiveState.wrapup_timeout` (stale ones are ignored).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from cti import agents as ag
from cti.agent_states import AgentState, AgentTrigger, IllegalAgentTransition, allows
from cti.bus import DomainEvent
from cti.call_facts import (
    IvrStep,
    LegAdded,
    LegAnswered,
    LegRenamed,
    OfferStarted,
    OriginateFailed,
    QueueEntered,
    QueueLeft,
    WrapupEnded,
)
from cti.call_record import iso, to_record
from cti.call_states import FINAL, CallState
from cti.calls import CallFact
from cti.channel_facts import HANDLED, facts, other_leg
from cti.interaction import Direction, Interaction, Leg, LegRole
from cti.legs import (
    SUPERVISOR_APPS,
    LegIdentity,
    interaction_from,
    leg_from,
    link_candidates,
    linked_role,
    partner_identity,
    read_identity,
)
from cti.live_store import LiveStore, TrackerSettings, TrackerStats, Transaction
from cti.resync import reconcile
from esl.events import Event


class UnknownInteraction(KeyError):
    """No live interaction has this id (it never existed or is over)."""

    def __str__(self) -> str:
        return f"no live interaction {self.args[0]}"


class UnknownAgent(KeyError):
    """The live state does not know this agent (never added or logged in)."""

    def __str__(self) -> str:
        return f"agent {self.args[0]} is not known to the live state; log the agent in first"


class LiveState:
    """Every live interaction, leg and agent of a site (see the module docstring)."""

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self.stats = TrackerStats()
        self._store = LiveStore()
        self._switch_channels: dict[str, frozenset[str]] = {}

    def _txn(self, *, strict_agents: bool = False) -> Transaction:
        return Transaction(self._store, self.settings, self.stats, strict_agents=strict_agents)

    # --- switch events --------------------------------------------------------------

    def apply_event(self, event: Event) -> list[DomainEvent]:
        """Apply one ESL event; return the domain events it caused, in order.

        Raises:
            IllegalTransition: the event contradicts the call's state (nothing changed).
        """
        self.stats.events += 1
        name = event.name
        uuid = event.uuid
        if name not in HANDLED or not uuid or uuid in self._store.done:
            return []
        seq = event.sequence
        if seq and self._store.leg_seq.get(uuid, -1) >= seq:
            self.stats.duplicates += 1
            return []
        if name == "CHANNEL_UUID":
            return self._rename(event)
        txn = self._txn()
        iid = self._store.owner.get(uuid) or self._claim(txn, event)
        if iid is None:
            return []
        ix = txn.call(iid)
        if ix is None or ix.state in FINAL:
            self.stats.ignored_late += 1
            return []
        self._translate(txn, event, iid)
        txn.seen(uuid, seq)
        return txn.commit()

    def _claim(self, txn: Transaction, event: Event) -> str | None:
        """Find (or create) the interaction of a leg we have not seen; None = not ours."""
        who = read_identity(event.headers)
        if who.loopback_b:
            self._store.remember(who.uuid, self.settings.remembered)
            return None
        if who.tagged or who.managed:
            iid = who.interaction_id or who.uuid
            if iid in self._store.done:
                return None
            role = who.role or LegRole.CUSTOMER
            if txn.call(iid) is None:
                txn.create(interaction_from(iid, who, role, event.node, event.timestamp))
            txn.apply(iid, LegAdded(leg_from(who, role, who.agent_id, event.node, event.timestamp), event.timestamp))
            return iid
        anchor = self._anchor(txn, event, who)
        if anchor is None:
            return None
        iid, role, agent_id = anchor
        self.stats.adopted_legs += 1
        txn.apply(iid, LegAdded(leg_from(who, role, agent_id, event.node, event.timestamp), event.timestamp))
        return iid

    def _anchor(self, txn: Transaction, event: Event, who: LegIdentity) -> tuple[str, LegRole, int | None] | None:
        """A known leg this untagged channel is linked to, and the role that implies."""
        agent_id = self._store.by_extension.get(who.extension) if who.extension else None
        if event.name == "CHANNEL_EXECUTE" and event.get("Application") in SUPERVISOR_APPS:
            iid = txn.owner(event.get("Application-Data").strip())
            return None if iid is None else (iid, LegRole.SUPERVISOR, agent_id)
        for uuid in link_candidates(event.headers):
            iid = txn.owner(uuid)
            if iid is None:
                continue
            ix = txn.call(iid)
            anchor = ix.legs.get(uuid) if ix is not None else None
            if anchor is not None:
                return iid, linked_role(anchor.role, agent_id), agent_id
        return None

    def _translate(self, txn: Transaction, event: Event, iid: str) -> None:
        ix = txn.call(iid)
        assert ix is not None
        leg = ix.legs[event.uuid]
        at = event.timestamp
        if not leg.seen:
            who = read_identity(event.headers)
            seen = leg_from(who, leg.role, leg.agent_id, event.node, at)
            txn.apply(iid, LegAdded(replace(seen, number=leg.number or seen.number), at))
        if event.name == "CHANNEL_BRIDGE":
            self._bridge_partner(txn, event, iid)
        previous = self._store.transfer_source.get(leg.uuid, "")
        for fact in facts(event, txn.leg(iid, leg.uuid), previous):
            txn.apply(iid, fact)
        source = event.var("transfer_source")
        if source:
            txn.transfer_sources[leg.uuid] = source

    def _bridge_partner(self, txn: Transaction, event: Event, iid: str) -> None:
        """The far end of a bridge, as the bridge event's ``Other-Leg-*`` headers describe
        it: joins the interaction if we see it for the first time, and is answered if the
        headers say so even when its own CHANNEL_ANSWER never reached us."""
        other = other_leg(event)
        if not other or other in self._store.done:
            return
        who = partner_identity(event.headers, other)
        owner = txn.owner(other)
        if owner is not None:
            partner = txn.leg(owner, other)
            if who.answered_at is not None and partner.answered_at is None and partner.up:
                txn.apply(owner, LegAnswered(other, who.answered_at))
            return
        agent_id = self._store.by_extension.get(who.extension) if who.extension else None
        role = linked_role(txn.leg(iid, event.uuid).role, agent_id)
        self.stats.adopted_legs += 1
        txn.apply(iid, LegAdded(leg_from(who, role, agent_id, event.node, event.timestamp), event.timestamp))

    def _rename(self, event: Event) -> list[DomainEvent]:
        old, new = event.get("Old-Unique-ID"), event.uuid
        iid = self._store.owner.get(old)
        if iid is None or new in self._store.owner:
            return []
        txn = self._txn()
        txn.apply(iid, LegRenamed(old, new, event.timestamp), agents_follow=False)
        for agent_id, agent in self._store.agents.items():
            if agent.leg_uuid == old:
                txn.agents[agent_id] = replace(agent, leg_uuid=new)
        if old in self._store.leg_seq:
            self._store.leg_seq[new] = self._store.leg_seq.pop(old)
        self._store.owner.pop(old, None)
        self._store.remember(old, self.settings.remembered)
        txn.seen(new, event.sequence)
        return txn.commit()

    def reconcile(self, node: str, channels: Sequence[Mapping[str, str]], now: float) -> list[DomainEvent]:
        """Line the live picture up with the channels switch ``node`` has now (see :mod:`cti.resync`)."""
        txn = self._txn()
        reconcile(txn, node, channels, now)
        self._switch_channels[node] = frozenset(
            uuid for row in channels if (uuid := row.get("Unique-ID") or row.get("uuid", ""))
        )
        return txn.commit()

    def switch_channels(self, node: str) -> frozenset[str]:
        """The channel uuids switch ``node`` listed at its last resync (empty before one):
        what the services that keep legs of their own (routing's cancelled rings ...)
        check theirs against once ``system.resynced`` is published."""
        return self._switch_channels.get(node, frozenset())

    # --- commands -----------------------------------------------------------------

    def dial(
        self, interaction_id: str, leg_uuid: str, number: str, *, now: float, node: str = "",
        caller_number: str = "", campaign_id: int | None = None, contact_id: int | None = None,
        queue: str = "",
    ) -> list[DomainEvent]:
        """The dialer originated ``leg_uuid`` to a customer: a new outbound interaction."""
        if interaction_id in self._store.calls or interaction_id in self._store.done:
            raise ValueError(f"interaction {interaction_id} already exists; use a new id for every call")
        txn = self._txn()
        ix = Interaction(
            interaction_id, Direction.OUTBOUND, CallState.DIALING, node=node, started_at=now,
            caller_number=caller_number, callee_number=number, campaign_id=campaign_id,
            contact_id=contact_id, queue=queue,
        )
        txn.create(ix)
        leg = Leg(leg_uuid, LegRole.CUSTOMER, node=node, number=number, seen=False, created_at=now)
        txn.apply(interaction_id, LegAdded(leg, now))
        return txn.commit()

    def ivr_step(
        self, interaction_id: str, flow: str, node: str, digits: str = "", *, now: float, **detail: str | int | float,
    ) -> list[DomainEvent]:
        """A step of routing's IVR: ``detail`` says which (``kind`` = ``node_entered``,
        ``node_left`` with ``exit`` and ``seconds``, ``invalid_input`` ...); only
        entered nodes go on ``ivr_path`` (see :func:`cti.call_commands.ivr_step`)."""
        return self._command(interaction_id, IvrStep(flow, node, now, digits, detail))

    def queue_entered(self, interaction_id: str, queue: str, priority: int = 0, *, now: float) -> list[DomainEvent]:
        return self._command(interaction_id, QueueEntered(queue, priority, now))

    def queue_left(self, interaction_id: str, outcome: str, *, now: float) -> list[DomainEvent]:
        """The call left its queue without an agent (voicemail, callback ...)."""
        return self._command(interaction_id, QueueLeft(outcome, now))

    def offer(self, interaction_id: str, agent_id: int, leg_uuid: str, *, now: float, queue: str = "") -> list[DomainEvent]:
        """Routing originated ``leg_uuid`` to the agent's phone for this interaction.

        Raises:
            UnknownAgent, IllegalAgentTransition: the agent cannot take a call now.
            IllegalTransition: the interaction cannot be offered in its state.
        """
        agent = self._agent(agent_id)
        ix = self._store.calls.get(interaction_id)
        offered = ix.offer_for(leg_uuid) if ix is not None else None
        if offered is not None and offered.agent_id == agent_id:
            return []
        if not allows(agent.state, AgentTrigger.OFFER):
            raise IllegalAgentTransition(agent_id, agent.state, AgentTrigger.OFFER)
        if agent.leg_uuid is not None and agent.leg_uuid != leg_uuid:
            raise IllegalAgentTransition(agent_id, agent.state, AgentTrigger.OFFER,
                                         f"agent {agent_id} already has leg {agent.leg_uuid}")
        return self._command(interaction_id, OfferStarted(agent_id, leg_uuid, now, queue, agent.extension))

    def originate_failed(self, leg_uuid: str, reason: str, *, now: float) -> list[DomainEvent]:
        """``BACKGROUND_JOB -ERR ...`` for an originate: the leg will never exist (or is gone)."""
        iid = self._store.owner.get(leg_uuid)
        if iid is None:
            self.stats.unknown_originate_failures += 1
            return []
        return self._command(iid, OriginateFailed(leg_uuid, reason, now))

    def _command(self, interaction_id: str, fact: CallFact) -> list[DomainEvent]:
        if interaction_id not in self._store.calls:
            raise UnknownInteraction(interaction_id)
        txn = self._txn(strict_agents=True)
        txn.apply(interaction_id, fact)
        return txn.commit()

    # --- agents -------------------------------------------------------------------

    def add_agent(self, agent_id: int) -> None:
        """Make a (logged-out) agent known, e.g. every agent of the site at start-up."""
        self._store.agents.setdefault(agent_id, ag.Agent(agent_id))

    def agent_login(
        self, agent_id: int, extension: str, *, now: float, ready: bool = False,
        reason: str = "login", dial_string: str = "",
    ) -> list[DomainEvent]:
        holder = self._store.by_extension.get(extension)
        if holder is not None and holder != agent_id:
            raise ag.ExtensionInUse(extension, holder)
        self.add_agent(agent_id)
        return self._agent_command(agent_id, ag.Login(now, extension, ready, reason, dial_string))

    def agent_logout(self, agent_id: int, *, now: float) -> list[DomainEvent]:
        return self._agent_command(agent_id, ag.Logout(now))

    def agent_set_state(self, agent_id: int, state: str, reason: str = "", *, now: float) -> list[DomainEvent]:
        """The agent asks for ``available``, ``not_ready`` (with a reason) or ``logged_out``."""
        requests: dict[str, ag.AgentInput] = {
            "available": ag.SetAvailable(now),
            "not_ready": ag.SetNotReady(now, reason),
            "logged_out": ag.Logout(now),
        }
        if state not in requests:
            raise ag.AgentRequestError(f"state {state!r} cannot be requested; use available, not_ready or logged_out")
        return self._agent_command(agent_id, requests[state])

    def force_not_ready(self, agent_id: int, *, by: str, now: float, reason: str = "forced") -> list[DomainEvent]:
        return self._agent_command(agent_id, ag.ForceNotReady(now, by, reason))

    def force_logout(self, agent_id: int, *, by: str, now: float) -> list[DomainEvent]:
        return self._agent_command(agent_id, ag.ForceLogout(now, by))

    def wrapup_done(
        self, agent_id: int, disposition: str = "", notes: str = "", *, now: float,
        interaction_id: str | None = None,
    ) -> list[DomainEvent]:
        """The agent finished after-call work (or, late, adds a disposition to a live call)."""
        agent = self._agent(agent_id)
        if agent.state is AgentState.WRAP_UP:
            return self._agent_command(agent_id, ag.WrapupDone(now), disposition=disposition, notes=notes)
        if interaction_id is not None and interaction_id in self._store.calls and (disposition or notes):
            txn = self._txn()
            txn.apply(interaction_id, WrapupEnded(agent_id, now, disposition, notes))
            return txn.commit()
        raise IllegalAgentTransition(agent_id, agent.state, AgentTrigger.WRAPUP_DONE)

    def wrapup_timeout(self, agent_id: int, interaction_id: str, *, now: float) -> list[DomainEvent]:
        """A wrap-up timer fired; ignored if the agent already left that wrap-up."""
        return self._agent_command(agent_id, ag.WrapupTimeout(now, interaction_id))

    def _agent(self, agent_id: int) -> ag.Agent:
        try:
            return self._store.agents[agent_id]
        except KeyError:
            raise UnknownAgent(agent_id) from None

    def _agent_command(self, agent_id: int, event: ag.AgentInput, *, disposition: str = "", notes: str = "") -> list[DomainEvent]:
        self._agent(agent_id)
        txn = self._txn(strict_agents=True)
        txn.apply_agent(agent_id, event, disposition=disposition, notes=notes)
        return txn.commit()

    # --- reading ------------------------------------------------------------------

    def take_timers(self) -> list[ag.StartWrapupTimer]:
        """Wrap-up timers to schedule, produced since the last call (then forgotten)."""
        timers = list(self._store.timers)
        self._store.timers.clear()
        return timers

    def interaction_snapshot(self, interaction_id: str, now: float | None = None) -> dict[str, Any]:
        try:
            return to_record(self._store.calls[interaction_id], now)
        except KeyError:
            raise UnknownInteraction(interaction_id) from None

    def live_calls(self, now: float | None = None) -> list[dict[str, Any]]:
        """Records of the interactions that are not over (in start order)."""
        live = (ix for ix in self._store.calls.values() if ix.state not in FINAL)
        return [to_record(ix, now) for ix in sorted(live, key=lambda ix: ix.started_at)]

    def live_interactions(self) -> list[Interaction]:
        """The interactions that are not over, as values (cheap: no record is built)."""
        return [ix for ix in self._store.calls.values() if ix.state not in FINAL]

    def agent_snapshot(self, agent_id: int) -> dict[str, Any]:
        return agent_record(self._agent(agent_id))

    def agents(self) -> list[dict[str, Any]]:
        return [agent_record(self._store.agents[i]) for i in sorted(self._store.agents)]

    def interaction(self, interaction_id: str) -> Interaction:
        try:
            return self._store.calls[interaction_id]
        except KeyError:
            raise UnknownInteraction(interaction_id) from None

    def interaction_of_leg(self, leg_uuid: str) -> str | None:
        return self._store.owner.get(leg_uuid)

    def agent(self, agent_id: int) -> ag.Agent:
        return self._agent(agent_id)



def agent_record(agent: ag.Agent) -> dict[str, Any]:
    """The public JSON shape of an agent (the UI's agent list and ``agent_snapshot``)."""
    return {
        "id": agent.id,
        "state": agent.state.value,
        "reason": agent.reason,
        "extension": agent.extension,
        "dial_string": agent.dial_string,
        "since": iso(agent.since) if agent.since else None,
        "interaction_id": agent.interaction_id,
        "leg_uuid": agent.leg_uuid,
        "direction": agent.direction,
        "forced_by": agent.forced_by,
        "wrapup": None if agent.state is not AgentState.WRAP_UP else {
            "interaction_id": agent.wrapup_interaction, "ends_at": iso(agent.wrapup_ends_at),
        },
    }




__all__ = ["LiveState", "TrackerSettings", "TrackerStats", "UnknownAgent", "UnknownInteraction", "agent_record"]
