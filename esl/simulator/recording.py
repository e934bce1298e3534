"""Session recordings (``uuid_record`` / ``record_session``): a media bug that ends
with a real WAV file on disk.

Start fires ``RECORD_START`` then ``MEDIA_BUG_START`` (function ``session_record``,
target the path); stop -- by the API, the time limit or the hangup -- writes the file
and fires ``RECORD_STOP`` (with ``variable_record_*`` and the quirky
``Record-Completion-Cause: success-maxtime`` the real switch reports even for an API
stop, capture e) then ``MEDIA_BUG_STOP``. Masked stretches are written as silence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from esl.simulator.core import Core, Leg
from esl.simulator.wav import RATE, write_wav

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Recording:
    path: str
    started_us: int
    bug: bool = True
    marks: list[tuple[int, bool]] = field(default_factory=list)  # (since_us, masked)

    def segments(self, end_us: int) -> list[tuple[int, bool]]:
        points = [(self.started_us, False)] + self.marks
        out = []
        for (since, masked), nxt in zip(points, points[1:] + [(end_us, False)], strict=False):
            out.append((max(0, nxt[0] - since) * RATE // 1_000_000, masked))
        return out


def _writable(path: str) -> bool:
    try:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
        return True
    except OSError:
        return False


def start(core: Core, leg: Leg, path: str, limit_s: float = 0.0, *, bug: bool = True) -> bool:
    """Begin recording ``leg`` to ``path``; False if the file cannot be written.

    ``bug=False`` is ``switch_ivr_record_file`` (the ``record`` application,
    voicemail): the channel itself records, so there is no media bug event.
    """
    if path in leg.recordings or not _writable(path):
        return False
    recording = Recording(path=path, started_us=core.now_us(), bug=bug)
    leg.recordings[path] = recording
    if "recording_hook" not in leg.ctx:
        leg.ctx["recording_hook"] = "1"

        def stop_all() -> None:
            stop(core, leg, "all")

        leg.on_hangup.append(stop_all)
    core.fire("RECORD_START", leg, calling="RECORD_START" if bug else "RECORD_FILE_START",
              after=[("Record-File-Path", path)])
    if bug:
        core.fire("MEDIA_BUG_START", leg, calling="BUG_START", before={
            "Media-Bug-Function": "session_record", "Media-Bug-Target": path})
    if limit_s > 0:
        core.later(limit_s, stop, core, leg, path)
    return True


def stop(core: Core, leg: Leg, path: str, cause: str = "success-maxtime") -> bool:
    """Stop one recording (``path``) or every one (``all``); False if none matched."""
    paths = list(leg.recordings) if path == "all" else [path]
    found = False
    for each in paths:
        recording = leg.recordings.pop(each, None)
        if recording is None:
            continue
        found = True
        end = core.now_us()
        segments = recording.segments(end)
        samples = sum(count for count, _ in segments)
        try:
            size = write_wav(recording.path, segments)
        except OSError:
            log.warning("recording not written", extra={"uuid": leg.uuid, "path": recording.path})
            size = 0
        ms = samples * 1000 // RATE
        for name, value in (
            ("record_file_size", str(size)), ("record_samples", str(samples)),
            ("record_seconds", str(ms // 1000)), ("record_ms", str(ms)),
            ("record_completion_cause", cause),
        ):
            leg.ch.set_var(name, value)
        core.fire("RECORD_STOP", leg, calling="RECORD_STOP" if recording.bug else "RECORD_FILE_STOP", after=[
            ("Record-File-Path", recording.path), ("Record-Completion-Cause", cause)])
        if recording.bug:
            core.fire("MEDIA_BUG_STOP", leg, calling="BUG_STOP", before={
                "Media-Bug-Function": "session_record", "Media-Bug-Target": recording.path})
    return found


def mask(core: Core, leg: Leg, path: str, masked: bool) -> bool:
    """``uuid_record <uuid> mask|unmask <path>``; False if not recording there."""
    recording = leg.recordings.get(path)
    if recording is None:
        return False
    recording.marks.append((core.now_us(), masked))
    return True
