"""A channel's application loop: the dialplan extension, queued sendmsg commands,
transfers and bridges, in the order ``switch_core_standard_on_execute`` runs them.

Every application fires ``CHANNEL_EXECUTE`` / ``CHANNEL_EXECUTE_COMPLETE`` around
itself (``Application-Response`` is the ``current_application_response`` variable or
``_none_``). A command queued with ``sendmsg`` (or ``uuid_broadcast``) runs when the
channel is idle -- parked, bridged, or between applications -- and is then fired back
as ``PRIVATE_COMMAND`` (capture b). When the extension runs out the channel hangs up
NORMAL_CLEARING, which is what happens to a caller after ``uuid_bridge`` interrupted
its park and the agent hung up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import gevent

from esl.simulator import bridge as bridges
from esl.simulator import lifecycle
from esl.simulator.behaviours import InboundCaller
from esl.simulator.core import Core, Interrupt, Leg, LegGone
from esl.simulator.dialplan import Action
from esl.simulator.model import CS
from esl.simulator.routing import resolve

log = logging.getLogger(__name__)

App = Callable[[Core, Leg, str], None]
#: Dialplan applications by name; filled by the modules that define them (apps, media, ...).
APPS: dict[str, App] = {}

_BRIDGE_WAIT = 5.0
_SYNC_WAIT = 2.0


def app(name: str) -> Callable[[App], App]:
    """Register a dialplan application."""

    def register(fn: App) -> App:
        APPS[name] = fn
        return fn

    return register


def execute(core: Core, leg: Leg, name: str, data: str, app_uuid: str = "") -> None:
    """Run one application with its ``CHANNEL_EXECUTE`` pair. ``app_uuid`` is the
    ``Event-UUID`` a sendmsg gave (reported as ``Application-UUID``), else a new one."""
    fn = APPS.get(name)
    if fn is None:
        log.warning("unknown application", extra={"app": name, "uuid": leg.uuid})
        return
    data = lifecycle.expand(core, leg, data)
    app_uuid = app_uuid or core.new_uuid()
    leg.ch.set_var("current_application_response", None)
    leg.ch.set_var("current_application", name)
    leg.ch.set_var("current_application_data", data or None)
    leg.app, leg.app_data = name, data
    leg.ctx["last_app"], leg.ctx["last_arg"] = name, data
    head = [("Application", name)] + ([("Application-Data", data)] if data else [])
    core.fire("CHANNEL_EXECUTE", leg, calling="EXECUTE", after=head + [("Application-UUID", app_uuid)])
    try:
        fn(core, leg, data)
    finally:
        leg.app = ""
        response = leg.ch.var("current_application_response") or "_none_"
        core.fire("CHANNEL_EXECUTE_COMPLETE", leg, calling="EXECUTE_COMPLETE", after=head + [
            ("Application-Response", response), ("Application-UUID", app_uuid),
        ])


def process_private(core: Core, leg: Leg, item: Interrupt) -> None:
    """Run one queued ``sendmsg`` command, then fire it as ``PRIVATE_COMMAND``."""
    headers: dict[str, str] = item.data["headers"]
    command = headers.get("call-command", "")
    if command == "execute":
        try:
            loops = max(1, int(headers.get("loops", "1")))
        except ValueError:
            loops = 1
        app_uuid = headers.get("event-uuid", "")  # the first run only, as switch_ivr_parse_event does
        for _ in range(loops):
            if leg.interrupted():
                break
            execute(core, leg, headers.get("execute-app-name", ""), headers.get("execute-app-arg", ""), app_uuid)
            app_uuid = ""
    elif command == "hangup":
        bridges.hangup(core, leg, headers.get("hangup-cause", "NORMAL_CLEARING"))
    core.fire("PRIVATE_COMMAND", leg, calling="PRIVATE_COMMAND", before=headers)


def idle(core: Core, leg: Leg) -> None:
    """Wait until something other than a queued command needs the channel, running
    queued commands meanwhile (what the park and bridge loops do)."""
    while not leg.interrupted():
        while leg.take("break") is not None:
            pass
        if leg.privates:
            process_private(core, leg, leg.privates.popleft())
            continue
        core.wait(leg, privates=True)


def park_loop(core: Core, leg: Leg) -> None:
    """``switch_ivr_park``: ``CHANNEL_PARK``, idle, ``CHANNEL_UNPARK``.

    ``park_timeout=<seconds>[:<cause>]`` is read and cleared on entry; when that time
    runs out in park the channel hangs up with ``<cause>`` (default NORMAL_CLEARING).
    """
    timer = _park_timer(core, leg)
    leg.parked = True
    core.fire("CHANNEL_PARK", leg, calling="PARK")
    try:
        idle(core, leg)
    finally:
        if timer is not None:
            timer.kill(block=False)
        leg.parked = False
        core.fire("CHANNEL_UNPARK", leg, calling="UNPARK")


def _park_timer(core: Core, leg: Leg) -> gevent.Greenlet | None:
    raw = leg.ch.var("park_timeout")
    if not raw:
        return None
    leg.ch.set_var("park_timeout", None)
    seconds, _, cause = raw.partition(":")
    digits = seconds.strip()
    if not digits.isdigit() or int(digits) <= 0:
        return None

    def expire() -> None:
        if leg.parked and not leg.hanging_up:
            bridges.hangup(core, leg, cause.strip() or "NORMAL_CLEARING")

    return core.later(int(digits), expire)


def run_leg(core: Core, leg: Leg, body: Callable[[], None]) -> None:
    """A channel's greenlet: ``body`` then the end of the hangup. A killed greenlet
    (a simulated crash) ends without another event; a bug hangs the channel up."""
    try:
        body()
    except LegGone:
        pass
    except gevent.GreenletExit:
        return
    except Exception:
        log.exception("channel script failed", extra={"uuid": leg.uuid})
        bridges.hangup(core, leg, "NORMAL_TEMPORARY_FAILURE")
    lifecycle.finish(core, leg)


def run_extension(core: Core, leg: Leg) -> None:
    """Execute the channel's actions until they run out, then hang up.

    Raises:
        LegGone: the channel is hanging up (the caller then runs ``finish``).
    """
    while True:
        handle_interrupts(core, leg)
        if leg.privates:
            process_private(core, leg, leg.privates.popleft())
            continue
        if leg.actions:
            action = leg.actions.popleft()
            execute(core, leg, action.app, action.data)
            continue
        bridges.hangup(core, leg, "NORMAL_CLEARING")
        raise LegGone


def handle_interrupts(core: Core, leg: Leg) -> None:
    """Act on what was queued while an application ran."""
    while True:
        if leg.hanging_up:
            raise LegGone
        item = leg.interrupts.popleft() if leg.interrupts else None
        if item is None:
            return
        if item.kind == "hangup":
            raise LegGone
        if item.kind == "transfer":
            transfer(core, leg, item.data["actions"])
        elif item.kind == "bridge":
            run_bridge(core, leg, item.data)
        elif item.kind == "unbridge":
            after_bridge(core, leg, originator=bool(item.data.get("originator")))


def transfer(core: Core, leg: Leg, actions: tuple[Action, ...] | None) -> None:
    """Route again (``uuid_transfer``): ``CS_ROUTING`` then ``CS_EXECUTE`` with the
    new actions, or NO_ROUTE_DESTINATION."""
    lifecycle.state(core, leg, CS.ROUTING)
    if actions is None:
        bridges.hangup(core, leg, "NO_ROUTE_DESTINATION")
        raise LegGone
    if leg.ch.profile is not None and leg.ctx.get("inline_destination"):
        leg.ch.profile.destination_number = leg.ctx.pop("inline_destination")
    leg.actions.clear()
    leg.actions.extend(actions)
    lifecycle.state(core, leg, CS.EXECUTE)


def after_bridge(core: Core, leg: Leg, *, originator: bool) -> None:
    """The bridge ended without this leg leaving it: park, transfer, go on or hang up."""
    plan, dest = bridges.survivor_plan(leg, originator=originator)
    bridges.detach(leg)
    if plan == "park":
        park_loop(core, leg)
    elif plan == "transfer":
        transfer(core, leg, resolve(core, leg, dest))
    elif plan == "hangup":
        bridges.hangup(core, leg, "NORMAL_CLEARING")
        raise LegGone


def _soft_execute(core: Core, leg: Leg) -> None:
    for cs in (CS.HIBERNATE, CS.RESET, CS.SOFT_EXECUTE):
        lifecycle.state(core, leg, cs)


def run_bridge(core: Core, leg: Leg, data: dict[str, object]) -> None:
    """This leg's side of a ``uuid_bridge``; returns when the bridge ends."""
    bridge = data["bridge"]
    assert isinstance(bridge, bridges.Bridge)
    if leg.bridge is not None and leg.bridge is not bridge:
        _leave(core, leg)
    _soft_execute(core, leg)
    if bridge.a is leg:
        _originator_side(core, leg, bridge)
    else:
        _peer_side(core, leg, bridge)


