"""Reading a leg's identity from event headers (cti.legs), table-driven on real values."""

from __future__ import annotations

import pytest

from cti.interaction import LegRole, SupervisorMode
from cti.legs import (
    link_candidates,
    linked_role,
    micros,
    partner_identity,
    read_identity,
    sofia_user,
    supervisor_mode,
    transfer_destination,
)
from tests.captures import capture_events


@pytest.mark.parametrize(("channel", "user"), [
    ("sofia/internal/1001@127.0.0.1:5090", "1001"),
    ("sofia/external/+15550001@127.0.0.1:5201", "+15550001"),
    ("sofia/gateway/carrier/+15550111", ""),
    ("loopback/9196-a", ""),
    ("", ""),
])
def test_sofia_user(channel: str, user: str) -> None:
    assert sofia_user(channel) == user


@pytest.mark.parametrize(("source", "destination"), [
    # capture i: uuid_transfer <cust> park inline
    ("1795349003:f033f3e6-6f88-4737-9d36-598b79d97297:bl_xfer:park/default/inline", "park"),
    ("1795349003:f033f3e6-6f88-4737-9d36-598b79d97297:bl_xfer:2000/default/XML", "2000"),
    # capture b: uuid_bridge writes the same variable, but it is not a transfer
    ("1795348778:c2bf494d-4d8a-47ea-80fb-bfa78060bcdc:uuid_br:0f25b5fa-9dd6-4e69-a871-b9d5eca06ec7", None),
    ("garbage", None),
])
def test_transfer_destination(source: str, destination: str | None) -> None:
    assert transfer_destination(source) == destination


@pytest.mark.parametrize(("variables", "application", "mode"), [
    ({}, "eavesdrop", SupervisorMode.LISTEN),
    ({"variable_eavesdrop_whisper_aleg": "true"}, "eavesdrop", SupervisorMode.WHISPER),
    ({"variable_eavesdrop_bridge_aleg": "true", "variable_eavesdrop_bridge_bleg": "true"}, "eavesdrop",
     SupervisorMode.FULL_BARGE),
    ({}, "three_way", SupervisorMode.BARGE),
    ({"variable_cti_supervisor_mode": "whisper"}, "three_way", SupervisorMode.WHISPER),
])
def test_supervisor_mode(variables: dict[str, str], application: str, mode: SupervisorMode) -> None:
    assert supervisor_mode(variables, application) is mode


def test_micros() -> None:
    assert micros("1795348778918082") == 1795348778.918082
    assert micros("0") is None and micros("") is None and micros("x") is None


def test_identity_of_the_real_agent_leg_and_its_links() -> None:
    events = capture_events("b_park_moh_originate_bridge")
    create = next(e for e in events if e.name == "CHANNEL_CREATE" and e.uuid.startswith("0f25b5fa"))
    who = read_identity(create.headers)
    assert (who.extension, who.call_direction, who.channel_name) == ("1001", "outbound", "sofia/internal/1001@127.0.0.1:5090")
    assert who.created_at == 1795348777.918095 and who.answered_at is None and not who.tagged
    hangup = next(e for e in events if e.name == "CHANNEL_HANGUP" and e.uuid.startswith("0f25b5fa"))
    assert link_candidates(hangup.headers) == ["97511e48-b3d4-4e10-9b51-71f8be74f0a2"]
    bridge = next(e for e in events if e.name == "CHANNEL_BRIDGE")
    other = partner_identity(bridge.headers, "0f25b5fa-9dd6-4e69-a871-b9d5eca06ec7")
    assert (other.extension, other.destination, other.answered_at) == ("1001", "1001", 1795348778.918082)


def test_loopback_b_leg_is_recognised() -> None:
    events = capture_events("i_outbound_loopback_transfer_park")
    b_create = next(e for e in events if e.name == "CHANNEL_CREATE" and e.get("Channel-Name") == "loopback/9196-b")
    assert read_identity(b_create.headers).loopback_b


@pytest.mark.parametrize(("anchor", "agent", "role"), [
    (LegRole.CUSTOMER, 7, LegRole.AGENT),
    (LegRole.CUSTOMER, None, LegRole.TRANSFER),
    (LegRole.AGENT, 7, LegRole.CONSULT),
    (LegRole.AGENT, None, LegRole.CONSULT),
])
def test_linked_role(anchor: LegRole, agent: int | None, role: LegRole) -> None:
    assert linked_role(anchor, agent) is role
