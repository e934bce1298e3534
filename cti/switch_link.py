"""Call control's one way to the switch: commands whose failures become
:mod:`cti.call_errors` exceptions an agent can read.

A ``-ERR`` reply becomes :class:`~cti.call_errors.SwitchError` with FreeSWITCH's reason
explained ("that phone is not registered ..."), a lost connection
:class:`~cti.call_errors.SwitchDown`. :meth:`SwitchLink.best_effort` is for clean-up
commands on legs that may already be gone (``uuid_kill`` of a leg that hung up on its
own is not a failure).
"""

from __future__ import annotations

import logging
from typing import Any

import gevent.event

from cti.call_errors import SwitchDown, SwitchError, explain
from esl.client import ESLCommandError, ESLError, ESLNotConnected, ESLTimeout, SwitchSet
from esl.commands import AppCall
from esl.protocol import CommandArgumentError

log = logging.getLogger(__name__)


def _switch_error(exc: ESLError, what: str) -> SwitchError:
    if isinstance(exc, ESLCommandError):
        reason, sentence = explain(exc.reply)
        return SwitchError(f"The switch refused to {what}: {sentence}.", reason=reason)
    if isinstance(exc, ESLNotConnected):
        return SwitchDown("The phone system is not connected right now; try again in a moment.")
    if isinstance(exc, ESLTimeout):
        return SwitchDown("The phone system did not answer in time; try again in a moment.")
    return SwitchError(f"The switch could not {what}.", reason=str(exc))


class SwitchLink:
    def __init__(self, switches: SwitchSet) -> None:
        self.switches = switches

    def api(self, node: str, command: str, *, what: str) -> str:
        """Run an api command; raises SwitchError / SwitchDown with ``what`` in the message."""
        try:
            return self.switches.api(node, command)
        except ESLError as exc:
            raise _switch_error(exc, what) from exc

    def best_effort(self, node: str, command: str) -> bool:
        """Run a clean-up command; a refusal (the leg is gone) is logged, not raised."""
        try:
            self.switches.api(node, command)
        except (ESLError, CommandArgumentError) as exc:
            log.info("call control: clean-up command not applied", extra={"command": command, "why": str(exc)})
            return False
        return True

    def execute(self, node: str, uuid: str, call: AppCall, *, what: str) -> None:
        try:
            self.switches.execute(node, uuid, call)
        except ESLError as exc:
            raise _switch_error(exc, what) from exc

    def originate(self, node: str, command: str, *, timeout: float, what: str) -> gevent.event.AsyncResult:
        """``bgapi originate``: the result settles when the callee answered (``+OK``) or
        the call failed (ESLCommandError); raises now if the switch refused the job."""
        try:
            return self.switches.bgapi_async(node, command, timeout=timeout)
        except ESLError as exc:
            raise _switch_error(exc, what) from exc


def failure_reason(result: gevent.event.AsyncResult) -> tuple[str, str]:
    """(FreeSWITCH reason, sentence) of a failed originate result."""
    exc: Any = result.exception
    if isinstance(exc, ESLCommandError):
        return explain(exc.reply)
    if isinstance(exc, ESLTimeout):
        return "TIMEOUT", "nobody answered in time"
    return "FAILED", "the call could not be placed"


__all__ = ["SwitchLink", "failure_reason"]
