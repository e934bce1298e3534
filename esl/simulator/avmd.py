"""Answering machine detection as mod_avmd reports it: ``CUSTOM`` events
``avmd::start``, ``avmd::beep`` (when the machine's greeting ends in a beep) and
``avmd::stop``, plus ``avmd_detect=TRUE`` on the channel.
"""

from __future__ import annotations

from esl.simulator.behaviours import Customer
from esl.simulator.core import Core, Leg
from esl.simulator.execute import app


def _avmd_event(core: Core, leg: Leg, subclass: str, fields: list[tuple[str, str]]) -> None:
    core.fire_plain("CUSTOM", "AVMD", [("Unique-ID", leg.uuid), ("Call-command", "avmd")] + fields,
                    subclass=subclass)


def _avmd_beep(core: Core, leg: Leg) -> None:
    if leg.hanging_up or leg.destroyed or leg.ctx.get("avmd") != "running":
        return
    leg.ctx["avmd"] = "detected"
    leg.ch.set_var("avmd_detect", "TRUE")
    _avmd_event(core, leg, "avmd::beep", [
        ("Beep-Status", "DETECTED"), ("Frequency", "1000.000000"), ("Frequency-variance", "0.000001"),
        ("Amplitude", "0.500000"), ("Amplitude-variance", "0.000001"), ("Detection-time", "160"),
        ("Detector-resolution", "1"), ("Detector-offset", "0"), ("Detector-index", "0"),
    ])
    avmd_stop_session(core, leg)


def avmd_start_session(core: Core, leg: Leg) -> None:
    """Start beep detection; a simulated answering machine beeps after its greeting."""
    if leg.ctx.get("avmd") == "running":
        return
    leg.ctx["avmd"] = "running"
    leg.ctx["avmd_started"] = str(core.now_us())
    _avmd_event(core, leg, "avmd::start", [("Start-time", leg.ctx["avmd_started"])])
    if "avmd_hook" not in leg.ctx:
        leg.ctx["avmd_hook"] = "1"
        leg.on_hangup.append(lambda: avmd_stop_session(core, leg))
    if isinstance(leg.endpoint, Customer):
        beep_in = leg.endpoint.beep_in(core)
        if beep_in is not None:
            core.later(beep_in, _avmd_beep, core, leg)


def avmd_stop_session(core: Core, leg: Leg) -> None:
    state = leg.ctx.get("avmd")
    if state not in ("running", "detected"):
        return
    leg.ctx["avmd"] = "stopped"
    total = (core.now_us() - int(leg.ctx.get("avmd_started", "0"))) // 1000
    _avmd_event(core, leg, "avmd::stop", [
        ("Beep-Status", "DETECTED" if state == "detected" else "NOTDETECTED"),
        ("Total-time", str(total)),
    ])


@app("avmd_start")
def avmd_start(core: Core, leg: Leg, data: str) -> None:
    avmd_start_session(core, leg)


@app("avmd_stop")
def avmd_stop(core: Core, leg: Leg, data: str) -> None:
    avmd_stop_session(core, leg)

