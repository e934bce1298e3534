"""An inbound call arriving from the outside, as mod_sofia delivers it.

The sequence of capture a: ``CS_NEW`` (no caller profile yet), ``CS_INIT``,
``CHANNEL_CREATE``, ``CHANNEL_CALLSTATE`` RINGING, ``CS_ROUTING``, the dialplan lookup
in ``public``, ``CS_EXECUTE`` and the extension's applications (for our DIDs the
``cti_inbound`` sequence of :mod:`esl.simulator.dialplan`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from esl.simulator import bridge as bridges
from esl.simulator import legs as legbuild
from esl.simulator import lifecycle
from esl.simulator.behaviours import InboundCaller
from esl.simulator.core import Core, Leg, LegGone
from esl.simulator.dialplan import LAB_EXTENSIONS
from esl.simulator.endpoints import CallerBehaviour
from esl.simulator.execute import run_extension, run_leg
from esl.simulator.model import CS, CallerProfile, CallSignal
from esl.simulator.routing import route
from esl.simulator.templates import INBOUND_CREATE

_PORTS = itertools.cycle(range(5201, 5999))


def place_call(
    core: Core,
    *,
    did: str,
    caller_number: str,
    caller_name: str = "",
    dtmf: Sequence[tuple[float, str]] = (),
    hangup_after: float | None = None,
    behaviour: CallerBehaviour | None = None,
) -> str:
    """Start a call from ``caller_number`` to ``did``; returns the caller leg's uuid."""
    leg, profile = legbuild.inbound_sip(
        core, destination=did, cid_num=caller_number, cid_name=caller_name or caller_number,
        remote_port=next(_PORTS),
    )
    leg.endpoint = InboundCaller(behaviour or CallerBehaviour(), dtmf, hangup_after)
    core.add_leg(leg)
    core.start_leg(leg, lambda this: run_leg(core, this, lambda: _arrive(core, this, profile)))
    return leg.uuid


def _arrive(core: Core, leg: Leg, profile: CallerProfile) -> None:
    lifecycle.set_vars(leg, INBOUND_CREATE)
    lifecycle.state(core, leg, CS.NEW)
    leg.ch.profile = profile
    lifecycle.state(core, leg, CS.INIT)
    lifecycle.request(leg, CS.ROUTING)
    core.fire("CHANNEL_CREATE", leg, calling="CREATE")
    leg.endpoint.start(core, leg)
    leg.ch.running_state = CS.ROUTING
    lifecycle.callstate(core, leg, CallSignal.RING)
    core.fire("CHANNEL_STATE", leg, calling="STATE")
    actions = route(core, leg, profile.context, profile.destination_number)
    if actions is None:
        bridges.hangup(core, leg, "NO_ROUTE_DESTINATION")
        raise LegGone
    did = profile.destination_number
    if did in LAB_EXTENSIONS:
        leg.ch.set_var("DP_MATCH", f"ARRAY::{did}|:{did}")
    leg.ch.set_var("call_uuid", leg.uuid)
    lifecycle.state(core, leg, CS.EXECUTE)
    leg.actions.extend(actions)
    run_extension(core, leg)
