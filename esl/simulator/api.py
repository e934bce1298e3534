"""Call-control API commands with mod_commands' exact reply texts.

Texts checked against mod_commands.c: ``-ERR No such channel!``, ``-ERR Invalid uuid``
(uuid_bridge), ``-ERR invalid uuid`` (uuid_broadcast), ``-ERR Cannot locate session!``
(uuid_record, uuid_send_dtmf), ``-ERR Operation failed`` (uuid_hold), ``_undef_``
(uuid_getvar), ``-ERR No Such Channel!`` (sched_transfer), ``-USAGE: <syntax>`` for
bad arguments.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote

from esl.simulator import bridge as bridges
from esl.simulator import lifecycle, recording
from esl.simulator.apps import schedule_transfer
from esl.simulator.avmd import avmd_start_session, avmd_stop_session
from esl.simulator.behaviours import press
from esl.simulator.commands import Report, command
from esl.simulator.commands import find as _find
from esl.simulator.commands import usage as _usage
from esl.simulator.core import Interrupt, Leg
from esl.simulator.dialstring import ORIGINATE_SYNTAX, DialStringError, parse_originate, split_args
from esl.simulator.originate import Dial, leg_timeout, place_all, run_app, transfer_to
from esl.simulator.render import channel_event
from esl.simulator.routing import transfer_later
from esl.simulator.scheduler import runtime_of
from esl.simulator.templates import Q850

if TYPE_CHECKING:
    from esl.simulator.engine import Engine

_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\r\n #%&+:;<=>?@[\\]^`{|}\"")


# -- calls --------------------------------------------------------------------------


@command("originate")
def originate(engine: Engine, arg: str, report: Report) -> str | None:
    try:
        request = parse_originate(arg)
    except DialStringError as error:
        return f"-ERR {error.cause}\n" if error.cause else _usage(ORIGINATE_SYNTAX)
    core = engine.core
    raw_timeout = request.variables.get("originate_timeout") or request.variables.get("call_timeout")
    try:
        timeout = float(raw_timeout) if raw_timeout else float(request.timeout or 60)
    except ValueError:
        timeout = 60.0
    if request.app:
        after = run_app(core, request.app, request.app_arg)
    else:
        after = transfer_to(core, request.exten, request.dialplan, request.context)
    groups = [[Dial(endpoint=target.endpoint, variables=target.variables,
                    timeout=leg_timeout(target.variables, timeout), cid_num=request.cid_num,
                    cid_name=request.cid_name) for target in group] for group in request.groups]
    handoff = place_all(core, groups, after)
    report(handoff.result.get())
    handoff.ack.set()
    return None


@command("uuid_bridge")
def uuid_bridge(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if len(argv) < 2:
        return _usage("<uuid> <other_uuid>")
    a = _find(engine, argv[0])
    for candidate in argv[1:3]:
        b = _find(engine, candidate)
        if a is not None and b is not None and a is not b and not a.hanging_up and not b.hanging_up:
            bridges.start_uuid_bridge(engine.core, a, b)
            return f"+OK {candidate}\n"
    return "-ERR Invalid uuid\n"


@command("uuid_transfer")
def uuid_transfer(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if len(argv) < 2 or len(argv) > 5:
        return _usage("<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]")
    leg = _find(engine, argv[0])
    if leg is None:
        return "-ERR No such channel!\n"
    flag = argv[1] if argv[1].startswith("-") else ""
    rest = argv[2:] if flag else argv[1:]
    if not rest:
        return _usage("<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]")
    dest = rest[0]
    dialplan = rest[1] if len(rest) > 1 else "XML"
    context = rest[2] if len(rest) > 2 else ""
    targets = [leg]
    partner = _find(engine, leg.bridged_to)
    if flag == "-bleg" and partner is not None:
        targets = [partner]
    elif flag == "-both" and partner is not None:
        targets = [leg, partner]
    for target in targets:
        transfer_later(engine.core, target, dest, dialplan, context)
    return "+OK\n"


@command("uuid_park")
def uuid_park(engine: Engine, arg: str, report: Report) -> str:
    return uuid_transfer(engine, f"{arg.strip()} park inline", report) if arg.strip() else _usage("<uuid>")


@command("uuid_kill")
def uuid_kill(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if not argv:
        return _usage("<uuid> [cause]")
    leg = _find(engine, argv[0])
    if leg is None or leg.hanging_up:
        return "-ERR No such channel!\n"
    cause = argv[1].upper() if len(argv) > 1 else "NORMAL_CLEARING"
    bridges.hangup(engine.core, leg, cause if cause in Q850 else "NORMAL_CLEARING")
    return "+OK\n"


@command("uuid_answer")
def uuid_answer(engine: Engine, arg: str, report: Report) -> str:
    leg = _find(engine, arg.strip())
    if leg is None or leg.hanging_up:
        return "-ERROR\n"
    if leg.ch.answer_state != "answered":
        lifecycle.pre_answer(engine.core, leg)
        lifecycle.answer(engine.core, leg)
    return "+OK\n"


def _private(app: str, data: str) -> Interrupt:
    return Interrupt("private", {"headers": {
        "call-command": "execute", "execute-app-name": app, "execute-app-arg": data,
        "event-lock": "true", "lead-frames": "5",
    }})


@command("uuid_broadcast")
def uuid_broadcast(engine: Engine, arg: str, report: Report) -> str:
    argv = split_args(arg)
    if len(argv) < 2:
        return _usage("<uuid> <path> [aleg|bleg|holdb|both]")
    leg = _find(engine, argv[0])
    if leg is None:
        return "-ERR invalid uuid\n"
    legs = argv[2].lower() if len(argv) > 2 else "aleg"
    app, _, data = argv[1].partition("::")
    app, data = (app, data) if data else ("playback", argv[1])
    targets = []
    if "aleg" in legs or "both" in legs:
        targets.append(leg)
    partner = _find(engine, leg.bridged_to)
    if ("bleg" in legs or "both" in legs) and partner is not None:
        targets.append(partner)
    for target in targets:
        target.push(_private(app, data))
    return "+OK Message sent\n"


@command("uuid_break")
def uuid_break(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if not argv:
        return _usage("<uuid> [all]")
    leg = _find(engine, argv[0])
    if leg is None:
        return "-ERR No such channel!\n"
    if len(argv) > 1 and "all" in argv[1]:
        leg.privates.clear()
    if leg.ctx.get("playing"):
        leg.push(Interrupt("break"))
    return "+OK\n"


@command("uuid_hold")
def uuid_hold(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if not argv:
        return _usage("[off|toggle] <uuid> [<display>]")
    mode = argv[0].lower() if argv[0].lower() in ("off", "toggle") else "on"
    leg = _find(engine, argv[1] if mode != "on" and len(argv) > 1 else argv[0])
    if leg is None or leg.ch.answer_state != "answered":
        return "-ERR Operation failed\n"
    hold = (not leg.held) if mode == "toggle" else mode == "on"
    if hold == leg.held:
        return "-ERR Operation failed\n"
    engine.hold(leg, hold)
    return "+OK Success\n"


@command("uuid_record")
def uuid_record(engine: Engine, arg: str, report: Report) -> str:
    syntax = "<uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]"
    argv = arg.split()
    if len(argv) < 3:
        return _usage(syntax)
    leg = _find(engine, argv[0])
    if leg is None:
        return "-ERR Cannot locate session!\n"
    action, path = argv[1].lower(), argv[2]
    core = engine.core
    if action == "start":
        limit = float(argv[3]) if len(argv) > 3 and argv[3].isdigit() else 0.0
        return "+OK Success\n" if recording.start(core, leg, path, limit) else "-ERR Cannot record session!\n"
    if action == "stop":
        return "+OK Success\n" if recording.stop(core, leg, path) else "-ERR Cannot stop record session!\n"
    if action in ("mask", "unmask"):
        if recording.mask(core, leg, path, action == "mask"):
            return "+OK Success\n"
        return f"-ERR Cannot {action} recording session!\n"
    return _usage(syntax)


@command("uuid_setvar")
def uuid_setvar(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split(" ", 2)
    if len(argv) not in (2, 3) or not argv[0]:
        return _usage("<uuid> <var> [value]")
    leg = _find(engine, argv[0])
    if leg is None:
        return "-ERR No such channel!\n"
    if not argv[1]:
        return "-ERR No variable specified\n"
    leg.ch.set_var(argv[1], argv[2] if len(argv) == 3 else None)
    return "+OK\n"


@command("uuid_setvar_multi")
def uuid_setvar_multi(engine: Engine, arg: str, report: Report) -> str:
    uuid, _, pairs = arg.partition(" ")
    leg = _find(engine, uuid)
    if leg is None:
        return "-ERR No such channel!\n"
    count = 0
    for pair in pairs.split(";"):
        name, _, value = pair.partition("=")
        if name:
            leg.ch.set_var(name, value or None)
            count += 1
    return "+OK\n" if count else _usage("<uuid> <var>=<value>;<var>=<value>...")


def lookup_var(engine: Engine, leg: Leg, name: str) -> str | None:
    """``switch_channel_get_variable``: channel, then caller-profile field, then global."""
    if name in leg.ch.variables:
        return leg.ch.variables[name]
    expanded = lifecycle.expand(engine.core, leg, "${" + name + "}")
    if expanded:
        return expanded
    return engine.core.global_vars.get(name)


@command("uuid_getvar")
def uuid_getvar(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if len(argv) < 2:
        return _usage("<uuid> <var>")
    leg = _find(engine, argv[0])
    if leg is None:
        return "-ERR No such channel!\n"
    value = lookup_var(engine, leg, argv[1])
    return value if value is not None else "_undef_"


@command("uuid_exists")
def uuid_exists(engine: Engine, arg: str, report: Report) -> str:
    return "true" if _find(engine, arg.strip()) is not None else "false"


@command("uuid_send_dtmf")
def uuid_send_dtmf(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if len(argv) < 2:
        return _usage("<uuid> <dtmf_data>")
    if _find(engine, argv[0]) is None:
        return "-ERR Cannot locate session!\n"
    return f"+OK {argv[0]} sent DTMF {argv[1]}.\n"


@command("uuid_recv_dtmf")
def uuid_recv_dtmf(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if len(argv) < 2:
        return _usage("<uuid> <dtmf_data>")
    leg = _find(engine, argv[0])
    if leg is None:
        return "-ERR Cannot locate session!\n"
    engine.core.spawn(press, engine.core, leg, argv[1])
    return f"+OK {argv[0]} received DTMF {argv[1]}.\n"


@command("uuid_dump")
def uuid_dump(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if not argv:
        return _usage("<uuid> [format]")
    leg = _find(engine, argv[0])
    if leg is None:
        return "-ERR No such channel!\n"
    core = engine.core
    headers = channel_event("CHANNEL_DATA", leg.ch, calling="CHANNEL_DATA", identity=core.identity,
                            timestamp_us=core.now_us(), sequence=core.take_sequence())
    fmt = argv[1].lower() if len(argv) > 1 else "txt"
    if fmt == "json":
        return json.dumps(headers, separators=(",", ":"))
    encode = fmt != "plain"
    return "".join(f"{k}: {quote(v, safe=_URL_SAFE) if encode else v}\n" for k, v in headers.items())


@command("hupall")
def hupall(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    cause = argv[0].upper() if argv and argv[0].upper() in Q850 else "MANAGER_REQUEST"
    matches = dict(zip(argv[1::2], argv[2::2], strict=False))
    for leg in list(engine.core.legs.values()):
        if all(leg.ch.var(k) == v for k, v in matches.items()):
            bridges.hangup(engine.core, leg, cause)
    if not matches:
        return f"+OK hangup all channels with cause {cause}\n"
    first = next(iter(matches.items()))
    more = "..." if len(matches) > 1 else ""
    return f"+OK hangup all channels matching [{first[0]}]=[{first[1]}]{more} with cause: {cause}\n"


@command("fsctl")
def fsctl(engine: Engine, arg: str, report: Report) -> str:
    if arg.strip().lower() == "hupall":
        for leg in list(engine.core.legs.values()):
            bridges.hangup(engine.core, leg, "MANAGER_REQUEST")
        return "+OK\n"
    return "-ERR Invalid command\n"


@command("avmd")
def avmd(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    leg = _find(engine, argv[0]) if argv else None
    if leg is None or len(argv) < 2 or argv[1] not in ("start", "stop"):
        return "-ERR, no such session or bad syntax\n"
    (avmd_start_session if argv[1] == "start" else avmd_stop_session)(engine.core, leg)
    return "+OK\n"


@command("sched_del")
def sched_del(engine: Engine, arg: str, report: Report) -> str:
    if not arg.strip():
        return "-ERR Invalid syntax\n"
    return f"+OK Deleted: {engine.core.scheduler.delete(arg.strip())}\n"


@command("sched_transfer")
def sched_transfer(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if len(argv) < 2 or len(argv) > 5:
        return _usage("[+]<time> <uuid> <extension> [<dialplan>] [<context>]")
    if _find(engine, argv[1]) is None:
        return "-ERR No Such Channel!\n"
    schedule_transfer(engine.core, argv[1], runtime_of(argv[0], engine.core.scheduler.now()), argv[2:])
    return "+OK\n"
