"""Operator tools: read a raw ESL capture (``cti esl-dump``) or watch a live switch
(``cti esl-tail``), one JSON object per line so the output greps and pipes into ``jq``.

``dump`` is the protocol parser's field test: it reports a broken stream with the byte
offset where it broke, skips to the next frame when it can and says so, and never
hides a frame.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, BinaryIO, TextIO

import gevent
import orjson

from cti.config import ESLNode
from esl.client import DEFAULT_EVENTS, ESLClient
from esl.events import Event
from esl.protocol import ESLProtocolError, Frame, FrameParser, decode_event

log = logging.getLogger(__name__)

CHUNK = 65536


def _line(out: TextIO, record: dict[str, Any]) -> None:
    out.write(orjson.dumps(record).decode() + "\n")


def _frame_record(frame: Frame, offset: int) -> dict[str, Any]:
    if frame.is_event:
        try:
            event = decode_event(frame)
        except ESLProtocolError as exc:
            return {"error": str(exc), "offset": offset, "content_type": frame.content_type}
        return {"event": event.name, "headers": dict(event.headers), "body": event.body}
    return {
        "content_type": frame.content_type,
        "headers": frame.headers,
        "body": frame.body.decode("utf-8", errors="replace"),
    }


def dump(stream: BinaryIO, out: TextIO) -> int:
    """Print every frame of a raw ESL byte stream as a JSON line.

    Returns 0 when the whole stream parsed, 1 when anything was wrong: each protocol
    error prints ``{"error": ..., "offset": N}`` and parsing resumes at the next
    frame start; a stream that ends inside a frame prints ``truncated`` and stops.
    """
    parser = FrameParser()
    status = 0
    while True:
        chunk = stream.read(CHUNK)
        if chunk:
            parser.feed(chunk)
        while True:
            offset = parser.offset
            try:
                frame = parser.next_frame()
            except ESLProtocolError as exc:
                status = 1
                skipped = parser.resync()
                _line(out, {"error": str(exc), "offset": exc.offset, "skipped_bytes": skipped})
                continue
            if frame is None:
                break
            record = _frame_record(frame, offset)
            status = 1 if "error" in record else status
            _line(out, record)
        if not chunk:
            break
    if parser.buffered:
        _line(out, {"error": "stream ends inside a frame (truncated)", "offset": parser.offset,
                    "bytes": parser.buffered})
        return 1
    return status


def tail(node: ESLNode, out: TextIO, events: Sequence[str] = DEFAULT_EVENTS) -> int:
    """Connect to ``node`` and print its events as JSON lines until Ctrl-C.

    Prints a ``{"resync": node, "channels": N}`` line after each (re)connect.
    """

    def on_event(event: Event) -> None:
        _line(out, {"event": event.name, "node": event.node, "headers": dict(event.headers), "body": event.body})
        out.flush()

    def on_resync(name: str, channels: list[dict[str, Any]]) -> None:
        _line(out, {"resync": name, "channels": len(channels)})
        out.flush()

    client = ESLClient(node, on_event=on_event, on_resync=on_resync, events=events)
    client.start()
    try:
        while True:
            gevent.sleep(1.0)
    except KeyboardInterrupt:
        return 0
    finally:
        client.stop()
