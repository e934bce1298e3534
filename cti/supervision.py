"""The supervisor service: listen, whisper, barge, switch modes, force hangup and
intercept on live calls, through the real switch (mechanisms: :mod:`cti.supervision_rules`).

Every action checks, in this order and before anything is sent to the switch: the
call exists and is live, the supervisor's :class:`~cti.supervision_rules.Scope`
covers it (queue or agent), the action applies to the call's state, the supervisor's
phone (extension) is set and valid. Refusals raise a :class:`SupervisionError` whose
message says what to change; the web layer maps it to a response and audits it.

Sessions ring the supervisor's own phone with ``bgapi originate``; the request waits
:data:`FAST_REFUSAL_SECONDS` for a quick ``-ERR`` (an unregistered phone fails at
once) and otherwise returns with the session ringing. What happens next -- joined,
mode switched, failed (phone not answered), ended -- is told to the listeners added
with :meth:`SupervisionService.add_listener` (the web pushes it to the supervisor). The
core sees the supervisor leg through our channel variables and records it on the
interaction (``call.supervisor_joined`` / ``_left``); mode switches show there too,
because the core reads the keys the supervisor leg receives.

The service keeps no state the switch does not also have: sessions live in memory and
are rebuilt from nothing after a restart (the calls carry on; the core still shows the
supervisor legs from their variables).
"""

from __future__ import annotations

import logging
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import gevent
import gevent.event

from cti import channel_vars as cv
from cti.core import LiveCore
from cti.interaction import Interaction, LegRole, SupervisorMode
from cti.supervision_rules import (
    ACTION_MODES,
    Action,
    Effect,
    IllegalSessionTransition,
    Scope,
    SendKey,
    Session,
    SessionEvent,
    SessionKind,
    SessionState,
    SetMode,
    customer_leg,
    monitored_leg,
    new_session,
    refusal,
    sees,
    transition,
)
from cti.tracker import UnknownInteraction
from esl import commands as cmd
from esl.client import ESLCommandError, ESLError
from esl.events import Event
from esl.protocol import CommandArgumentError

log = logging.getLogger(__name__)

#: Seconds a request waits for the switch to refuse an originate outright.
FAST_REFUSAL_SECONDS = 1.0
#: Seconds the supervisor's phone rings before the session is given up.
ORIGINATE_TIMEOUT = 30

Listener = Callable[[Session, str, str], None]

_PHONE_FAILURES = {
    "USER_NOT_REGISTERED": "your phone {ext} is not registered; sign the phone in and try again",
    "SUBSCRIBER_ABSENT": "there is no phone {ext} on the switch; check the extension you set",
    "NO_ANSWER": "your phone {ext} did not answer",
    "NO_USER_RESPONSE": "your phone {ext} did not answer",
    "ORIGINATOR_CANCEL": "your phone {ext} did not answer",
    "USER_BUSY": "your phone {ext} is busy",
    "CALL_REJECTED": "your phone {ext} rejected the call",
}


class SupervisionError(Exception):
    """A supervisor action was refused or failed; ``message`` says what to change."""

    status = 409
    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CallNotFound(SupervisionError):
    status = 404
    code = "call-not-found"


class Forbidden(SupervisionError):
    status = 403
    code = "forbidden"


class NeedExtension(SupervisionError):
    status = 400
    code = "extension-required"


class SwitchRefused(SupervisionError):
    status = 502
    code = "switch-refused"


def phone_failure(reply: str, extension: str) -> str:
    """The switch's ``-ERR <CAUSE>`` for an originate to the supervisor's phone, as advice."""
    cause = reply.strip().removeprefix("-ERR").strip()
    template = _PHONE_FAILURES.get(cause)
    return template.format(ext=extension) if template else f"the switch refused the call to your phone: {reply.strip()}"


