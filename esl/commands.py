"""Typed builders for the FreeSWITCH commands the middleware sends (pure, no I/O).

Each builder returns the text of one ``api``/``bgapi`` command (``originate ...``,
``uuid_bridge ...``) or, for applications run with ``sendmsg``, an :class:`AppCall`.
Everything that could come from a user, a caller or a configuration file is checked
here, because the switch parses these strings several times (split on spaces, then
``{a=b,c=d}`` split on commas, then on ``=``, quotes stripped and ``${...}`` expanded
as variables or even API calls): a value that slipped through could add a variable,
an application or a dial string. So:

* channel uuids must be UUIDs; variable and application names ``[A-Za-z0-9_]+``;
* phone numbers, extensions, gateways, contexts and file paths match conservative
  patterns;
* free text (caller names, TTS text, variable values) may not contain control
  characters, ``${``, quotes, backslashes or any of ``{}[]<>^``; in ``{...}`` blocks a
  comma is escaped ``\\,`` and a value with spaces is single-quoted, which is how
  ``switch_separate_string`` keeps it one token through every split.

Anything refused raises :class:`esl.protocol.CommandArgumentError` whose message says
what to change. Syntax follows mod_commands / mod_dptools usage strings of 1.10/1.11.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from esl.protocol import CommandArgumentError

Leg = Literal["aleg", "bleg", "both"]
HoldMode = Literal["on", "off", "toggle"]
RecordAction = Literal["start", "stop", "mask", "unmask"]
EavesdropMode = Literal["listen", "whisper", "barge"]

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_VAR_NAME = re.compile(r"[A-Za-z0-9_]+\Z")
_APP_NAME = _VAR_NAME
_NUMBER = re.compile(r"\+?[0-9*#]{1,32}\Z")
_EXT = r"[A-Za-z0-9+*#][A-Za-z0-9_.+*#-]{0,63}"
_HOST = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
_EXTENSION = re.compile(_EXT + r"\Z")
_NAME = re.compile(_HOST + r"\Z")
_FILE_PATH = re.compile(r"/[A-Za-z0-9_./+@:-]{1,1023}\Z")
_MEDIA = re.compile(r"[A-Za-z0-9_./+@:%(),;=*#!-]{1,1024}\Z")
_DTMF = re.compile(r"[0-9A-Da-d*#wW]{1,64}\Z")
_TERMINATORS = re.compile(r"[0-9*#]{1,4}\Z|none\Z")
_DIGITS_REGEX = re.compile(r"[0-9*#\\dDwW^$|()\[\]{}?+.,-]{1,256}\Z")
_SAY_MODULE = re.compile(r"[a-z]{2,3}(:[A-Za-z_-]{2,10})?\Z")
_FORBIDDEN_TEXT = set("{}[]<>^'\"\\`")
_ENDPOINT = re.compile(
    rf"user/{_EXT}(@{_HOST})?\Z|sofia/gateway/{_HOST}/\+?[0-9*#]{{1,32}}\Z|loopback/{_EXT}/{_HOST}\Z"
)

#: FreeSWITCH's CAUSE_CHART (switch_channel.c): the hangup causes it understands.
HANGUP_CAUSES = frozenset(
    """UNALLOCATED_NUMBER NO_ROUTE_TRANSIT_NET NO_ROUTE_DESTINATION CHANNEL_UNACCEPTABLE
    CALL_AWARDED_DELIVERED NORMAL_CLEARING USER_BUSY NO_USER_RESPONSE NO_ANSWER
    SUBSCRIBER_ABSENT CALL_REJECTED NUMBER_CHANGED REDIRECTION_TO_NEW_DESTINATION
    EXCHANGE_ROUTING_ERROR DESTINATION_OUT_OF_ORDER INVALID_NUMBER_FORMAT FACILITY_REJECTED
    RESPONSE_TO_STATUS_ENQUIRY NORMAL_UNSPECIFIED NORMAL_CIRCUIT_CONGESTION
    NETWORK_OUT_OF_ORDER NORMAL_TEMPORARY_FAILURE SWITCH_CONGESTION ACCESS_INFO_DISCARDED
    REQUESTED_CHAN_UNAVAIL PRE_EMPTED FACILITY_NOT_SUBSCRIBED OUTGOING_CALL_BARRED
    INCOMING_CALL_BARRED BEARERCAPABILITY_NOTAUTH BEARERCAPABILITY_NOTAVAIL
    SERVICE_UNAVAILABLE BEARERCAPABILITY_NOTIMPL CHAN_NOT_IMPLEMENTED
    FACILITY_NOT_IMPLEMENTED SERVICE_NOT_IMPLEMENTED INVALID_CALL_REFERENCE
    INCOMPATIBLE_DESTINATION INVALID_MSG_UNSPECIFIED MANDATORY_IE_MISSING
    MESSAGE_TYPE_NONEXIST WRONG_MESSAGE IE_NONEXIST INVALID_IE_CONTENTS WRONG_CALL_STATE
    RECOVERY_ON_TIMER_EXPIRE MANDATORY_IE_LENGTH_ERROR PROTOCOL_ERROR INTERWORKING SUCCESS
    ORIGINATOR_CANCEL CRASH SYSTEM_SHUTDOWN LOSE_RACE MANAGER_REQUEST BLIND_TRANSFER
    ATTENDED_TRANSFER ALLOTTED_TIMEOUT USER_CHALLENGE MEDIA_TIMEOUT PICKED_OFF
    USER_NOT_REGISTERED PROGRESS_TIMEOUT INVALID_GATEWAY GATEWAY_DOWN INVALID_URL
    INVALID_PROFILE NO_PICKUP SRTP_READ_ERROR BOWOUT BUSY_EVERYWHERE DECLINE
    DOES_NOT_EXIST_ANYWHERE NOT_ACCEPTABLE UNWANTED NO_IDENTITY BAD_IDENTITY_INFO
    UNSUPPORTED_CERTIFICATE INVALID_IDENTITY STALE_DATE REJECT_ALL""".split()
)

SAY_TYPES = frozenset(
    """NUMBER ITEMS PERSONS MESSAGES CURRENCY TIME_MEASUREMENT CURRENT_DATE CURRENT_TIME
    CURRENT_DATE_TIME TELEPHONE_NUMBER TELEPHONE_EXTENSION URL IP_ADDRESS EMAIL_ADDRESS
    POSTAL_ADDRESS ACCOUNT_NUMBER NAME_SPELLED NAME_PHONETIC SHORT_DATE_TIME""".split()
)
SAY_METHODS = frozenset({"N/A", "PRONOUNCED", "ITERATED", "COUNTED", "PRONOUNCED_YEAR"})
SAY_GENDERS = frozenset({"FEMININE", "MASCULINE", "NEUTER"})

#: Channel variables that make an ``eavesdrop`` leg listen, whisper or barge (capture f).
EAVESDROP_VARIABLES: Mapping[str, Mapping[str, str]] = {
    "listen": {},
    "whisper": {"eavesdrop_whisper_aleg": "true"},
    "barge": {"eavesdrop_bridge_aleg": "true", "eavesdrop_bridge_bleg": "true"},
}


@dataclass(frozen=True, slots=True)
class AppCall:
    """A dialplan application to run on a channel with ``sendmsg`` (see ``ESLClient.execute``)."""

    app: str
    arg: str = ""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A validated dial string target; build it with :func:`user`, :func:`gateway`, :func:`loopback`."""

    dial_string: str

    def __post_init__(self) -> None:
        if not _ENDPOINT.match(self.dial_string):
            raise _refuse("dial target", self.dial_string, "user/<ext>[@domain], sofia/gateway/<gw>/<number> "
                          "or loopback/<ext>/<context>")

    def __str__(self) -> str:
        return self.dial_string