def _join(core: Core, bridge: bridges.Bridge) -> None:
    """The two legs are joined: ``CHANNEL_BRIDGE`` on the originator."""
    a, b = bridge.a, bridge.b
    a.bridge, b.bridge = bridge, bridge
    a.bridged_to, b.bridged_to = b.uuid, a.uuid
    now = core.now_us()
    for leg in (a, b):
        if leg.ch.profile is not None:
            leg.ch.profile.bridged_us = now
    b.ch.call_uuid = a.uuid
    b.ch.set_var("call_uuid", a.uuid)
    core.fire("CHANNEL_BRIDGE", a, calling="BRIDGE",
              before={"Bridge-A-Unique-ID": a.uuid, "Bridge-B-Unique-ID": b.uuid})
    bridge.joined.set()
    for leg in (a, b):
        _api_on(core, leg, "api_before_bridge")
    a.ch.set_var("bridge_to", b.uuid)
    a.ch.set_var("last_bridge_to", b.uuid)
    lifecycle.call_update_sent(core, a, b, originator=True)
    b.on_down.append(lambda: _peer_down(bridge, b))
    for leg in (a, b):
        if isinstance(leg.endpoint, InboundCaller):
            leg.endpoint.on_bridged(core, leg)


def _api_on(core: Core, leg: Leg, variable: str) -> None:
    """``switch_channel_api_on``: run the API command a channel variable holds."""
    command = leg.ch.var(variable)
    if command:
        cmd, _, arg = command.partition(" ")
        core.api(cmd, arg)


