"""Carrying out a line's effects (:class:`outbound.line_states.LineEffect`).

Called in the dialer's event worker; nothing here waits: switch commands leave from
greenlets of their own (:class:`outbound.lines.LineCommands`), routing decides in its
own worker. Queueing an answered customer for an agent goes through the routing
engine (the campaign's queue, at the campaign's priority, with its skills), so
outbound calls and inbound calls share the agents under one set of rules.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from outbound.campaign_run import CampaignRun
from outbound.line_states import LineEffect
from outbound.lines import Line
from outbound.pacing import LiveCallFate

if TYPE_CHECKING:
    from outbound.dialer import Dialer

log = logging.getLogger(__name__)

F = LineEffect


def run_effect(dialer: Dialer, run: CampaignRun, line: Line, effect: LineEffect) -> None:
    commands = dialer.commands
    assert commands is not None
    config = run.config
    messages = config.runtime.messages
    if effect is F.DIAL_CUSTOMER:
        commands.bridge_out(line, gateway=dialer.gateway, ring_seconds=dialer.ring_seconds(config),
                            caller_number=config.caller_id_number, caller_name=config.caller_id_name)
    elif effect is F.QUEUE_FOR_AGENT:
        queue_for_agent(dialer, run, line)
    elif effect is F.ARM_DEADLINE:
        dialer.events.arm_deadline(run, line)
    elif effect is F.CANCEL_DEADLINE:
        if line.deadline is not None:
            line.deadline.kill(block=False)
            line.deadline = None
    elif effect is F.LEAVE_QUEUE:
        leave_queue(dialer, line, "machine" if line.amd is not None else "abandon_message")
    elif effect is F.PLAY_ABANDON_MESSAGE:
        commands.play_then_hang_up(line, messages.abandon)
    elif effect is F.PLAY_AGENTLESS:
        if config.rules.collect_digit:
            commands.ask_digit(line, messages.agentless)
        else:
            commands.play_then_hang_up(line, messages.agentless)
    elif effect is F.PLAY_MACHINE_MESSAGE:
        commands.play_then_hang_up(line, messages.machine)
    elif effect is F.HANG_UP:
        commands.hang_up(line)
    elif effect is F.COUNT_ABANDONED:
        run.pacing.observe(LiveCallFate(abandoned=True))
    elif effect is F.COUNT_LATE_MESSAGE:
        line.late_message = True
        log.error("outbound: abandon message started after the deadline",
                  extra={"call": line.interaction_id, "campaign": line.campaign_id})
    elif effect is F.COUNT_CONNECTED:
        dialer.events.connected(run, line)


def queue_for_agent(dialer: Dialer, run: CampaignRun, line: Line) -> None:
    """Hand the answered customer to routing: the campaign's queue, its priority and skills."""
    routing = dialer.routing
    if routing is None:
        log.error("outbound: no routing engine; the call waits for its abandon deadline",
                  extra={"call": line.interaction_id})
        return
    config = run.config
    routing.take_outbound(line.interaction_id, line.uuid, line.node, config.queue,
                          priority=config.runtime.priority, skills=dict(config.runtime.skills),
                          caller_number=line.e164)


def leave_queue(dialer: Dialer, line: Line, outcome: str) -> None:
    """Routing stops looking for an agent (the message plays or the machine is handled)."""
    if dialer.routing is not None:
        dialer.routing.release_outbound(line.interaction_id, outcome)
