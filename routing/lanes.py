"""ESL commands for the routing engine, sent from greenlets of their own.

The engine decides in one greenlet and never waits for the switch there. Commands go
out two ways:

* a :class:`Lane` per call sends that call's commands in order, each after the
  previous one's reply, because order matters on a channel (stop the music, *then*
  play the announcement, *then* bridge);
* :meth:`SwitchCommands.originate` and :meth:`SwitchCommands.api` send at once from a
  fresh greenlet, for commands that must not queue behind a call's media (the agent
  leg's ``originate`` is on the latency path) or that concern another leg.

Outcomes come back to the engine through ``post`` (its work queue), never by calling
into it from these greenlets. Applications run with ``sendmsg`` carry an
``Event-UUID`` so their ``CHANNEL_EXECUTE_COMPLETE`` is recognised by
``Application-UUID``. Arguments built by :mod:`routing.steps` are passed as they are,
but anything that would make FreeSWITCH expand variables (``${``) is refused here.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import gevent

from esl.client import ESLError, ESLNotConnected, ESLTimeout, SwitchSet
from esl.commands import AppCall
from esl.protocol import CommandArgumentError
from routing.steps import Execute

log = logging.getLogger(__name__)

Post = Callable[..., None]
OnError = Callable[[ESLError], None]
#: ``on_result(body, error)``: the BACKGROUND_JOB body, or the error (exactly one is set).
OnResult = Callable[[str | None, ESLError | None], None]


def link_lost(error: ESLError) -> bool:
    """The command failed with the link, not on the switch: it may or may not have been
    carried out, and a resync follows -- which is when to look again (the switch's
    ``-ERR`` and our own refusals are real failures)."""
    return isinstance(error, ESLNotConnected | ESLTimeout)


def app_call(step: Execute) -> AppCall:
    """The ``sendmsg`` form of a routing step.

    Raises:
        CommandArgumentError: the arguments would be expanded by the switch.
    """
    if "${" in step.args or "$${" in step.args:
        raise CommandArgumentError(f"{step.app}: arguments may not contain '${{' (got {step.args!r})")
    return AppCall(step.app, step.args)


class Lane:
    """One call's commands, strictly in order (see the module docstring)."""

    def __init__(self, switches: SwitchSet, node: str, post: Post) -> None:
        self._switches = switches
        self.node = node
        self._post = post
        self._items: deque[tuple[Callable[[], Any], OnError | None]] = deque()
        self._runner: gevent.Greenlet | None = None

    def api(self, command: str, on_error: OnError | None = None) -> None:
        self._push(lambda: self._switches[self.node].api(command), on_error)

    def execute(self, uuid: str, call: AppCall, event_uuid: str = "", on_error: OnError | None = None) -> None:
        self._push(lambda: self._switches[self.node].execute(uuid, call, event_uuid=event_uuid), on_error)

    def _push(self, send: Callable[[], Any], on_error: OnError | None) -> None:
        self._items.append((send, on_error))
        if self._runner is None:
            self._runner = gevent.spawn(self._drain)

    def _drain(self) -> None:
        try:
            while self._items:
                send, on_error = self._items.popleft()
                try:
                    send()
                except (ESLError, CommandArgumentError) as exc:
                    log.info("routing: command failed", extra={"node": self.node, "error": str(exc)})
                    if on_error is not None:
                        self._post(on_error, exc if isinstance(exc, ESLError) else ESLError(str(exc)))
                except Exception:
                    log.exception("routing: command could not be sent", extra={"node": self.node})
                    if on_error is not None:
                        self._post(on_error, ESLError("the command could not be sent"))
        finally:
            self._runner = None


class SwitchCommands:
    """Factory of lanes, plus the commands that do not wait in one."""

    def __init__(self, switches: SwitchSet, post: Post) -> None:
        self.switches = switches
        self._post = post

    def lane(self, node: str) -> Lane:
        return Lane(self.switches, node, self._post)

    def api(self, node: str, command: str, on_error: OnError | None = None) -> None:
        """Send at once from a greenlet of its own: e.g. ``uuid_kill`` of an agent leg.
        A failure is logged, and posted to ``on_error`` if given."""
        gevent.spawn(self._api, node, command, on_error)

    def _api(self, node: str, command: str, on_error: OnError | None) -> None:
        try:
            self.switches[node].api(command)
        except ESLError as exc:
            log.info("routing: command failed", extra={"node": node, "command": command.split(" ", 1)[0],
                                                        "error": str(exc)})
            if on_error is not None:
                self._post(on_error, exc)

    def originate(
        self, node: str, command: str, *, timeout: float, on_result: OnResult,
        on_sent: Callable[[float], None] | None = None,
    ) -> None:
        """``bgapi originate``; ``on_sent(perf_counter)`` runs (posted) once the switch
        accepted the job, ``on_result`` when the BACKGROUND_JOB (or an error) came."""
        gevent.spawn(self._originate, node, command, timeout, on_result, on_sent)

    def _originate(
        self, node: str, command: str, timeout: float, on_result: OnResult, on_sent: Callable[[float], None] | None,
    ) -> None:
        try:
            job = self.switches[node].bgapi_async(command, timeout=timeout)
        except ESLError as exc:
            self._post(on_result, None, exc)
            return
        if on_sent is not None:
            self._post(on_sent, time.perf_counter())
        try:
            body = job.get()
        except ESLError as exc:
            self._post(on_result, None, exc)
            return
        self._post(on_result, str(body), None)
