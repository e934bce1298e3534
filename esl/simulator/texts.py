"""Fixed-format API outputs: ``version``, ``status``, ``sofia status`` and the
registrations laid out character for character like the real ones in capture g (tabs,
padding, the ``=`` rules); ``xml_locate`` of our dialplan contexts (no capture: the
structure of ``freeswitch-conf/``, indentation approximate).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from xml.sax.saxutils import quoteattr

from esl.simulator.dialplan import (
    CTI_FALLBACK,
    CTI_FALLBACK_PATTERN,
    CTI_INBOUND_DOWN,
    CTI_INBOUND_UP,
    LAB_EXTENSIONS,
    LEASE_VARIABLE,
    Action,
    preprocess,
)

VERSION = "1.11.1-release"
RULE = "=" * 97
LOCAL_IP = "127.0.0.1"
LEASE_CONDITION = "${cond(${" + LEASE_VARIABLE + "} > ${strepoch()} ?up:down)}"


def version() -> str:
    return f"FreeSWITCH Version {VERSION}~64bit ( 64bit)\n"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def uptime_text(uptime_us: int) -> str:
    seconds, micro = divmod(uptime_us, 1_000_000)
    ms, mms = divmod(micro, 1000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    years, day = divmod(days, 365)
    return ", ".join((
        _plural(years, "year"), _plural(day, "day"), _plural(hour, "hour"), _plural(minute, "minute"),
        _plural(sec, "second"), _plural(ms, "millisecond"), _plural(mms, "microsecond"),
    ))


def status(uptime_us: int, since_startup: int, current: int, peak: int) -> str:
    return (
        f"UP {uptime_text(uptime_us)}\n"
        f"FreeSWITCH (Version {VERSION}  64bit) is ready\n"
        f"{since_startup} session(s) since startup\n"
        f"{current} session(s) - peak {peak}, last 5min {current} \n"
        f"0 session(s) per Sec out of max 200, peak 0, last 5min 0 \n"
        "1000 session(s) max\n"
        "min idle cpu 0.00/98.00\n"
        "Current Stack Size/Max 240K/8192K\n"
    )


def sofia_status(external_calls: int, internal_calls: int) -> str:
    """``sofia status``; the number after RUNNING is the profile's calls in use."""
    rows = (
        (LOCAL_IP, "alias", "internal", "ALIASED"),
        ("external", "profile", f"sip:mod_sofia@{LOCAL_IP}:5080", f"RUNNING ({external_calls})"),
        ("internal", "profile", f"sip:mod_sofia@{LOCAL_IP}:5060", f"RUNNING ({internal_calls})"),
    )
    lines = [f"{'Name':>25}\t{'Type':>7}\t{'Data':>42}\tState", RULE]
    lines += [f"{a:>25}\t{b:>7}\t{c:>42}\t{d}" for a, b, c, d in rows]
    lines += [RULE, "2 profiles 1 alias"]
    return "\n".join(lines) + "\n"


def sofia_xmlstatus(external_calls: int, internal_calls: int) -> str:
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<profiles>\n'
        f"<alias>\n<name>{LOCAL_IP}</name>\n<type>alias</type>\n<data>internal</data>\n"
        "<state>ALIASED</state>\n</alias>\n"
        f"<profile>\n<name>external</name>\n<type>profile</type>\n<data>sip:mod_sofia@{LOCAL_IP}:5080</data>\n"
        f"<state>RUNNING ({external_calls})</state>\n</profile>\n"
        f"<profile>\n<name>internal</name>\n<type>profile</type>\n<data>sip:mod_sofia@{LOCAL_IP}:5060</data>\n"
        f"<state>RUNNING ({internal_calls})</state>\n</profile>\n"
        f"<profile>\n<name>internal</name>\n<type>profile</type>\n"
        f"<data>sip:mod_sofia@{LOCAL_IP}:5066;transport=ws</data>\n"
        f"<state>RUNNING ({internal_calls}) (WS)</state>\n</profile>\n"
        f"<profile>\n<name>internal</name>\n<type>profile</type>\n"
        f"<data>sips:mod_sofia@{LOCAL_IP}:7443;transport=wss</data>\n"
        f"<state>RUNNING ({internal_calls}) (WSS)</state>\n</profile>\n</profiles>\n"
    )


