"""The XML dialplan the simulated switch routes calls with: our ``freeswitch-conf/``
on the vanilla configuration.

* ``public`` (calls from outside): the lab extensions of the captures (5900 answer +
  park, 5902 answer + echo); the vanilla ``outside_call`` extension (``set
  outside_call=true``, ``export RFC2822_DATE=...``) and ``public_extensions`` (10xx to
  ``default``); then ``cti_inbound`` (``dialplan/public/cti_inbound.xml``) for every
  DID matching ``cti_did_regex``: while the middleware's lease
  ``cti_middleware_up_until`` is later than now it runs :data:`CTI_INBOUND_UP` --
  multiset, answer, ``sched_transfer`` of the fallback, park, and the transfer back
  to itself should park end -- else :data:`CTI_INBOUND_DOWN`, a transfer to the
  fallback.
* ``cti`` (``dialplan/cti.xml``): :data:`CTI_FALLBACK` rings the fallback group and
  then sends the caller to voicemail.
* ``default`` (calls from our phones and loopback legs): with the vanilla config
  every call first passes the ``default_password`` check that logs four CRIT lines
  (capture i; the 10 s sleep was removed in the lab, as here); then 9196 echo, the
  lab extensions, and 1000-1019 ring the phone.

``$${name}`` is filled in when a call is routed from the switch's global variables
(the preprocessor variables of ``cti_vars.xml``, :data:`SITE_DEFAULTS`; a
``global_setvar`` therefore acts like an edit plus ``reloadxml``), ``$1`` from the
destination's regular expression; ``${name}`` is left for the channel to expand when
it executes the action (``Application-Data`` shows the expanded text).

Pure data and lookup.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Action:
    """One ``<action application=".." data=".."/>``."""

    app: str
    data: str = ""


#: The preprocessor variables ``freeswitch-conf/cti_vars.xml`` sets (with its example
#: DID regex; the simulator's own default is :data:`DEFAULT_DID_PATTERN`).
SITE_DEFAULTS: dict[str, str] = {
    "cti_did_regex": r"^\+?1?55501[0-9]{2}$",
    "cti_park_timeout": "600",
    "cti_park_hard_limit": "3600",
    "cti_ringback": "%(2000,4000,440,480)",
    "cti_fallback_dialstring": (
        "user/1000@$${domain},user/1001@$${domain},user/1002@$${domain},user/1003@$${domain}"
    ),
    "cti_fallback_ring_seconds": "30",
    "cti_fallback_voicemail_box": "1999",
}

#: The global variable the middleware keeps in the future while it is connected.
LEASE_VARIABLE = "cti_middleware_up_until"
#: The README's lab value: calls park as if a middleware held the lease forever.
LEASE_FOREVER = "4102444800"

CTI_INBOUND_UP: tuple[Action, ...] = (
    Action("multiset", (
        "^^|cti_did=${destination_number}|cti_managed=true|hangup_after_bridge=true"
        "|continue_on_fail=true|uuid_bridge_continue_on_cancel=true"
        "|park_timeout=$${cti_park_hard_limit}:ALLOTTED_TIMEOUT|api_before_bridge=sched_del ${uuid}"
    )),
    Action("answer"),
    Action("sched_transfer", "+$${cti_park_timeout} cti_fallback_park_timeout XML cti"),
    Action("park"),
    Action("transfer", "${cti_did} XML public"),
)

CTI_INBOUND_DOWN: tuple[Action, ...] = (
    Action("transfer", "cti_fallback_middleware_down XML cti"),
)

CTI_FALLBACK_PATTERN = r"^cti_fallback_(middleware_down|park_timeout)$"
CTI_FALLBACK: tuple[Action, ...] = (
    Action("sched_cancel"),
    Action("multiset", (
        "^^|cti_fallback_reason=$1|cti_managed=false|hangup_after_bridge=true|continue_on_fail=true"
        "|call_timeout=$${cti_fallback_ring_seconds}|ringback=$${cti_ringback}"
        "|transfer_ringback=$${cti_ringback}"
    )),
    Action("log", "WARNING cti fallback ($1): caller ${caller_id_number} rings the fallback group"),
    Action("bridge", "$${cti_fallback_dialstring}"),
    Action("voicemail", "default $${domain} $${cti_fallback_voicemail_box}"),
)

LAB_EXTENSIONS: dict[str, tuple[Action, ...]] = {
    "5900": (Action("answer"), Action("park")),
    "5902": (Action("answer"), Action("echo")),
}

VANILLA_PASSWORD_WARNING: tuple[Action, ...] = (
    Action("log", "CRIT WARNING WARNING WARNING WARNING WARNING WARNING WARNING WARNING WARNING "),
    Action("log", "CRIT Open /opt/fsw/conf/vars.xml and change the default_password."),
    Action("log", "CRIT Once changed type 'reloadxml' at the console."),
    Action("log", "CRIT WARNING WARNING WARNING WARNING WARNING WARNING WARNING WARNING WARNING "),
)

DEFAULT_DID_PATTERN = r"^\+?[0-9]{3,15}$"
_LOCAL_EXTENSION = re.compile(r"^(10[01][0-9])$")
_PREPROCESSOR = re.compile(r"\$\$\{([^}]+)\}")


def preprocess(text: str, variables: Mapping[str, str]) -> str:
    """``$${name}`` from ``variables`` (unknown names become empty, as in FreeSWITCH)."""
    return _PREPROCESSOR.sub(lambda m: variables.get(m.group(1), ""), text)


def lease_valid(variables: Mapping[str, str], now: float) -> bool:
    """``${cond(${cti_middleware_up_until} > ${strepoch()} ?up:down)} == up``: numbers
    compare as numbers, anything else as strings (``cond``'s rule)."""
    value = variables.get(LEASE_VARIABLE, "")
    epoch = str(int(now))
    try:
        return float(value) > float(epoch)
    except ValueError:
        return value > epoch


class Dialplan:
    """Routes ``(context, destination_number)`` to the actions to execute.

    Args:
        vanilla: the vanilla configuration around our files (``outside_call``,
            ``public_extensions``, the ``default_password`` warning).
        enforce_lease: evaluate ``cti_inbound``'s lease condition; when False it is
            always met (a simulator running faster than real time would otherwise
            outrun a middleware that renews its lease on its own, real, clock).
    """

    def __init__(self, *, vanilla: bool = True, enforce_lease: bool = True) -> None:
        self._vanilla = vanilla
        self._enforce_lease = enforce_lease

    def route(
        self, context: str, destination: str, variables: Mapping[str, str], now: float,
    ) -> tuple[Action, ...] | None:
        """The actions for a call routed at epoch second ``now``, or ``None``
        (FreeSWITCH then hangs up with ``NO_ROUTE_DESTINATION``)."""
        if context == "public":
            return self._public(destination, variables, now)
        if context == "cti":
            match = re.match(CTI_FALLBACK_PATTERN, destination)
            return _fill(CTI_FALLBACK, variables, match.group(1)) if match else None
        if context == "default":
            return self._default(destination)
        return None

    def _public(self, destination: str, variables: Mapping[str, str], now: float) -> tuple[Action, ...] | None:
        if destination in LAB_EXTENSIONS:
            return LAB_EXTENSIONS[destination]
        prelude: tuple[Action, ...] = ()
        if self._vanilla:
            stamp = time.strftime("%a, %d %b %Y %H:%M:%S %z", time.localtime(now))
            prelude = (Action("set", "outside_call=true"), Action("export", f"RFC2822_DATE={stamp}"))
            local = _LOCAL_EXTENSION.match(destination)
            if local:
                return prelude + (Action("transfer", f"{local.group(1)} XML default"),)
        try:
            matches = re.search(variables.get("cti_did_regex", DEFAULT_DID_PATTERN), destination)
        except re.error:
            matches = None
        if not matches:
            return None
        up = not self._enforce_lease or lease_valid(variables, now)
        chosen = CTI_INBOUND_UP if up else CTI_INBOUND_DOWN
        return prelude + _fill(chosen, variables, "")

    def _default(self, destination: str) -> tuple[Action, ...] | None:
        prelude = VANILLA_PASSWORD_WARNING if self._vanilla else ()
        if destination == "9196":
            return prelude + (Action("answer"), Action("echo"))
        if destination in LAB_EXTENSIONS:
            return prelude + LAB_EXTENSIONS[destination]
        if _LOCAL_EXTENSION.match(destination):
            return prelude + (
                Action("set", "hangup_after_bridge=true"),
                Action("bridge", "user/${destination_number}@${domain_name}"),
            )
        return None


def _fill(actions: tuple[Action, ...], variables: Mapping[str, str], capture: str) -> tuple[Action, ...]:
    return tuple(
        Action(action.app, preprocess(action.data, variables).replace("$1", capture)) for action in actions
    )


def parse_inline(destination: str) -> tuple[Action, ...]:
    """The ``inline`` dialplan: ``app[:arg][,app[:arg]...]`` (mod_dialplan_inline)."""
    actions = []
    for part in destination.split(","):
        app, _, data = part.partition(":")
        if app.strip():
            actions.append(Action(app.strip(), data))
    return tuple(actions)
