"""State and configuration API commands: ``show``, ``status``, ``version``,
``uptime``, ``sofia status``, ``module_exists``, global variables, ``eval``,
``xml_locate``, ``strepoch``... laid out as the real switch prints them (capture g).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from esl.simulator import coredb, lifecycle, texts
from esl.simulator.commands import Report, command
from esl.simulator.commands import find as _find
from esl.simulator.commands import usage as _usage

if TYPE_CHECKING:
    from esl.simulator.engine import Engine

#: What a switch set up with freeswitch-conf/ has loaded (vanilla plus mod_avmd and
#: mod_say_zh); :meth:`FakeSwitch.unload_module` takes one away for tests.
LOADED_MODULES = frozenset({
    "mod_event_socket", "mod_sofia", "mod_commands", "mod_dptools", "mod_dialplan_xml",
    "mod_dialplan_inline", "mod_loopback", "mod_local_stream", "mod_tone_stream", "mod_sndfile",
    "mod_native_file", "mod_avmd", "mod_say_en", "mod_say_zh", "mod_voicemail", "mod_console",
    "mod_logfile", "mod_db", "mod_hash", "mod_expr", "mod_spandsp", "mod_g723_1", "mod_g729", "mod_opus",
})


@command("show")
def show(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if not argv:
        return _usage("codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status")
    what = argv[0].lower()
    fmt = argv[argv.index("as") + 1].lower() if "as" in argv[:-1] else "delim"
    if fmt not in ("json", "delim", "csv"):
        return f"-ERR Cannot find format {fmt}\n"
    fmt = "json" if fmt == "json" else "delim"
    db = engine.coredb
    if what == "channels":
        rows = db.channels()
        if len(argv) > 2 and argv[1].lower() == "like":
            rows = [r for r in rows if any(argv[2] in r[c] for c in ("uuid", "name", "cid_name", "cid_num"))]
        if len(argv) > 1 and argv[1].lower() == "count":
            return coredb.render_count(len(rows))
        return coredb.render(rows, fmt)
    if what == "calls":
        rows = db.basic_calls()
        if len(argv) > 1 and argv[1].lower() == "count":
            return coredb.render_count(len(rows))
        return coredb.render(rows, fmt)
    if what == "detailed_calls":
        return coredb.render(db.basic_calls(detailed=True), fmt)
    if what == "bridged_calls":
        return coredb.render(db.basic_calls(bridged_only=True), fmt)
    if what == "detailed_bridged_calls":
        return coredb.render(db.basic_calls(detailed=True, bridged_only=True), fmt)
    if what == "registrations":
        return coredb.render(texts.registration_rows(engine.registrations(), engine.core.hostname), fmt)
    if what == "status":
        return status(engine, "", report)
    return _usage("channels|calls|detailed_calls|bridged_calls|detailed_bridged_calls|registrations")


@command("status")
def status(engine: Engine, arg: str, report: Report) -> str:
    core = engine.core
    return texts.status(engine.uptime_us(), core.sessions_since_start, len(core.legs), core.peak_sessions)


@command("version")
def version(engine: Engine, arg: str, report: Report) -> str:
    return texts.version()


@command("uptime")
def uptime(engine: Engine, arg: str, report: Report) -> str:
    scale = {"": 1_000_000, "s": 1_000_000, "seconds": 1_000_000, "ms": 1000, "milliseconds": 1000,
             "us": 1, "microseconds": 1, "m": 60_000_000, "minutes": 60_000_000}.get(arg.strip().lower())
    if scale is None:
        return _usage("[us|ms|s|m|h|d|microseconds|milliseconds|seconds|minutes|hours|days]")
    return f"{engine.uptime_us() // scale}\n"


@command("sofia")
def sofia(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    names = [leg.ch.name for leg in engine.core.legs.values()]
    external = sum(name.startswith("sofia/external/") for name in names)
    internal = sum(name.startswith("sofia/internal/") for name in names)
    if argv == ["status"]:
        return texts.sofia_status(external, internal)
    if argv == ["xmlstatus"]:
        return texts.sofia_xmlstatus(external, internal)
    if len(argv) >= 4 and argv[:2] == ["status", "profile"] and argv[3] == "reg":
        if argv[2] != "internal":
            return "\nRegistrations:\n" + texts.RULE + "\nTotal items returned: 0\n" + texts.RULE + "\n"
        return texts.sofia_registrations(engine.registrations(), engine.core.hostname, time.time())
    return "-ERR Usage: sofia status|xmlstatus|status profile <name> reg\n"


@command("module_exists")
def module_exists(engine: Engine, arg: str, report: Report) -> str:
    return "true" if arg.strip() in engine.modules else "false"


@command("file_exists")
def file_exists(engine: Engine, arg: str, report: Report) -> str:
    """mod_commands' ``file_exists <path>``: ``true`` or ``false`` (the switch's view of
    its file system; the simulator shares the host's)."""
    return "true" if arg.strip() and os.path.isfile(arg.strip()) else "false"


@command("global_getvar")
def global_getvar(engine: Engine, arg: str, report: Report) -> str:
    variables = engine.core.global_vars
    if not arg.strip():
        return "".join(f"{k}={v}\n" for k, v in variables.items())
    return variables.get(arg.strip(), "")


@command("global_setvar")
def global_setvar(engine: Engine, arg: str, report: Report) -> str:
    name, sep, value = arg.partition("=")
    if not name.strip():
        return _usage("<var>=<value> [=<value2>]")
    if value:
        engine.core.global_vars[name.strip()] = value.strip()
    else:
        engine.core.global_vars.pop(name.strip(), None)
    return "+OK"


@command("eval")
def eval_(engine: Engine, arg: str, report: Report) -> str:
    leg = None
    if arg.startswith("uuid:"):
        uuid, _, arg = arg[5:].partition(" ")
        leg = _find(engine, uuid)
    return lifecycle.expand(engine.core, leg, arg)


@command("reloadxml")
def reloadxml(engine: Engine, arg: str, report: Report) -> str:
    return "+OK [Success]\n"


@command("xml_locate")
def xml_locate(engine: Engine, arg: str, report: Report) -> str:
    argv = arg.split()
    if len(argv) != 4:
        return "-Error bad args\n"
    section, tag, attr, value = argv
    if section == "dialplan" and tag == "context" and attr == "name":
        found = texts.context_xml(value, engine.core.global_vars)
        if found is not None:
            return found
    return "can't find anything\n"


@command("strepoch")
def strepoch(engine: Engine, arg: str, report: Report) -> str:
    """Now (or ``YYYY-MM-DD HH:MM:SS`` local time) in epoch seconds, on the switch's clock."""
    if not arg.strip():
        return str(engine.core.now_us() // 1_000_000)
    try:
        return str(int(time.mktime(time.strptime(arg.strip(), "%Y-%m-%d %H:%M:%S"))))
    except ValueError:
        return "0"


@command("create_uuid")
def create_uuid(engine: Engine, arg: str, report: Report) -> str:
    return engine.core.new_uuid()


@command("hostname")
def hostname(engine: Engine, arg: str, report: Report) -> str:
    return engine.core.hostname
