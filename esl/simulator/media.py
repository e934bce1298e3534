"""Media applications: playback, say, play_and_get_digits, record, record_session.

Each fires what the real application fires between its ``CHANNEL_EXECUTE`` and
``CHANNEL_EXECUTE_COMPLETE`` and blocks as long as the real one would. Durations come
from :func:`media_seconds`: a WAV file's real length, a tone script's own timing,
endless streams, 2 s for a prompt the simulator cannot read.
"""

from __future__ import annotations

import os
import re

from esl.simulator import recording
from esl.simulator.behaviours import InboundCaller
from esl.simulator.core import Core, Interrupt, Leg
from esl.simulator.execute import app
from esl.simulator.routing import prepare
from esl.simulator.wav import duration as wav_duration

PROMPT_SECONDS = 2.0


def media_seconds(path: str) -> float | None:
    """How long playing ``path`` takes; ``None`` means until interrupted."""
    lower = path.lower()
    if lower.startswith("local_stream://"):
        return None
    if lower.startswith("tone_stream://"):
        return tone_seconds(lower.split("://", 1)[1])
    if lower.startswith("silence_stream://"):
        ms = lower.split("://", 1)[1].split(",")[0]
        try:
            value = int(ms)
        except ValueError:
            return PROMPT_SECONDS
        return None if value < 0 else value / 1000
    if os.path.isfile(path):
        seconds = wav_duration(path)
        if seconds is not None:
            return seconds
    return PROMPT_SECONDS


def tone_seconds(spec: str) -> float | None:
    """Length of a teletone script: each ``%(on,off,freq...)`` once, ``loops=N``/``L=N`` times.

    ``loops=-1`` never ends. A script without any ``%(...)`` segment counts as a prompt.
    """
    loops = 1
    total_ms = 0
    for part in spec.split(";"):
        part = part.strip()
        if part.startswith(("loops=", "l=")):
            try:
                loops = int(part.split("=", 1)[1])
            except ValueError:
                loops = 1
            continue
        numbers = re.findall(r"-?\d+", part.split("(", 1)[1]) if part.startswith("%(") else []
        if len(numbers) >= 2:
            total_ms += max(0, int(numbers[0])) + max(0, int(numbers[1]))
    if loops < 0:
        return None
    if total_ms == 0:
        return PROMPT_SECONDS
    return total_ms * max(1, loops) / 1000


def _playback_fields(path: str) -> list[tuple[str, str]]:
    fields = []
    for scheme in ("local_stream", "tone_stream"):
        if path.lower().startswith(scheme + ":"):
            fields.append(("Playback-File-Type", scheme))
    fields.append(("Playback-File-Path", path))
    return fields


