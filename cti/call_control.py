"""Call control: what an agent (the desktop) or an integrator (the REST API) does to a
live call, checked against the live state first and then sent to FreeSWITCH.

Every action names the agent and the interaction. It is refused with
:class:`~cti.call_errors.ActionRefused` when :mod:`cti.call_rules` says the call's state
does not allow it ("the call is not on hold"), with
:class:`~cti.call_errors.BadRequest` for a malformed argument, and the switch's own
``-ERR`` becomes :class:`~cti.call_errors.SwitchError` with its reason explained. A
successful call returns once the switch accepted the commands; what follows (the held
event, the bridge) reaches the desktop as domain events like everything else.

How each action is done on the switch (FreeSWITCH 1.10/1.11):

* hang up: ``uuid_kill`` of the agent's own leg (the customer follows through
  ``hangup_after_bridge``); a ringing phone is rejected with ``CALL_REJECTED``.
* hold / resume: ``uuid_hold [off]`` on the agent's leg, so the customer hears the
  hold music; a customer left parked by a transfer is bridged back instead.
* transfer to an agent or a number, consultation, swap, conference: a transfer session
  (:mod:`cti.transfers`, :mod:`cti.transfer_states`). A transfer rings the target while
  the customer hears music and the agent waits; when the target answers the customer
  is bridged to it and the agent's leg ends; if it does not answer, the call comes
  back to the agent.
* transfer to a queue: through routing (``RoutingEngine.transfer_to_queue``): the
  customer goes back to waiting in that queue and the agent's leg ends (wrap-up).
* DTMF: ``uuid_send_dtmf`` towards whoever the agent is talking to.
* recording start / stop (queues that let agents choose), pause / resume (``uuid_record
  mask/unmask``): the recording service.
* click-to-dial: a new outbound interaction (``LiveState.dial``), offered to the agent;
  the agent's phone is originated with our variables (``cti_role=agent``) and, once
  answered, runs ``bridge`` to the number through the carrier gateway.
"""

from __future__ import annotations

import logging
import time
import uuid as uuidlib
from typing import Any

import gevent
import gevent.event

from cti import channel_vars as cv
from cti.agent_states import AgentState
from cti.agents import Agent
from cti.call_errors import ActionRefused, BadRequest, CallControlError, NotFound, SwitchDown
from cti.call_rules import Action, CallView, availability, refusal, view_of
from cti.call_targets import Target, check_dial_number, parse_target, safe_label
from cti.core import COMMAND_REFUSALS, LiveCore
from cti.customers import region_from
from cti.db import Database
from cti.interaction import Interaction
from cti.leg_waits import LegWaits
from cti.switch_link import SwitchLink, failure_reason
from cti.tracker import UnknownAgent, UnknownInteraction
from cti.transfer_states import TARGET_VARIABLES, SessionEvent, SessionKind, SessionState
from cti.transfers import Notice, Notify, Transfers, TransferSession
from esl import commands as fs
from esl.events import Event
from esl.protocol import CommandArgumentError

log = logging.getLogger(__name__)

DEFAULT_GATEWAY = "cti_gateway"
RING_SECONDS = 25
DIAL_SECONDS = 60