def registration_rows(
    phones: Iterable[tuple[str, int, int]], hostname: str,
) -> list[dict[str, str]]:
    """``show registrations`` rows from ``(extension, port, expires_epoch)``."""
    return [
        {
            "reg_user": ext, "realm": LOCAL_IP, "token": f"{index}-{ext}@{LOCAL_IP}",
            "url": f"sofia/internal/sip:{ext}@{LOCAL_IP}:{port}", "expires": str(expires),
            "network_ip": LOCAL_IP, "network_port": "5070", "network_proto": "udp",
            "hostname": hostname, "metadata": "",
        }
        for index, (ext, port, expires) in enumerate(sorted(phones), start=1)
    ]


def sofia_registrations(phones: Sequence[tuple[str, int, int]], hostname: str, now: float) -> str:
    """``sofia status profile internal reg``."""
    blocks = ["\nRegistrations:", RULE]
    for index, (ext, port, expires) in enumerate(sorted(phones), start=1):
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(expires))
        blocks += [
            f"Call-ID:    \t{index}-{ext}@{LOCAL_IP}",
            f"User:       \t{ext}@{LOCAL_IP}",
            f'Contact:    \t"" <sip:{ext}@{LOCAL_IP}:{port}>',
            "Agent:      \tsimulated-phone",
            f"Status:     \tRegistered(UDP)(unknown) EXP({stamp}) EXPSECS({int(expires - now)})",
            "Ping-Status:\tReachable",
            "Ping-Time:\t0.00",
            f"Host:       \t{hostname}",
            f"IP:         \t{LOCAL_IP}",
            "Port:       \t5070",
            f"Auth-User:  \t{ext}",
            f"Auth-Realm: \t{LOCAL_IP}",
            f"MWI-Account:\t{ext}@{LOCAL_IP}",
            "",
        ]
    blocks += [f"Total items returned: {len(phones)}", RULE]
    return "\n".join(blocks) + "\n"


def _action_xml(tag: str, action: Action, variables: Mapping[str, str]) -> str:
    data = preprocess(action.data, variables)
    return f"      <{tag} application={quoteattr(action.app)}" + (f" data={quoteattr(data)}" if data else "") + "/>"


def _extension_xml(
    name: str, conditions: Sequence[tuple[str, str]], actions: Iterable[Action],
    variables: Mapping[str, str], anti_actions: Iterable[Action] = (),
) -> list[str]:
    """One extension; every condition but the last is self-closing, the last holds
    the actions."""
    lines = [f"  <extension name={quoteattr(name)}>"]
    for field, expression in conditions[:-1]:
        lines.append(f"    <condition field={quoteattr(field)} expression={quoteattr(expression)}/>")
    field, expression = conditions[-1]
    lines.append(f"    <condition field={quoteattr(field)} expression={quoteattr(expression)}>")
    lines += [_action_xml("action", a, variables) for a in actions]
    lines += [_action_xml("anti-action", a, variables) for a in anti_actions]
    lines += ["    </condition>", "  </extension>"]
    return lines


def context_xml(context: str, variables: Mapping[str, str]) -> str | None:
    """``xml_locate dialplan context name <context>`` for our contexts (``public``
    with the lab extensions and ``cti_inbound``, ``cti``), after the preprocessor."""
    lines = [f"<context name={quoteattr(context)}>"]
    if context == "public":
        for ext, actions in LAB_EXTENSIONS.items():
            lines += _extension_xml(f"lab_{ext}", [("destination_number", f"^({ext})$")], actions, variables)
        lines += _extension_xml(
            "cti_inbound",
            [("destination_number", variables.get("cti_did_regex", "")), (LEASE_CONDITION, "^up$")],
            CTI_INBOUND_UP, variables, CTI_INBOUND_DOWN,
        )
    elif context == "cti":
        lines += _extension_xml(
            "cti_fallback", [("destination_number", CTI_FALLBACK_PATTERN)], CTI_FALLBACK, variables,
        )
    else:
        return None
    lines.append("</context>")
    return "\n".join(lines)
