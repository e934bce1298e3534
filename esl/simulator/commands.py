"""The API command registry (``api`` / ``bgapi`` / internal ``switch_api_execute``).

A handler gets the engine, the argument string and a ``report`` callback, and either
returns the reply text or -- for ``originate``, whose ``BACKGROUND_JOB`` must be out
before the new leg moves on -- calls ``report`` itself. Handlers live in
:mod:`esl.simulator.api` (calls) and :mod:`esl.simulator.api_info` (state, globals);
an unknown command is answered ``-ERR <cmd> Command not found!``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from esl.simulator.core import Leg

if TYPE_CHECKING:
    from esl.simulator.engine import Engine

Report = Callable[[str], None]
Handler = Callable[["Engine", str, Report], "str | None"]
HANDLERS: dict[str, Handler] = {}
H = TypeVar("H", bound=Handler)


def command(*names: str) -> Callable[[H], H]:
    """Register a handler under one or more command names."""

    def register(fn: H) -> H:
        for name in names:
            HANDLERS[name] = fn
        return fn

    return register


def usage(syntax: str) -> str:
    return f"-USAGE: {syntax}\n"


def find(engine: Engine, uuid: str) -> Leg | None:
    return engine.core.find(uuid) if uuid else None


def execute_internal(engine: Engine, cmd: str, arg: str) -> str:
    """``switch_api_execute`` from inside the switch (``api_before_bridge``...): the
    command runs, then its ``API`` event fires, as for a client's ``api``."""
    replies: list[str] = []
    run(engine, cmd, arg, replies.append)
    engine.core.fire_plain("API", "API", [("API-Command", cmd)] + ([("API-Command-Argument", arg)] if arg else []))
    return replies[0] if replies else ""


def run(engine: Engine, cmd: str, arg: str, report: Report) -> None:
    """Execute one API command and report its text exactly once."""
    done = False

    def once(text: str) -> None:
        nonlocal done
        if not done:
            done = True
            report(text)

    handler = HANDLERS.get(cmd.lower())
    if handler is None:
        once(f"-ERR {cmd} Command not found!\n")
        return
    result = handler(engine, arg, once)
    if result is not None:
        once(result)