def _originator_side(core: Core, a: Leg, bridge: bridges.Bridge) -> None:
    b = bridge.b
    waited = 0.0
    while not _reached(b, CS.SOFT_EXECUTE) and not b.hanging_up and waited < _BRIDGE_WAIT:
        core.sleep(0.02)
        waited += 0.02
    a.ch.set_var("uuid_bridge", None)
    if b.hanging_up or b.destroyed:
        _cancelled(core, a)
        return
    core.fire("CHANNEL_EXECUTE", a, calling="UUID_BRIDGE_EXECUTE",
              after=[("Application", "uuid_bridge"), ("Application-Data", b.uuid)])
    core.fire("CHANNEL_EXECUTE", b, calling="UUID_BRIDGE_EXECUTE",
              after=[("Application", "uuid_bridge"), ("Application-Data", a.uuid)])
    _join(core, bridge)
    idle(core, a)
    _leave(core, a)


def _reached(leg: Leg, cs: CS) -> bool:
    """``switch_channel_wait_for_state``'s test: the leg runs the state it was asked
    for (a leg left in ``cs`` by an earlier bridge but asked for another has not)."""
    return leg.ch.state is cs and leg.ch.running_state is cs


def _cancelled(core: Core, a: Leg) -> None:
    """The other leg of a ``uuid_bridge`` went away first (``uuid_bridge_on_soft_execute``):
    ``uuid_bridge_continue_on_cancel`` goes back to the dialplan, ``..._park_on_cancel``
    parks, anything else hangs up ORIGINATOR_CANCEL."""
    if _true(a.ch.var("uuid_bridge_continue_on_cancel")):
        lifecycle.state(core, a, CS.EXECUTE)
    elif _true(a.ch.var("uuid_bridge_park_on_cancel")):
        park_loop(core, a)
    else:
        bridges.hangup(core, a, "ORIGINATOR_CANCEL")
        raise LegGone


