"""A leg that is already bridged, ``uuid_bridge``d again (a transfer, a takeover).

``switch_ivr_uuid_bridge`` moves both legs to ``CS_HIBERNATE``, which ends whatever
they ran -- an earlier bridge included, whose originator then fires
``CHANNEL_UNBRIDGE`` and whose other leg follows its after-bridge plan -- before the
new bridge starts. So, on the real switch and here, every ``CHANNEL_BRIDGE`` is closed
by one ``CHANNEL_UNBRIDGE`` and no leg is ever in two bridges at once; the invariant
is checked against the real captures first, then against the simulator.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from esl.events import Event
from tests.captures import capture_events
from tests.esl.test_simulator_calls import Lab, agent, make_lab, parked

FIRST = "a9e00000-0000-4000-8000-000000000001"
SECOND = "a9e00000-0000-4000-8000-000000000002"
CAPTURES = ("b_park_moh_originate_bridge", "f_supervisor_eavesdrop_whisper_barge",
            "g_state_snapshot_commands", "i_outbound_loopback_transfer_park")


class TwoBridges(AssertionError):
    """A leg was reported in a second bridge, or unbridged from one it was not in."""


def open_bridges(events: Iterable[Event]) -> set[tuple[str, str]]:
    """The bridges (A, B) still open after ``events``.

    Raises:
        TwoBridges: a ``CHANNEL_BRIDGE`` names a leg already bridged, or a
            ``CHANNEL_UNBRIDGE`` closes a bridge that is not open.
    """
    member: dict[str, tuple[str, str]] = {}
    for event in events:
        if event.name not in ("CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE"):
            continue
        pair = (event.get("Bridge-A-Unique-ID"), event.get("Bridge-B-Unique-ID"))
        if event.name == "CHANNEL_BRIDGE":
            already = [uuid for uuid in pair if uuid in member]
            if already:
                raise TwoBridges(f"{already} bridged again at sequence {event.sequence}")
            member.update({uuid: pair for uuid in pair})
        elif any(member.get(uuid) != pair for uuid in pair):
            raise TwoBridges(f"{pair} unbridged but not bridged (sequence {event.sequence})")
        else:
            for uuid in pair:
                del member[uuid]
    return set(member.values())


def count(lab: Lab, name: str, uuid: str) -> int:
    return sum(1 for e in lab.probe.events if e.name == name and e.uuid == uuid)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    yield from make_lab(recordings_dir=str(tmp_path))


@pytest.fixture
def talking(lab: Lab) -> tuple[str, str, str]:
    """A caller bridged (as originator) to the first agent, a second agent parked."""
    caller = parked(lab)
    first = agent(lab, "1000", FIRST)
    second = agent(lab, "1001", SECOND)
    assert lab.api(f"uuid_bridge {caller} {first}") == f"+OK {first}\n"
    lab.wait("CHANNEL_BRIDGE", caller)
    return caller, first, second


# -- the invariant on real data ---------------------------------------------------------------


@pytest.mark.parametrize("name", CAPTURES)
def test_the_real_switch_never_puts_a_leg_in_two_bridges(name: str) -> None:
    assert open_bridges(capture_events(name)) == set()


def test_the_invariant_catches_a_leg_in_two_bridges() -> None:
    def bridge(name: str, a: str, b: str, sequence: int) -> Event:
        return Event(headers={"Event-Name": name, "Bridge-A-Unique-ID": a, "Bridge-B-Unique-ID": b,
                              "Event-Sequence": str(sequence)})

    with pytest.raises(TwoBridges):
        open_bridges([bridge("CHANNEL_BRIDGE", "x", "y", 1), bridge("CHANNEL_BRIDGE", "z", "x", 2)])
    with pytest.raises(TwoBridges):
        open_bridges([bridge("CHANNEL_BRIDGE", "x", "y", 1), bridge("CHANNEL_UNBRIDGE", "z", "x", 2)])


# -- the simulator --------------------------------------------------------------------------


@pytest.mark.parametrize("caller_is_originator", [True, False], ids=["as-originator", "as-second-party"])
def test_a_bridged_originator_bridged_again_leaves_its_first_bridge(
    lab: Lab, talking: tuple[str, str, str], caller_is_originator: bool,
) -> None:
    caller, first, second = talking
    a, b = (caller, second) if caller_is_originator else (second, caller)
    assert lab.api(f"uuid_bridge {a} {b}") == f"+OK {b}\n"
    new = lab.probe.wait_for(lambda e: e.name == "CHANNEL_BRIDGE" and e.get("Bridge-B-Unique-ID") == b)
    old = lab.wait("CHANNEL_UNBRIDGE", caller)
    assert (old.get("Bridge-A-Unique-ID"), old.get("Bridge-B-Unique-ID")) == (caller, first)
    assert old.sequence < new.sequence and new.uuid == a
    assert lab.wait("CHANNEL_HANGUP", first).get("Hangup-Cause") == "NORMAL_CLEARING"
    lab.wait("CHANNEL_DESTROY", first)
    assert open_bridges(lab.probe.events) == {(a, b)}
    lab.switch.hangup(second)
    assert lab.wait("CHANNEL_HANGUP_COMPLETE", caller).get("Hangup-Cause") == "NORMAL_CLEARING"
    lab.wait("CHANNEL_DESTROY", second)
    assert open_bridges(lab.probe.events) == set()
    assert count(lab, "CHANNEL_UNBRIDGE", caller) == (2 if caller_is_originator else 1)


def test_an_old_partner_parked_after_the_bridge_hangs_up_without_touching_the_moved_leg(
    lab: Lab, talking: tuple[str, str, str],
) -> None:
    caller, first, second = talking
    assert lab.api(f"uuid_setvar {first} park_after_bridge true") == "+OK\n"
    assert lab.api(f"uuid_bridge {second} {caller}") == f"+OK {caller}\n"
    lab.wait("CHANNEL_BRIDGE", second)
    lab.wait("CHANNEL_PARK", first, Channel_Call_UUID=first)
    lab.switch.hangup(first)
    lab.wait("CHANNEL_DESTROY", first)
    moved = lab.switch.engine.core.find(caller)
    assert moved is not None and not moved.hanging_up and moved.bridged_to == second
    assert count(lab, "CHANNEL_HANGUP", caller) == 0
    assert open_bridges(lab.probe.events) == {(second, caller)}


def test_a_peer_bridged_elsewhere_ends_its_old_bridge_on_the_originator(
    lab: Lab, talking: tuple[str, str, str],
) -> None:
    caller, first, second = talking
    assert lab.api(f"uuid_bridge {second} {first}") == f"+OK {first}\n"
    new = lab.wait("CHANNEL_BRIDGE", second)
    old = lab.wait("CHANNEL_UNBRIDGE", caller)
    assert (old.get("Bridge-A-Unique-ID"), old.get("Bridge-B-Unique-ID")) == (caller, first)
    assert old.sequence < new.sequence
    assert open_bridges(lab.probe.events) == {(second, first)}


def test_what_a_leg_fires_before_it_leaves_for_the_bridge_says_hibernate_as_on_the_real_switch(
    lab: Lab,
) -> None:
    """Capture b: after ``uuid_bridge`` the caller's CHANNEL_UNPARK and
    EXECUTE_COMPLETE(park) say ``CS_EXECUTE`` / 8 (requested hibernate)."""
    def numbers(events: Iterable[Event], uuid: str) -> list[tuple[str, str, str]]:
        return [(e.name, e.get("Channel-State"), e.get("Channel-State-Number")) for e in events
                if e.uuid == uuid and e.name in ("CHANNEL_UNPARK", "CHANNEL_EXECUTE_COMPLETE")
                and e.get("Application", "park") == "park"]

    capture = capture_events("b_park_moh_originate_bridge")
    caller = parked(lab)
    member = agent(lab, "1000", FIRST)
    lab.api(f"uuid_bridge {caller} {member}")
    lab.wait("CHANNEL_BRIDGE", caller)
    real = numbers(capture, "0f25b5fa-9dd6-4e69-a871-b9d5eca06ec7")
    assert real == [("CHANNEL_UNPARK", "CS_EXECUTE", "8"), ("CHANNEL_EXECUTE_COMPLETE", "CS_EXECUTE", "8")]
    assert numbers(lab.probe.events, member) == real
