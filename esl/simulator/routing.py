"""Where a transfer sends a channel: an XML dialplan extension or an inline dialplan.

``uuid_transfer <uuid> <dest> [<dialplan>] [<context>]``, the ``transfer`` application
and ``transfer_after_bridge=<dest>[:<dialplan>[:<context>]]`` all end here. A transfer
gives the channel a new caller profile (``Caller-Profile-Index`` + 1, a
``Caller-Transfer-Source`` / ``variable_transfer_source`` of ``<epoch>:<uuid>:bl_xfer:...``)
and new actions; an ``inline`` transfer keeps the destination it had (capture i).
"""

from __future__ import annotations

from esl.simulator import lifecycle
from esl.simulator.core import Core, Interrupt, Leg
from esl.simulator.dialplan import Action, parse_inline
from esl.simulator.model import CS


def resolve(core: Core, leg: Leg, where: str) -> tuple[Action, ...] | None:
    """``dest[:dialplan[:context]]`` (the ``transfer_after_bridge`` form)."""
    dest, _, rest = where.partition(":")
    dialplan, _, context = rest.partition(":")
    return prepare(core, leg, dest, dialplan or "XML", context)


def prepare(core: Core, leg: Leg, dest: str, dialplan: str = "XML", context: str = "") -> tuple[Action, ...] | None:
    """Update the channel for a transfer and return the actions it will run
    (``None`` when no extension matches: the channel hangs up NO_ROUTE_DESTINATION)."""
    profile = leg.ch.profile
    current_context = profile.context if profile is not None else "default"
    context = context or current_context
    stamp = f"{core.now_us() // 1_000_000}:{core.new_uuid()}:bl_xfer:{dest}/{context}/{dialplan}"
    leg.ch.set_var("transfer_history", stamp)
    leg.ch.set_var("transfer_source", stamp)
    if dialplan == "inline":
        if profile is not None:
            leg.ctx["inline_destination"] = profile.destination_number
            profile.destination_number = dest
        return parse_inline(dest)
    if profile is not None:
        profile.destination_number = dest
        profile.context = context
        profile.profile_index += 1
        profile.profile_created_us = core.now_us()
        profile.transfer_source = stamp
        profile.transfer_us = core.now_us()
    return route(core, leg, context, dest)


def route(core: Core, leg: Leg, context: str, dest: str) -> tuple[Action, ...] | None:
    """The dialplan lookup at ``CS_ROUTING``, with the switch's globals and clock (the
    ``cti_inbound`` conditions read both)."""
    return core.dialplan.route(context, dest, core.global_vars, core.now_us() / 1_000_000)


def transfer_later(core: Core, leg: Leg, dest: str, dialplan: str = "XML", context: str = "") -> None:
    """``switch_ivr_session_transfer``: route now, ask for ``CS_ROUTING`` and let the
    channel's greenlet leave what it runs (``uuid_transfer``, the ``transfer``
    application, a scheduled transfer)."""
    actions = prepare(core, leg, dest, dialplan or "XML", context)
    lifecycle.request(leg, CS.ROUTING)
    leg.push(Interrupt("transfer", {"actions": actions}))
