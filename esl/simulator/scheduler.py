"""The core scheduler (``switch_scheduler.c``) and what uses it for calls.

A task has an id, a description, a group and a runtime in epoch seconds. Adding one
fires ``ADD_SCHEDULE``; a one-shot task that ran, and every task removed by id or by
group, fires ``DEL_SCHEDULE`` (Task-ID, Task-Desc, Task-Group, Task-Runtime). A
channel's tasks use its uuid as group and die with it (``switch_core_session_destroy``
deletes the group). Users here:

* ``sched_transfer`` (application and API): ``switch_ivr_schedule_transfer`` -- our
  ``cti_inbound`` arms the fallback after ``cti_park_timeout`` with it;
* ``sched_cancel`` (application) and ``sched_del`` (API, which the caller's
  ``api_before_bridge`` runs): delete by group or id.

Times follow the simulated clock, so ``speed`` compresses them like everything else.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gevent

if TYPE_CHECKING:
    from esl.simulator.core import Core

#: Ids below this belong to the core's own tasks (the heartbeat is task 1).
FIRST_TASK_ID = 3


@dataclass(slots=True)
class Task:
    task_id: int
    desc: str
    group: str
    runtime: int
    greenlet: gevent.Greenlet | None = None


class Scheduler:
    """Tasks that run once at an epoch second of simulated time."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.tasks: dict[int, Task] = {}
        self._ids = itertools.count(FIRST_TASK_ID)

    def reset(self) -> None:
        """A restart: the tasks are gone (their greenlets died with the core's)."""
        self.tasks.clear()
        self._ids = itertools.count(FIRST_TASK_ID)

    def now(self) -> int:
        return self.core.now_us() // 1_000_000

    def add(self, runtime: int, desc: str, group: str, fn: Callable[[], None]) -> int:
        """Run ``fn`` at ``runtime`` (epoch seconds); returns the task id."""
        task = Task(next(self._ids), desc, group or "none", runtime)
        self.tasks[task.task_id] = task
        self._fire("ADD_SCHEDULE", "ADD_SCHEDULE", task)
        task.greenlet = self.core.later(max(0.0, runtime - self.now()), self._run, task, fn)
        return task.task_id

    def _run(self, task: Task, fn: Callable[[], None]) -> None:
        if self.tasks.pop(task.task_id, None) is None:
            return
        try:
            fn()
        finally:
            self._fire("DEL_SCHEDULE", "DEL_SCHEDULE_DONE", task)

    def delete_id(self, task_id: int) -> int:
        task = self.tasks.pop(task_id, None)
        if task is None:
            return 0
        self._cancel(task, "DEL_SCHEDULE_ID")
        return 1

    def delete_group(self, group: str) -> int:
        if not group:
            return 0
        doomed = [task for task in self.tasks.values() if task.group == group]
        for task in doomed:
            del self.tasks[task.task_id]
            self._cancel(task, "DEL_SCHEDULE_GROUP")
        return len(doomed)

    def delete(self, what: str) -> int:
        """``sched_del`` / ``sched_cancel``: a number is a task id, anything else a group."""
        if what.isdigit():
            return self.delete_id(int(what)) if int(what) > 0 else 0
        return self.delete_group(what)

    def _cancel(self, task: Task, calling: str) -> None:
        if task.greenlet is not None and task.greenlet is not gevent.getcurrent():
            task.greenlet.kill(block=False)
        self._fire("DEL_SCHEDULE", calling, task)

    def _fire(self, name: str, calling: str, task: Task) -> None:
        self.core.fire_plain(name, calling, (
            ("Task-ID", str(task.task_id)), ("Task-Desc", task.desc), ("Task-Group", task.group),
            ("Task-Runtime", str(task.runtime)),
        ))


def runtime_of(spec: str, now: int) -> int:
    """``+<seconds>`` from now or an absolute epoch second (``atol`` semantics)."""
    text = spec[1:] if spec.startswith("+") else spec
    digits = ""
    for ch in text:
        if not ch.isdigit():
            break
        digits += ch
    value = int(digits) if digits else 0
    return now + value if spec.startswith("+") else value
