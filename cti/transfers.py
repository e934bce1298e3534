"""Running consultations and transfers (:mod:`cti.transfer_states`) on the switch.

One :class:`TransferSession` per interaction at most. A session moves on three kinds of
input, one at a time per interaction (a lock): the agent's actions (:meth:`Transfers.act`),
the target's originate result (answered or failed) and hangups of its legs, which
:meth:`Transfers.on_event` (a channel listener) hands to a greenlet of its own so the
event dispatcher never waits on the switch. Each step runs the operations the table
returns, in order; a wait for a park or a bridge is bounded, because a switch that
skips an event must not freeze the call.

The agent who started the session is told what happened without asking (the target did
not answer, the transfer completed) through ``notify(agent_id, notice)``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.event
import gevent.lock

from cti.call_errors import ActionRefused, CallControlError
from cti.call_rules import Session
from cti.leg_waits import LegWaits
from cti.switch_link import SwitchLink, failure_reason
from cti.transfer_states import (
    AwaitBridge,
    AwaitPark,
    Break,
    Bridge,
    IllegalSessionStep,
    Kill,
    Music,
    Operation,
    Park,
    Party,
    SessionEvent,
    SessionKind,
    SessionState,
    SetVar,
    ThreeWay,
    Unhold,
    start_operations,
    step,
)
from esl import commands as fs
from esl.events import Event

log = logging.getLogger(__name__)

MOH = "local_stream://moh"
SETTLE_SECONDS = 30.0
RINGBACK = "tone_stream://%(2000,4000,440,480);loops=-1"

Notice = dict[str, Any]
Notify = Callable[[int, Notice], None]


@dataclass
class TransferSession:
    interaction_id: str
    kind: SessionKind
    agent_id: int             # who started it
    node: str
    customer: str             # leg uuids
    agent_leg: str
    target_leg: str
    target: str               # "agent:<id>" or a number (for messages and records)
    target_name: str          # for people: "Alice Smith (1010)" or the number
    target_agent_id: int | None = None
    state: SessionState = SessionState.RINGING
    started_at: float = field(default_factory=time.time)

    def uuid(self, party: Party) -> str:
        return {"customer": self.customer, "agent": self.agent_leg, "target": self.target_leg}[party]

    def rules(self) -> Session:
        return Session(self.kind, self.state, self.agent_id, self.target_name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value, "state": self.state.value, "agent_id": self.agent_id, "target": self.target,
            "target_name": self.target_name, "target_agent_id": self.target_agent_id, "target_leg": self.target_leg,
        }


class Transfers:
    """The live transfer sessions of a site (see the module docstring)."""

    def __init__(self, link: SwitchLink, waits: LegWaits, notify: Notify, *, await_seconds: float = 3.0) -> None:
        self.link = link
        self.waits = waits
        self.notify = notify
        self.await_seconds = await_seconds
        self._sessions: dict[str, TransferSession] = {}
        self._by_leg: dict[str, tuple[str, Party]] = {}
        self._locks: dict[str, gevent.lock.RLock] = {}
        #: customer leg -> the other legs of a session that just ended (see _settle)
        self._settling: dict[str, tuple[str, str, str]] = {}
        self._customer_gone: set[str] = set()

    def get(self, interaction_id: str) -> TransferSession | None:
        return self._sessions.get(interaction_id)

    @contextlib.contextmanager
    def lock(self, interaction_id: str) -> Iterator[None]:
        """One change at a time per interaction (actions, results and hangups alike)."""
        lock = self._locks.setdefault(interaction_id, gevent.lock.RLock())
        with lock:
            yield
        if not lock.locked() and interaction_id not in self._sessions:
            self._locks.pop(interaction_id, None)

    # -- starting ---------------------------------------------------------------------------

    def start(self, session: TransferSession, originate: str, *, agent_held: bool, ring_seconds: float) -> None:
        """Take the customer out of the bridge, then originate the target (``originate``
        is the full command). On failure nothing is left half done: the customer is
        bridged back to the agent and the error raised. Call under :meth:`lock`."""
        self._register(session)
        try:
            self._run(session, start_operations(agent_held=agent_held))
            result = self.link.originate(session.node, originate, timeout=ring_seconds + 5,
                                         what=f"call {session.target_name}")
        except CallControlError:
            self._undo_start(session)
            raise
        result.rawlink(lambda r: gevent.spawn(self._originate_done, session, r))

    def _undo_start(self, session: TransferSession) -> None:
        try:
            self._advance(session, SessionEvent.FAILED, quiet=True)
        except CallControlError as exc:
            log.warning("transfer session: could not bridge the customer back",
                        extra={"call": session.interaction_id, "why": exc.message})
        finally:
            self._unregister(session)

    def _register(self, session: TransferSession) -> None:
        self._sessions[session.interaction_id] = session
        for party in ("customer", "agent", "target"):
            self._by_leg[session.uuid(party)] = (session.interaction_id, party)

    def _unregister(self, session: TransferSession) -> None:
        if self._sessions.get(session.interaction_id) is session:
            del self._sessions[session.interaction_id]
        for party in ("customer", "agent", "target"):
            self._by_leg.pop(session.uuid(party), None)
        self._settle(session)

    def _settle(self, session: TransferSession) -> None:
        """For a short while after a session, a leg that parks because the customer
        hung up before ``park_after_bridge`` was cleared is hung up (else it would stay
        parked, connected to nobody)."""
        customer = session.customer
        self._settling[customer] = (session.node, session.agent_leg, session.target_leg)

        def forget() -> None:
            self._settling.pop(customer, None)
            self._customer_gone.discard(customer)

        gevent.spawn_later(SETTLE_SECONDS, forget)

    def _stranded(self, event: Event) -> None:
        if event.name == "CHANNEL_HANGUP" and event.uuid in self._settling:
            self._customer_gone.add(event.uuid)
            return
        if event.name != "CHANNEL_PARK":
            return
        for customer in self._customer_gone:
            node, agent_leg, target_leg = self._settling[customer]
            if event.uuid in (agent_leg, target_leg):
                gevent.spawn(self.link.best_effort, node, fs.uuid_kill(event.uuid))
                return

    # -- inputs -----------------------------------------------------------------------------

    def act(self, interaction_id: str, event: SessionEvent) -> TransferSession:
        """An agent's action on the session; raises ActionRefused when the state forbids it."""
        with self.lock(interaction_id):
            session = self._sessions.get(interaction_id)
            if session is None:
                raise ActionRefused("There is no consultation on this call.", error_id="no-consultation")
            try:
                step(session.kind, session.state, event)
            except IllegalSessionStep as exc:
                raise ActionRefused(str(exc).capitalize() + ".", error_id="not-now") from exc
            self._advance(session, event)
            return session

    def on_event(self, event: Event) -> None:
        """Channel listener: a hangup of a session's leg moves the session (in a greenlet)."""
        if self._settling:
            self._stranded(event)
        if event.name != "CHANNEL_HANGUP":
            return
        found = self._by_leg.get(event.uuid)
        if found is None:
            return
        interaction_id, party = found
        what = {"customer": SessionEvent.CUSTOMER_GONE, "agent": SessionEvent.AGENT_GONE,
                "target": SessionEvent.TARGET_GONE}[party]
        gevent.spawn(self._from_switch, interaction_id, event.uuid, what)

    def _from_switch(self, interaction_id: str, uuid: str, what: SessionEvent) -> None:
        with self.lock(interaction_id):
            session = self._sessions.get(interaction_id)
            if session is None or uuid not in (session.customer, session.agent_leg, session.target_leg):
                return
            if what is SessionEvent.TARGET_GONE and session.state is SessionState.RINGING:
                self.notify(session.agent_id, _notice(session, "target-failed",
                                                      f"{session.target_name} did not answer; the call is back with you."))
            self._advance(session, what, quiet=True)

    def _originate_done(self, session: TransferSession, result: gevent.event.AsyncResult) -> None:
        with self.lock(session.interaction_id):
            if self._sessions.get(session.interaction_id) is not session:
                return
            if result.successful():
                self._advance(session, SessionEvent.ANSWERED, quiet=True)
                if session.state is SessionState.ENDED:
                    self.notify(session.agent_id, _notice(session, "transferred",
                                                          f"The call was transferred to {session.target_name}."))
                return
            reason, sentence = failure_reason(result)
            if session.state is SessionState.RINGING:
                self.notify(session.agent_id, _notice(
                    session, "target-failed", f"{session.target_name}: {sentence}; the call is back with you.",
                    reason=reason))
            self._advance(session, SessionEvent.FAILED, quiet=True)

    # -- stepping ---------------------------------------------------------------------------

    def _advance(self, session: TransferSession, event: SessionEvent, *, quiet: bool = False) -> None:
        """Apply ``event`` and run its operations. ``quiet``: an event from the switch that
        the state no longer expects (a second report of the same failure) is ignored."""
        try:
            state, ops = step(session.kind, session.state, event)
        except IllegalSessionStep:
            if quiet:
                log.debug("transfer session: event ignored", extra={"call": session.interaction_id,
                                                                     "event": event.value})
                return
            raise
        session.state = state
        log.info("transfer session", extra={"call": session.interaction_id, "event": event.value,
                                            "state": state.value, "agent": session.agent_id})
        if state is SessionState.ENDED:
            self._settle(session)   # before the clean-up: a customer who hangs up during it is caught too
        try:
            self._run(session, ops)
        finally:
            if state is SessionState.ENDED:
                self._unregister(session)
            self.notify(session.agent_id, _notice(session, "session", f"transfer {state.value}", state=state.value))

    def _run(self, session: TransferSession, ops: tuple[Operation, ...]) -> None:
        """Run operations in order; waits are registered before anything is sent."""
        flags = {i: self._expect(session, op) for i, op in enumerate(ops) if isinstance(op, AwaitPark | AwaitBridge)}
        try:
            for index, op in enumerate(ops):
                if index in flags:
                    first = index == 0 and isinstance(op, AwaitPark) and self.waits.parked(session.uuid(op.party))
                    if not first and not flags[index].wait(self.await_seconds):
                        log.warning("transfer session: expected event did not come",
                                    extra={"call": session.interaction_id, "op": repr(op)})
                    continue
                self._send(session, op)
        finally:
            for index, op in enumerate(ops):
                if index in flags and isinstance(op, AwaitPark | AwaitBridge):
                    self.waits.forget(session.uuid(op.party), _event_of(op), flags[index])

    def _expect(self, session: TransferSession, op: AwaitPark | AwaitBridge) -> gevent.event.Event:
        return self.waits.expect(session.uuid(op.party), _event_of(op))

    def _send(self, session: TransferSession, op: Operation) -> None:
        node, uuid = session.node, ""
        link = self.link
        if isinstance(op, SetVar):
            link.best_effort(node, fs.uuid_setvar(session.uuid(op.party), op.name, op.value))
        elif isinstance(op, Park):
            link.api(node, fs.uuid_transfer_inline(session.uuid(op.party), [fs.park()]), what="put the customer on hold")
        elif isinstance(op, Music):
            link.best_effort(node, fs.uuid_broadcast(session.uuid(op.party), RINGBACK if op.ringback else MOH))
        elif isinstance(op, Bridge):
            link.api(node, fs.uuid_bridge(session.uuid(op.a), session.uuid(op.b)), what="connect the call")
        elif isinstance(op, Kill):
            link.best_effort(node, fs.uuid_kill(session.uuid(op.party), op.cause))
        elif isinstance(op, Unhold):
            link.best_effort(node, fs.uuid_hold(session.uuid(op.party), "off"))
        elif isinstance(op, Break):
            link.best_effort(node, fs.uuid_break(session.uuid(op.party), all_queued=True))
        elif isinstance(op, ThreeWay):
            uuid = session.uuid(op.party)
            link.execute(node, uuid, fs.three_way(session.uuid(op.target)), what="start the conference")


def _event_of(op: AwaitPark | AwaitBridge) -> str:
    return "CHANNEL_PARK" if isinstance(op, AwaitPark) else "CHANNEL_BRIDGE"


def _notice(session: TransferSession, code: str, message: str, **extra: Any) -> Notice:
    return {"interaction_id": session.interaction_id, "code": code, "message": message,
            "kind": session.kind.value, "target": session.target, **extra}


__all__ = ["MOH", "Notice", "Notify", "RINGBACK", "TransferSession", "Transfers"]
