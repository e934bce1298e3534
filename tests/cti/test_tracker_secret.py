"""Secret digits and routing's IVR steps in the live state.

While ``variable_cti_dtmf_secret`` is true on a leg (routing sets it around a secret
collection), the DTMF of that leg is recorded as a masked key. A real ``DTMF`` event
carries no channel variables (capture d), so the flag is followed from the leg's other
events -- and from ``uuid_dump`` at a resync.

``ivr_step`` with a ``kind``: every step is published, only entered nodes go on the
path, and leaving a node adds its exit, seconds and digits to that node's entry.
"""

from __future__ import annotations

import json

import pytest

from cti.call_media import SECRET_DIGIT
from cti.tracker import LiveState
from esl.events import Event
from tests.captures import capture_events
from tests.cti.test_tracker_support import (
    Channel,
    Clock,
    first_seq,
    inject,
    managed_inbound,
    replay,
)

D_CALLER = "2acbe710-f2c4-4f97-943c-192799bebd90"
SECRET = {"cti_dtmf_secret": "true"}


def _bare(event: Event) -> Event:
    """The event as a real DTMF event is: without the channel's variables."""
    headers = {k: v for k, v in event.headers.items() if not k.startswith("variable_")}
    return Event(headers=headers, node=event.node)


def test_the_digits_of_a_secret_collection_never_reach_the_record() -> None:
    events = managed_inbound(capture_events("d_dtmf_rfc2833"), D_CALLER)
    secret = inject(events, D_CALLER, SECRET, from_seq=first_seq(events, D_CALLER, "CHANNEL_PARK"))
    record = replay(LiveState(), secret).of("call.ended")[0].data

    assert record["digits"] == SECRET_DIGIT * 4
    assert [e["digit"] for e in record["timeline"] if e["type"] == "dtmf"] == [SECRET_DIGIT] * 4
    text = json.dumps(record)
    assert '"digit": "1"' not in text and "123" not in text


def _caller(live: LiveState, clock: Clock) -> Channel:
    cust = Channel(clock, "cust-s", name="sofia/external/+15550100@10.0.0.1", direction="inbound",
                   destination="5550100", variables={"cti_managed": "true", "cti_did": "5550100"})
    live.apply_event(cust.create())
    live.apply_event(cust.answer())
    return cust


def _key(live: LiveState, cust: Channel, digit: str) -> None:
    live.apply_event(_bare(cust.event("DTMF", {"DTMF-Digit": digit})))


@pytest.mark.parametrize(("steps", "digits"), [
    ([("key", "1"), ("on", ""), ("key", "4"), ("key", "2"), ("off", ""), ("key", "9")], "1••9"),
    ([("on", ""), ("key", "7"), ("key", "#")], "••"),
    ([("key", "3"), ("off", ""), ("key", "5")], "35"),
])
def test_dtmf_is_masked_while_the_leg_says_so(steps: list[tuple[str, str]], digits: str) -> None:
    clock, live = Clock(), LiveState()
    cust = _caller(live, clock)
    for what, digit in steps:
        clock.tick()
        if what == "key":
            _key(live, cust, digit)
        else:
            if what == "on":
                cust.variables.update(SECRET)
            else:
                cust.variables.pop("cti_dtmf_secret", None)
            live.apply_event(cust.event("CHANNEL_EXECUTE", {"Application": "play_and_get_digits"}))
    assert live.interaction_snapshot("cust-s")["digits"] == digits.replace("•", SECRET_DIGIT)


def test_a_resync_reads_the_flag_from_uuid_dump() -> None:
    clock, live = Clock(), LiveState()
    cust = _caller(live, clock)
    row = {"Unique-ID": "cust-s", "variable_uuid": "cust-s", "variable_cti_interaction_id": "cust-s",
           "variable_cti_role": "customer", "Answer-State": "answered", **{f"variable_{k}": v for k, v in SECRET.items()}}
    live.reconcile("fs1", [row], clock.tick())
    _key(live, cust, "8")
    assert live.interaction_snapshot("cust-s")["digits"] == SECRET_DIGIT
    assert live.switch_channels("fs1") == frozenset({"cust-s"}) and live.switch_channels("fs2") == frozenset()


def test_ivr_steps_carry_kind_exit_and_seconds_and_only_entered_nodes_make_the_path() -> None:
    clock, live = Clock(), LiveState()
    _caller(live, clock)
    steps = [
        ("welcome", "", {"kind": "node_entered"}),
        ("welcome", "", {"kind": "node_left", "exit": "next", "seconds": 2.5}),
        ("pin", "", {"kind": "node_entered"}),
        ("pin", "", {"kind": "no_input", "attempt": 1}),
        ("pin", "", {"kind": "node_left", "exit": "next", "seconds": 9.0, "digits_length": 4}),
        ("menu", "", {"kind": "node_entered"}),
        ("menu", "2", {"kind": "node_left", "exit": "2", "seconds": 1.0}),
    ]
    published = []
    for node, digits, detail in steps:
        published += live.ivr_step("cust-s", "main", node, digits, now=clock.tick(), **detail)
    assert [(e.data["kind"], e.data["node"], e.data["flow"]) for e in published] == [
        (d["kind"], node, "main") for node, _, d in steps]
    path = live.interaction_snapshot("cust-s")["ivr_path"]
    assert [(p["node"], p.get("exit"), p.get("seconds"), p["digits"], p.get("digits_length")) for p in path] == [
        ("welcome", "next", 2.5, "", None), ("pin", "next", 9.0, "", 4), ("menu", "2", 1.0, "2", None)]
    assert live.ivr_step("cust-s", "main", "old", "1", now=clock.tick())[0].data["digits"] == "1"  # no kind: a visit
    assert live.interaction_snapshot("cust-s")["ivr_path"][-1]["node"] == "old"
