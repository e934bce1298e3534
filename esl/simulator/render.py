"""Build the header block of an event exactly in FreeSWITCH's order.

``switch_event_fire`` output is: the common block (``Event-Name`` .. ``Event-Sequence``),
the headers the firing code added first (``Original-Channel-Call-State``,
``Bridge-A-Unique-ID``, ``Old-Unique-ID`` ...), then ``switch_channel_event_set_data``:
basic channel data, codecs, the ``Caller-*`` profile, the ``Other-Leg-*`` profile,
and -- for the "extended" events only -- every channel variable, and finally the
headers added after (``Application``, ``DTMF-Digit``, ``Record-File-Path`` ...).

Pure: values come from :class:`~esl.simulator.model.Channel` and the arguments.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from esl.simulator.model import CallerProfile, Channel
from esl.simulator.templates import CALLING

# Events whose channel data includes every variable (switch_channel_event_set_extended_data).
EXTENDED = frozenset({
    "CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_UUID", "CHANNEL_ANSWER",
    "CHANNEL_PARK", "CHANNEL_UNPARK", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
    "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE",
    "CHANNEL_DESTROY", "CHANNEL_DATA", "CHANNEL_HOLD", "CHANNEL_UNHOLD", "CALL_UPDATE",
    "RECORD_START", "RECORD_STOP", "PLAYBACK_START", "PLAYBACK_STOP",
    "MEDIA_BUG_START", "MEDIA_BUG_STOP", "CUSTOM",
})


@dataclass(frozen=True, slots=True)
class Identity:
    """Who fires events: the switch's identity headers."""

    core_uuid: str
    hostname: str = "vm"
    ipv4: str = "192.0.2.2"
    ipv6: str = "fd00::2"


def common(
    name: str, calling: str, identity: Identity, timestamp_us: int, sequence: int,
    subclass: str = "",
) -> dict[str, str]:
    """The block every event starts with."""
    seconds = timestamp_us / 1_000_000
    headers: dict[str, str] = {"Event-Subclass": subclass} if subclass else {}
    file, func, line = CALLING[calling]
    headers.update({
        "Event-Name": name,
        "Core-UUID": identity.core_uuid,
        "FreeSWITCH-Hostname": identity.hostname,
        "FreeSWITCH-Switchname": identity.hostname,
        "FreeSWITCH-IPv4": identity.ipv4,
        "FreeSWITCH-IPv6": identity.ipv6,
        "Event-Date-Local": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)),
        "Event-Date-GMT": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(seconds)),
        "Event-Date-Timestamp": str(timestamp_us),
        "Event-Calling-File": file,
        "Event-Calling-Function": func,
        "Event-Calling-Line-Number": line,
        "Event-Sequence": str(sequence),
    })
    return headers


def profile_headers(prefix: str, profile: CallerProfile, *, with_index: bool = True) -> dict[str, str]:
    """``switch_caller_profile_event_set_data``: ``<prefix>-*`` headers, empty strings
    left out, times always present."""
    p = prefix
    out: dict[str, str] = {}

    def put(key: str, value: str) -> None:
        if value:
            out[f"{p}-{key}"] = value

    put("Direction", profile.direction)
    put("Logical-Direction", profile.logical_direction)
    put("Username", profile.username)
    put("Dialplan", profile.dialplan)
    put("Caller-ID-Name", profile.caller_id_name)
    put("Caller-ID-Number", profile.caller_id_number)
    put("Orig-Caller-ID-Name", profile.orig_caller_id_name)
    put("Orig-Caller-ID-Number", profile.orig_caller_id_number)
    put("Callee-ID-Name", profile.callee_id_name)
    put("Callee-ID-Number", profile.callee_id_number)
    put("Network-Addr", profile.network_addr)
    put("ANI", profile.ani)
    put("Destination-Number", profile.destination_number)
    put("Unique-ID", profile.unique_id)
    put("Source", profile.source)
    put("Transfer-Source", profile.transfer_source)
    put("Context", profile.context)
    put("Channel-Name", profile.channel_name)
    if with_index:
        out[f"{p}-Profile-Index"] = str(profile.profile_index)
    for key, value in (
        ("Profile-Created-Time", profile.profile_created_us),
        ("Channel-Created-Time", profile.created_us),
        ("Channel-Answered-Time", profile.answered_us),
        ("Channel-Progress-Time", profile.progress_us),
        ("Channel-Progress-Media-Time", profile.progress_media_us),
        ("Channel-Hangup-Time", profile.hangup_us),
        ("Channel-Transfer-Time", profile.transfer_us),
        ("Channel-Resurrect-Time", profile.resurrect_us),
        ("Channel-Bridged-Time", profile.bridged_us),
        ("Channel-Last-Hold", profile.last_hold_us),
        ("Channel-Hold-Accum", profile.hold_accum_us),
    ):
        out[f"{p}-{key}"] = str(value)
    out[f"{p}-Screen-Bit"] = "true"
    out[f"{p}-Privacy-Hide-Name"] = "false"
    out[f"{p}-Privacy-Hide-Number"] = "false"
    return out


def channel_data(channel: Channel, *, extended: bool) -> dict[str, str]:
    """``switch_channel_event_set_data`` for ``channel``."""
    out: dict[str, str] = {
        "Channel-State": channel.running_state.label,
        "Channel-Call-State": channel.callstate.value,
        "Channel-State-Number": str(channel.state.value),
        "Channel-Name": channel.name,
        "Unique-ID": channel.uuid,
        "Call-Direction": channel.direction,
        "Presence-Call-Direction": channel.direction,
        "Channel-HIT-Dialplan": "true" if channel.hit_dialplan else "false",
    }
    if channel.presence_id:
        out["Channel-Presence-ID"] = channel.presence_id
    out["Channel-Call-UUID"] = channel.call_uuid or channel.uuid
    out["Answer-State"] = channel.answer_state
    if channel.hangup_cause:
        out["Hangup-Cause"] = channel.hangup_cause
    if channel.codec is not None:
        name, rate, bits = channel.codec
        out.update({
            "Channel-Read-Codec-Name": name,
            "Channel-Read-Codec-Rate": rate,
            "Channel-Read-Codec-Bit-Rate": bits,
            "Channel-Write-Codec-Name": name,
            "Channel-Write-Codec-Rate": rate,
            "Channel-Write-Codec-Bit-Rate": bits,
        })
    if channel.profile is not None:
        out.update(profile_headers("Caller", channel.profile))
    if channel.other is not None:
        out["Other-Type"] = channel.other.kind
        out.update(profile_headers("Other-Leg", channel.other.profile, with_index=False))
    if extended:
        out.update((f"variable_{k}", v) for k, v in channel.variables.items())
    return out


def channel_event(
    name: str,
    channel: Channel,
    *,
    calling: str,
    identity: Identity,
    timestamp_us: int,
    sequence: int,
    before: Mapping[str, str] | None = None,
    after: Iterable[tuple[str, str]] = (),
    subclass: str = "",
) -> dict[str, str]:
    """A complete channel event."""
    headers = common(name, calling, identity, timestamp_us, sequence, subclass)
    if before:
        headers.update(before)
    headers.update(channel_data(channel, extended=name in EXTENDED))
    headers.update(after)
    return headers