class SupervisionService:
    """See the module docstring. A component: :meth:`start` hooks into the core."""

    def __init__(self, core: LiveCore, *, router: Any = None, originate_timeout: int = ORIGINATE_TIMEOUT,
                 fast_refusal: float = FAST_REFUSAL_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self.core = core
        self.router = router
        self.originate_timeout = originate_timeout
        self.fast_refusal = fast_refusal
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._listeners: list[Listener] = []
        self._greenlets: list[gevent.Greenlet] = []
        self._running = False

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if not self._running:
            self._running = True
            self.core.add_channel_listener(self._on_channel)

    def stop(self) -> None:
        self._running = False
        gevent.killall([g for g in self._greenlets if not g.dead], block=True, timeout=5)
        self._greenlets.clear()

    def add_listener(self, listener: Listener) -> None:
        """``listener(session, what, message)``; ``what`` is ringing, joined, switched,
        taken_over, failed or ended. Called from event greenlets: must not block."""
        self._listeners.append(listener)

    def sessions(self, user_id: int | None = None) -> list[Session]:
        return [s for s in self._sessions.values() if user_id is None or s.user_id == user_id]

    # -- actions ----------------------------------------------------------------------------

    def monitor(self, scope: Scope, interaction_id: str, action: Action, extension: str) -> Session:
        """Listen, whisper or barge. A supervisor already on this call switches mode in
        the same session; one on another call leaves it first (one phone, one call)."""
        if action not in ACTION_MODES:
            raise ValueError(f"monitor takes listen, whisper or barge, not {action.value}")
        ix = self._call(scope, interaction_id)
        own = self._own_session(scope.user_id, interaction_id)
        if own is not None and own.kind is SessionKind.MONITOR:
            return self.switch(scope, own.leg_uuid, ACTION_MODES[action])
        self._refuse_unless_applies(action, ix)
        target = monitored_leg(ix)
        assert target is not None   # refusal() checked it
        phone = self._phone(extension)
        if target.number and target.number == phone:
            raise SupervisionError(f"extension {phone} is the monitored phone itself; set your own phone's extension")
        return self._ring(scope, ix, action, phone, target.uuid, cmd.eavesdrop(target.uuid),
                          caller_id=(target.number or "0000", f"{action.value} {target.number}".strip()))

    def intercept(self, scope: Scope, interaction_id: str, extension: str) -> Session:
        """Take the customer over: from the queue, from a ringing agent, or from the
        agent talking to them. A supervisor monitoring the call is moved in place."""
        ix = self._call(scope, interaction_id)
        self._refuse_unless_applies(Action.INTERCEPT, ix)
        customer = customer_leg(ix)
        assert customer is not None
        own = self._own_session(scope.user_id, interaction_id)
        if own is not None and own.state is SessionState.ACTIVE and own.kind is SessionKind.MONITOR:
            return self._apply(own, SessionEvent.TAKE_OVER, customer_uuid=customer.uuid, what="taken_over")
        phone = self._phone(extension)
        return self._ring(scope, ix, Action.INTERCEPT, phone, customer.uuid, cmd.intercept(customer.uuid),
                          caller_id=(ix.caller_number or "0000", f"intercept {ix.caller_number}".strip()))

    def switch(self, scope: Scope, leg_uuid: str, mode: SupervisorMode) -> Session:
        """Change the mode of the supervisor's own monitoring session (admins: any)."""
        session = self._session_of(scope, leg_uuid)
        return self._apply(session, SessionEvent.SWITCH, mode=mode, what="switched")

    def end(self, scope: Scope, leg_uuid: str) -> None:
        """Hang up a supervisor leg (the supervisor's own; admins: any)."""
        session = self._session_of(scope, leg_uuid)
        if not self._kill(session.node, session.leg_uuid):
            self._forget(session, "ended", "the leg was already gone")

    def force_hangup(self, scope: Scope, interaction_id: str) -> list[str]:
        """End the call (强拆): the customer leg, then every other leg still up.
        Returns the legs the switch hung up."""
        ix = self._call(scope, interaction_id)
        self._refuse_unless_applies(Action.HANGUP, ix)
        legs = sorted((leg for leg in ix.legs.values() if leg.up),
                      key=lambda leg: (leg.role is not LegRole.CUSTOMER, leg.role is LegRole.SUPERVISOR))
        # Later legs may have gone with the customer's: a "no such channel" is fine.
        killed = [leg.uuid for leg in legs if self._kill(leg.node or ix.node, leg.uuid)]
        if not killed:
            raise SupervisionError("the switch has none of this call's legs any more; it is ending by itself")
        return killed

    # -- checks -------------------------------------------------------------------------------

    def _call(self, scope: Scope, interaction_id: str) -> Interaction:
        try:
            ix = self.core.state.interaction(interaction_id)
        except UnknownInteraction:
            raise CallNotFound(f"there is no live call {interaction_id}; it may have ended") from None
        if not sees(scope, ix):
            raise Forbidden("this call is not in your queues or teams")
        return ix

    @staticmethod
    def _refuse_unless_applies(action: Action, ix: Interaction) -> None:
        why = refusal(action, ix)
        if why is not None:
            raise SupervisionError(f"cannot {action.value}: {why}")

    @staticmethod
    def _phone(extension: str) -> str:
        extension = (extension or "").strip()
        if not extension:
            raise NeedExtension("set your phone's extension first (the phone the switch calls you on)")
        try:
            cmd.user(extension)
        except CommandArgumentError as exc:
            raise NeedExtension(f"your extension is not valid: {exc}") from None
        return extension

    def _own_session(self, user_id: int, interaction_id: str) -> Session | None:
        for session in self._sessions.values():
            if session.user_id == user_id and session.interaction_id == interaction_id:
                return session
        return None

    def _session_of(self, scope: Scope, leg_uuid: str) -> Session:
        session = self._sessions.get(leg_uuid)
        if session is None:
            raise CallNotFound(f"there is no supervisor session {leg_uuid}; it may have ended")
        if session.user_id != scope.user_id and not scope.admin:
            raise Forbidden("this is another supervisor's session")
        return session

    # -- the switch ---------------------------------------------------------------------------

    def _ring(self, scope: Scope, ix: Interaction, action: Action, phone: str, target: str,
              app: cmd.AppCall, caller_id: tuple[str, str]) -> Session:
        self._free_phone(scope.user_id)
        node = ix.node or self.core.switches.names[0]
        session = new_session(leg_uuid=str(uuidlib.uuid4()), interaction_id=ix.id, node=node, user_id=scope.user_id,
                              extension=phone, target_uuid=target, action=action, at=self.clock())
        variables = {
            cv.INTERACTION_ID: ix.id, cv.ROLE: "supervisor", cv.SUPERVISOR_MODE: session.mode.value,
            cv.TARGET_UUID: target, "origination_caller_id_number": _digits(caller_id[0]),
            "origination_caller_id_name": caller_id[1],
        }
        if ix.queue:
            variables[cv.QUEUE] = ix.queue
        if session.kind is SessionKind.MONITOR:
            variables["eavesdrop_enable_dtmf"] = "true"
        command = cmd.originate(cmd.user(phone), uuid=session.leg_uuid, variables=variables, app=app,
                                timeout=self.originate_timeout)
        self._sessions[session.leg_uuid] = session
        try:
            job = self.core.switches.bgapi_async(node, command, timeout=self.originate_timeout + 10)
            job.get(timeout=self.fast_refusal)
        except gevent.Timeout:   # ringing: the answer (or failure) comes later
            self._spawn(self._await_answer, session, job)
        except ESLError as exc:
            self._sessions.pop(session.leg_uuid, None)
            why = phone_failure(exc.reply, phone) if isinstance(exc, ESLCommandError) else str(exc)
            raise SwitchRefused(why) from None
        current = self._sessions.get(session.leg_uuid, session)
        if current.state is SessionState.RINGING:   # a quick answer may have joined it already
            self._tell(current, "ringing", "")
        return current

    def _await_answer(self, session: Session, job: gevent.event.AsyncResult) -> None:
        try:
            job.get()
        except ESLCommandError as exc:
            self._forget(session, "failed", phone_failure(exc.reply, session.extension))
        except ESLError as exc:
            self._forget(session, "failed", f"the switch did not answer for your phone: {exc}")

    def _apply(self, session: Session, event: SessionEvent, *, mode: SupervisorMode | None = None,
               customer_uuid: str = "", what: str) -> Session:
        try:
            moved, effects = transition(session, event, mode=mode, customer_uuid=customer_uuid)
        except IllegalSessionTransition as exc:
            raise SupervisionError(str(exc)) from None
        self._run(moved, effects)
        self._sessions[moved.leg_uuid] = moved
        if moved != session:
            self._tell(moved, what, "")
        return moved

    def _run(self, session: Session, effects: list[Effect]) -> None:
        """Send an action's effects; the first -ERR stops and is the supervisor's message."""
        for effect in effects:
            if isinstance(effect, SendKey):
                command = cmd.uuid_recv_dtmf(effect.leg_uuid, effect.key)
            elif isinstance(effect, SetMode):
                command = cmd.uuid_setvar(effect.leg_uuid, cv.SUPERVISOR_MODE, effect.mode.value)
            else:
                command = cmd.uuid_transfer_inline(effect.leg_uuid, [cmd.intercept(effect.customer_uuid)])
            try:
                self.core.switches.api(session.node, command)
            except ESLError as exc:
                raise SwitchRefused(f"the switch refused {command.split()[0]}: {exc}") from None

    def _free_phone(self, user_id: int) -> None:
        """The supervisor's phone is on one call at a time: a listening session ends
        before a new one starts; a call they took over is theirs to finish first."""
        sessions = self.sessions(user_id)
        if any(s.kind is SessionKind.INTERCEPT for s in sessions):
            raise SupervisionError("your phone is on a call you took over; finish that call first")
        for other in sessions:
            self._kill(other.node, other.leg_uuid)

    def _kill(self, node: str, leg_uuid: str) -> bool:
        """``uuid_kill``; False when the switch no longer has the leg."""
        try:
            self.core.switches.api(node, cmd.uuid_kill(leg_uuid))
        except ESLCommandError:
            return False
        except ESLError as exc:
            raise SwitchRefused(f"the switch is not reachable: {exc}") from None
        return True

    # -- events -------------------------------------------------------------------------------

    def _on_channel(self, event: Event) -> None:
        """Runs in the core's dispatcher: bookkeeping only; commands go to a greenlet."""
        session = self._sessions.get(event.uuid)
        if session is None or not self._running:
            return
        name = event.name
        application = event.get("Application")
        if name == "CHANNEL_EXECUTE" and application in ("eavesdrop", "intercept"):
            if application == "intercept":   # now, so routing lets go before the customer's next event
                self._release(session.interaction_id)
            self._spawn(self._joined, session.leg_uuid)
        elif name in ("CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"):
            cause = event.get("Hangup-Cause")
            if session.state is SessionState.RINGING:   # never joined: the phone did not take it
                self._forget(session, "failed", phone_failure(cause, session.extension))
            else:
                self._forget(session, "ended", cause)

    def _joined(self, leg_uuid: str) -> None:
        session = self._sessions.get(leg_uuid)
        if session is None:
            return
        try:
            self._apply(session, SessionEvent.JOINED, what="joined")
        except SupervisionError as exc:
            log.warning("supervisor session could not set its mode", extra={"leg": leg_uuid, "why": exc.message})
            self._tell(session, "failed", exc.message)
            return
        if session.kind is SessionKind.INTERCEPT:
            self._withdraw_rings(session)

    def _release(self, interaction_id: str) -> None:
        """The supervisor takes the call: routing lets it go (no more offers, music,
        announcements or overflow; a queued visit ends as ``intercepted``). Only posts
        to the engine's queue: safe in the core's dispatcher."""
        if self.router is not None:
            try:
                self.router.release_outbound(interaction_id, "intercepted")
            except Exception:
                log.exception("routing did not release an intercepted call", extra={"call": interaction_id})

    def _withdraw_rings(self, session: Session) -> None:
        """Agents whose phones still ring for an intercepted call are stopped (PICKED_OFF)."""
        try:
            ix = self.core.state.interaction(session.interaction_id)
        except UnknownInteraction:
            return
        for offer in ix.ringing_offers():
            try:
                self.core.switches.api(session.node, cmd.uuid_kill(offer.leg_uuid, "PICKED_OFF"))
            except ESLError as exc:
                log.info("ring already over", extra={"call": ix.id, "leg": offer.leg_uuid, "why": str(exc)})

    def _forget(self, session: Session, what: str, message: str) -> None:
        current = self._sessions.pop(session.leg_uuid, None)
        if current is not None:
            self._tell(replace(current, state=SessionState.ENDED), what, message)

    def _tell(self, session: Session, what: str, message: str) -> None:
        for listener in self._listeners:
            try:
                listener(session, what, message)
            except Exception:
                log.exception("supervision listener failed", extra={"leg": session.leg_uuid, "what": what})

    def _spawn(self, fn: Callable[..., None], *args: object) -> None:
        self._greenlets = [g for g in self._greenlets if not g.dead]
        self._greenlets.append(gevent.spawn(fn, *args))


def _digits(number: str) -> str:
    digits = "".join(c for c in number if c.isdigit() or c == "+")
    return digits or "0000"
