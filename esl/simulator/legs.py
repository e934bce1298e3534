"""Building new channels: their names, caller profiles and first variables.

Names and profile values follow the captures: ``sofia/external/<cid>@<ip>:<port>``
for a SIP caller (context ``public``, source ``mod_sofia``),
``sofia/internal/<user>@<ip>:<port>`` for a phone (caller id ``0000000000``, callee
``Outbound Call`` / the user, source ``src/switch_ivr_originate.c``, context
``default``), ``sofia/external/<number>`` for a gateway call, and
``loopback/<ext>-a`` / ``-b`` for mod_loopback (dialplan ``xml`` in lower case and a
callee number equal to the context -- real quirks).
"""

from __future__ import annotations

from esl.simulator.core import Core, Leg
from esl.simulator.model import CallerProfile, Channel

LOCAL_IP = "127.0.0.1"
DEFAULT_CID_NUMBER = "0000000000"
_TAG_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _tag(core: Core, n: int = 13) -> str:
    return "".join(core.rng.choice(_TAG_CHARS) for _ in range(n))


def base_context(core: Core, uuid: str, name: str) -> dict[str, str]:
    """Template fields every leg has."""
    session = core.next_session_id()
    return {
        "uuid": uuid,
        "name": name,
        "session_id": str(session),
        "created_us": str(core.now_us()),
        "local_ip": LOCAL_IP,
        "local_port": "5060",
        "remote_ip": LOCAL_IP,
        "remote_port": "5090",
        "local_media_port": str(core.rng.randrange(16384, 32768, 2)),
        "remote_media_port": str(core.rng.randrange(7000, 9000, 2)),
        "ssrc": str(core.rng.getrandbits(32)),
        "sdp_session": str(1795300000 + core.rng.randrange(100000)),
        "sdp_version": str(1795300001 + core.rng.randrange(100000)),
        "sip_call_id": core.new_uuid(),
        "from_tag": _tag(core),
        "to_tag": _tag(core),
        "via_branch": _tag(core),
        "cseq": str(core.rng.randrange(1, 2**27)),
        "call_seq": str(session),
    }


def _profile(core: Core, leg_uuid: str, name: str, **fields: str) -> CallerProfile:
    now = core.now_us()
    return CallerProfile(
        unique_id=leg_uuid, channel_name=name, profile_created_us=now, created_us=now,
        **fields,  # type: ignore[arg-type]
    )


def inbound_sip(
    core: Core, *, destination: str, cid_num: str, cid_name: str, remote_port: int,
    user_agent: str = "sipp-caller",
) -> tuple[Leg, CallerProfile]:
    """A SIP caller arriving on the external profile (``public`` context), and the
    caller profile it gets once out of ``CS_NEW`` (the first event has none)."""
    uuid = core.new_uuid()
    name = f"sofia/external/{cid_num}@{LOCAL_IP}:{remote_port}"
    ctx = base_context(core, uuid, name)
    ctx.update(
        remote_port=str(remote_port), cid_num=cid_num, cid_name=cid_name, destination=destination,
        cid_num_stripped=cid_num.lstrip("+"), user_agent=user_agent, sdp_user="caller",
        local_port="5080",
    )
    channel = Channel(uuid=uuid, name=name, direction="inbound", profile=None, hit_dialplan=True,
                      created_us=core.now_us())
    leg = Leg(channel, "inbound", ctx)
    profile = _profile(
        core, uuid, name, direction="inbound", logical_direction="inbound", username=cid_num,
        dialplan="XML", caller_id_name=cid_name, caller_id_number=cid_num,
        orig_caller_id_name=cid_name, orig_caller_id_number=cid_num, network_addr=LOCAL_IP,
        ani=cid_num, destination_number=destination, source="mod_sofia", context="public",
    )
    return leg, profile


def outbound_sip(
    core: Core, *, uuid: str, kind: str, dest_user: str, domain: str, cid_num: str, cid_name: str,
    remote_port: int, gateway: str = "",
) -> Leg:
    """A leg FreeSWITCH places: a phone (``user``/``sofia``) or a ``gateway`` call."""
    if kind == "gateway":
        name = f"sofia/external/{dest_user}"
        profile_name = "external"
    else:
        name = f"sofia/internal/{dest_user}@{LOCAL_IP}:{remote_port}"
        profile_name = "internal"
    ctx = base_context(core, uuid, name)
    ctx.update(
        dest_user=dest_user, domain=domain, profile=profile_name, gateway=gateway,
        remote_port=str(remote_port), from_user=cid_num, contact_user="nobody",
        sdp_user="agent" if kind != "gateway" else "callee",
        local_port="5060" if kind != "gateway" else "5080",
    )
    channel = Channel(uuid=uuid, name=name, direction="outbound", profile=None, created_us=core.now_us())
    channel.profile = _profile(
        core, uuid, name, direction="outbound", logical_direction="outbound",
        caller_id_name=cid_name, caller_id_number=cid_num, orig_caller_id_name=cid_name,
        orig_caller_id_number=cid_num, callee_id_name="Outbound Call", callee_id_number=dest_user,
        ani=cid_num, destination_number=dest_user, source="src/switch_ivr_originate.c",
        context="default",
    )
    return Leg(channel, kind, ctx)


def loopback_pair(
    core: Core, *, uuid: str, ext: str, context: str, cid_num: str, cid_name: str,
) -> tuple[Leg, Leg, str]:
    """mod_loopback's two legs; the a-leg is first built under a random uuid (returned
    third) and renamed to ``uuid`` with ``CHANNEL_UUID``."""
    temp = core.new_uuid()
    a_name = f"loopback/{ext}-a"
    b_uuid = core.new_uuid()
    b_name = f"loopback/{ext}-b"
    legs = []
    for leg_uuid, name, direction, kind in (
        (uuid, a_name, "outbound", "loopback_a"), (b_uuid, b_name, "inbound", "loopback_b"),
    ):
        ctx = base_context(core, leg_uuid, name)
        ctx.update(destination=ext, loopback_context=context)
        channel = Channel(uuid=leg_uuid, name=name, direction=direction, profile=None,
                          hit_dialplan=kind == "loopback_b", created_us=core.now_us())
        channel.profile = _profile(
            core, leg_uuid, name, direction=direction, logical_direction=direction, dialplan="xml",
            caller_id_name=cid_name, caller_id_number=cid_num, orig_caller_id_name=cid_name,
            orig_caller_id_number=cid_num, callee_id_name="Outbound Call", callee_id_number=context,
            ani=cid_num, destination_number=ext, source="mod_loopback", context=context,
        )
        legs.append(Leg(channel, kind, ctx))
    a, b = legs
    a.ctx["loopback_partner"] = b.uuid
    b.ctx["loopback_partner"] = uuid
    return a, b, temp
