"""Every exception routing raises, in one tree.

.. code-block:: text

    RoutingError                      base of everything below
    ├── QueueConfigError             queue rules in ``queues.settings`` are invalid
    ├── CalendarError                a calendar definition is invalid
    ├── FlowError                    an IVR flow definition is invalid (lists every problem)
    ├── IvrStateError                ``ivr.resume`` got a result that does not fit the step
    └── RouterStateError             the engine told the router something impossible
                                     (unknown call or agent, answer by an agent not ringing)

The first three are a user's mistake in configuration: their message names the thing
(queue, calendar, flow and node) and the field, and says what to change. The last two
are internal surprises: the shell logs them with the call and agent ids, counts them,
and carries on.
"""

from __future__ import annotations

from dataclasses import dataclass


class RoutingError(Exception):
    """Base class of every routing error."""


class QueueConfigError(RoutingError, ValueError):
    """A queue's rules are invalid; ``queue`` and ``field`` say where."""

    def __init__(self, queue: str, field: str, problem: str) -> None:
        self.queue = queue
        self.field = field
        self.problem = problem
        super().__init__(f"queue {queue!r}, field {field!r}: {problem}")


class CalendarError(RoutingError, ValueError):
    """A calendar definition is invalid; ``calendar`` and ``field`` say where."""

    def __init__(self, calendar: str, field: str, problem: str) -> None:
        self.calendar = calendar
        self.field = field
        self.problem = problem
        super().__init__(f"calendar {calendar!r}, field {field!r}: {problem}")


@dataclass(frozen=True, slots=True)
class FlowProblem:
    """One problem in a flow; ``node`` is ``""`` for flow-level fields."""

    node: str
    message: str

    def __str__(self) -> str:
        return f"node {self.node!r}: {self.message}" if self.node else self.message


class FlowError(RoutingError, ValueError):
    """A flow definition is invalid. ``problems`` lists all of them, not just the first,
    so one edit-and-reload cycle fixes everything."""

    def __init__(self, flow: str, problems: list[FlowProblem]) -> None:
        self.flow = flow
        self.problems = tuple(problems)
        lines = "; ".join(str(p) for p in problems)
        super().__init__(f"flow {flow!r}: {lines}")


class IvrStateError(RoutingError):
    """``resume`` was called with a result the current step cannot accept."""


class RouterStateError(RoutingError):
    """The router was told something inconsistent with what it knows."""
