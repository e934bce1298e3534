"""Dialled lines on the switch: the record the dialer keeps of each call it placed,
the ``originate`` commands that place them, and the commands a line's effects send.

Every customer leg carries our channel variables (:mod:`cti.channel_vars`): the
interaction id, ``cti_role=customer``, the campaign, the contact and the queue, so the
core (and a restarted middleware, from ``show channels``) knows whose call it is. The
customer is dialled through the carrier gateway (``sofia/gateway/<gateway>/<number>``,
``cti_gateway`` in freeswitch-conf) with the campaign's caller id, and rings for the
campaign's ring time, never less than the rule set's minimum (15 s): that is
``originate_timeout``. ``ignore_early_media`` keeps a carrier's 183 from counting as an
answer. The leg parks once answered; the dialer decides what happens next.

Answering machines: ``avmd_start`` (mod_avmd, part of FreeSWITCH; mod_amd is not) on
the answered leg; its verdict arrives as a ``CUSTOM avmd::beep`` event.

Commands are sent from greenlets of their own (:class:`LineCommands`), never from the
dialer's event greenlet; their failures come back through ``post``.
"""

from __future__ import annotations

import logging
import time
import uuid as uuidlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent

from cti import channel_vars as cv
from cti.agents import Agent
from esl import commands as cmd
from esl.client import ESLCommandError, ESLError, ESLTimeout, SwitchSet
from esl.protocol import CommandArgumentError
from outbound.compliance import AmdResult
from outbound.line_states import LinePhase

log = logging.getLogger(__name__)

DIGIT_VARIABLE = "cti_outbound_digit"
AGENT_RING_SECONDS = 20

Post = Callable[..., None]


@dataclass(eq=False)
class Line:
    """One call placed for a contact (times are epoch seconds)."""

    campaign_id: int
    contact_id: int
    attempt_id: int
    e164: str
    node: str
    queue: str
    interaction_id: str = field(default_factory=lambda: str(uuidlib.uuid4()))
    uuid: str = field(default_factory=lambda: str(uuidlib.uuid4()))
    phase: LinePhase = LinePhase.RINGING
    dialled_at: float = field(default_factory=time.time)
    answered_at: float | None = None
    connected_at: float | None = None
    ended_at: float | None = None
    agent_id: int | None = None
    agent_leg: str | None = None        # a reserved agent's leg (agent-first lines)
    amd: AmdResult | None = None
    deadline_passed: bool = False
    late_message: bool = False
    digit: str = ""
    cause: str = ""
    deadline: gevent.Greenlet | None = None
    digits_event: str = field(default_factory=lambda: str(uuidlib.uuid4()))
    commands: deque[tuple[str, Callable[[], object]]] = field(default_factory=deque)
    sender: gevent.Greenlet | None = None

    @property
    def reserved(self) -> bool:
        return self.agent_leg is not None

    def age(self, now: float) -> float:
        return max(0.0, now - self.dialled_at)


def customer_variables(line: Line, caller_number: str, caller_name: str) -> dict[str, str]:
    variables = {
        cv.INTERACTION_ID: line.interaction_id,
        cv.ROLE: "customer",
        cv.CAMPAIGN_ID: str(line.campaign_id),
        cv.CONTACT_ID: str(line.contact_id),
        "origination_caller_id_number": caller_number,
        "ignore_early_media": "true",
    }
    if line.queue:
        variables[cv.QUEUE] = line.queue
    if caller_name:
        variables["origination_caller_id_name"] = caller_name
    return variables


def customer_originate(line: Line, *, gateway: str, ring_seconds: int, caller_number: str,
                       caller_name: str = "") -> str:
    """``originate {vars}sofia/gateway/<gw>/<e164> &park()`` for the customer leg."""
    return cmd.originate(
        cmd.gateway(gateway, line.e164), uuid=line.uuid, timeout=ring_seconds, app=cmd.park(),
        variables=customer_variables(line, caller_number, caller_name),
    )


def agent_endpoint(agent: Agent) -> cmd.Endpoint:
    """The phone of the agent's shift (hot-desking): the dial string given at login,
    else ``user/<extension>``.

    Raises:
        CommandArgumentError: the agent has no usable phone.
    """
    if agent.dial_string:
        try:
            return cmd.Endpoint(agent.dial_string)
        except CommandArgumentError:
            log.warning("outbound: agent dial string unusable; extension used", extra={"agent": agent.id})
    if not agent.extension:
        raise CommandArgumentError(f"agent {agent.id} has no phone; log the agent in with an extension")
    return cmd.user(agent.extension)


def agent_originate(line: Line, *, endpoint: cmd.Endpoint, caller_number: str) -> str:
    """The reserved agent's leg: ``originate {vars}<the agent's phone> &park()``; it
    hangs up when the bridge to the customer ends."""
    assert line.agent_leg is not None and line.agent_id is not None
    variables = {
        cv.INTERACTION_ID: line.interaction_id,
        cv.ROLE: "agent",
        cv.AGENT_ID: str(line.agent_id),
        cv.CAMPAIGN_ID: str(line.campaign_id),
        cv.CONTACT_ID: str(line.contact_id),
        "origination_caller_id_number": caller_number,
        "ignore_early_media": "true",
        "hangup_after_bridge": "true",
    }
    if line.queue:
        variables[cv.QUEUE] = line.queue
    return cmd.originate(endpoint, uuid=line.agent_leg, timeout=AGENT_RING_SECONDS, app=cmd.park(),
                         variables=variables)


