"""Placing outbound legs: ``originate`` and the ``bridge`` application.

The real switch's quirks, all from the captures:

* ``user/<n>`` first looks the user up: an unknown user fails ``SUBSCRIBER_ABSENT``
  with no event at all; a known one fires the ``sofia_contact`` / ``verto_contact``
  API events, and without a registration fails ``USER_NOT_REGISTERED`` -- no channel
  is ever created for either failure (capture c);
* a ringing phone leg only fires ``CHANNEL_OUTGOING``, ``CREATE``, ``ORIGINATE``,
  ``PROGRESS`` (+ states and ``PRESENCE_IN``); its originate completes -- the
  ``BACKGROUND_JOB`` ``+OK <uuid>`` -- only after ``CHANNEL_ANSWER``, the second
  ``CHANNEL_OUTGOING`` and the caller-id flip ``CALL_UPDATE`` (capture b), and fails
  with ``CHANNEL_HANGUP`` NO_ANSWER after ``originate_timeout`` (capture c);
* a loopback leg is built under a random uuid and renamed (``CHANNEL_UUID``) to the
  ``origination_uuid``; its b-leg runs the dialplan and answering it answers the
  a-leg (capture i).

The leg's own greenlet rings it and then hands the result to the originator through
a :class:`Handoff`, waiting until the ``BACKGROUND_JOB`` (or api reply) is out before
it goes on to its application -- the order the real switch shows. :func:`place_all` rings
several legs (``a,b`` at once, ``a|b`` one group after the other) the way
``switch_ivr_originate`` does: the first to answer wins, the others hang up
``LOSE_RACE``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import gevent
import gevent.event

from esl.simulator import bridge as bridges
from esl.simulator import legs as legbuild
from esl.simulator import lifecycle
from esl.simulator.behaviours import Customer
from esl.simulator.core import Core, Leg, LegGone
from esl.simulator.dialplan import Action
from esl.simulator.dialstring import Endpoint
from esl.simulator.endpoints import DEFAULT_DOMAIN, Phone
from esl.simulator.execute import run_extension, run_leg, transfer
from esl.simulator.model import CS, CallSignal
from esl.simulator.routing import prepare, route
from esl.simulator.templates import (
    DIRECTORY_USER,
    GATEWAY_CREATE_EXTRA,
    LOOPBACK_A_CREATE,
    LOOPBACK_B_CREATE,
    MEDIA,
    OUTBOUND_ANSWERED,
    OUTBOUND_CREATE_HEAD,
    OUTBOUND_CREATE_TAIL,
    OUTBOUND_PROGRESS,
    OUTBOUND_REMOTE_SDP,
    USER_CREATE_EXTRA,
)

DEFAULT_TIMEOUT = 60.0
After = Callable[[Leg], None]


@dataclass(slots=True)
class Handoff:
    """The ringing leg's result (``+OK <uuid>\\n`` / ``-ERR <CAUSE>\\n``) and the
    originator's go-ahead once it has reported it. ``leg`` is the leg that answered
    (or the only one), ``legs`` every leg placed for it."""

    result: gevent.event.AsyncResult = field(default_factory=gevent.event.AsyncResult)
    ack: gevent.event.Event = field(default_factory=gevent.event.Event)
    leg: Leg | None = None
    legs: list[Leg] = field(default_factory=list)
    cancelled: bool = False

    def cancel(self, core: Core, cause: str = "ORIGINATOR_CANCEL") -> None:
        """The originator gave up: hang up every leg still ringing, try no more."""
        self.cancelled = True
        for leg in list(self.legs):
            bridges.hangup(core, leg, cause)
        self.ack.set()


@dataclass(slots=True)
class Dial:
    """One leg to place."""

    endpoint: Endpoint
    variables: dict[str, str]
    timeout: float = DEFAULT_TIMEOUT
    cid_num: str = ""
    cid_name: str = ""
    originator: Leg | None = None


def leg_timeout(variables: dict[str, str], default: float) -> float:
    """A leg's ring time: its ``leg_timeout``, else the originate's."""
    try:
        return float(variables.get("leg_timeout") or default)
    except ValueError:
        return default


def place(core: Core, dial: Dial, after: After) -> Handoff:
    """Start placing a leg; the returned handoff's result is set when it answers or
    fails. Failures that create no channel are set at once."""
    handoff = Handoff()
    ep = dial.endpoint
    if ep.kind == "error":
        handoff.result.set(f"-ERR {ep.target}\n")
        return handoff
    uuid = dial.variables.get("origination_uuid") or core.new_uuid()
    if uuid in core.legs:
        handoff.result.set("-ERR NORMAL_TEMPORARY_FAILURE\n")
        return handoff
    cid_num = dial.variables.get("origination_caller_id_number") or dial.cid_num or legbuild.DEFAULT_CID_NUMBER
    cid_name = dial.variables.get("origination_caller_id_name") or dial.cid_name
    if ep.kind == "loopback":
        _place_loopback(core, dial, after, handoff, uuid, cid_num, cid_name)
        return handoff
    phone: Phone | None = None
    customer: Customer | None = None
    domain = ep.domain or DEFAULT_DOMAIN
    if ep.kind == "user":
        found = core.directory.lookup(ep.target)
        if found != "SUBSCRIBER_ABSENT":
            core.fire_plain("API", "API", (("API-Command", "sofia_contact"),
                                           ("API-Command-Argument", f"*/{ep.target}@{domain}")))
            core.fire_plain("API", "API", (("API-Command", "verto_contact"),
                                           ("API-Command-Argument", f"{ep.target}@{domain}")))
        if isinstance(found, str):
            handoff.result.set(f"-ERR {found}\n")
            return handoff
        phone = found
    elif ep.kind == "sofia" and isinstance(core.directory.lookup(ep.target), Phone):
        found_phone = core.directory.lookup(ep.target)
        assert isinstance(found_phone, Phone)
        phone = found_phone
    else:
        customer = Customer(core.customers.outcome(core.rng, ep.target))
    kind = "gateway" if customer is not None else "user"
    leg = legbuild.outbound_sip(
        core, uuid=uuid, kind=kind, dest_user=ep.target, domain=domain, cid_num=cid_num,
        cid_name=cid_name, remote_port=phone.port if phone else 5080, gateway=ep.gateway,
    )
    leg.endpoint = customer or phone
    if dial.originator is not None:
        lifecycle.link(leg, dial.originator, "originator")
    core.add_leg(leg)
    handoff.leg = leg
    handoff.legs.append(leg)
    core.start_leg(leg, lambda this: run_leg(core, this, lambda: _sofia_script(core, this, dial, after, handoff)))
    return handoff


def place_all(core: Core, groups: list[list[Dial]], after: After) -> Handoff:
    """Place a dial string's legs: each group's legs ring at once and the first to
    answer wins (the others hang up LOSE_RACE); when a whole group fails the next
    group is tried. The handoff reports the winner, or the last failure."""
    if len(groups) == 1 and len(groups[0]) == 1:
        return place(core, groups[0][0], after)
    outer = Handoff()
    core.spawn(_race, core, groups, after, outer)
    return outer


def _race(core: Core, groups: list[list[Dial]], after: After, outer: Handoff) -> None:
    failure = "-ERR NORMAL_TEMPORARY_FAILURE\n"
    for group in groups:
        if outer.cancelled:
            break
        handoffs = [place(core, one, after) for one in group]
        for handoff in handoffs:
            outer.legs.extend(handoff.legs)
        winner, failure = _first_answer(handoffs, failure)
        for handoff in handoffs:
            if handoff is not winner:
                for leg in handoff.legs:
                    bridges.hangup(core, leg, "LOSE_RACE")
                handoff.ack.set()
        if winner is not None:
            outer.leg = winner.leg
            outer.result.set(winner.result.get())
            outer.ack.wait()
            winner.ack.set()
            return
    outer.result.set(failure)


def _first_answer(handoffs: list[Handoff], failure: str) -> tuple[Handoff | None, str]:
    pending = list(handoffs)
    while pending:
        gevent.wait([handoff.result for handoff in pending], count=1)
        for handoff in [h for h in pending if h.result.ready()]:
            pending.remove(handoff)
            text = handoff.result.get()
            if text.startswith("+OK"):
                return handoff, failure
            failure = text
    return None, failure


def _fail(core: Core, leg: Leg, handoff: Handoff, cause: str, *, remote: bool, disposition: str) -> None:
    if not leg.hanging_up:
        bridges.hangup(core, leg, cause, remote=remote)
    leg.ctx["sip_disposition"] = disposition
    if remote:
        leg.ch.set_var("sip_hangup_disposition", disposition)
    handoff.result.set(f"-ERR {leg.ch.hangup_cause}\n")
    handoff.ack.wait()
    raise LegGone


def _create_vars(leg: Leg, dial: Dial, extra: tuple[tuple[str, str], ...]) -> None:
    lifecycle.set_vars(leg, OUTBOUND_CREATE_HEAD)
    for name, value in dial.variables.items():
        leg.ch.set_var(name, value)
    lifecycle.set_vars(leg, extra)
    lifecycle.set_vars(leg, OUTBOUND_CREATE_TAIL)


def _sofia_script(core: Core, leg: Leg, dial: Dial, after: After, handoff: Handoff) -> None:
    try:
        _sofia_ring(core, leg, dial, handoff)
    finally:
        if not handoff.result.ready():
            handoff.result.set(f"-ERR {leg.ch.hangup_cause or 'NORMAL_TEMPORARY_FAILURE'}\n")
    handoff.ack.wait()
    if leg.hanging_up:
        raise LegGone
    after(leg)


def _sofia_ring(core: Core, leg: Leg, dial: Dial, handoff: Handoff) -> None:
    ch = leg.ch
    ch.running_state, ch.state = CS.NONE, CS.INIT
    core.fire("CHANNEL_OUTGOING", leg, calling="OUTGOING")
    is_user = leg.kind == "user"
    _create_vars(leg, dial, USER_CREATE_EXTRA if is_user else GATEWAY_CREATE_EXTRA)
    if is_user:
        ch.presence_id = f"{leg.ctx['dest_user']}@{leg.ctx['domain']}"
    lifecycle.state(core, leg, CS.INIT)
    lifecycle.request(leg, CS.ROUTING)
    core.fire("CHANNEL_CREATE", leg, calling="CREATE")
    core.fire("CHANNEL_ORIGINATE", leg, calling="ORIGINATE")
    lifecycle.state(core, leg, CS.ROUTING)
    lifecycle.request(leg, CS.CONSUME_MEDIA)
    lifecycle.presence(core, leg, "CS_ROUTING", "progressing")
    lifecycle.state(core, leg, CS.CONSUME_MEDIA)
    ring_for, outcome = _ring_plan(leg, dial)
    if outcome in ("USER_BUSY", "CALL_REJECTED", "UNALLOCATED_NUMBER"):
        _ring(core, leg, 0.2 if outcome != "USER_BUSY" else 0.5)
        _fail(core, leg, handoff, outcome, remote=True, disposition="recv_refuse")
    lifecycle.set_vars(leg, OUTBOUND_PROGRESS)
    if ch.profile is not None:
        ch.profile.progress_us = core.now_us()
    core.fire("CHANNEL_PROGRESS", leg, calling="PROGRESS")
    lifecycle.callstate(core, leg, CallSignal.RING)
    answers = ring_for is not None and ring_for < dial.timeout
    _ring(core, leg, ring_for if answers and ring_for is not None else dial.timeout)
    if leg.hanging_up:
        _fail(core, leg, handoff, ch.hangup_cause, remote=False, disposition="send_cancel")
    if not answers:
        _fail(core, leg, handoff, "NO_ANSWER", remote=False, disposition="send_cancel")
    lifecycle.codecs(core, leg)
    lifecycle.set_vars(leg, OUTBOUND_REMOTE_SDP)
    lifecycle.set_vars(leg, MEDIA)
    lifecycle.answer(core, leg)
    core.sleep(0.02)
    core.fire("CHANNEL_OUTGOING", leg, calling="OUTGOING")
    lifecycle.set_vars(leg, OUTBOUND_ANSWERED)
    if is_user:
        lifecycle.set_vars(leg, DIRECTORY_USER)
        ch.set_var("originate_endpoint", "user")
    ch.hit_dialplan = True
    lifecycle.flip_cid(core, leg)
    if isinstance(leg.endpoint, Customer):
        leg.endpoint.on_answered(core, leg)
    handoff.result.set(f"+OK {leg.uuid}\n")


def _ring(core: Core, leg: Leg, seconds: float) -> None:
    """Let it ring for ``seconds`` unless it is hung up first."""
    end = core.clock.elapsed() + seconds
    while not leg.hanging_up and core.clock.elapsed() < end:
        core.wait(leg, end - core.clock.elapsed())


def _ring_plan(leg: Leg, dial: Dial) -> tuple[float | None, str]:
    """(seconds until answer or None for never, failure cause or "")."""
    endpoint = leg.endpoint
    if isinstance(endpoint, Phone):
        if endpoint.behaviour == "busy":
            return None, "USER_BUSY"
        if endpoint.behaviour == "reject":
            return None, "CALL_REJECTED"
        if endpoint.behaviour == "no_answer":
            return None, ""
        return endpoint.answer_after, ""
    assert isinstance(endpoint, Customer)
    kind = endpoint.outcome.kind
    if kind == "invalid":
        return None, "UNALLOCATED_NUMBER"
    if kind == "busy":
        return None, "USER_BUSY"
    if kind == "no_answer":
        return None, ""
    return endpoint.outcome.ring_time, ""


# -- loopback -----------------------------------------------------------------------


def _place_loopback(
    core: Core, dial: Dial, after: After, handoff: Handoff, uuid: str, cid_num: str, cid_name: str,
) -> None:
    ep = dial.endpoint
    a, b, temp = legbuild.loopback_pair(
        core, uuid=uuid, ext=ep.target, context=ep.context, cid_num=cid_num, cid_name=cid_name,
    )
    a.on_hangup.append(_hang_up_with(core, b, a))
    b.on_hangup.append(_hang_up_with(core, a, b))
    core.add_leg(a)
    core.add_leg(b)
    handoff.leg = a
    handoff.legs.append(a)
    core.start_leg(a, lambda this: run_leg(core, this, lambda: _loopback_a(core, a, b, temp, dial, after, handoff)))


def _hang_up_with(core: Core, partner: Leg, leg: Leg) -> Callable[[], None]:
    """One loopback leg going down takes the other with the same cause."""

    def follow() -> None:
        bridges.hangup(core, partner, leg.ch.hangup_cause)

    return follow


def _loopback_a(
    core: Core, a: Leg, b: Leg, temp: str, dial: Dial, after: After, handoff: Handoff,
) -> None:
    try:
        _loopback_ring(core, a, b, temp, dial)
    finally:
        if not handoff.result.ready():
            handoff.result.set(f"-ERR {a.ch.hangup_cause or 'NORMAL_TEMPORARY_FAILURE'}\n")
    if a.hanging_up:
        handoff.ack.wait()
        raise LegGone
    handoff.result.set(f"+OK {a.uuid}\n")
    handoff.ack.wait()
    if a.hanging_up:
        raise LegGone
    after(a)


def _loopback_ring(core: Core, a: Leg, b: Leg, temp: str, dial: Dial) -> None:
    real_uuid, real_name, profile = a.uuid, a.ch.name, a.ch.profile
    a.ch.uuid, a.ch.profile = temp, None
    a.ch.name = f"loopback/{dial.endpoint.target}/{dial.endpoint.context}-a"
    lifecycle.codecs(core, a, lifecycle.L16)
    a.ch.uuid, a.ch.name, a.ch.profile = real_uuid, real_name, profile
    a.ch.state = CS.INIT
    a.ch.running_state = CS.NONE
    lifecycle.set_vars(a, LOOPBACK_A_CREATE)
    core.fire("CHANNEL_UUID", a, calling="UUID", before={"Old-Unique-ID": temp})
    core.fire("CHANNEL_OUTGOING", a, calling="OUTGOING")
    lifecycle.state(core, a, CS.INIT)
    b_profile, b.ch.profile = b.ch.profile, None
    lifecycle.codecs(core, b, lifecycle.L16)
    b.ch.profile = b_profile
    for name, value in dial.variables.items():
        a.ch.set_var(name, value)
    for name, value in (("originate_early_media", "false"), ("originate_endpoint", "loopback"),
                        ("other_loopback_leg_uuid", b.uuid), ("loopback_leg", "A")):
        a.ch.set_var(name, value)
    lifecycle.request(a, CS.ROUTING)
    core.fire("CHANNEL_CREATE", a, calling="CREATE")
    core.fire("CHANNEL_ORIGINATE", a, calling="ORIGINATE")
    lifecycle.state(core, a, CS.ROUTING)
    lifecycle.request(a, CS.CONSUME_MEDIA)
    lifecycle.state(core, a, CS.CONSUME_MEDIA)
    lifecycle.set_vars(b, LOOPBACK_B_CREATE)
    for name, value in dial.variables.items():
        b.ch.set_var(name, value)
    b.ch.set_var("other_loopback_leg_uuid", a.uuid)
    b.ch.set_var("loopback_leg", "B")
    core.start_leg(b, lambda this: run_leg(core, this, lambda: _loopback_b(core, this)))
    while not a.answered_event.is_set() and not a.hanging_up:
        if not core.wait(a, dial.timeout) and not a.answered_event.is_set():
            bridges.hangup(core, a, "NO_ANSWER")
            return
    if a.hanging_up:
        return
    core.sleep(0.02)
    a.ch.set_var("endpoint_disposition", "ANSWER")
    a.ch.hit_dialplan = True
    lifecycle.flip_cid(core, a)


def _loopback_b(core: Core, b: Leg) -> None:
    lifecycle.state(core, b, CS.INIT)
    lifecycle.request(b, CS.ROUTING)
    core.fire("CHANNEL_CREATE", b, calling="CREATE")
    b.ch.running_state = CS.ROUTING
    lifecycle.callstate(core, b, CallSignal.RING)
    core.fire("CHANNEL_STATE", b, calling="STATE")
    profile = b.ch.profile
    assert profile is not None
    actions = route(core, b, profile.context, profile.destination_number)
    if actions is None:
        bridges.hangup(core, b, "NO_ROUTE_DESTINATION")
        raise LegGone
    lifecycle.state(core, b, CS.EXECUTE)
    b.actions.extend(actions)
    run_extension(core, b)


# -- what an originated leg does once answered ----------------------------------------


def run_app(core: Core, app: str, arg: str) -> After:
    """``&app(arg)``: run that one application (then hang up)."""

    def after(leg: Leg) -> None:
        lifecycle.state(core, leg, CS.EXECUTE)
        leg.actions.append(Action(app, arg))
        run_extension(core, leg)

    return after


def transfer_to(core: Core, exten: str, dialplan: str, context: str) -> After:
    """``<exten> [<dialplan>] [<context>]``: route the answered leg there."""

    def after(leg: Leg) -> None:
        transfer(core, leg, prepare(core, leg, exten, dialplan, context))
        run_extension(core, leg)

    return after
