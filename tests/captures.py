"""Access to the real FreeSWITCH 1.11 captures in ``tests/fixtures/freeswitch``.

They are copied from ``../shared/fixtures/freeswitch`` (see its README.md) so that a
fresh clone tests against them without anything outside the repository.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from esl.events import Event

CAPTURES = Path(__file__).resolve().parent / "fixtures" / "freeswitch"

SCENARIOS = (
    "a_inbound_park",
    "b_park_moh_originate_bridge",
    "c_agent_no_answer",
    "d_dtmf_rfc2833",
    "e_record",
    "f_supervisor_eavesdrop_whisper_barge",
    "g_state_snapshot_commands",
    "h_callcenter_queue",
    "i_outbound_loopback_transfer_park",
)


@cache
def load_capture(name: str) -> tuple[dict[str, Any], ...]:
    """Every record of ``<name>.jsonl`` in order (frames in/out and notes)."""
    path = CAPTURES / f"{name}.jsonl"
    with path.open(encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f if line.strip())


def capture_events(name: str, node: str = "fs1") -> list[Event]:
    """The ``text/event-json`` frames of a capture decoded as :class:`Event`, in order."""
    events = []
    for record in load_capture(name):
        if record["direction"] != "in" or record["headers"].get("Content-Type") != "text/event-json":
            continue
        data = json.loads(record["body"])
        body = data.pop("_body", "")
        events.append(Event(headers=data, body=body, node=node, received_at=record["recv_ts"]))
    return events


def capture_commands(name: str) -> list[str]:
    """The commands the capture client sent, in order (auth password masked)."""
    return [r["command"] for r in load_capture(name) if r["direction"] == "out"]


def raw_plain_wire() -> bytes:
    """The raw ``event plain ALL`` bytes of scenario b (``b_plain_wire.txt``)."""
    return (CAPTURES / "b_plain_wire.txt").read_bytes()
