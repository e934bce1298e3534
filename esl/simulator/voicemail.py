"""mod_voicemail's ``voicemail <profile> <domain> <box>`` for a caller leaving a
message (the fallback of ``dialplan/cti.xml`` ends there).

Answer, the greeting (``vm-person``, the box number, ``vm-not_available``,
``vm-record_message``) and the beep, then record to
``$${storage_dir}/voicemail/<profile>/<domain>/<box>/msg_<uuid>.wav`` until the caller
hangs up, presses ``#`` or 300 s pass; a message of at least a second is announced by
a ``CUSTOM vm::maintenance`` event (``VM-Action: leave-message``). Prompt lengths are
the simulator's usual 2 s; the real module's menus (review, re-record) are not
simulated.
"""

from __future__ import annotations

import os

from esl.simulator.apps import answer
from esl.simulator.core import Core, Leg
from esl.simulator.execute import app
from esl.simulator.media import play, record_file
from esl.simulator.wav import duration

MAX_RECORD_SECONDS = 300.0
MIN_RECORD_SECONDS = 1.0
GREETING = ("voicemail/vm-person.wav", "voicemail/vm-not_available.wav", "voicemail/vm-record_message.wav")
BEEP = "tone_stream://%(1000,0,640)"


@app("voicemail")
def voicemail(core: Core, leg: Leg, data: str) -> None:
    args = data.split()
    if len(args) < 3 or args[0] == "check":
        return
    profile, domain, box = args[:3]
    answer(core, leg, "")
    for prompt in GREETING + (BEEP,):
        if play(core, leg, prompt) == "interrupted":
            return
    folder = os.path.join(core.global_vars.get("storage_dir", ""), "voicemail", profile, domain, box)
    message = core.new_uuid()
    path = os.path.join(folder, f"msg_{message}.wav")
    if not record_file(core, leg, path, MAX_RECORD_SECONDS):
        return
    seconds = duration(path) or 0.0
    if seconds < MIN_RECORD_SECONDS:
        os.remove(path)
        return
    caller = leg.ch.profile
    core.fire_plain("CUSTOM", "VM_MAINTENANCE", (
        ("VM-Action", "leave-message"), ("VM-User", box), ("VM-Domain", domain),
        ("VM-Caller-ID-Name", caller.caller_id_name if caller else ""),
        ("VM-Caller-ID-Number", caller.caller_id_number if caller else ""),
        ("VM-File-Path", path), ("VM-Flags", ""), ("VM-Folder", "inbox"), ("VM-UUID", message),
        ("VM-Message-Len", str(int(seconds))), ("VM-Timestamp", str(core.now_us() // 1_000_000)),
    ), subclass="vm::maintenance")
