"""The ``bridge`` application (mod_dptools ``audio_bridge_function``).

It places the dial string's legs (``a,b`` ring at once, ``a|b`` one group after the
other, see :func:`esl.simulator.originate.place_all`) and bridges the channel to the
first that answers; this channel is the originator, so ``CHANNEL_BRIDGE`` and
``CHANNEL_UNBRIDGE`` fire on it. With ``ringback`` set an unanswered caller gets early
media while the legs ring. When nobody answers, ``originate_disposition`` and
``DIALSTATUS`` hold the cause and ``switch_channel_handle_cause`` decides: with
``continue_on_fail=true`` (or the cause in its list) the dialplan goes on, otherwise
the channel hangs up with that cause.
"""

from __future__ import annotations

from esl.simulator import bridge as bridges
from esl.simulator import lifecycle
from esl.simulator.apps import answer
from esl.simulator.core import Core, Leg, LegGone
from esl.simulator.dialstring import DialStringError, parse_dial_groups
from esl.simulator.execute import app, bridge_as_originator, bridge_as_peer
from esl.simulator.originate import Dial, leg_timeout, place_all
from esl.simulator.templates import Q850

DEFAULT_TIMEOUT = 60.0


@app("bridge")
def bridge_app(core: Core, leg: Leg, data: str) -> None:
    try:
        groups = parse_dial_groups(data)
    except DialStringError as error:
        _failed(core, leg, error.cause or "DESTINATION_OUT_OF_ORDER")
        return
    profile = leg.ch.profile
    timeout = _seconds(leg.ch.var("call_timeout"), DEFAULT_TIMEOUT)
    dials = [[
        Dial(endpoint=target.endpoint, variables=target.variables,
             timeout=leg_timeout(target.variables, _seconds(target.variables.get("originate_timeout"), timeout)),
             cid_num=profile.caller_id_number if profile else "",
             cid_name=profile.caller_id_name if profile else "", originator=leg)
        for target in group] for group in groups]
    joined: dict[str, bridges.Bridge] = {}

    def peer_after(b: Leg) -> None:
        bridge_as_peer(core, b, joined)

    handoff = place_all(core, dials, peer_after)
    if leg.ch.var("ringback"):
        lifecycle.pre_answer(core, leg)
    while not handoff.result.ready() and not leg.interrupted():
        core.wait(leg, 0.05)
    if not handoff.result.ready():
        handoff.cancel(core)
        return
    text = handoff.result.get()
    b = handoff.leg
    if not text.startswith("+OK") or b is None:
        handoff.ack.set()
        _failed(core, leg, text.removeprefix("-ERR ").strip())
        return
    leg.ch.set_var("originate_disposition", "SUCCESS")
    leg.ch.set_var("DIALSTATUS", "SUCCESS")
    if leg.ch.answer_state != "answered":
        answer(core, leg, "")
    bridge = bridges.Bridge(a=leg, b=b, via="bridge")
    joined["bridge"] = bridge
    handoff.ack.set()
    bridge_as_originator(core, leg, bridge)


def _seconds(value: str | None, default: float) -> float:
    try:
        return float(value) if value else default
    except ValueError:
        return default


def _failed(core: Core, leg: Leg, cause: str) -> None:
    leg.ch.set_var("originate_disposition", cause)
    leg.ch.set_var("DIALSTATUS", cause)
    if cause == "ORIGINATOR_CANCEL" or leg.hanging_up or _continue_on_fail(leg.ch.var("continue_on_fail"), cause):
        return
    bridges.hangup(core, leg, cause)
    raise LegGone


def _continue_on_fail(setting: str, cause: str) -> bool:
    """``continue_on_fail``: ``true``, or a list of cause names or Q.850 numbers."""
    if setting.lower() in ("true", "yes", "on", "1"):
        return True
    wanted = {item.strip().upper() for item in setting.split(",") if item.strip()}
    return cause in wanted or str(Q850.get(cause, -1)) in wanted
