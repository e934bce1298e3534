"""What one Event Socket connection is subscribed to, and the replies that change it.

A port of mod_event_socket's listener bookkeeping (``parse_command`` for ``event``,
``nixevent``, ``noevents``, ``filter``, ``myevents``, and ``event_handler`` for the
decision to send): the same reply texts, the same quirks. Event names match
case-insensitively, also with a ``SWITCH_EVENT_`` prefix (``switch_name_event``);
unknown names are ignored; after ``CUSTOM`` every word is a subclass; ``ALL`` means
every event including every CUSTOM subclass. Filters pass an event when one of its
headers equals (case-insensitively) a filter value, or matches a ``/regex/``; a value
prefixed with ``-`` excludes instead.

Pure: no sockets, no gevent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

EVENT_NAMES: tuple[str, ...] = (
    "CUSTOM", "CLONE", "CHANNEL_CREATE", "CHANNEL_DESTROY", "CHANNEL_STATE",
    "CHANNEL_CALLSTATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HOLD", "CHANNEL_UNHOLD",
    "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_UNPARK", "CHANNEL_APPLICATION",
    "CHANNEL_ORIGINATE", "CHANNEL_UUID", "API", "LOG", "INBOUND_CHAN", "OUTBOUND_CHAN",
    "STARTUP", "SHUTDOWN", "PUBLISH", "UNPUBLISH", "TALK", "NOTALK", "SESSION_CRASH",
    "MODULE_LOAD", "MODULE_UNLOAD", "DTMF", "MESSAGE", "PRESENCE_IN", "NOTIFY_IN",
    "PRESENCE_OUT", "PRESENCE_PROBE", "MESSAGE_WAITING", "MESSAGE_QUERY", "ROSTER",
    "CODEC", "BACKGROUND_JOB", "DETECTED_SPEECH", "DETECTED_TONE", "PRIVATE_COMMAND",
    "HEARTBEAT", "TRAP", "ADD_SCHEDULE", "DEL_SCHEDULE", "EXE_SCHEDULE", "RE_SCHEDULE",
    "RELOADXML", "NOTIFY", "PHONE_FEATURE", "PHONE_FEATURE_SUBSCRIBE", "SEND_MESSAGE",
    "RECV_MESSAGE", "REQUEST_PARAMS", "CHANNEL_DATA", "GENERAL", "COMMAND",
    "SESSION_HEARTBEAT", "CLIENT_DISCONNECTED", "SERVER_DISCONNECTED", "SEND_INFO",
    "RECV_INFO", "RECV_RTCP_MESSAGE", "SEND_RTCP_MESSAGE", "CALL_SECURE", "NAT",
    "RECORD_START", "RECORD_STOP", "PLAYBACK_START", "PLAYBACK_STOP", "CALL_UPDATE",
    "FAILURE", "SOCKET_DATA", "MEDIA_BUG_START", "MEDIA_BUG_STOP",
    "CONFERENCE_DATA_QUERY", "CONFERENCE_DATA", "CALL_SETUP_REQ", "CALL_SETUP_RESULT",
    "CALL_DETAIL", "DEVICE_STATE", "TEXT", "SHUTDOWN_REQUESTED", "ALL",
)
_BY_UPPER = {name: name for name in EVENT_NAMES}

# The events ``myevents`` subscribes to (mod_event_socket sets exactly these).
MYEVENTS: frozenset[str] = frozenset({
    "CHANNEL_ANSWER", "CHANNEL_APPLICATION", "CHANNEL_BRIDGE", "CHANNEL_CREATE",
    "CHANNEL_DATA", "CHANNEL_DESTROY", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE",
    "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_ORIGINATE", "CHANNEL_UUID",
    "CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_STATE", "CHANNEL_UNBRIDGE", "CHANNEL_UNPARK", "DETECTED_SPEECH", "DTMF",
    "NOTALK", "TALK",
})

FORMATS = ("plain", "json", "xml")


def event_type(word: str) -> str | None:
    """``switch_name_event``: the canonical event name for ``word`` or ``None``."""
    upper = word.upper()
    if len(upper) > 13 and upper.startswith("SWITCH_EVENT_"):
        upper = upper[13:]
    return _BY_UPPER.get(upper)


def _filter_matches(value: str, wanted: str) -> bool:
    if wanted.startswith("/"):
        body = wanted[1:]
        end = body.rfind("/")
        pattern = body[:end] if end >= 0 else body
        try:
            return re.search(pattern, value) is not None
        except re.error:
            return False
    return value.lower() == wanted.lower()


class Listener:
    """Subscription state of one connection (``listener_t`` without the socket)."""

    def __init__(self) -> None:
        self.format = "plain"
        self.enabled = False
        self.all_events = False
        self.events: set[str] = set()
        self.subclasses: set[str] = set()
        self.filters: list[tuple[str, str]] = []
        self.my_uuid = ""

    # -- commands -------------------------------------------------------------------

    def event(self, args: str) -> str:
        """``event [plain|json|xml] <names...>``; returns the reply text."""
        key_count = 0
        custom = False
        for index, word in enumerate(args.split()):
            if index == 0 and word.lower() in FORMATS:
                self.format = word.lower()
                continue
            if custom:
                self.subclasses.add(word)
                continue
            name = event_type(word)
            if name is None:
                continue
            key_count += 1
            if name == "ALL":
                self.all_events = True
            else:
                self.events.add(name)
            custom = name == "CUSTOM"
        if not key_count:
            return "-ERR no keywords supplied"
        self.enabled = True
        return f"+OK event listener enabled {self.format}"

    def nixevent(self, args: str) -> str:
        """``nixevent <names...>``: unsubscribe (subclasses after ``CUSTOM``)."""
        key_count = 0
        custom = False
        for word in args.split():
            if custom:
                self.subclasses.discard(word)
                continue
            name = event_type(word)
            if name is None:
                continue
            key_count += 1
            if name == "CUSTOM":
                custom = True
            elif name == "ALL":
                self.all_events = False
                self.events.clear()
            else:
                if self.all_events:
                    self.all_events = False
                    self.events = {n for n in EVENT_NAMES if n != "ALL"}
                self.events.discard(name)
        if not key_count:
            return "-ERR no keywords supplied"
        self.enabled = True
        return "+OK events nixed"

    def noevents(self) -> str:
        if not self.enabled:
            return "-ERR not listening for events"
        self.enabled = False
        self.all_events = False
        self.events.clear()
        self.subclasses.clear()
        return "+OK no longer listening for events"

    def filter(self, args: str) -> str:
        """``filter <header> <value>``, ``filter add ..``, ``filter delete <header>
        [<value>]`` and ``filter delete all``."""
        header, _, value = args.strip().partition(" ")
        if header.lower() == "delete" and value:
            name, _, val = value.partition(" ")
            if name.lower() == "all":
                self.filters.clear()
            else:
                self.filters = [
                    (h, v)
                    for h, v in self.filters
                    if not (h.lower() == name.lower() and (not val or v == val))
                ]
            return f"+OK filter deleted. [{name}][{val}]"
        if value:
            if header.lower() == "add":
                header, _, value = value.partition(" ")
            self.filters.append((header, value))
            return f"+OK filter added. [{header}]=[{value}]"
        return "-ERR invalid syntax"

    def myevents(self, uuid: str, fmt: str) -> str:
        """Follow only the channel ``uuid`` (the caller checked that it exists)."""
        if self.my_uuid:
            return "-ERR aready enabled."
        self.my_uuid = uuid
        self.events |= MYEVENTS
        self.enabled = True
        if fmt.lower() in FORMATS:
            self.format = fmt.lower()
        return "+OK Events Enabled"

    # -- delivery -------------------------------------------------------------------

    def wants(self, headers: Mapping[str, str]) -> bool:
        """Whether an event with these headers is sent on this connection."""
        if not self.enabled:
            return False
        name = headers.get("Event-Name", "")
        if not self.all_events:
            if name not in self.events:
                return False
            subclass = headers.get("Event-Subclass", "")
            if name == "CUSTOM" and subclass and subclass not in self.subclasses:
                return False
        if self.filters and not self._passes_filters(headers):
            return False
        if self.my_uuid and headers.get("Unique-ID") != self.my_uuid:
            return False
        return True

    def _passes_filters(self, headers: Mapping[str, str]) -> bool:
        lowered = {k.lower(): v for k, v in headers.items()}
        send = False
        for name, raw in self.filters:
            value = lowered.get(name.lower())
            if value is None:
                continue
            positive = True
            wanted = raw
            while wanted and wanted[0] in "+- ":
                if wanted[0] != " ":
                    positive = wanted[0] == "+"
                wanted = wanted[1:]
            if send and positive:
                continue
            if not wanted:
                continue
            if _filter_matches(value, wanted):
                if not positive:
                    return False
                send = True
        return send
