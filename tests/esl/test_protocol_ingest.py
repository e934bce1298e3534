"""The ingest hot path gives exactly what plain framing plus ``decode_event`` give.

``FrameParser.next_event`` decodes the switch's JSON event frames straight from its
buffer, and ``feed`` joins only the frame a read cut in two instead of the whole
read; both are checked here against a reference that does not parse at all: the
frames the stream was built from, each decoded on its own by ``decode_event``. The
stream mixes real capture frames with everything the shortcut must leave alone
(non-UTF-8, JSON that is not an object, other scalars, extra header lines, CRLF,
plain events), and is cut at random places, at every offset and in fixed sizes.
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esl.events import Event
from esl.protocol import (
    DecodeStats,
    ESLProtocolError,
    Frame,
    FrameParser,
    decode_event,
    encode_event_json,
    encode_event_plain,
    encode_frame,
)
from tests.captures import load_capture

Outcome = tuple[object, ...]

_ODD_JSON_EVENTS = (
    b'{"Event-Name":"CUSTOM","Event-Subclass":"x::y","Caller":"caf\xe9"}',  # not UTF-8
    b'["CHANNEL_CREATE"]',  # JSON, not an object
    b'{"Event-Name": "HEARTBEAT", ',  # not JSON
    b'{"Event-Name":"HEARTBEAT","n":5,"t":true,"z":null,"o":{"a":1},"l":["a","b"],"_body":"+OK\\n"}',
    b'{"Event-Name":"CHANNEL_ANSWER","variable_DP_MATCH":["a","b"],"x":"[not an array]","_body":7}',
    b'{"Event-Name":"API","A":"\\ud800"}',  # a lone surrogate
)


@cache
def stream_frames() -> tuple[Frame, ...]:
    """Every frame the switch sent in two real captures, then the odd ones."""
    frames = [
        Frame(record["headers"], record["body"].encode())
        for name in ("b_park_moh_originate_bridge", "g_state_snapshot_commands")
        for record in load_capture(name)
        if record["direction"] == "in"
    ]
    frames += [Frame({"Content-Length": str(len(body)), "Content-Type": "text/event-json"}, body)
               for body in _ODD_JSON_EVENTS]
    frames.append(Frame({"Content-Length": "18", "Content-Type": "text/event-json", "X-Extra": "1"},
                        b'{"Event-Name":"A"}'))
    frames.append(Frame({"Content-Type": "text/event-plain", "Content-Length": "0"}, b""))
    plain = encode_event_plain({"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j1"}, "+OK done\n")
    frames.append(Frame({"Content-Length": str(len(plain) - plain.index(b"\n\n") - 2),
                         "Content-Type": "text/event-plain"}, plain[plain.index(b"\n\n") + 2 :]))
    return tuple(frames)


@cache
def wire() -> bytes:
    data = b"".join(encode_frame(frame.headers, frame.body) for frame in stream_frames())
    return data + b"Content-Type: api/response\r\nContent-Length: 3\r\n\r\n+OK"


def outcome(frame: Frame) -> Outcome:
    """What the client makes of one frame: an event (and the values it had to replace),
    an undecodable event, or a frame for the command layer."""
    if frame.content_type not in ("text/event-json", "text/event-plain"):
        return ("frame", frame)
    stats = DecodeStats()
    try:
        event = decode_event(frame, node="fs1", received_at=2.5, stats=stats)
    except ESLProtocolError as exc:
        return ("undecodable", str(exc))
    return ("event", event, stats.replaced_values)


@cache
def expected() -> tuple[Outcome, ...]:
    tail = Frame({"Content-Type": "api/response", "Content-Length": "3"}, b"+OK")
    return (*(outcome(frame) for frame in stream_frames()), outcome(tail))


def ingest(chunks: list[bytes], *, decoded: bool = True) -> list[Outcome]:
    """Read ``chunks`` the way the transport does; the stream position stays exact."""
    parser = FrameParser()
    out: list[Outcome] = []
    fed = 0
    for chunk in chunks:
        parser.feed(chunk)
        fed += len(chunk)
        while (item := parser.next_event("fs1", 2.5) if decoded else parser.next_frame()) is not None:
            out.append(("event", item, 0) if isinstance(item, Event) else outcome(item))
        assert parser.offset + parser.buffered == fed
    assert parser.buffered == 0
    return out


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(data), *points})
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def test_the_stream_exercises_both_paths() -> None:
    parser = FrameParser()
    parser.feed(wire())
    kinds = []
    while (item := parser.next_event("fs1", 2.5)) is not None:
        kinds.append(type(item).__name__ if isinstance(item, Event) else item.content_type)
    assert kinds.count("Event") > 100
    assert kinds.count("text/event-json") == 5  # the odd ones the shortcut leaves alone
    assert kinds.count("text/event-plain") == 2


@pytest.mark.parametrize("size", [8192, 65536])
def test_events_cut_by_a_read_are_decoded_on_the_hot_path_too(size: int) -> None:
    """Only the odd events come back as frames, also where a read ends mid-event."""
    data = wire()
    parser = FrameParser()
    left_alone = 0
    for at in range(0, len(data), size):
        parser.feed(data[at : at + size])
        while (item := parser.next_event("fs1", 2.5)) is not None:
            left_alone += not isinstance(item, Event) and item.content_type == "text/event-json"
    assert left_alone == 5


def test_whole_stream_matches_the_reference() -> None:
    assert ingest([wire()]) == list(expected())
    assert ingest([wire()], decoded=False) == list(expected())


def test_the_stream_has_lossy_and_undecodable_events() -> None:
    odd = [o for o in expected() if o[0] == "undecodable" or (o[0] == "event" and o[2])]
    assert [o[0] for o in odd] == ["event", "undecodable", "undecodable", "event", "undecodable"]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 61, 1021, 4093, 8192, 65536])
def test_fixed_read_sizes(size: int) -> None:
    data = wire()
    assert ingest(cut(data, list(range(0, len(data), size)))) == list(expected())


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(wire())), max_size=300), st.booleans())
def test_random_reads(points: list[int], decoded: bool) -> None:
    assert ingest(cut(wire(), points), decoded=decoded) == list(expected())


def test_two_reads_at_every_offset_across_a_frame_boundary() -> None:
    """Join a read cut anywhere in an event, in the next header block or the one after."""
    first, second, third = (encode_event_json({"Event-Name": f"E{n}", "Unique-ID": "u" * n}) for n in (1, 2, 3))
    data = first + second + third
    whole = ingest([data])
    assert [o[1].name for o in whole] == ["E1", "E2", "E3"]  # type: ignore[union-attr]
    for at in range(1, len(data)):
        assert ingest([data[:at], data[at:]]) == whole
        assert ingest([data[:at], data[at : at + 40], data[at + 40 :]]) == whole


def test_feeding_again_before_draining_keeps_every_byte() -> None:
    data = wire()
    parser = FrameParser()
    out: list[Outcome] = []
    for at in range(0, len(data), 5000):
        parser.feed(data[at : at + 5000])
        if at % 15000 == 0:  # drain only every third read
            while (item := parser.next_event("fs1", 2.5)) is not None:
                out.append(("event", item, 0) if isinstance(item, Event) else outcome(item))
    while (item := parser.next_event("fs1", 2.5)) is not None:
        out.append(("event", item, 0) if isinstance(item, Event) else outcome(item))
    assert out == list(expected()) and parser.buffered == 0


@pytest.mark.parametrize("size", [4096, 65536])
def test_a_large_event_in_many_reads(size: int) -> None:
    """A JSON event over 256 KB (a channel with huge variables) still arrives whole."""
    big = encode_event_json({"Event-Name": "CHANNEL_DATA", "variable_blob": "x" * 600_000})
    data = big + encode_event_json({"Event-Name": "HEARTBEAT"})
    events = ingest(cut(data, list(range(0, len(data), size))))
    assert [o[1].name for o in events] == ["CHANNEL_DATA", "HEARTBEAT"]  # type: ignore[union-attr]
    assert len(events[0][1].headers["variable_blob"]) == 600_000  # type: ignore[union-attr]


def test_an_error_after_a_joined_read_is_raised_and_resync_goes_on() -> None:
    good = encode_event_json({"Event-Name": "A"})
    data = good + b"garbage\n\n" + good
    parser = FrameParser()
    parser.feed(data[:10])
    assert parser.next_event() is None
    parser.feed(data[10:])
    first = parser.next_event()
    assert isinstance(first, Event) and first.name == "A"
    with pytest.raises(ESLProtocolError, match="garbage"):
        parser.next_event()
    parser.resync()
    second = parser.next_event()
    assert isinstance(second, Event) and second.name == "A"
    assert parser.next_event() is None and parser.buffered == 0
