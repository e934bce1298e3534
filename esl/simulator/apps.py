"""The basic dialplan applications of mod_dptools: answer, park, echo, set, multiset,
export, transfer, the scheduler's sched_transfer / sched_cancel, hangup ...

Each fires what the real application fires between its ``CHANNEL_EXECUTE`` and
``CHANNEL_EXECUTE_COMPLETE`` and blocks where the real one blocks. Media, supervisor,
bridge, voicemail and answering-machine applications live in their own modules.
"""

from __future__ import annotations

from esl.simulator import bridge as bridges
from esl.simulator import lifecycle
from esl.simulator.core import Core, Leg
from esl.simulator.execute import app, park_loop
from esl.simulator.routing import transfer_later
from esl.simulator.scheduler import runtime_of
from esl.simulator.templates import INBOUND_ANSWERED


@app("answer")
def answer(core: Core, leg: Leg, data: str) -> None:
    if leg.kind == "loopback_b":
        partner = core.find(leg.ctx.get("loopback_partner", ""))
        if partner is not None:
            lifecycle.answer(core, partner)
        lifecycle.answer(core, leg)
        leg.ch.set_var("endpoint_disposition", "ANSWER")
        return
    if leg.ch.answer_state in ("answered", "hangup"):
        return
    lifecycle.pre_answer(core, leg)
    lifecycle.answer(core, leg, answered_vars=INBOUND_ANSWERED[:1])
    lifecycle.set_vars(leg, INBOUND_ANSWERED[1:])


@app("pre_answer")
def pre_answer(core: Core, leg: Leg, data: str) -> None:
    lifecycle.pre_answer(core, leg)


@app("park")
def park(core: Core, leg: Leg, data: str) -> None:
    park_loop(core, leg)


@app("echo")
def echo(core: Core, leg: Leg, data: str) -> None:
    while not leg.interrupted():
        core.wait(leg)


@app("log")
def log_app(core: Core, leg: Leg, data: str) -> None:
    return None


@app("sleep")
def sleep(core: Core, leg: Leg, data: str) -> None:
    try:
        seconds = int(data.strip() or "0") / 1000
    except ValueError:
        seconds = 0.0
    end = core.clock.elapsed() + seconds
    while not leg.interrupted() and core.clock.elapsed() < end:
        core.wait(leg, end - core.clock.elapsed())


def _set(leg: Leg, data: str) -> None:
    name, sep, value = data.partition("=")
    if name.strip():
        leg.ch.set_var(name.strip(), value if sep else None)


@app("set")
def set_app(core: Core, leg: Leg, data: str) -> None:
    _set(leg, data)


@app("export")
def export(core: Core, leg: Leg, data: str) -> None:
    _set(leg, data.removeprefix("nolocal:"))
    leg.ch.set_var("export_vars", data.partition("=")[0].strip())


@app("unset")
def unset(core: Core, leg: Leg, data: str) -> None:
    leg.ch.set_var(data.strip(), None)


@app("hangup")
def hangup(core: Core, leg: Leg, data: str) -> None:
    bridges.hangup(core, leg, data.strip() or "NORMAL_CLEARING")


@app("ring_ready")
def ring_ready(core: Core, leg: Leg, data: str) -> None:
    if leg.ch.answer_state == "ringing":
        core.fire("CHANNEL_PROGRESS", leg, calling="PROGRESS")




@app("multiset")
def multiset(core: Core, leg: Leg, data: str) -> None:
    """``multiset [^^<delim>]a=1<delim>b=2``: the delimiter is a space unless given."""
    delim = " "
    if data.startswith("^^") and len(data) > 2:
        delim, data = data[2], data[3:]
    for item in data.split(delim):
        _set(leg, item)


@app("transfer")
def transfer(core: Core, leg: Leg, data: str) -> None:
    """``transfer <dest> [<dialplan>] [<context>]``."""
    args = data.split()
    if args:
        transfer_later(core, leg, *args[:3])


@app("sched_transfer")
def sched_transfer(core: Core, leg: Leg, data: str) -> None:
    """``sched_transfer [+]<time> <dest> [<dialplan>] [<context>]``; the task id goes
    to ``last_sched_id``."""
    args = data.split()
    if len(args) < 2:
        return
    task_id = schedule_transfer(core, leg.uuid, runtime_of(args[0], core.scheduler.now()), args[1:4])
    leg.ch.set_var("last_sched_id", str(task_id))


def schedule_transfer(core: Core, uuid: str, runtime: int, where: list[str]) -> int:
    """``switch_ivr_schedule_transfer``: group = the channel's uuid."""

    def fire() -> None:
        leg = core.find(uuid)
        if leg is not None and not leg.hanging_up:
            transfer_later(core, leg, *where)

    return core.scheduler.add(runtime, "switch_ivr_schedule_transfer", uuid, fire)


@app("sched_cancel")
def sched_cancel(core: Core, leg: Leg, data: str) -> None:
    """``sched_cancel [<group or id>]``: by default this channel's tasks."""
    core.scheduler.delete(data.strip() or leg.uuid)