class CallControl:
    """The call-control service of a site (see the module docstring)."""

    def __init__(self, core: LiveCore, db: Database, *, gateway: str = DEFAULT_GATEWAY, caller_id: str = "",
                 region: str | None = None, routing: Any = None, recordings: Any = None,
                 ring_seconds: int = RING_SECONDS) -> None:
        self.core = core
        self.db = db
        self.gateway = gateway
        self.caller_id = caller_id
        self.region = region
        self.routing = routing
        self.recordings = recordings
        self.ring_seconds = ring_seconds
        self.waits = LegWaits()
        self.link = SwitchLink(core.switches)
        self._listeners: list[Notify] = []
        self.transfers = Transfers(self.link, self.waits, self._notify)
        self._dials: dict[str, tuple[str, str, int]] = {}   # agent leg -> (interaction, customer leg, agent)
        core.add_channel_listener(self._on_channel_event)

    @classmethod
    def for_services(cls, services: Any) -> CallControl:
        """The one CallControl of a running site (made on first use, kept on ``services``)."""
        existing = getattr(services, "call_control", None)
        if isinstance(existing, cls):
            return existing
        extra = services.settings.extra
        control = cls(
            services.core, services.db, gateway=extra.get("CTI_GATEWAY", DEFAULT_GATEWAY),
            caller_id=extra.get("CTI_CALLER_ID", ""), region=region_from(extra),
            routing=getattr(services, "routing", None),
            recordings=getattr(getattr(services, "routing", None), "recordings", None),
        )
        services.call_control = control
        return control

    # -- notices ------------------------------------------------------------------------

    def subscribe(self, listener: Notify) -> None:
        """``listener(agent_id, notice)`` for what happens after an action returned."""
        self._listeners.append(listener)

    def _notify(self, agent_id: int, notice: Notice) -> None:
        for listener in list(self._listeners):
            try:
                listener(agent_id, notice)
            except Exception:
                log.exception("call control notice listener failed", extra={"agent": agent_id})

    def _on_channel_event(self, event: Event) -> None:
        self.waits.on_event(event)
        self.transfers.on_event(event)
        if event.name == "CHANNEL_HANGUP" and event.uuid in self._dials:
            gevent.spawn(self._dial_leg_gone, event.uuid, event.get("Hangup-Cause"))

    # -- reading ------------------------------------------------------------------------

    def interaction(self, interaction_id: str) -> Interaction:
        try:
            return self.core.state.interaction(interaction_id)
        except UnknownInteraction:
            raise NotFound(f"No live call {interaction_id}; it may have ended.", error_id="no-such-call") from None

    def view(self, agent_id: int, interaction_id: str) -> CallView:
        return self._view(self.interaction(interaction_id), agent_id)

    def _view(self, ix: Interaction, agent_id: int) -> CallView:
        session = self.session(ix.id)
        active = self._recording(ix.id)
        return view_of(
            ix, agent_id, session.rules() if session else None, recording=active is not None,
            recording_paused=bool(active and active.get("paused")), recording_policy=self._policy(ix.queue),
        )

    def availability(self, agent_id: int, interaction_id: str) -> dict[str, dict[str, str] | None]:
        return availability(self.view(agent_id, interaction_id))

    def session(self, interaction_id: str) -> TransferSession | None:
        """The consultation or transfer running on the call, or None.

        A session is over in the step that ends it: the machine says ENDED and the
        customer is already with whoever keeps the call, while the shell may still be
        sending its clean-up commands (restoring channel variables) before it forgets
        the session. Readers (the buttons, the desktop, the API) see no session from
        that step on, so the colleague who took the call is not refused "finish the
        consultation first" meanwhile. A new consultation still waits for the
        clean-up: :meth:`_start` checks under the session lock."""
        session = self.transfers.get(interaction_id)
        return None if session is None or session.state is SessionState.ENDED else session

    def _check(self, agent_id: int, interaction_id: str, action: Action) -> tuple[Interaction, CallView]:
        ix = self.interaction(interaction_id)
        view = self._view(ix, agent_id)
        refused = refusal(view, action)
        if refused is not None:
            raise ActionRefused(refused.message, error_id=refused.code)
        return ix, view

    def _leg(self, view: CallView) -> str:
        assert view.my_leg is not None
        return view.my_leg.uuid

    # -- simple actions -----------------------------------------------------------------

    def hangup(self, agent_id: int, interaction_id: str) -> None:
        ix, view = self._check(agent_id, interaction_id, Action.HANGUP)
        leg = view.my_leg
        assert leg is not None
        node = leg.node or ix.node
        if leg.answered_at is None:
            self.link.api(node, fs.uuid_kill(leg.uuid, "CALL_REJECTED"), what="reject the call")
            return
        customer = ix.customer
        if view.serving and customer is not None and customer.up and not view.bridged and not view.held:
            self.link.best_effort(customer.node or node, fs.uuid_kill(customer.uuid))
        self.link.api(node, fs.uuid_kill(leg.uuid), what="hang up")

    def hold(self, agent_id: int, interaction_id: str) -> None:
        ix, view = self._check(agent_id, interaction_id, Action.HOLD)
        self.link.api(ix.node, fs.uuid_hold(self._leg(view), "on"), what="put the call on hold")

    def resume(self, agent_id: int, interaction_id: str) -> None:
        ix, view = self._check(agent_id, interaction_id, Action.RESUME)
        if view.held:
            self.link.api(ix.node, fs.uuid_hold(self._leg(view), "off"), what="take the call off hold")
        elif ix.customer_leg is not None:
            self.link.api(ix.node, fs.uuid_bridge(ix.customer_leg, self._leg(view)), what="reconnect the customer")

    def send_dtmf(self, agent_id: int, interaction_id: str, digits: str) -> None:
        ix, view = self._check(agent_id, interaction_id, Action.DTMF)
        session = self.session(interaction_id)
        to = session.target_leg if session is not None and session.state is SessionState.TALKING else ix.customer_leg
        if to is None:
            raise ActionRefused("There is nobody to send the digits to.", error_id="customer-gone")
        try:
            command = fs.uuid_send_dtmf(to, (digits or "").strip())
        except CommandArgumentError as exc:
            raise BadRequest("Digits may only be 0-9, *, # and A-D.", error_id="bad-digits", field="digits") from exc
        self.link.api(ix.node, command, what="send the digits")

    def record_start(self, agent_id: int, interaction_id: str) -> None:
        self._check(agent_id, interaction_id, Action.RECORD_START)
        self._recorder("start")(interaction_id)

    def record_stop(self, agent_id: int, interaction_id: str) -> None:
        self._check(agent_id, interaction_id, Action.RECORD_STOP)
        self._recorder("stop")(interaction_id)

    def record_pause(self, agent_id: int, interaction_id: str) -> None:
        """Mask the recording (card numbers ...) until :meth:`record_resume`."""
        self._check(agent_id, interaction_id, Action.RECORD_PAUSE)
        self._recorder("pause")(interaction_id)

    def record_resume(self, agent_id: int, interaction_id: str) -> None:
        self._check(agent_id, interaction_id, Action.RECORD_RESUME)
        self._recorder("resume")(interaction_id)

    def _recorder(self, verb: str) -> Any:
        """The recording service's ``verb``; its refusals (RecordingError) become ActionRefused."""
        method = getattr(self.recordings, verb, None)
        if not callable(method):
            raise CallControlError("Recording control is not available on this site.", error_id="no-recording-service")

        def call(interaction_id: str) -> None:
            try:
                method(interaction_id)
            except ValueError as exc:
                raise ActionRefused(str(exc)[:1].upper() + str(exc)[1:] + ".", error_id="recording-refused") from exc

        return call

    def _recording(self, interaction_id: str) -> dict[str, Any] | None:
        probe = getattr(self.recordings, "active", None)
        found = probe(interaction_id) if callable(probe) else None
        return found if isinstance(found, dict) else None

    def _policy(self, queue: str) -> str:
        policy = getattr(self.recordings, "policy", None)
        if not queue or not callable(policy):
            return "agent_choice"
        return str(policy(queue))

    # -- transfers ----------------------------------------------------------------------

    def transfer(self, agent_id: int, interaction_id: str, target: str) -> TransferSession | None:
        """Blind transfer to ``agent:<id>``, ``queue:<name>`` or a number."""
        ix, view = self._check(agent_id, interaction_id, Action.TRANSFER)
        where = parse_target(target, self.region)
        if where.kind == "queue":
            self._to_queue(agent_id, interaction_id, where.value)
            return None
        return self._start(ix, view, agent_id, where, SessionKind.BLIND)

    def consult(self, agent_id: int, interaction_id: str, target: str) -> TransferSession:
        ix, view = self._check(agent_id, interaction_id, Action.CONSULT)
        where = parse_target(target, self.region)
        if where.kind == "queue":
            raise BadRequest("Consult an agent or a number; a queue can only take a transfer.", error_id="bad-target",
                             field="target")
        return self._start(ix, view, agent_id, where, SessionKind.CONSULT)

    def swap(self, agent_id: int, interaction_id: str) -> TransferSession:
        return self._session_action(agent_id, interaction_id, Action.SWAP, SessionEvent.SWAP)

    def conference(self, agent_id: int, interaction_id: str) -> TransferSession:
        return self._session_action(agent_id, interaction_id, Action.CONFERENCE, SessionEvent.CONFERENCE)

    def complete(self, agent_id: int, interaction_id: str) -> TransferSession:
        return self._session_action(agent_id, interaction_id, Action.COMPLETE, SessionEvent.COMPLETE)

    def cancel(self, agent_id: int, interaction_id: str) -> TransferSession:
        return self._session_action(agent_id, interaction_id, Action.CANCEL, SessionEvent.CANCEL)

    def _session_action(self, agent_id: int, interaction_id: str, action: Action, event: SessionEvent) -> TransferSession:
        self._check(agent_id, interaction_id, action)
        return self.transfers.act(interaction_id, event)

    def _to_queue(self, agent_id: int, interaction_id: str, queue: str) -> None:
        """Through routing: it owns queues, their music and announcements
        (``transfer_to_queue(interaction_id, queue, *, from_agent)``; ``move_call`` only
        moves calls that are still waiting). Its refusals carry a ``reason``:
        ``refused`` (the call's state), ``unavailable`` (the switch), else the request."""
        transfer = getattr(self.routing, "transfer_to_queue", None)
        if not callable(transfer):
            raise CallControlError("Transfers to a queue need the routing engine, which this site does not run; "
                                   "transfer to an agent or a number instead.", error_id="queue-transfer-unavailable")
        try:
            transfer(interaction_id, queue, from_agent=agent_id)
        except CallControlError:
            raise
        except (ValueError, KeyError, LookupError) as exc:
            message = _sentence(str(exc).strip("'\"") or f"cannot send the call to queue {queue}")
            reason = getattr(exc, "reason", "")
            if reason == "refused":
                raise ActionRefused(message, error_id="queue-transfer-refused") from exc
            if reason == "unavailable":
                raise SwitchDown(message) from exc
            raise BadRequest(message, error_id="bad-queue", field="target") from exc

    def _start(self, ix: Interaction, view: CallView, agent_id: int, where: Target, kind: SessionKind) -> TransferSession:
        customer = ix.customer
        assert customer is not None and view.my_leg is not None
        target_leg = str(uuidlib.uuid4())
        endpoint, role, target_agent, name = self._target(where, agent_id, kind)
        if role == "agent":
            cid_number, cid_name = ix.caller_number, ix.caller_name
        else:
            me = self.core.state.agent(agent_id)
            cid_number, cid_name = me.extension, f"Consult {self._agent_name(agent_id)}"
        if where.kind == "number" and self.caller_id:
            cid_number = self.caller_id
        variables = {
            cv.INTERACTION_ID: ix.id, cv.ROLE: role, cv.QUEUE: ix.queue, "ignore_early_media": "true",
            cv.AGENT_ID: str(target_agent) if target_agent is not None else "",
            "origination_caller_id_number": safe_label(cid_number, 32),
            "origination_caller_id_name": safe_label(cid_name), **TARGET_VARIABLES,
        }
        command = fs.originate(endpoint, uuid=target_leg, app=fs.park(), timeout=self.ring_seconds,
                               variables={k: v for k, v in variables.items() if v})
        session = TransferSession(
            interaction_id=ix.id, kind=kind, agent_id=agent_id, node=customer.node or ix.node,
            customer=customer.uuid, agent_leg=view.my_leg.uuid, target_leg=target_leg,
            target=f"agent:{target_agent}" if target_agent is not None else where.value,
            target_name=name, target_agent_id=target_agent,
        )
        with self.transfers.lock(ix.id):
            if self.transfers.get(ix.id) is not None:
                raise ActionRefused("A consultation is already in progress on this call.", error_id="transfer-in-progress")
            self.transfers.start(session, command, agent_held=view.held, ring_seconds=self.ring_seconds)
        return session

    def _target(self, where: Target, agent_id: int, kind: SessionKind) -> tuple[fs.Endpoint, str, int | None, str]:
        """(dial target, cti_role, agent id, name for people) of a transfer target."""
        if where.kind == "number":
            try:
                return fs.gateway(self.gateway, where.value), "transfer", None, where.value
            except CommandArgumentError as exc:
                raise BadRequest(str(exc), error_id="bad-number", field="target") from exc
        target_id = int(where.value)
        if target_id == agent_id:
            raise BadRequest("You cannot transfer a call to yourself.", error_id="bad-target", field="target")
        name = self._agent_name(target_id)
        try:
            target = self.core.state.agent(target_id)
        except UnknownAgent:
            raise NotFound(f"There is no agent {target_id}.", error_id="no-such-agent") from None
        if target.state.value != "available":
            raise ActionRefused(f"{name} is {target.state.value.replace('_', ' ')}; choose an available colleague.",
                                error_id="target-busy")
        role = "consult" if kind is SessionKind.CONSULT else "agent"
        try:
            return fs.Endpoint(target.dial_string or f"user/{target.extension}"), role, target_id, name
        except CommandArgumentError as exc:
            raise BadRequest(f"{name}'s phone cannot be dialled: {exc}", error_id="bad-target") from exc

    def _agent_name(self, agent_id: int) -> str:
        row = self.db.fetchone(
            "SELECT a.code, u.display_name FROM agents a JOIN users u ON u.id = a.user_id WHERE a.id = %s", (agent_id,))
        if row is None:
            return f"agent {agent_id}"
        return f"{row['display_name']} ({row['code']})" if row["display_name"] else f"agent {row['code']}"

    # -- click-to-dial -------------------------------------------------------------------

    def dial(self, agent_id: int, number: str, *, queue: str = "") -> str:
        """Call ``number`` from the agent's phone; returns the new interaction id.
        ``queue``: one of the agent's queues the call is made for (its dispositions and
        reports then apply)."""
        e164 = check_dial_number(number, self.region)
        if queue and self.db.fetchone(
            """SELECT 1 AS ok FROM queue_agents qa JOIN queues q ON q.id = qa.queue_id
                WHERE qa.agent_id = %s AND q.name = %s""", (agent_id, queue)) is None:
            raise BadRequest(f"You do not work queue {queue!r}; call for one of your queues or none.",
                             error_id="bad-queue", field="queue")
        agent = self._logged_in(agent_id)
        if agent.state.value not in ("available", "not_ready"):
            raise ActionRefused(f"You cannot place a call while {agent.state.value.replace('_', ' ')}.",
                                error_id="agent-busy")
        nodes = self.core.switches.names
        node = nodes[0]
        interaction_id, customer_leg, agent_leg = (str(uuidlib.uuid4()) for _ in range(3))
        now = time.time()
        state = self.core.state
        try:
            self.core.command(state.dial, interaction_id, customer_leg, e164, now=now, node=node,
                              caller_number=self.caller_id, queue=queue)
            if agent.state.value == "not_ready":
                self.core.command(state.agent_set_state, agent_id, "available", now=now)
            self.core.command(state.offer, interaction_id, agent_id, agent_leg, now=now)
        except COMMAND_REFUSALS as exc:
            self._drop_dial(interaction_id, agent_leg, customer_leg, "-ERR NOT_DIALLED")
            raise ActionRefused(str(exc), error_id="agent-busy") from exc
        variables = {
            cv.INTERACTION_ID: interaction_id, cv.ROLE: "agent", cv.AGENT_ID: str(agent_id),
            "ignore_early_media": "true", "hangup_after_bridge": "true",
            "origination_caller_id_number": e164, "origination_caller_id_name": "Outbound call",
        }
        command = fs.originate(fs.Endpoint(agent.dial_string or f"user/{agent.extension}"), uuid=agent_leg,
                               variables=variables, app=fs.park(), timeout=30)
        self._dials[agent_leg] = (interaction_id, customer_leg, agent_id)
        try:
            result = self.link.originate(node, command, timeout=40, what="ring your phone")
        except CallControlError:
            self._dials.pop(agent_leg, None)
            self._drop_dial(interaction_id, agent_leg, customer_leg, "-ERR NOT_DIALLED")
            raise
        result.rawlink(lambda r: gevent.spawn(self._dial_agent_done, node, e164, agent_leg, r))
        return interaction_id

    def _logged_in(self, agent_id: int) -> Agent:
        """The agent, refused with ``not-logged-in`` when the live state does not know
        them or knows them logged out: both mean "log in first", never "busy"."""
        try:
            agent = self.core.state.agent(agent_id)
        except UnknownAgent:
            agent = None
        if agent is None or agent.state is AgentState.LOGGED_OUT:
            raise ActionRefused("Log in with your phone before placing a call.", error_id="not-logged-in")
        return agent

    def _dial_agent_done(self, node: str, number: str, agent_leg: str, result: gevent.event.AsyncResult) -> None:
        found = self._dials.get(agent_leg)
        if found is None:
            return
        interaction_id, customer_leg, agent_id = found
        if not result.successful():
            self._dials.pop(agent_leg, None)
            reason, sentence = failure_reason(result)
            self._drop_dial(interaction_id, agent_leg, customer_leg, f"-ERR {reason}")
            self._notify(agent_id, {"interaction_id": interaction_id, "code": "dial-failed",
                                    "message": f"Your phone did not take the call: {sentence}.", "reason": reason})
            return
        block = fs.variables_block({
            "origination_uuid": customer_leg, cv.INTERACTION_ID: interaction_id, cv.ROLE: "customer",
            "originate_timeout": str(DIAL_SECONDS), **({"origination_caller_id_number": self.caller_id} if self.caller_id else {}),
        })
        try:
            self.link.execute(node, agent_leg, fs.AppCall("bridge", block + str(fs.gateway(self.gateway, number))),
                              what=f"dial {number}")
        except CallControlError as exc:
            self._notify(agent_id, {"interaction_id": interaction_id, "code": "dial-failed", "message": exc.message})
            self.link.best_effort(node, fs.uuid_kill(agent_leg))

    def _dial_leg_gone(self, agent_leg: str, cause: str) -> None:
        """The agent's leg of a click-to-dial call hung up: a customer leg that never
        came into being is closed in the live state, so the interaction can end."""
        found = self._dials.pop(agent_leg, None)
        if found is None:
            return
        interaction_id, customer_leg, _agent = found
        try:
            leg = self.core.state.interaction(interaction_id).legs.get(customer_leg)
        except UnknownInteraction:
            return
        if leg is not None and not leg.seen:
            self._drop_dial(interaction_id, agent_leg, customer_leg, f"-ERR {cause or 'NORMAL_CLEARING'}")

    def _drop_dial(self, interaction_id: str, agent_leg: str, customer_leg: str, reason: str) -> None:
        now = time.time()
        for leg in (agent_leg, customer_leg):
            try:
                self.core.command(self.core.state.originate_failed, leg, reason, now=now)
            except COMMAND_REFUSALS as exc:
                log.info("click-to-dial clean-up", extra={"call": interaction_id, "why": str(exc)})


def _sentence(text: str) -> str:
    """A routing message as a sentence for people (capital first, full stop)."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


__all__ = ["CallControl", "DEFAULT_GATEWAY"]