# --- validators --------------------------------------------------------------------


def _refuse(what: str, value: object, expected: str) -> CommandArgumentError:
    return CommandArgumentError(f"{what}: expected {expected}, got {value!r}")


def check_uuid(value: str, what: str = "uuid") -> str:
    if not _UUID.match(value):
        raise _refuse(what, value, "a UUID such as 97511e48-b3d4-4e10-9b51-71f8be74f0a2")
    return value


def _match(pattern: re.Pattern[str], value: str, what: str, expected: str) -> str:
    if not pattern.match(value):
        raise _refuse(what, value, expected)
    return value


def check_var_name(name: str) -> str:
    return _match(_VAR_NAME, name, "channel variable name", "letters, digits and _ only")


def check_number(number: str, what: str = "phone number") -> str:
    return _match(_NUMBER, number, what, "digits, * or #, optionally after a leading +")


def check_text(value: str, what: str) -> str:
    """Free text: no control characters, no ``${`` expansion, none of ``{}[]<>^'\"\\```."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise _refuse(what, value, "one line of text without control characters")
    if "${" in value or "$${" in value:
        raise _refuse(what, value, "text without '${' (FreeSWITCH would expand it)")
    bad = sorted(_FORBIDDEN_TEXT.intersection(value))
    if bad:
        raise _refuse(what, value, f"text without {' '.join(bad)}")
    return value


def _check_token(value: str, what: str) -> str:
    """Text that must stay one space-separated argument."""
    check_text(value, what)
    if not value or any(c.isspace() for c in value):
        raise _refuse(what, value, "a non-empty value without spaces")
    return value


def _positive(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _refuse(what, value, "a positive whole number")
    return value


def quote_var_value(value: str, what: str = "variable value") -> str:
    """A value for a ``{name=value,...}`` block: commas escaped, spaces single-quoted."""
    check_text(value, what)
    value = value.strip()
    if not value:
        raise _refuse(what, value, "a non-empty value (the switch ignores an empty one; leave it out)")
    escaped = value.replace(",", "\\,")
    return f"'{escaped}'" if " " in escaped else escaped


def variables_block(variables: Mapping[str, str], *, open_: str = "{", close: str = "}") -> str:
    """``{a=b,c=d}`` for ``originate``; empty string when there are no variables."""
    if not variables:
        return ""
    parts = [f"{check_var_name(k)}={quote_var_value(v, f'variable {k}')}" for k, v in variables.items()]
    return open_ + ",".join(parts) + close


# --- dial targets ------------------------------------------------------------------


def user(extension: str, domain: str | None = None) -> Endpoint:
    """``user/<ext>[@domain]``: a directory user (an agent phone)."""
    _match(_EXTENSION, extension, "extension", "letters, digits and _ . + * # -")
    if domain is None:
        return Endpoint(f"user/{extension}")
    return Endpoint(f"user/{extension}@{_match(_NAME, domain, 'domain', 'a host name')}")


def gateway(name: str, number: str) -> Endpoint:
    """``sofia/gateway/<gw>/<number>``: a customer through a SIP trunk."""
    _match(_NAME, name, "gateway", "letters, digits and _ . -")
    return Endpoint(f"sofia/gateway/{name}/{check_number(number)}")


def loopback(extension: str, context: str = "default") -> Endpoint:
    """``loopback/<ext>/<context>``: a leg that runs our own dialplan."""
    _match(_EXTENSION, extension, "extension", "letters, digits and _ . + * # -")
    return Endpoint(f"loopback/{extension}/{_match(_NAME, context, 'context', 'letters, digits and _ . -')}")


# --- api commands ------------------------------------------------------------------


def originate(
    target: Endpoint,
    *,
    uuid: str,
    variables: Mapping[str, str] | None = None,
    app: AppCall | None = None,
    extension: str | None = None,
    context: str = "default",
    timeout: int | None = None,
) -> str:
    """``originate {origination_uuid=...,vars,originate_timeout=N}<target> &app(arg)``
    or ``... <target> <extension> XML <context>``.

    ``uuid`` is chosen by the caller (uuid4) so it can track, cancel and bridge the leg
    before the switch answers; exactly one of ``app`` / ``extension`` is required. The
    BACKGROUND_JOB of a ``bgapi originate`` arrives only once the callee answered.
    """
    if (app is None) == (extension is None):
        raise CommandArgumentError("originate: give either app= or extension=, not both or neither")
    if not isinstance(target, Endpoint):
        raise _refuse("originate target", target, "an Endpoint from user(), gateway() or loopback()")
    all_vars = {"origination_uuid": check_uuid(uuid, "origination uuid")}
    if timeout is not None:
        all_vars["originate_timeout"] = str(_positive(timeout, "originate timeout"))
    for name in variables or {}:
        if name in all_vars:
            raise CommandArgumentError(f"originate: pass {name} as the uuid=/timeout= argument, not a variable")
    all_vars.update(variables or {})
    head = f"originate {variables_block(all_vars)}{target}"
    if app is not None:
        _match(_APP_NAME, app.app, "application", "letters, digits and _ only")
        arg = _check_token(app.arg, "application argument") if app.arg else ""
        return f"{head} &{app.app}({arg})"
    assert extension is not None
    _match(_EXTENSION, extension, "extension", "letters, digits and _ . + * # -")
    return f"{head} {extension} XML {_match(_NAME, context, 'context', 'letters, digits and _ . -')}"


def uuid_bridge(uuid: str, other: str) -> str:
    return f"uuid_bridge {check_uuid(uuid)} {check_uuid(other, 'other uuid')}"


def _leg_flag(leg: Leg) -> str:
    if leg not in ("aleg", "bleg", "both"):
        raise _refuse("leg", leg, "aleg, bleg or both")
    return "" if leg == "aleg" else f" -{leg}"


def uuid_transfer(uuid: str, extension: str, *, context: str = "default", leg: Leg = "aleg") -> str:
    """``uuid_transfer <uuid> [-bleg|-both] <ext> XML <context>``."""
    _match(_EXTENSION, extension, "extension", "letters, digits and _ . + * # -")
    _match(_NAME, context, "context", "letters, digits and _ . -")
    return f"uuid_transfer {check_uuid(uuid)}{_leg_flag(leg)} {extension} XML {context}"


def uuid_transfer_inline(uuid: str, apps: list[AppCall], *, leg: Leg = "aleg") -> str:
    """``uuid_transfer <uuid> [-bleg|-both] app:arg,app2:arg2 inline`` (e.g. ``park inline``).

    Inline arguments may not contain spaces or commas (the inline dialplan splits on them).
    """
    if not apps:
        raise CommandArgumentError("uuid_transfer inline: give at least one application")
    steps = []
    for call in apps:
        _match(_APP_NAME, call.app, "application", "letters, digits and _ only")
        if call.arg and "," in _check_token(call.arg, "inline application argument"):
            raise _refuse("inline application argument", call.arg, "a value without commas")
        steps.append(f"{call.app}:{call.arg}" if call.arg else call.app)
    return f"uuid_transfer {check_uuid(uuid)}{_leg_flag(leg)} {','.join(steps)} inline"


def uuid_kill(uuid: str, cause: str | None = "NORMAL_CLEARING") -> str:
    """``uuid_kill <uuid> [<cause>]`` (no cause: the switch uses NORMAL_CLEARING)."""
    if cause is None:
        return f"uuid_kill {check_uuid(uuid)}"
    if cause not in HANGUP_CAUSES:
        raise _refuse("hangup cause", cause, "a FreeSWITCH cause such as NORMAL_CLEARING or USER_BUSY")
    return f"uuid_kill {check_uuid(uuid)} {cause}"


def uuid_broadcast(uuid: str, media: str, *, leg: Leg = "aleg") -> str:
    """``uuid_broadcast <uuid> <path> aleg|bleg|both`` (``local_stream://moh``, a file,
    ``tone_stream://...`` or ``app::arg``)."""
    if leg not in ("aleg", "bleg", "both"):
        raise _refuse("leg", leg, "aleg, bleg or both")
    _match(_MEDIA, media, "media", "a file path or stream URL without spaces or quotes")
    return f"uuid_broadcast {check_uuid(uuid)} {check_text(media, 'media')} {leg}"


def uuid_break(uuid: str, *, all_queued: bool = False) -> str:
    return f"uuid_break {check_uuid(uuid)}{' all' if all_queued else ''}"


def check_file_path(path: str) -> str:
    """An absolute path of safe characters with no ``..`` component."""
    _match(_FILE_PATH, path, "file path", "an absolute path of letters, digits and _ . / + @ : -")
    if "/../" in path + "/" or path.endswith("/.."):
        raise _refuse("file path", path, "a path without '..'")
    return path


def uuid_record(uuid: str, action: RecordAction, path: str, *, limit_seconds: int | None = None) -> str:
    """``uuid_record <uuid> start|stop|mask|unmask <path> [<limit>]``."""
    if action not in ("start", "stop", "mask", "unmask"):
        raise _refuse("record action", action, "start, stop, mask or unmask")
    limit = ""
    if limit_seconds is not None:
        if action != "start":
            raise CommandArgumentError("uuid_record: a time limit only applies to start")
        limit = f" {_positive(limit_seconds, 'record limit')}"
    target = path if action == "stop" and path == "all" else check_file_path(path)
    return f"uuid_record {check_uuid(uuid)} {action} {target}{limit}"


def uuid_hold(uuid: str, mode: HoldMode = "on") -> str:
    """``uuid_hold [off|toggle] <uuid>``."""
    if mode not in ("on", "off", "toggle"):
        raise _refuse("hold mode", mode, "on, off or toggle")
    return f"uuid_hold {check_uuid(uuid)}" if mode == "on" else f"uuid_hold {mode} {check_uuid(uuid)}"


def uuid_setvar(uuid: str, name: str, value: str) -> str:
    """``uuid_setvar <uuid> <name> <value>``; an empty value unsets the variable."""
    check_uuid(uuid)
    check_var_name(name)
    value = check_text(value, f"value of {name}").strip()
    return f"uuid_setvar {uuid} {name} {value}" if value else f"uuid_setvar {uuid} {name}"


def uuid_getvar(uuid: str, name: str) -> str:
    return f"uuid_getvar {check_uuid(uuid)} {check_var_name(name)}"


def uuid_send_dtmf(uuid: str, digits: str, *, duration_ms: int | None = None) -> str:
    """``uuid_send_dtmf <uuid> <digits>[@<ms>]`` (``w``/``W`` pause 0.5 s / 1 s)."""
    _match(_DTMF, digits, "DTMF digits", "0-9, A-D, *, #, w or W")
    suffix = f"@{_positive(duration_ms, 'DTMF duration')}" if duration_ms is not None else ""
    return f"uuid_send_dtmf {check_uuid(uuid)} {digits}{suffix}"


def uuid_recv_dtmf(uuid: str, digits: str) -> str:
    """``uuid_recv_dtmf <uuid> <digits>``: queue DTMF on the channel as if its phone had
    sent it, so the application running there (e.g. ``eavesdrop``'s 0/1/2/3 mode keys)
    reads it; ``uuid_send_dtmf`` instead plays the tones towards the phone."""
    _match(_DTMF, digits, "DTMF digits", "0-9, A-D, *, #, w or W")
    return f"uuid_recv_dtmf {check_uuid(uuid)} {digits}"


def uuid_dump(uuid: str) -> str:
    return f"uuid_dump {check_uuid(uuid)} json"


def uuid_exists(uuid: str) -> str:
    return f"uuid_exists {check_uuid(uuid)}"


def show_channels() -> str:
    return "show channels as json"


def show_calls() -> str:
    return "show calls as json"


# --- sendmsg applications ----------------------------------------------------------


def answer() -> AppCall:
    return AppCall("answer")


def park() -> AppCall:
    return AppCall("park")


def hangup(cause: str = "NORMAL_CLEARING") -> AppCall:
    if cause not in HANGUP_CAUSES:
        raise _refuse("hangup cause", cause, "a FreeSWITCH cause such as NORMAL_CLEARING")
    return AppCall("hangup", cause)


def set_var(name: str, value: str) -> AppCall:
    """``set name=value`` (the value is checked so ``set`` cannot expand ``${...}``)."""
    return AppCall("set", f"{check_var_name(name)}={check_text(value, f'value of {name}')}")


def playback(media: str) -> AppCall:
    return AppCall("playback", check_text(_match(_MEDIA, media, "media", "a path or stream URL"), "media"))


def record(path: str, *, limit_seconds: int | None = None, silence_threshold: int | None = None,
           silence_hits: int | None = None) -> AppCall:
    """``record <path> [<limit>] [<silence_thresh> <silence_hits>]`` (positional: a later
    option needs the earlier ones)."""
    args = [check_file_path(path)]
    options = ((limit_seconds, "time limit"), (silence_threshold, "silence threshold"), (silence_hits, "silence hits"))
    for index, (value, what) in enumerate(options):
        if value is not None:
            missing = [name for earlier, name in options[:index] if earlier is None]
            if missing:
                raise CommandArgumentError(f"record: {what} needs {' and '.join(missing)} too")
            args.append(str(_positive(value, what)))
    return AppCall("record", " ".join(args))


def say(text: str, *, say_type: str = "NUMBER", method: str = "PRONOUNCED", module: str = "en",
        gender: str | None = None) -> AppCall:
    """``say <module>[:<lang>] <type> <method> [<gender>] <text>``."""
    _match(_SAY_MODULE, module, "say module", "a language module such as en or en:us")
    if say_type not in SAY_TYPES:
        raise _refuse("say type", say_type, ", ".join(sorted(SAY_TYPES)))
    if method not in SAY_METHODS:
        raise _refuse("say method", method, ", ".join(sorted(SAY_METHODS)))
    if gender is not None and gender not in SAY_GENDERS:
        raise _refuse("say gender", gender, ", ".join(sorted(SAY_GENDERS)))
    words = check_text(text, "text to say").strip()
    if not words:
        raise CommandArgumentError("say: the text is empty")
    middle = f" {gender}" if gender else ""
    return AppCall("say", f"{module} {say_type} {method}{middle} {words}")


def play_and_get_digits(
    *,
    min_digits: int,
    max_digits: int,
    tries: int,
    timeout_ms: int,
    prompt: str,
    invalid_prompt: str,
    variable: str,
    digits_regex: str,
    terminators: str = "#",
    digit_timeout_ms: int | None = None,
) -> AppCall:
    """``play_and_get_digits <min> <max> <tries> <timeout> <terminators> <file>
    <invalid_file> <var_name> <regexp> [<digit_timeout>]``; the digits end up in
    ``variable`` (read it from CHANNEL_EXECUTE_COMPLETE as ``variable_<name>``)."""
    _positive(min_digits, "min digits")
    if _positive(max_digits, "max digits") < min_digits:
        raise CommandArgumentError(f"play_and_get_digits: max digits {max_digits} is below min {min_digits}")
    args = [str(min_digits), str(max_digits), str(_positive(tries, "tries")), str(_positive(timeout_ms, "timeout")),
            _match(_TERMINATORS, terminators, "terminators", "up to 4 of 0-9 * # or none"),
            _check_token(_match(_MEDIA, prompt, "prompt", "a path or stream URL"), "prompt"),
            _check_token(_match(_MEDIA, invalid_prompt, "invalid prompt", "a path or stream URL"), "invalid prompt"),
            check_var_name(variable),
            _check_regex(digits_regex)]
    if digit_timeout_ms is not None:
        args.append(str(_positive(digit_timeout_ms, "digit timeout")))
    return AppCall("play_and_get_digits", " ".join(args))


def _check_regex(regex: str) -> str:
    _match(_DIGITS_REGEX, regex, "digits regex", "a regular expression over digits, * and # without spaces")
    if "${" in regex:
        raise _refuse("digits regex", regex, "a regular expression without '${'")
    return regex


def eavesdrop(target_uuid: str) -> AppCall:
    """Listen to a call; whisper/barge come from :data:`EAVESDROP_VARIABLES` on the leg."""
    return AppCall("eavesdrop", check_uuid(target_uuid, "eavesdrop target"))


def three_way(target_uuid: str) -> AppCall:
    return AppCall("three_way", check_uuid(target_uuid, "three_way target"))


def intercept(target_uuid: str, *, bleg: bool = False) -> AppCall:
    """``intercept [-bleg] <uuid>``: take over a ringing or answered channel."""
    return AppCall("intercept", f"{'-bleg ' if bleg else ''}{check_uuid(target_uuid, 'intercept target')}")
