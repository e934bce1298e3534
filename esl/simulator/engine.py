"""The simulated switch without its socket: channels, endpoints, the lagging core
database, the heartbeat, and the operations the outside world (tests, the traffic
generators, the API) performs on them.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import gevent

from esl.simulator import (  # noqa: F401  (api, api_info and the apps register themselves)
    api,
    api_info,
    apps,
    avmd,
    commands,
    coredb,
    dial,
    inbound,
    lifecycle,
    media,
    spy,
    texts,
    voicemail,
)
from esl.simulator import bridge as bridges
from esl.simulator.api_info import LOADED_MODULES
from esl.simulator.behaviours import press
from esl.simulator.core import Core, Interrupt, Leg, Publisher
from esl.simulator.dialplan import (
    DEFAULT_DID_PATTERN,
    LEASE_FOREVER,
    LEASE_VARIABLE,
    SITE_DEFAULTS,
    Dialplan,
    preprocess,
)
from esl.simulator.endpoints import VANILLA_USERS, CallerBehaviour, CustomerProfile
from esl.simulator.model import CallSignal

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 20.0
DB_FLUSH_INTERVAL = 1.0
REGISTRATION_SECONDS = 3600
_DB_EVENTS = frozenset({
    "CHANNEL_CREATE", "CHANNEL_STATE", "CHANNEL_CALLSTATE", "CHANNEL_EXECUTE", "CHANNEL_ANSWER",
    "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CALL_UPDATE", "CODEC", "CHANNEL_HANGUP",
    "CHANNEL_HOLD", "CHANNEL_UNHOLD", "CHANNEL_UUID",
})


class Engine:
    """Everything of the fake switch except the Event Socket server."""

    def __init__(
        self,
        *,
        hostname: str = "vm",
        speed: float = 1.0,
        seed: int | None = None,
        vanilla_directory: bool = True,
        did_pattern: str = DEFAULT_DID_PATTERN,
        middleware_lease: bool = False,
        recordings_dir: str | None = None,
        publisher: Publisher | None = None,
    ) -> None:
        self.core = Core(hostname=hostname, speed=speed, seed=seed, publisher=publisher)
        self.core.dialplan = Dialplan(vanilla=vanilla_directory, enforce_lease=middleware_lease)
        self.core.api = lambda cmd, arg: commands.execute_internal(self, cmd, arg)
        recordings = recordings_dir or os.path.join(tempfile.gettempdir(), "fakeswitch", "recordings")
        variables = self.core.global_vars
        variables.update({
            "hostname": hostname, "domain": texts.LOCAL_IP, "domain_name": texts.LOCAL_IP,
            "local_ip_v4": texts.LOCAL_IP, "hold_music": "local_stream://moh",
            "outbound_caller_id_number": "0000000000", "outbound_caller_id_name": "FreeSWITCH",
            "recordings_dir": recordings, "storage_dir": os.path.join(recordings, "storage"),
        })
        for name, value in SITE_DEFAULTS.items():
            variables[name] = preprocess(value, variables)
        variables["cti_did_regex"] = did_pattern
        variables["cti_recordings_dir"] = recordings
        if not middleware_lease:
            variables[LEASE_VARIABLE] = LEASE_FOREVER
        self._initial_globals = dict(variables)
        self.coredb = coredb.CoreDB()
        self.modules: set[str] = set(LOADED_MODULES)
        self.core.hooks.append(self._on_event)
        self._registered_at: dict[str, float] = {}
        self._tasks: list[gevent.Greenlet] = []
        self._started_mono = time.monotonic()
        if vanilla_directory:
            for user in VANILLA_USERS:
                self.register_phone(user)

    # -- running --------------------------------------------------------------------

    def start(self) -> None:
        self._started_mono = time.monotonic()
        self._tasks = [gevent.spawn(self._heartbeat), gevent.spawn(self._flush_db)]

    def stop(self) -> None:
        gevent.killall(self._tasks, block=False)
        self._tasks = []
        self.core.kill_all()

    def restart(self) -> None:
        """Every channel vanishes silently; new Core-UUID, sequences from 1, global
        variables as configured (a lease the middleware set is gone)."""
        self.core.kill_all()
        self.coredb.clear()
        self.core.reset_identity()
        self.core.global_vars.clear()
        self.core.global_vars.update(self._initial_globals)
        self._started_mono = time.monotonic()

    def uptime_us(self) -> int:
        return int((time.monotonic() - self._started_mono) * self.core.clock.speed * 1_000_000)

    def _heartbeat(self) -> None:
        while True:
            self.core.sleep(HEARTBEAT_INTERVAL)
            core = self.core
            uptime = self.uptime_us()
            core.fire_plain("HEARTBEAT", "HEARTBEAT", (
                ("Event-Info", "System Ready"), ("Up-Time", texts.uptime_text(uptime)),
                ("FreeSWITCH-Version", f"{texts.VERSION}~64bit"), ("Uptime-msec", str(uptime // 1000)),
                ("Session-Count", str(len(core.legs))), ("Max-Sessions", "1000"),
                ("Session-Per-Sec", "200"), ("Session-Per-Sec-Last", "0"),
                ("Session-Per-Sec-Max", "0"), ("Session-Per-Sec-FiveMin", "0"),
                ("Session-Since-Startup", str(core.sessions_since_start)),
                ("Session-Peak-Max", str(core.peak_sessions)),
                ("Session-Peak-FiveMin", str(core.peak_sessions)), ("Idle-CPU", "98.000000"),
            ))
            core.fire_plain("RE_SCHEDULE", "RE_SCHEDULE", (
                ("Task-ID", "1"), ("Task-Desc", "heartbeat"), ("Task-Group", "core"),
                ("Task-Runtime", str(core.now_us() // 1_000_000 + int(HEARTBEAT_INTERVAL))),
            ))

    def _flush_db(self) -> None:
        while True:
            self.core.sleep(DB_FLUSH_INTERVAL)
            self.coredb.flush()

    # -- the core database ------------------------------------------------------------

    def _on_event(self, headers: dict[str, str]) -> None:
        name = headers.get("Event-Name", "")
        uuid = headers.get("Unique-ID", "")
        if not uuid:
            return
        if name == "CHANNEL_DESTROY":
            self.coredb.queue_delete(uuid)
            return
        leg = self.core.legs.get(uuid)
        if leg is None:
            return
        if name in ("CHANNEL_CREATE", "CHANNEL_UUID"):
            leg.ctx["in_db"] = "1"
        if name == "CHANNEL_EXECUTE":
            leg.ctx["db_app"] = headers.get("Application", "")
            leg.ctx["db_app_data"] = headers.get("Application-Data", "")
        elif name == "CHANNEL_BRIDGE":
            self.coredb.queue_call(uuid, headers.get("Bridge-B-Unique-ID", ""), str(self.core.now_us() // 1_000_000))
        elif name == "CHANNEL_UNBRIDGE":
            self.coredb.queue_uncall(uuid)
        if name in _DB_EVENTS and leg.ctx.get("in_db"):
            self.coredb.queue_row(self.row(leg))

    def row(self, leg: Leg) -> coredb.Row:
        """The channel's ``channels`` table row as of now."""
        ch, p, ctx = leg.ch, leg.ch.profile, leg.ctx
        if p is not None and "initial_cid_num" not in ctx:
            ctx.update(initial_cid_name=p.caller_id_name, initial_cid_num=p.caller_id_number,
                       initial_ip_addr=p.network_addr, initial_dest=p.destination_number,
                       initial_dialplan=p.dialplan, initial_context=p.context)
        codec = ch.codec or ("", "", "")
        bridged_ever = bool(ch.var("last_bridge_to")) or ch.direction == "outbound"
        values = {
            "uuid": ch.uuid, "direction": ch.direction,
            "created": coredb.local_stamp(ch.created_us), "created_epoch": str(ch.created_us // 1_000_000),
            "name": ch.name, "state": ch.running_state.label,
            "cid_name": p.caller_id_name if p else "", "cid_num": p.caller_id_number if p else "",
            "ip_addr": p.network_addr if p and ch.direction == "inbound" else "",
            "dest": p.destination_number if p else "",
            "application": ctx.get("db_app", ""), "application_data": ctx.get("db_app_data", ""),
            "dialplan": p.dialplan if p else "", "context": p.context if p else "",
            "read_codec": codec[0], "read_rate": codec[1], "read_bit_rate": codec[2],
            "write_codec": codec[0], "write_rate": codec[1], "write_bit_rate": codec[2],
            "hostname": self.core.hostname, "presence_id": ch.presence_id,
            "accountcode": ch.var("accountcode"), "callstate": ch.callstate.value,
            "callee_name": p.callee_id_name if p else "", "callee_num": p.callee_id_number if p else "",
            "callee_direction": ctx.get("callee_direction", ""),
            "call_uuid": (ch.call_uuid or ch.uuid) if bridged_ever else "",
            "sent_callee_name": ch.var("last_sent_callee_id_name"),
            "sent_callee_num": ch.var("last_sent_callee_id_number"),
        }
        for key in ("initial_cid_name", "initial_cid_num", "initial_ip_addr", "initial_dest",
                    "initial_dialplan", "initial_context"):
            values[key] = ctx.get(key, "")
        if values["initial_ip_addr"] and ch.direction == "outbound":
            values["initial_ip_addr"] = ""
        return coredb.channel_row(values)

    def channels(self) -> list[dict[str, Any]]:
        """Live channels (no database lag), with a few simulator extras."""
        out: list[dict[str, Any]] = []
        for leg in list(self.core.legs.values()):
            if leg.destroyed:
                continue
            entry: dict[str, Any] = dict(self.row(leg))
            entry.update(
                answer_state=leg.ch.answer_state, bridged_to=leg.bridged_to, parked=leg.parked,
                held=leg.held, eavesdrop_mode=leg.eavesdrop_mode, kind=leg.kind,
                variables=dict(leg.ch.variables),
            )
            out.append(entry)
        return out

    def registrations(self) -> list[tuple[str, int, int]]:
        directory = self.core.directory
        return [
            (ext, phone.port, int(self._registered_at.get(ext, time.time())) + REGISTRATION_SECONDS)
            for ext, phone in directory.phones.items()
        ]

    # -- endpoints ----------------------------------------------------------------------

    def register_phone(self, extension: str, *, answer_after: float | None = 1.0, behaviour: str = "answer") -> None:
        self.core.directory.register(extension, answer_after=answer_after, behaviour=behaviour)
        self._registered_at[extension] = time.time()

    def unregister_phone(self, extension: str) -> None:
        self.core.directory.unregister(extension)
        self._registered_at.pop(extension, None)

    def set_customer_profile(self, profile: CustomerProfile) -> None:
        self.core.customers = profile

    def place_inbound_call(
        self, *, did: str, caller_number: str, caller_name: str = "",
        dtmf: Sequence[tuple[float, str]] = (), hangup_after: float | None = None,
        behaviour: CallerBehaviour | None = None,
    ) -> str:
        return inbound.place_call(
            self.core, did=did, caller_number=caller_number, caller_name=caller_name, dtmf=dtmf,
            hangup_after=hangup_after, behaviour=behaviour,
        )

    def hangup(self, uuid: str, cause: str = "NORMAL_CLEARING") -> None:
        """The far end of a channel hangs up (a BYE from the caller or the phone)."""
        leg = self.core.find(uuid)
        if leg is None:
            raise KeyError(f"no live channel {uuid}")
        bridges.hangup(self.core, leg, cause, remote=True)

    def press_digits(self, uuid: str, digits: str) -> None:
        """The far end of a channel keys in DTMF (RFC 2833), e.g. a supervisor
        switching eavesdrop modes or an agent in a consultation menu."""
        leg = self.core.find(uuid)
        if leg is None:
            raise KeyError(f"no live channel {uuid}")
        self.core.spawn(press, self.core, leg, digits)

    def hold(self, leg: Leg, on: bool) -> None:
        """Put a channel on hold (the partner hears hold music) or take it off."""
        core = self.core
        leg.held = on
        leg.ch.set_var("hold_status", "held" if on else None)
        lifecycle.callstate(core, leg, CallSignal.HOLD if on else CallSignal.UNHOLD)
        if leg.ch.profile is not None and on:
            leg.ch.profile.last_hold_us = core.now_us()
        core.fire("CHANNEL_HOLD" if on else "CHANNEL_UNHOLD", leg, calling="HOLD")
        partner = core.find(leg.bridged_to)
        if partner is None:
            return
        if on:
            music = leg.ch.var("hold_music") or core.global_vars.get("hold_music", "local_stream://moh")
            partner.push(Interrupt("private", {"headers": {
                "call-command": "execute", "execute-app-name": "playback", "execute-app-arg": music,
                "event-lock": "true", "lead-frames": "5",
            }}))
        elif partner.ctx.get("playing"):
            partner.push(Interrupt("break"))
