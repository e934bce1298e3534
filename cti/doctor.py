"""``cti doctor``: is this site ready to take calls? A checklist, with a remedy per failure.

It connects with the configured settings, exactly as ``cti serve`` would, and checks
what a site gets wrong when plugging the middleware into a FreeSWITCH: the database
(reachable, migrated), each switch (reachable, ESL password, version, the modules our
configuration needs, our ``cti_inbound`` dialplan extension, the recordings folder
seen from both sides, agent phones registered, events arriving). Every line is one
check; a failed check says what to change. The exit status is 0 only when every
required check passed (warnings, such as an agent phone not registered yet, do not
fail the run).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import gevent.event

from cti.config import ESLNode, Settings
from cti.db import Database, DatabaseUnavailable
from cti.migrations import MigrationError, pending
from esl.protocol import Frame, encode_command
from esl.transport import ESLAuthError, ESLError, ESLTransport

log = logging.getLogger(__name__)

#: The module list a site loads (the one source: what freeswitch-conf/ tells sites to load).
MODULES_FILE = Path(__file__).resolve().parent.parent / "freeswitch-conf" / "cti" / "modules.xml"


def required_modules(path: Path = MODULES_FILE) -> tuple[str, ...]:
    """Every ``<load module="..."/>`` of freeswitch-conf/cti/modules.xml, in order."""
    import xml.etree.ElementTree as ET

    return tuple(load.attrib["module"] for load in ET.parse(path).getroot().iter("load"))


EVENT_WAIT_SECONDS = 5.0
REPLY_TIMEOUT = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    remedy: str = ""
    required: bool = True

    @property
    def mark(self) -> str:
        if self.ok:
            return "ok  "
        return "FAIL" if self.required else "warn"


def _database_checks(settings: Settings) -> tuple[list[Check], Database | None, Any]:
    from cti.services import open_database

    try:
        db, embedded = open_database(settings)
    except DatabaseUnavailable as exc:
        where = "CTI_DATABASE_URL" if settings.database_url else f"the embedded database in {settings.data_dir}"
        return [Check("database reachable", False, str(exc),
                      f"check {where}: PostgreSQL running, host/port/user/password right, pg_hba.conf allows this host")], None, None
    checks = [Check("database reachable", True, "embedded" if embedded else "CTI_DATABASE_URL")]
    try:
        waiting = pending(db)
    except MigrationError as exc:
        checks.append(Check("database migrated", False, str(exc), "restore the matching release or database backup"))
    else:
        checks.append(Check("database migrated", not waiting,
                            f"{len(waiting)} pending: {', '.join(waiting)}" if waiting else "up to date",
                            "run `cti migrate`"))
    return checks, db, embedded


class _Probe:
    """One ESL connection used only by the doctor (no reconnects, bounded waits)."""

    def __init__(self, node: ESLNode) -> None:
        self.node = node
        self.events: list[Frame] = []
        self.event_arrived = gevent.event.Event()
        self.transport = ESLTransport(node.host, node.port, node.password, name=node.name,
                                      on_event=self._on_event, on_close=lambda reason: None,
                                      connect_timeout=REPLY_TIMEOUT)

    def _on_event(self, frame: Frame, received_at: float) -> None:
        self.events.append(frame)
        self.event_arrived.set()

    def command(self, line: str) -> str:
        frame = self.transport.send(encode_command(line), REPLY_TIMEOUT)
        if frame.content_type == "api/response":
            return frame.body.decode("utf-8", errors="replace")
        return frame.headers.get("Reply-Text", "")

    def api(self, command: str) -> str:
        return self.command(f"api {command}")


def _switch_checks(node: ESLNode, settings: Settings, extensions: list[str]) -> Iterator[Check]:
    where = f"switch {node.name} ({node.address})"
    probe = _Probe(node)
    try:
        probe.transport.connect()
    except ESLAuthError as exc:
        yield Check(f"{where}: reachable", True)
        yield Check(f"{where}: ESL password accepted", False, str(exc),
                    "set CTI_ESL's password to the one in cti_secrets/esl_password (event_socket.conf.xml), "
                    "and allow this host in the cti_middleware ACL")
        return
    except ESLError as exc:
        yield Check(f"{where}: reachable", False, str(exc),
                    "check the switch runs, event_socket.conf.xml listen-ip/listen-port, and firewalls")
        return
    yield Check(f"{where}: reachable", True)
    yield Check(f"{where}: ESL password accepted", True)
    try:
        yield from _switch_contents(probe, where, settings, extensions)
    except ESLError as exc:
        yield Check(f"{where}: commands answered", False, str(exc), "the connection dropped: check the switch log")
    finally:
        probe.transport.stop()


def _switch_contents(probe: _Probe, where: str, settings: Settings, extensions: list[str]) -> Iterator[Check]:
    version = probe.api("version").strip()
    yield Check(f"{where}: version", version.startswith("FreeSWITCH Version 1."), version,
                "the middleware is built for FreeSWITCH 1.10 or newer")
    modules = required_modules()
    missing = [m for m in modules if probe.api(f"module_exists {m}").strip() != "true"]
    yield Check(f"{where}: required modules loaded", not missing,
                f"missing: {', '.join(missing)}" if missing else f"{len(modules)} modules",
                "load them in modules.conf.xml (see freeswitch-conf/cti/modules.xml), then restart FreeSWITCH")
    context = probe.api("xml_locate dialplan context name public")
    yield Check(f"{where}: dialplan extension cti_inbound", 'name="cti_inbound"' in context,
                "found in context public" if 'name="cti_inbound"' in context else "not in context public",
                "copy freeswitch-conf/dialplan/public/cti_inbound.xml to conf/dialplan/public/, then `reloadxml`")
    yield from _recordings_check(probe, where, settings)
    yield _registrations_check(probe, where, extensions)
    yield _events_check(probe, where)


def _recordings_check(probe: _Probe, where: str, settings: Settings) -> Iterator[Check]:
    ours = settings.recordings_dir
    theirs = probe.api("global_getvar cti_recordings_dir").strip()
    same = theirs and not theirs.startswith("-ERR") and Path(theirs) == ours
    yield Check(f"{where}: recordings folder is the same on both sides", bool(same),
                f"switch: {theirs or 'unset'}, middleware: {ours}",
                "set cti_recordings_dir in cti_vars.xml and CTI_RECORDINGS_DIR to the same shared folder")
    try:
        ours.mkdir(parents=True, exist_ok=True)
        probe_file = ours / f".cti-doctor-{secrets.token_hex(4)}"
        probe_file.write_text("cti doctor probe\n")
    except OSError as exc:
        yield Check(f"{where}: recordings folder writable by the middleware", False, str(exc),
                    f"give the middleware's user write access to {ours}")
        return
    try:
        yield Check(f"{where}: recordings folder writable by the middleware", True, str(ours))
        seen = probe.api(f"file_exists {probe_file}").strip()
        if "Command not found" in seen:
            yield Check(f"{where}: recordings folder visible to the switch", False,
                        "this switch has no file_exists command; not checked", required=False)
        else:
            yield Check(f"{where}: recordings folder visible to the switch", seen == "true",
                        f"probe file {'seen' if seen == 'true' else 'not seen'} by the switch",
                        f"mount {ours} on the switch at the same path (recordings must be readable by both)")
    finally:
        probe_file.unlink(missing_ok=True)


def _registrations_check(probe: _Probe, where: str, extensions: list[str]) -> Check:
    raw = probe.api("show registrations as json")
    try:
        rows = json.loads(raw).get("rows") or []
    except ValueError:
        rows = []
    registered = {str(r.get("reg_user", "")) for r in rows}
    missing = [e for e in extensions if e and e not in registered]
    detail = (f"{len(extensions) - len(missing)} of {len(extensions)} agent phones registered"
              + (f"; not registered: {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}" if missing else ""))
    return Check(f"{where}: agent phones registered", not missing, detail,
                 "register those phones (softphone account = extension, domain = the switch) or fix "
                 "agents' extensions with `cti provision`", required=False)


def _events_check(probe: _Probe, where: str) -> Check:
    reply = probe.command("event json API HEARTBEAT")
    probe.api("status")
    arrived = probe.event_arrived.wait(EVENT_WAIT_SECONDS)
    return Check(f"{where}: events arriving", bool(arrived) and reply.startswith("+OK"),
                 "API event received" if arrived else f"no event within {EVENT_WAIT_SECONDS:.0f}s ({reply})",
                 "check that the event socket is not filtered and nothing else blocks event delivery")


def run_checks(settings: Settings) -> list[Check]:
    checks, db, embedded = _database_checks(settings)
    extensions: list[str] = []
    if db is not None:
        try:
            extensions = [r["default_extension"] for r in db.fetchall("SELECT default_extension FROM agents ORDER BY code")]
        except DatabaseUnavailable:
            pass
        except Exception as exc:  # an unmigrated database has no agents table yet
            log.info("agent extensions not read", extra={"why": str(exc)})
    try:
        if not settings.esl_nodes:
            checks.append(Check("switches configured", False, "CTI_ESL is not set",
                                "set CTI_ESL=esl://:PASSWORD@HOST:8021 (several: comma separated)"))
        for node in settings.esl_nodes:
            checks.extend(_switch_checks(node, settings, extensions))
    finally:
        if db is not None:
            db.close()
        if embedded is not None:
            embedded.close()
    return checks


def print_report(checks: list[Check], out: TextIO, color: bool = False) -> int:
    """Print the checklist; return the exit status (0 only when nothing required failed)."""
    paint: Callable[[str, str], str] = (
        (lambda text, code: f"\033[{code}m{text}\033[0m") if color else (lambda text, code: text)
    )
    codes = {"ok  ": "32", "FAIL": "31", "warn": "33"}
    for check in checks:
        line = f"[{paint(check.mark, codes[check.mark])}] {check.name}"
        if check.detail:
            line += f": {check.detail}"
        out.write(line + "\n")
        if not check.ok and check.remedy:
            out.write(f"       -> {check.remedy}\n")
    failed = [c for c in checks if c.required and not c.ok]
    out.write(f"\n{len(checks) - len(failed)} of {len(checks)} checks passed" +
              (f"; {len(failed)} must be fixed\n" if failed else "; ready to take calls\n"))
    return 1 if failed else 0


def doctor(settings: Settings, out: TextIO) -> int:
    started = time.monotonic()
    checks = run_checks(settings)
    status = print_report(checks, out, color=out.isatty() and os.environ.get("NO_COLOR") is None)
    log.info("doctor finished", extra={"status": status, "seconds": round(time.monotonic() - started, 2)})
    return status