def play(core: Core, leg: Leg, path: str, *, stop_on_dtmf: bool = False) -> str:
    """Play one file: ``PLAYBACK_START``, wait, ``PLAYBACK_STOP``.

    Returns ``done`` (played to the end), ``break`` (``uuid_break``), ``dtmf`` (a digit
    stopped it) or ``interrupted`` (hangup, transfer, bridge).
    """
    fields = _playback_fields(path)
    core.fire("PLAYBACK_START", leg, calling="PLAYBACK_START", after=fields)
    leg.ctx["playing"] = path
    started = core.clock.elapsed()
    seconds = media_seconds(path)
    outcome = "done"
    while True:
        left = None if seconds is None else seconds - (core.clock.elapsed() - started)
        if left is not None and left <= 0:
            break
        if leg.take("break") is not None:
            outcome = "break"
            break
        if leg.interrupted():
            outcome = "interrupted"
            break
        if stop_on_dtmf and leg.dtmf:
            outcome = "dtmf"
            break
        core.wait(leg, left, dtmf=stop_on_dtmf, breaks=True)
    leg.ctx.pop("playing", None)
    played_ms = int((core.clock.elapsed() - started) * 1000)
    samples = played_ms * 8
    for name, value in (
        ("playback_last_offset_pos", str(max(0, samples - 880))), ("playback_seconds", str(played_ms // 1000)),
        ("playback_ms", str(played_ms)), ("playback_samples", str(samples)),
    ):
        leg.ch.set_var(name, value)
    core.fire("PLAYBACK_STOP", leg, calling="PLAYBACK_STOP",
              after=fields + [("Playback-Status", "break" if outcome == "break" else "done")])
    leg.ch.set_var("current_application_response",
                   "PLAYBACK ERROR" if outcome == "interrupted" else "FILE PLAYED")
    return outcome



@app("playback")
def playback(core: Core, leg: Leg, data: str) -> None:
    play(core, leg, data)



@app("say")
def say(core: Core, leg: Leg, data: str) -> None:
    """``say <lang> <type> <method> [<gender>] <text>``: one prompt per word/digit."""
    text = data.split()[-1] if data.split() else ""
    end = core.clock.elapsed() + 0.6 * max(1, len(text))
    while not leg.interrupted() and core.clock.elapsed() < end:
        core.wait(leg, end - core.clock.elapsed())


@app("play_and_get_digits")
def play_and_get_digits(core: Core, leg: Leg, data: str) -> None:
    """``<min> <max> <tries> <timeout_ms> <terminators> <file> <invalid_file>
    <var_name> <regexp> [<digit_timeout_ms>] [<transfer_on_failure>]``."""
    args = data.split()
    if len(args) < 9:
        return
    try:
        low, high, tries, timeout_ms = (int(a) for a in args[:4])
    except ValueError:
        return
    terminators, prompt, invalid, var_name, pattern = args[4:9]
    digit_timeout = int(args[9]) / 1000 if len(args) > 9 and args[9].isdigit() else timeout_ms / 1000
    for _ in range(max(1, tries)):
        if isinstance(leg.endpoint, InboundCaller):
            leg.endpoint.on_prompt(core, leg)
        if play(core, leg, prompt, stop_on_dtmf=True) == "interrupted":
            return
        digits = _collect(core, leg, high, terminators, timeout_ms / 1000, digit_timeout)
        if digits is None:
            return
        if len(digits) >= low and re.fullmatch(pattern, digits or "") is not None:
            leg.ch.set_var(var_name, digits)
            leg.ch.set_var("read_result", "success")
            return
        leg.ch.set_var(f"{var_name}_invalid", digits or None)
        if invalid and invalid != "silence_stream://250" and play(core, leg, invalid) == "interrupted":
            return
    leg.ch.set_var(var_name, None)
    leg.ch.set_var("read_result", "failure")
    if len(args) > 10:
        target = args[10:13]
        actions = prepare(core, leg, target[0], target[1] if len(target) > 1 else "XML",
                          target[2] if len(target) > 2 else "")
        leg.push(Interrupt("transfer", {"actions": actions}))


def _collect(core: Core, leg: Leg, high: int, terminators: str, first: float, between: float) -> str | None:
    """Digits until ``high`` are in, a terminator, or a timeout; None if interrupted."""
    digits = ""
    deadline = core.clock.elapsed() + first
    while len(digits) < high:
        if leg.interrupted():
            return None
        if leg.dtmf:
            digit = leg.dtmf.popleft()
            if digit in terminators:
                break
            digits += digit
            deadline = core.clock.elapsed() + between
            continue
        left = deadline - core.clock.elapsed()
        if left <= 0:
            break
        core.wait(leg, left, dtmf=True)
    return digits


@app("record")
def record(core: Core, leg: Leg, data: str) -> None:
    """``record <path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]``."""
    args = data.split()
    if not args:
        return
    limit = float(args[1]) if len(args) > 1 and args[1].isdigit() else None
    if not record_file(core, leg, args[0], limit):
        leg.ch.set_var("current_application_response", "FILE NOT FOUND")


def record_file(core: Core, leg: Leg, path: str, limit: float | None) -> bool:
    """``switch_ivr_record_file``: record until ``#``/``*``, the time limit (seconds)
    or an interruption; False if the file cannot be written."""
    if not recording.start(core, leg, path, bug=False):
        return False
    end = None if limit is None else core.clock.elapsed() + limit
    while not leg.interrupted():
        if leg.dtmf and leg.dtmf[0] in "#*":
            leg.dtmf.popleft()
            break
        left = None if end is None else end - core.clock.elapsed()
        if left is not None and left <= 0:
            break
        core.wait(leg, left, dtmf=True)
    recording.stop(core, leg, path)
    return True


@app("record_session")
def record_session(core: Core, leg: Leg, data: str) -> None:
    args = data.split()
    if args:
        limit = float(args[1]) if len(args) > 1 and args[1].isdigit() else 0.0
        recording.start(core, leg, args[0], limit)


@app("stop_record_session")
def stop_record_session(core: Core, leg: Leg, data: str) -> None:
    recording.stop(core, leg, data.strip() or "all")

