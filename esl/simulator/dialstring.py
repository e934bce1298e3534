"""Parse ``originate`` arguments the way mod_commands and the core do.

``originate <call url> <exten>|&<app>(<args>) [<dialplan>] [<context>] [<cid_name>]
[<cid_num>] [<timeout_sec>]`` (mod_commands ``ORIGINATE_SYNTAX``). The call url is
``{var=val,...}[var=val,...]<endpoint>``; ``{}`` variables apply to every leg, ``[]``
to this leg and win. Quirks kept on purpose because the real switch has them:

* the argument string is split on spaces outside single quotes, and the quotes are
  removed (``switch_separate_string``);
* a ``{...}`` block may start with ``^^<c>`` to use ``<c>`` instead of ``,`` as the
  separator, and ``\\,`` escapes a comma;
* ``&app(args)`` cuts the arguments at the *first* ``)``, so
  ``&playback(tone_stream://%(2000,4000,440,480);loops=-1)`` runs playback with
  ``tone_stream://%(2000,4000,440,480`` (capture i shows exactly that);
* ``undef`` in a positional argument means "not given".

A dial string may ring several legs (:func:`parse_dial_groups`): ``,`` rings the legs
of a group at once, ``|`` tries the next group when one fails; ``{}`` at the start
applies to all, ``[]`` before a leg to that leg. Enterprise originate (``:_:``) raises
:class:`DialStringError` with ``cause="CHAN_NOT_IMPLEMENTED"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ORIGINATE_SYNTAX = (
    "<call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]"
)


class DialStringError(ValueError):
    """The originate request cannot be placed.

    ``cause`` is the hangup cause FreeSWITCH answers with (``-ERR <cause>``), or
    ``""`` when the reply is the usage text.
    """

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a leg goes. ``kind`` is ``user``, ``gateway``, ``sofia``, ``loopback``
    or ``error``."""

    kind: str
    target: str
    domain: str = ""
    gateway: str = ""
    profile: str = ""
    context: str = "default"
    dialplan: str = "XML"


@dataclass(frozen=True, slots=True)
class Target:
    """One leg of a dial string: its variables (global ones, then its own) and endpoint."""

    variables: dict[str, str]
    dial: str
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """A parsed ``originate`` command: the legs to ring (``groups``, see
    :func:`parse_dial_groups`) and what the answered one does."""

    groups: list[list[Target]]
    variables: dict[str, str] = field(default_factory=dict)
    app: str = ""
    app_arg: str = ""
    exten: str = ""
    dialplan: str = "XML"
    context: str = "default"
    cid_name: str = ""
    cid_num: str = ""
    timeout: int | None = None


def split_args(text: str) -> list[str]:
    """Split on spaces outside single quotes and drop the quotes; ``\\`` escapes."""
    out: list[str] = []
    cur: list[str] = []
    quoted = False
    escaped = False
    for ch in text:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
            cur.append(ch)
        elif ch == "'":
            quoted = not quoted
        elif ch == " " and not quoted:
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def parse_variables(block: str) -> dict[str, str]:
    """``a=b,c=d`` (the inside of ``{}`` or ``[]``) to a dict, in order."""
    delim = ","
    if block.startswith("^^") and len(block) >= 3:
        delim, block = block[2], block[3:]
    parts: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(block):
        ch = block[i]
        if ch == "\\" and i + 1 < len(block) and block[i + 1] == delim:
            cur.append(delim)
            i += 2
            continue
        if ch == delim:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    result: dict[str, str] = {}
    for part in parts:
        name, sep, value = part.partition("=")
        name = name.strip()
        if name and sep:
            result[name] = value
    return result


def _take_block(text: str, open_ch: str, close_ch: str) -> tuple[str | None, str]:
    if not text.startswith(open_ch):
        return None, text
    end = text.find(close_ch)
    if end < 0:
        raise DialStringError(f"unbalanced {open_ch}{close_ch} in dial string {text!r}")
    return text[1:end], text[end + 1 :]