def _true(value: str) -> bool:
    return value.lower() in ("true", "yes", "on", "1", "enabled", "active", "allow")


def _peer_side(core: Core, b: Leg, bridge: bridges.Bridge) -> None:
    if not bridge.joined.wait(core.clock.real_delay(_BRIDGE_WAIT) + 1.0):
        after_bridge(core, b, originator=False)
        return
    if b.hanging_up:
        return
    lifecycle.state(core, b, CS.EXCHANGE_MEDIA)
    b.ch.set_var("bridge_to", bridge.a.uuid)
    b.ch.set_var("last_bridge_to", bridge.a.uuid)
    lifecycle.call_update_sent(core, b, bridge.a, originator=False)
    idle(core, b)
    _leave(core, b)


def bridge_as_originator(core: Core, a: Leg, bridge: bridges.Bridge) -> None:
    """The ``bridge`` application's side: join at once (no uuid_bridge states)."""
    lifecycle.link(a, bridge.b, "originatee")
    _join(core, bridge)
    idle(core, a)
    _leave(core, a)


def bridge_as_peer(core: Core, b: Leg, holder: dict[str, bridges.Bridge]) -> None:
    """The b-leg of a ``bridge`` application once answered."""
    bridge = holder.get("bridge")
    if bridge is None:
        bridges.hangup(core, b, "ORIGINATOR_CANCEL")
        raise LegGone
    _peer_side(core, b, bridge)
    if not b.hanging_up and b.interrupts:
        handle_interrupts(core, b)
        run_extension(core, b)


def _peer_down(bridge: bridges.Bridge, b: Leg) -> None:
    """The peer reached CS_HANGUP: let the originator fire ``CHANNEL_UNBRIDGE`` (which
    gives the peer its own call uuid back) before the peer goes on (capture b)."""
    if b.bridge is bridge:
        bridge.peer_down.set()
        bridge.unbridged.wait(_SYNC_WAIT)


def _leave(core: Core, leg: Leg) -> None:
    """This leg leaves its bridge (hangup, transfer, a new bridge)."""
    bridge = leg.bridge
    if bridge is None:
        return
    partner = bridge.other(leg)
    if bridge.a is not leg:
        if leg.hanging_up:
            return
        bridges.detach(leg)
        if partner.bridge is bridge and not partner.hanging_up:
            _tell_survivor(core, partner, originator=True)
        return
    if leg.hanging_up and partner.hanging_up and partner.bridge is bridge:
        bridge.peer_down.wait(_SYNC_WAIT)
    core.fire("CHANNEL_UNBRIDGE", leg, calling="UNBRIDGE",
              before={"Bridge-A-Unique-ID": leg.uuid, "Bridge-B-Unique-ID": partner.uuid})
    bridges.detach(leg)
    partner_left = partner.bridge is not bridge or partner.hanging_up
    if partner.bridge is bridge and partner.hanging_up:
        bridges.detach(partner)
    bridge.unbridged.set()
    if not leg.hanging_up and not partner_left:
        _tell_survivor(core, partner, originator=False)


def _tell_survivor(core: Core, survivor: Leg, *, originator: bool) -> None:
    plan, _ = bridges.survivor_plan(survivor, originator=originator)
    if plan == "hangup":
        bridges.hangup(core, survivor, "NORMAL_CLEARING")
    else:
        survivor.push(Interrupt("unbridge", {"originator": originator}))