class LineCommands:
    """The ESL side of lines; results and failures come back through ``post``.

    A line's commands leave in order, each once the previous one was answered (a
    lane per line, as routing does per call): ``avmd_start`` must reach the channel
    before the message that follows it, since the switch runs a channel's queued
    applications one after the other. ``originate`` does not wait in the lane.
    """

    def __init__(self, switches: SwitchSet, post: Post) -> None:
        self.switches = switches
        self._post = post

    def originate(self, node: str, command: str, timeout: float, on_result: Callable[[str | None, str], None]) -> None:
        """``bgapi originate``; ``on_result(uuid_or_None, error_cause)`` is posted when it settles."""
        gevent.spawn(self._originate, node, command, timeout, on_result)

    def _originate(self, node: str, command: str, timeout: float,
                   on_result: Callable[[str | None, str], None]) -> None:
        try:
            body = str(self.switches[node].bgapi_async(command, timeout=timeout).get())
        except ESLError as exc:
            self._post(on_result, None, _cause(exc))
            return
        self._post(on_result, body.removeprefix("+OK").strip(), "")

    def _push(self, line: Line, what: str, send: Callable[[], object]) -> None:
        line.commands.append((what, send))
        if line.sender is None:
            line.sender = gevent.spawn(self._drain, line)

    def _drain(self, line: Line) -> None:
        try:
            while line.commands:
                what, send = line.commands.popleft()
                try:
                    send()
                except ESLError as exc:
                    log.info("outbound: command failed", extra={"node": line.node, "call": line.interaction_id,
                                                                 "command": what, "error": str(exc)})
        finally:
            line.sender = None

    def api(self, line: Line, command: str) -> None:
        self._push(line, command.split(" ", 1)[0], lambda: self.switches[line.node].api(command))

    def execute(self, line: Line, uuid: str, calls: list[cmd.AppCall], event_uuid: str = "") -> None:
        """Run applications on a channel in order (``sendmsg``); the first carries ``event_uuid``."""
        for index, call in enumerate(calls):
            self._push(line, call.app, self._sender(line.node, uuid, call, event_uuid if index == 0 else ""))

    def _sender(self, node: str, uuid: str, call: cmd.AppCall, event_uuid: str) -> Callable[[], object]:
        def send() -> None:
            self.switches[node].execute(uuid, call, event_uuid=event_uuid)

        return send

    # -- what a line's effects send ------------------------------------------------------

    def start_amd(self, line: Line) -> None:
        self.execute(line, line.uuid, [cmd.AppCall("avmd_start")])

    def play_then_hang_up(self, line: Line, media: str) -> None:
        """Replace whatever the leg does (park, queue music) with the message, then hang up."""
        self.api(line, cmd.uuid_transfer_inline(line.uuid, [cmd.playback(media), cmd.hangup()]))

    def ask_digit(self, line: Line, media: str) -> None:
        """The agentless message as a prompt for one digit (kept in :data:`DIGIT_VARIABLE`).

        The dialer hangs up when the prompt completes (not a queued ``hangup``, which
        would still run after an answering machine's message replaced the prompt)."""
        prompt = cmd.play_and_get_digits(min_digits=1, max_digits=1, tries=1, timeout_ms=5000, prompt=media,
                                         invalid_prompt="silence_stream://250", variable=DIGIT_VARIABLE,
                                         digits_regex="\\d")
        self.execute(line, line.uuid, [prompt], event_uuid=line.digits_event)

    def hang_up(self, line: Line, uuid: str | None = None, cause: str = "NORMAL_CLEARING") -> None:
        self.api(line, cmd.uuid_kill(uuid or line.uuid, cause))

    def bridge_out(self, line: Line, *, gateway: str, ring_seconds: int, caller_number: str,
                   caller_name: str = "") -> None:
        """The reserved agent's leg runs ``bridge`` to the customer (our variables on the new leg)."""
        assert line.agent_leg is not None
        block = cmd.variables_block({
            "origination_uuid": line.uuid, "originate_timeout": str(ring_seconds),
            **customer_variables(line, caller_number, caller_name),
        })
        target = cmd.gateway(gateway, line.e164)
        self.execute(line, line.agent_leg, [cmd.AppCall("bridge", f"{block}{target}")])


def _cause(exc: ESLError) -> str:
    """The hangup cause of a failed originate (``-ERR NO_ANSWER`` -> ``NO_ANSWER``); a
    switch that never answered the job is a timer expiry, a lost link a network fault."""
    if isinstance(exc, ESLCommandError):
        words = exc.reply.strip().removeprefix("-ERR").split()
        return words[0] if words else "NORMAL_TEMPORARY_FAILURE"
    if isinstance(exc, ESLTimeout):
        return "RECOVERY_ON_TIMER_EXPIRE"
    return "NETWORK_OUT_OF_ORDER"