def parse_endpoint(dial: str) -> Endpoint:
    """One leg's endpoint (after its variable blocks)."""
    if not dial:
        raise DialStringError("empty dial string", "DESTINATION_OUT_OF_ORDER")
    tech, _, rest = dial.partition("/")
    if tech == "user" and rest:
        user, _, domain = rest.partition("@")
        return Endpoint(kind="user", target=user, domain=domain)
    if tech == "loopback" and rest:
        bits = rest.split("/")
        return Endpoint(
            kind="loopback",
            target=bits[0],
            context=bits[1] if len(bits) > 1 and bits[1] else "default",
            dialplan=bits[2] if len(bits) > 2 and bits[2] else "XML",
        )
    if tech == "sofia" and rest.startswith("gateway/"):
        _, gateway, number = (rest.split("/", 2) + ["", ""])[:3]
        if not gateway or not number:
            raise DialStringError(f"bad gateway dial string {dial!r}", "INVALID_GATEWAY")
        return Endpoint(kind="gateway", target=number, gateway=gateway, profile="external")
    if tech == "sofia" and "/" in rest:
        profile, _, uri = rest.partition("/")
        uri = uri.removeprefix("sip:")
        user, _, host = uri.partition("@")
        return Endpoint(kind="sofia", target=user, domain=host, profile=profile)
    if tech == "error" and rest:
        return Endpoint(kind="error", target=rest)
    raise DialStringError(f"no such endpoint type in {dial!r}", "CHAN_NOT_IMPLEMENTED")


def _split_outside(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside ``{}``, ``[]`` and ``<>`` blocks."""
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in text:
        if ch in "{[<":
            depth += 1
        elif ch in "}]>" and depth:
            depth -= 1
        if ch == sep and not depth:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _global_variables(url: str) -> tuple[dict[str, str], str]:
    variables: dict[str, str] = {}
    rest = url
    for open_ch, close_ch in (("<", ">"), ("{", "}")):
        block, rest = _take_block(rest, open_ch, close_ch)
        if block is not None:
            variables.update(parse_variables(block))
    return variables, rest


def _target(common: dict[str, str], leg: str) -> Target:
    variables = dict(common)
    block, rest = _take_block(leg.strip(), "[", "]")
    if block is not None:
        variables.update(parse_variables(block))
    return Target(variables, rest, parse_endpoint(rest))


def parse_dial_groups(url: str) -> list[list[Target]]:
    """``{..}[..]a,[..]b|c`` to failover groups of legs rung together."""
    common, rest = _global_variables(url.strip())
    if ":_:" in rest:
        raise DialStringError(f"enterprise originate is not simulated: {rest!r}", "CHAN_NOT_IMPLEMENTED")
    groups = [[_target(common, leg) for leg in _split_outside(group, ",") if leg.strip()]
              for group in _split_outside(rest, "|")]
    groups = [group for group in groups if group]
    if not groups:
        raise DialStringError("empty dial string", "DESTINATION_OUT_OF_ORDER")
    return groups


def parse_call_url(url: str) -> tuple[dict[str, str], str, Endpoint]:
    """A single leg's ``{..}[..]endpoint`` to (variables, endpoint dial string, endpoint)."""
    groups = parse_dial_groups(url)
    if len(groups) > 1 or len(groups[0]) > 1:
        raise DialStringError(f"more than one leg in {url!r}", "CHAN_NOT_IMPLEMENTED")
    target = groups[0][0]
    return target.variables, target.dial, target.endpoint


def parse_app(exten: str) -> tuple[str, str]:
    """``&name(args)`` to (name, args), cutting args at the first ``)``."""
    body = exten[1:]
    end = body.find(")")
    if end >= 0:
        body = body[:end]
    name, _, arg = body.partition("(")
    return name, arg


def parse_originate(argument: str) -> OriginateRequest:
    """The whole ``originate`` argument string.

    Raises:
        DialStringError: with ``cause=""`` for a usage error, else the hangup cause.
    """
    argv = [None if a.lower() == "undef" else a for a in split_args(argument)]
    if len(argv) < 2 or len(argv) > 7 or not argv[0] or not argv[1]:
        raise DialStringError("usage")
    url, exten = argv[0], argv[1]
    groups = parse_dial_groups(url)
    variables, _ = _global_variables(url.strip())
    app, app_arg = ("", "")
    if exten.startswith("&") and len(exten) > 1:
        app, app_arg = parse_app(exten)
        exten = ""
    timeout: int | None = None
    if len(argv) > 6 and argv[6]:
        try:
            timeout = int(argv[6])
        except ValueError:
            timeout = 0
    return OriginateRequest(
        groups=groups,
        variables=variables,
        app=app,
        app_arg=app_arg,
        exten=exten,
        dialplan=(argv[2] if len(argv) > 2 and argv[2] else "XML"),
        context=(argv[3] if len(argv) > 3 and argv[3] else "default"),
        cid_name=(argv[4] if len(argv) > 4 and argv[4] else ""),
        cid_num=(argv[5] if len(argv) > 5 and argv[5] else ""),
        timeout=timeout,
    )
