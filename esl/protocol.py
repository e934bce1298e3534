"""The Event Socket wire protocol, sans I/O: framing, event decoding and encoders.

Like h11, nothing here touches a socket or gevent: bytes go in with ``feed()``,
frames or commands come out of ``next_frame()`` / ``next_command()`` (``None`` means
"need more bytes"), so the same code serves the gevent client, the simulator's server,
the operator tools and the benchmark, and is tested by splitting real captures at every
byte boundary. ``next_event()`` is ``next_frame()`` for the client's ingest hot path:
the switch's JSON event frames come out already decoded, read in place.

Wire facts this module relies on (FreeSWITCH ``mod_event_socket.c`` and
``switch_event.c``, checked against ``tests/fixtures/freeswitch/b_plain_wire.txt``):

* A frame is a block of ``Name: value`` lines ended by a blank line, then exactly
  ``Content-Length`` body bytes if that header is present. Every frame the switch
  sends has a ``Content-Type``; a block without one means the stream is out of step.
* ``text/event-plain``: the body is the event serialised by ``switch_event_serialize``:
  one ``Name: value`` line per header with the VALUE url-encoded (an empty value is
  written ``_undef_``), then either a blank line or ``Content-Length: N``, a blank line
  and the N-byte event body with nothing after it (a BACKGROUND_JOB's ``+OK <uuid>\\n``).
* ``text/event-json``: the body is one JSON object; the event body is under
  ``_body`` (with its own ``Content-Length`` key) and array headers such as
  ``variable_DP_MATCH`` are JSON arrays, which plain writes as ``ARRAY::a|:b``. We
  decode both formats to that same plain string so :class:`esl.events.Event` headers
  are always ``str`` whatever the format.
* Commands (client to server): a command line, optional ``name: value`` headers, a
  blank line, and a body when a ``content-length`` header is given.

Bounds: a header block longer than ``max_header_bytes`` or a ``Content-Length`` over
``max_body_bytes`` (FreeSWITCH's own MAX_CONTENT_LENGTH is 16 MiB) raises
:class:`ESLProtocolError` instead of buffering, so hostile input cannot exhaust memory.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import quote, unquote_to_bytes

import orjson

from esl.events import Event

log = logging.getLogger(__name__)

DEFAULT_MAX_HEADER_BYTES = 65536
DEFAULT_MAX_BODY_BYTES = 16 * 2**20

#: Arguments longer than this (in UTF-8 bytes) go in a sendmsg body, not a header line.
SENDMSG_INLINE_LIMIT = 1024

#: ``SWITCH_URL_UNSAFE`` from switch_utils.h; with controls and non-ASCII these are
#: the characters ``switch_url_encode`` escapes in plain event values.
_URL_UNSAFE = "\r\n #%&+:;<=>?@[\\]^`{|}\""
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in _URL_UNSAFE)

_FRAME_HEADER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
_COMMAND_HEADER_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")
_UNDEF = "_undef_"
_ARRAY_PREFIX = "ARRAY::"
_EVENT_CONTENT_TYPES = ("text/event-json", "text/event-plain")
_SHOW_BYTES = 80
_LARGE_BODY = 256 * 1024
_TEMPLATE_BYTES = 256
#: The hot path's view of an event frame's header block: at most 9 digits (so no
#: length can overflow the body limit check) and one more bounded line, so a match
#: never scans far into a stream that is not made of event frames.
_HOT_BLOCK = re.compile(rb"Content-Length: ([0-9]{1,9})\n([^\n]{1,%d})\n\n" % _TEMPLATE_BYTES).match
#: ``tuple.__new__`` builds a named tuple without running its Python-level ``__new__``.
_new_frame = tuple.__new__
#: The header block of every ``text/event-json`` frame the switch sends: always valid,
#: so :meth:`FrameParser.next_event` needs no template for it.
_JSON_EVENT_BLOCK = re.compile(rb"Content-Length: ([0-9]{1,9})\nContent-Type: text/event-json\n\n").match


class ESLProtocolError(Exception):
    """The byte stream does not follow the Event Socket protocol.

    ``offset`` is the stream position (bytes since the parser was created) where the
    offending data starts, ``data`` a short excerpt of it; both are in the message.
    After this error the stream cannot be trusted: a client drops the connection, a
    dump tool may call :meth:`FrameParser.resync`.
    """

    def __init__(self, message: str, *, offset: int | None = None, data: bytes = b"") -> None:
        where = f" at byte {offset}" if offset is not None else ""
        shown = f": {data[:_SHOW_BYTES]!r}{'...' if len(data) > _SHOW_BYTES else ''}" if data else ""
        super().__init__(f"{message}{where}{shown}")
        self.offset = offset
        self.data = data[:_SHOW_BYTES]


class CommandArgumentError(ValueError):
    """A command or one of its arguments would be unsafe or invalid on the wire.

    Raised for anything that could come from a user or caller and would otherwise let
    them inject extra commands, applications or dial strings; the message names the
    argument and what is allowed.
    """


@dataclass(slots=True)
class DecodeStats:
    """Counts of lossy decodes, shared by whoever owns a stream (see ``ClientStats``)."""

    replaced_values: int = 0


class Frame(NamedTuple):
    """One server-to-client frame: its header block and its raw body bytes.

    Immutable like :class:`esl.events.Event`, and a named tuple for the same reason:
    one is built per frame on the ingest hot path.
    """

    headers: dict[str, str]
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def is_event(self) -> bool:
        return self.content_type in _EVENT_CONTENT_TYPES


@dataclass(frozen=True, slots=True)
class Command:
    """One client-to-server command: the command line, its headers and body."""

    line: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _decode_text(raw: bytes, stats: DecodeStats | None, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if stats is not None:
            stats.replaced_values += 1
        log.warning("esl: non-UTF-8 bytes replaced", extra={"where": what, "data": raw[:_SHOW_BYTES]})
        return raw.decode("utf-8", errors="replace")


class _BlockParser:
    """Shared bounded buffer for both directions: find a header block, then a body.

    The buffer is ``bytes`` plus a read position: a frame's body is one slice (one
    copy) and nothing is deleted per frame; ``feed`` keeps only the unread tail. A body
    still incomplete after a feed and larger than :data:`_LARGE_BODY` is collected as
    a list of chunks and joined once, so a big ``api`` response arriving in many reads
    is not re-copied on every read.
    """

    __slots__ = ("_buf", "_pos", "_base", "_scan", "_parts", "_parts_len", "_max_header", "_max_body", "_error")

    def __init__(self, max_header_bytes: int, max_body_bytes: int) -> None:
        self._buf = b""
        self._pos = 0
        self._base = 0
        self._scan = 0
        self._parts: list[bytes] | None = None
        self._parts_len = 0
        self._max_header = max_header_bytes
        self._max_body = max_body_bytes
        self._error: ESLProtocolError | None = None

    @property
    def offset(self) -> int:
        """Stream position of the first byte not yet returned as part of a frame."""
        return self._base + self._pos

    @property
    def buffered(self) -> int:
        """Bytes fed but not yet returned (a partial frame, or frames not yet read)."""
        return len(self._buf) - self._pos + self._parts_len

    def feed(self, data: bytes) -> None:
        """Append received bytes; call ``next_*`` until it returns ``None`` after each feed."""
        if self._parts is not None:
            self._parts.append(bytes(data))
            self._parts_len += len(data)
            return
        if self._pos >= len(self._buf):
            self._base += len(self._buf)
            self._buf = bytes(data)
        else:
            self._base += self._pos
            self._buf = self._buf[self._pos :] + data
        self._scan = max(0, self._scan - self._pos)
        self._pos = 0

    def _wait_for(self, end: int) -> bool:
        """True when ``_buf`` holds ``end`` bytes; else maybe start collecting chunks."""
        if self._parts is not None:
            if len(self._buf) + self._parts_len < end:
                return False
            self._buf = b"".join([self._buf, *self._parts])
            self._parts = None
            self._parts_len = 0
        if len(self._buf) >= end:
            return True
        if end - len(self._buf) > _LARGE_BODY:
            self._parts = []
        return False

    def _fail(self, message: str, at: int, data: bytes) -> ESLProtocolError:
        self._error = ESLProtocolError(message, offset=self.offset + at, data=data)
        return self._error

    def _find_block(self) -> tuple[int, int] | None:
        """``(end_of_lines, start_of_body)``, buffer indexes, of the block at ``_pos``.

        ``find`` rather than a regex: this runs once per frame on the hot path. A CRLF
        blank line is looked for only up to the LF one, so it costs nearly nothing on
        the switch's LF-only stream.
        """
        buf, pos = self._buf, self._pos
        scan = max(self._scan, pos)
        end = buf.find(b"\n\n", scan)
        crlf = buf.find(b"\n\r\n", scan, (len(buf) if end < 0 else end) + 2)
        if crlf >= 0 and (end < 0 or crlf < end):
            end, body = crlf, crlf + 3
        elif end >= 0:
            body = end + 2
        else:
            if len(buf) - pos > self._max_header:
                raise self._fail(f"header block longer than {self._max_header} bytes", 0, buf[pos : pos + _SHOW_BYTES])
            self._scan = max(pos, len(buf) - 2)
            return None
        if end - pos > self._max_header:
            raise self._fail(f"header block longer than {self._max_header} bytes", 0, buf[pos : pos + _SHOW_BYTES])
        return end, body

    def _content_length(self, raw: str | None) -> int:
        if raw is None:
            return 0
        value = raw.strip()
        if not value.isdigit() or not value.isascii():
            raise self._fail("Content-Length is not a number", 0, raw.encode())
        length = int(value)
        if length > self._max_body:
            raise self._fail(f"Content-Length {length} exceeds the {self._max_body}-byte limit", 0, raw.encode())
        return length

    def _take(self, end: int) -> None:
        self._pos = end
        self._scan = end

    def resync(self) -> int:
        """Skip to the next place a frame could start after a protocol error.

        Drops at least one byte, then everything before the next ``Content-Type:`` or
        ``Content-Length:`` header name. Returns how many bytes were skipped; the next
        ``next_*`` call tries to parse from there (and may fail again).
        """
        self._error = None
        if self._parts is not None:
            self._wait_for(0)
        buf, pos = self._buf, self._pos
        starts = [p for p in (buf.find(b"Content-Type:", pos + 1), buf.find(b"Content-Length:", pos + 1)) if p > 0]
        target = min(starts) if starts else max(pos + 1, len(buf) - len(b"Content-Length:"))
        target = min(target, len(buf))
        self._take(target)
        return target - pos


class FrameParser(_BlockParser):
    """Server-to-client framing: ``feed(bytes)`` then ``next_frame()`` (or, decoding
    event frames on the way, ``next_event()``) until ``None``.

    Raises :class:`ESLProtocolError` (sticky until :meth:`resync`) on a header line
    without ``:``, a block without ``Content-Type``, a bad or oversized
    ``Content-Length`` or an oversized header block. Header values are kept as sent
    (outer frame headers are not url-encoded by the switch).
    """

    __slots__ = ("_pending", "_body_start", "_length", "_templates", "_next", "_next_pos", "_waiting_end")

    #: Header lines that followed a ``Content-Length`` line, remembered once validated
    #: (every event frame is ``Content-Length: N`` + ``Content-Type: text/event-json``);
    #: bounded in number and size so hostile input cannot grow it.
    TEMPLATES = 64
    TEMPLATE_BYTES = _TEMPLATE_BYTES

    def __init__(
        self, *, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    ) -> None:
        super().__init__(max_header_bytes, max_body_bytes)
        self._pending: dict[str, str] | None = None
        self._body_start = 0
        self._length = 0
        self._templates: dict[bytes, dict[str, str]] = {}
        self._next: bytes | None = None
        self._next_pos = 0
        self._waiting_end = 0

    @property
    def buffered(self) -> int:
        """Bytes fed but not yet returned (a partial frame, or frames not yet read)."""
        held = len(self._next) - self._next_pos if self._next is not None else 0
        return len(self._buf) - self._pos + self._parts_len + held

    def feed(self, data: bytes) -> None:
        """Append received bytes; call :meth:`next_frame` (or :meth:`next_event`)
        until it returns ``None``.

        A read usually ends inside a frame whose length is already known. Then only
        that frame's missing bytes are joined to its start, and the rest of the read is
        kept aside (``_next``) until the frame is taken, instead of copying the whole
        tail plus the whole read (64 KB) into one buffer on every read.
        """
        if self._next is not None:
            self._pull_next()
        end, self._waiting_end = self._waiting_end, 0
        if self._pending is not None:
            end = self._pos + self._body_start + self._length
        need = end - len(self._buf)
        if 0 < need < len(data) and self._parts is None:
            self._base += self._pos
            self._buf = b"".join((memoryview(self._buf)[self._pos :], memoryview(data)[:need]))
            self._scan = max(0, self._scan - self._pos)
            self._pos = 0
            self._next, self._next_pos = bytes(data), need
            self._pending = None  # parsed again from the joined bytes, by the hot path if it can
            return
        super().feed(data)

    def _pull_next(self) -> bool:
        """Make the bytes kept aside by :meth:`feed` part of the buffer (without a copy
        when the joined frame has been taken); False when there were none."""
        rest, start = self._next, self._next_pos
        if rest is None:
            return False
        self._next = None
        if self._pos >= len(self._buf):
            self._base += len(self._buf) - start
            self._buf = rest
            self._pos = self._scan = start
        else:
            self._base += self._pos
            self._buf = self._buf[self._pos :] + rest[start:]
            self._scan = max(0, self._scan - self._pos)
            self._pos = 0
        return True

    def resync(self) -> int:
        self._pull_next()
        self._waiting_end = 0
        return super().resync()

    def next_frame(self) -> Frame | None:
        """The next complete frame, or ``None`` when more bytes are needed.

        The hot path is one anchored regex match (``Content-Length: N`` and one more
        header line, then the blank line), a dict lookup of that line among blocks
        already validated by :meth:`_slow_frame`, and one slice for the body; anything
        else (a new block, a body not yet all here, an error) goes the slow way. A
        template never holds a CR, so a hit is always the block the slow path would
        have parsed, with the same headers.
        """
        if self._pending is None and self._error is None:
            buf = self._buf
            match = _HOT_BLOCK(buf, self._pos)
            if match is not None:
                digits, rest = match.groups()
                template = self._templates.get(rest)
                start = match.end()
                stop = start + int(digits)
                if template is not None and stop <= len(buf) and stop - start <= self._max_body:
                    self._pos = self._scan = stop
                    headers = {"Content-Length": digits.decode(), **template}
                    return _new_frame(Frame, (headers, buf[start:stop]))
        frame = self._slow_frame()
        if frame is None and self._pull_next():
            return self.next_frame()
        return frame

    def next_event(self, node: str = "", received_at: float = 0.0) -> Event | Frame | None:
        """:meth:`next_frame` for a reader that wants events decoded: a complete
        ``text/event-json`` frame with the switch's own two-line header block comes back
        as the :class:`Event` that :func:`decode_event` would make of it, decoded straight
        from the buffer (no :class:`Frame`, no copy of its body). Everything else comes
        back as the :class:`Frame` :meth:`next_frame` gives, including an event this
        shortcut leaves alone (a body orjson refuses, or not an object), so the caller's
        :func:`decode_event` handles it (and its errors, and its counts) as before.
        """
        if self._pending is None and self._error is None:
            buf = self._buf
            match = _JSON_EVENT_BLOCK(buf, self._pos)
            if match is not None:
                start = match.end()
                stop = start + int(match[1])
                if stop <= len(buf) and stop - start <= self._max_body:
                    try:
                        data = orjson.loads(memoryview(buf)[start:stop])
                    except orjson.JSONDecodeError:
                        data = None  # decode_event's lenient path takes it, and counts it
                    if type(data) is dict:
                        self._pos = self._scan = stop
                        return _new_event(Event, (data, _as_headers(data, buf, start, stop), node, received_at))
                elif stop - start <= self._max_body and stop - len(buf) <= _LARGE_BODY and self._next is None:
                    self._waiting_end = stop  # tells feed what to join; a larger body goes the slow way
                    return None
            elif self._pos >= len(buf) and self._pull_next():  # a joined frame was taken: go on reading
                return self.next_event(node, received_at)
        return self.next_frame()

    def _slow_frame(self) -> Frame | None:
        if self._error is not None:
            raise self._error
        if self._pending is None:
            block = self._find_block()
            if block is None:
                return None
            raw = self._buf[self._pos : block[0]]
            self._pending = self._parse_headers(raw)
            self._length = self._content_length(self._pending.get("Content-Length"))
            self._body_start = block[1] - self._pos
            self._remember(raw, self._pending)
        start = self._pos + self._body_start
        end = start + self._length
        if len(self._buf) < end and not self._wait_for(end):
            return None
        frame = Frame(self._pending, self._buf[start:end])
        self._pending = None
        self._take(end)
        return frame

    def _remember(self, raw: bytes, headers: dict[str, str]) -> None:
        """Keep the validated second line of a ``Content-Length``-first two-line block
        (the shape of every event frame) for the hot path."""
        if not raw.startswith(b"Content-Length: ") or b"\r" in raw or raw.count(b"Content-Length:") != 1:
            return
        rest = raw[raw.find(b"\n") + 1 :]
        if not rest or b"\n" in rest or len(rest) > self.TEMPLATE_BYTES or rest in self._templates:
            return
        if len(self._templates) >= self.TEMPLATES:
            self._templates.clear()
        self._templates[rest] = {k: v for k, v in headers.items() if k != "Content-Length"}

    def _parse_headers(self, raw: bytes) -> dict[str, str]:
        text = raw.decode("utf-8", errors="replace")
        headers: dict[str, str] = {}
        at = 0
        for line in text.split("\n"):
            name, colon, value = line.rstrip("\r").partition(":")
            if not colon or not _FRAME_HEADER_NAME.match(name):
                what = "blank line" if not line else "header line without 'Name: value'"
                raise self._fail(f"{what} where a frame header was expected", at, line.encode()[:_SHOW_BYTES])
            headers[name] = value.lstrip(" ")
            at += len(line.encode()) + 1
        if "Content-Type" not in headers:
            raise self._fail("frame without Content-Type (stream out of step?)", 0, raw)
        return headers


class CommandParser(_BlockParser):
    """Client-to-server framing for the simulator: ``feed`` then ``next_command``.

    Like ``mod_event_socket``'s ``read_packet``: stray blank lines between commands are
    skipped, header names are matched case-insensitively for ``content-length``, and
    header values lose their leading spaces. Unlike it, a header line without ``:`` is
    an error rather than ignored, so a client bug shows up in tests.
    """

    __slots__ = ()

    def __init__(
        self, *, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    ) -> None:
        super().__init__(max_header_bytes, max_body_bytes)

    def next_command(self) -> Command | None:
        """The next complete command, or ``None`` when more bytes are needed."""
        if self._error is not None:
            raise self._error
        pos = self._pos
        while pos < len(self._buf) and self._buf[pos] in b"\r\n":
            pos += 1
        self._take(pos)
        block = self._find_block()
        if block is None:
            return None
        lines = self._buf[pos : block[0]].decode("utf-8", errors="replace").split("\n")
        headers: dict[str, str] = {}
        length_raw: str | None = None
        for line in lines[1:]:
            name, colon, value = line.rstrip("\r").partition(":")
            if not colon or not _COMMAND_HEADER_NAME.match(name):
                raise self._fail("command header line without 'name: value'", 0, line.encode())
            headers[name] = value.lstrip(" ")
            if name.lower() == "content-length":
                length_raw = headers[name]
        end = block[1] + self._content_length(length_raw)
        if len(self._buf) < end and not self._wait_for(end):
            return None
        command = Command(lines[0].rstrip("\r"), headers, self._buf[block[1] : end])
        self._take(end)
        return command


# --- decoding events -------------------------------------------------------------


def decode_event(
    frame: Frame, *, node: str = "", received_at: float = 0.0, stats: DecodeStats | None = None
) -> Event:
    """Turn a ``text/event-json`` or ``text/event-plain`` frame into an :class:`Event`.

    Non-UTF-8 bytes never raise: they are replaced (U+FFFD), logged and counted in
    ``stats``. Raises :class:`ESLProtocolError` for any other content type or a body
    that is not an event (the framing itself is intact, so the caller may go on).
    """
    kind = frame.headers.get("Content-Type")
    if kind == "text/event-json":
        headers, body = _decode_json(frame.body, stats)
    elif kind == "text/event-plain":
        headers, body = _decode_plain(frame.body, stats)
    else:
        raise ESLProtocolError(f"not an event frame (Content-Type {kind!r})")
    return _new_event(Event, (headers, body, node, received_at))


#: ``tuple.__new__``: an :class:`Event` (a named tuple) without its Python ``__new__``.
_new_event = tuple.__new__


def _decode_json(raw: bytes, stats: DecodeStats | None) -> tuple[dict[str, str], str]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = _decode_json_lenient(raw, stats)
    if type(data) is not dict:
        raise ESLProtocolError("text/event-json body is not a JSON object", data=raw)
    return data, _as_headers(data, raw, 0, len(raw))


def _as_headers(data: dict[str, object], raw: bytes, start: int, stop: int) -> str:
    """Turn the decoded JSON object ``data`` (of ``raw[start:stop]``) into event
    headers in place and return the event body (its ``_body``).

    Every event pays one check that each value is a ``str``, done by ``str.join`` in C
    (it raises on anything else), cheaper than any per-value loop. FreeSWITCH sends
    strings, and arrays for ``ARRAY::`` headers (one channel event in five), turned
    into the plain form first."""
    body = data.pop("_body", "")
    if raw.find(b"[", start, stop) >= 0:  # memchr (``in`` would first try b"[" as an int, and raise)
        _flatten_arrays(data, raw, start, stop)
    try:
        "".join(data.values())  # type: ignore[arg-type]
    except TypeError:
        _values_to_str(data)
    return body if type(body) is str else _json_value_to_str(body)


def _values_to_str(data: dict[str, object]) -> None:
    """The slow way, for whatever :func:`_flatten_arrays` left that is not a ``str``."""
    for key, value in data.items():
        if type(value) is not str:
            data[key] = _json_value_to_str(value)


def _flatten_arrays(data: dict[str, object], raw: bytes, start: int, stop: int) -> None:
    """Turn array values into the plain ``ARRAY::a|:b`` form, finding their keys from
    each ``[`` in ``raw[start:stop]`` (a single-byte ``find`` is a fast memchr)
    preceded by ``":`` in the raw JSON instead of looping over ~150 headers in Python.
    A key that does not come out right (escapes, a ``":[`` inside a string) is simply
    not found in ``data``; the caller's full check catches whatever is left."""
    at = raw.find(b"[", start, stop)
    while at >= 0:
        if raw[at - 2 : at] == b'":':
            key = raw[raw.rfind(b'"', start, at - 2) + 1 : at - 2].decode("utf-8", errors="replace")
            value = data.get(key)
            if type(value) is list:
                data[key] = _json_value_to_str(value)
        at = raw.find(b"[", at + 1, stop)


def _decode_json_lenient(raw: bytes, stats: DecodeStats | None) -> object:
    """orjson refuses invalid UTF-8 and lone surrogates: replace them and retry."""
    text = _decode_text(raw, stats, "event-json")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ESLProtocolError(f"text/event-json body is not JSON ({exc})", data=raw) from exc
    if type(data) is dict:
        for key, value in data.items():
            if type(value) is str:
                clean = value.encode("utf-8", errors="replace").decode("utf-8")
                if clean != value:
                    data[key] = clean
                    if stats is not None:
                        stats.replaced_values += 1
    return data


def _json_value_to_str(value: object) -> str:
    if isinstance(value, list):
        try:
            return _ARRAY_PREFIX + "|:".join(value)
        except TypeError:
            return _ARRAY_PREFIX + "|:".join(_json_value_to_str(v) for v in value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode() if isinstance(value, dict) else str(value)


def _decode_plain(raw: bytes, stats: DecodeStats | None) -> tuple[dict[str, str], str]:
    split = raw.find(b"\n\n")
    head, body_raw = (raw, b"") if split < 0 else (raw[:split], raw[split + 2 :])
    text = _decode_text(head, stats, "event-plain headers")
    headers: dict[str, str] = {}
    for line in text.rstrip("\n").split("\n"):
        name, colon, value = line.partition(": ")
        if not colon or not name:
            raise ESLProtocolError("text/event-plain header line without 'Name: value'", data=line.encode())
        if "%" in value:
            value = _unquote(value, stats)
        headers[name] = "" if value == _UNDEF else value
    if body_raw:
        declared = headers.get("Content-Length")
        if declared != str(len(body_raw)):
            raise ESLProtocolError(
                f"text/event-plain body is {len(body_raw)} bytes but its Content-Length says {declared!r}",
                data=body_raw,
            )
    return headers, _decode_text(body_raw, stats, "event-plain body") if body_raw else ""


def _unquote(value: str, stats: DecodeStats | None) -> str:
    raw = unquote_to_bytes(value)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_text(raw, stats, "event-plain value")


# --- encoding ----------------------------------------------------------------------


def _check_line(text: str, what: str) -> None:
    if "\n" in text or "\r" in text:
        raise CommandArgumentError(f"{what} must be one line; remove the CR/LF from {text[:60]!r}")


def encode_command(line: str, headers: Mapping[str, str] | None = None, body: bytes | str = b"") -> bytes:
    """Encode one command; a body gets a ``content-length`` header.

    Raises :class:`CommandArgumentError` when the line, a header name or value contains
    CR/LF (a second command could be smuggled in) or the line is empty.
    """
    if not line.strip():
        raise CommandArgumentError("the command line is empty")
    _check_line(line, "a command line")
    parts = [line, "\n"]
    for name, value in (headers or {}).items():
        if not _COMMAND_HEADER_NAME.match(name):
            raise CommandArgumentError(f"command header name {name!r} must match [A-Za-z0-9_-]+")
        _check_line(value, f"command header {name}")
        parts += (name, ": ", value, "\n")
    payload = body.encode("utf-8") if isinstance(body, str) else body
    if payload:
        parts += ("content-length: ", str(len(payload)), "\n")
    parts.append("\n")
    return "".join(parts).encode("utf-8") + payload


_APP_NAME = re.compile(r"[A-Za-z0-9_]+\Z")
_SESSION_UUID = re.compile(r"[A-Za-z0-9-]{1,64}\Z")


def _needs_body(arg: str) -> bool:
    """The server cuts a header value at CR/LF and drops its leading spaces."""
    return "\n" in arg or "\r" in arg or arg[0] == " " or len(arg.encode("utf-8")) > SENDMSG_INLINE_LIMIT


def encode_sendmsg(
    uuid: str, app: str, arg: str = "", *, event_lock: bool = False, loops: int = 1, event_uuid: str = "",
) -> bytes:
    """``sendmsg <uuid>`` executing ``app`` with ``arg`` on that channel.

    A long argument (over :data:`SENDMSG_INLINE_LIMIT` bytes), one with newlines or
    one starting with a space is sent as a ``text/plain`` body, which ``switch_ivr_parse_event`` reads when there is
    no ``execute-app-arg``; anything else goes inline. ``event_lock`` makes the switch
    run queued applications in order; ``loops`` repeats the application. ``event_uuid``
    (the ``Event-UUID`` header) becomes the ``Application-UUID`` of the application's
    ``CHANNEL_EXECUTE`` / ``CHANNEL_EXECUTE_COMPLETE``, so the sender recognises the
    completion of exactly this execution (``switch_ivr_parse_event`` stores it as the
    channel's ``app_uuid``).
    """
    if not _SESSION_UUID.match(uuid):
        raise CommandArgumentError(f"sendmsg needs a channel uuid, got {uuid!r}")
    if not _APP_NAME.match(app):
        raise CommandArgumentError(f"application name {app!r} must match [A-Za-z0-9_]+")
    if loops < 1:
        raise CommandArgumentError(f"loops must be at least 1, got {loops}")
    headers = {"call-command": "execute", "execute-app-name": app}
    body = ""
    if arg and _needs_body(arg):
        headers["content-type"] = "text/plain"
        body = arg
    elif arg:
        headers["execute-app-arg"] = arg
    if loops != 1:
        headers["loops"] = str(loops)
    if event_lock:
        headers["event-lock"] = "true"
    if event_uuid:
        if not _SESSION_UUID.match(event_uuid):
            raise CommandArgumentError(f"event uuid must be a uuid, got {event_uuid!r}")
        headers["Event-UUID"] = event_uuid
    return encode_command(f"sendmsg {uuid}", headers, body)


def encode_frame(headers: Mapping[str, str], body: bytes | str = b"") -> bytes:
    """A server frame (for the simulator). ``Content-Length`` is computed from the body
    and written where the caller placed that key (even for an empty body, as
    ``api/response`` always carries it), else after the other headers when there is
    a body."""
    payload = body.encode("utf-8") if isinstance(body, str) else body
    parts: list[str] = []
    placed = False
    for name, value in headers.items():
        if "\n" in name or "\n" in value or "\r" in value:
            raise ValueError(f"frame header {name!r} must be one line")
        if name == "Content-Length":
            parts.append(f"Content-Length: {len(payload)}\n")
            placed = True
            continue
        parts.append(f"{name}: {value}\n")
    if payload and not placed:
        parts.append(f"Content-Length: {len(payload)}\n")
    parts.append("\n")
    return "".join(parts).encode("utf-8") + payload


def _event_frame(content_type: str, payload: bytes) -> bytes:
    return f"Content-Length: {len(payload)}\nContent-Type: {content_type}\n\n".encode() + payload


def encode_event_json(headers: Mapping[str, str], body: str = "") -> bytes:
    """A whole ``text/event-json`` frame as ``mod_event_socket`` sends it.

    ``ARRAY::a|:b`` values become JSON arrays and a body adds ``Content-Length`` and
    ``_body`` last, as ``switch_event_serialize_json`` does; ``Content-Length`` /
    ``_body`` keys in ``headers`` are ignored.
    """
    data: dict[str, object] = {}
    for name, value in headers.items():
        if name in ("Content-Length", "_body"):
            continue
        data[name] = value[len(_ARRAY_PREFIX) :].split("|:") if value.startswith(_ARRAY_PREFIX) else value
    if body:
        data["Content-Length"] = str(len(body.encode("utf-8")))
        data["_body"] = body
    return _event_frame("text/event-json", orjson.dumps(data))


def encode_event_plain(headers: Mapping[str, str], body: str = "") -> bytes:
    """A whole ``text/event-plain`` frame as ``mod_event_socket`` sends it.

    Values are url-encoded like ``switch_url_encode`` (always escaping ``%``, so
    decoding gives back exactly the input), empty values are written ``_undef_``, and a
    body follows ``Content-Length: N`` and a blank line with nothing after it.
    """
    parts: list[str] = []
    for name, value in headers.items():
        if name == "Content-Length":
            continue
        if not name or "\n" in name or ": " in name:
            raise ValueError(f"event header name {name!r} cannot be written in plain format")
        parts.append(f"{name}: {quote(value, safe=_URL_SAFE) if value else _UNDEF}\n")
    payload = body.encode("utf-8")
    if payload:
        parts.append(f"Content-Length: {len(payload)}\n\n")
    else:
        parts.append("\n")
    return _event_frame("text/event-plain", "".join(parts).encode("utf-8") + payload)
