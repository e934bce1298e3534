"""Hostile or broken input: the frame parser fails loudly, names the bytes and where
they are, never buffers without bound, and can be resynchronised by a dump tool."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esl.protocol import ESLProtocolError, Frame, FrameParser, encode_event_json, encode_frame
from tests.captures import raw_plain_wire

REPLY = b"Content-Type: command/reply\nReply-Text: +OK\n\n"


def frames_of(data: bytes, **limits: int) -> list[Frame]:
    parser = FrameParser(**limits)
    parser.feed(data)
    out = []
    while (frame := parser.next_frame()) is not None:
        out.append(frame)
    return out


def test_truncated_stream_waits_and_never_invents_a_frame() -> None:
    wire = raw_plain_wire()
    for cut in (10, 200, 5000, len(wire) - 1):
        parser = FrameParser()
        parser.feed(wire[:cut])
        complete = []
        while (frame := parser.next_frame()) is not None:
            complete.append(frame)
        assert parser.buffered > 0
        assert parser.offset + parser.buffered == cut
        parser.feed(wire[cut:])
        while (frame := parser.next_frame()) is not None:
            complete.append(frame)
        assert len(complete) == 83


def test_content_length_too_short_leaves_garbage_that_is_named() -> None:
    event = encode_event_json({"Event-Name": "HEARTBEAT", "Up-Time": "0 years"})
    length = int(event.split(b"\n")[0].split(b": ")[1])
    wrong = event.replace(f"Content-Length: {length}".encode(), f"Content-Length: {length - 12}".encode())
    parser = FrameParser()
    parser.feed(REPLY + wrong + REPLY)
    assert parser.next_frame() is not None
    assert parser.next_frame() is not None  # the short frame itself parses
    with pytest.raises(ESLProtocolError) as err:
        parser.next_frame()
    assert "0 years" in str(err.value) or 'years"}' in str(err.value)
    assert err.value.offset == len(REPLY) + len(wrong) - 12


def test_content_length_too_long_swallows_the_next_frame_then_fails() -> None:
    event = encode_event_json({"Event-Name": "HEARTBEAT"})
    length = int(event.split(b"\n")[0].split(b": ")[1])
    wrong = event.replace(f"Content-Length: {length}".encode(), f"Content-Length: {length + 20}".encode())
    parser = FrameParser()
    parser.feed(wrong + REPLY + REPLY)
    assert parser.next_frame() is not None
    with pytest.raises(ESLProtocolError, match="header line without"):
        parser.next_frame()


def test_errors_are_sticky_until_resync() -> None:
    parser = FrameParser()
    parser.feed(b"garbage line\n\n" + REPLY)
    for _ in range(2):
        with pytest.raises(ESLProtocolError, match=r"at byte 0: b'garbage line'"):
            parser.next_frame()
    assert parser.resync() == len(b"garbage line\n\n")
    frame = parser.next_frame()
    assert frame is not None and frame.headers["Reply-Text"] == "+OK"


def test_resync_skips_to_the_next_frame_start_in_a_real_stream() -> None:
    wire = raw_plain_wire()
    damaged = wire[:3000] + b"\x00\xffjunk" + wire[3000:]
    parser = FrameParser()
    parser.feed(damaged)
    good, errors = 0, 0
    while True:
        try:
            frame = parser.next_frame()
        except ESLProtocolError:
            errors += 1
            parser.resync()
            continue
        if frame is None:
            break
        good += 1
    assert errors >= 1
    assert good >= 80  # the damaged frame is lost, the stream after it is read again


def test_huge_header_block_is_refused_without_buffering_it() -> None:
    parser = FrameParser(max_header_bytes=1024)
    parser.feed(b"Content-Type: text/event-json\nX-Pad: ")
    with pytest.raises(ESLProtocolError, match="header block longer than 1024 bytes"):
        for _ in range(100):
            parser.feed(b"A" * 512)
            parser.next_frame()


def test_huge_content_length_is_refused_before_reading_the_body() -> None:
    with pytest.raises(ESLProtocolError, match="exceeds the 1000-byte limit"):
        frames_of(b"Content-Type: text/event-json\nContent-Length: 1001\n\n", max_body_bytes=1000)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Content-Type: text/event-json\nContent-Length: -5\n\n", "Content-Length is not a number"),
        (b"Content-Type: text/event-json\nContent-Length: 12abc\n\n", "Content-Length is not a number"),
        (b"Content-Type: x\nContent-Length: \xd9\xa3\n\n", "Content-Length is not a number"),
        (b"Reply-Text: +OK\n\n", "frame without Content-Type"),
        (b"Content-Type command/reply\n\n", "header line without 'Name: value'"),
        (b"\nContent-Type: command/reply\n\n", "blank line where a frame header was expected"),
        (b"Content Type: command/reply\n\n", "header line without 'Name: value'"),
        (b": no name\n\n", "header line without 'Name: value'"),
    ],
)
def test_malformed_header_blocks(data: bytes, message: str) -> None:
    with pytest.raises(ESLProtocolError, match=message):
        frames_of(data)


def test_empty_value_and_missing_space_are_accepted() -> None:
    (frame,) = frames_of(b"Content-Type: command/reply\nReply-Text: \nJob-UUID:abc\n\n")
    assert frame.headers == {"Content-Type": "command/reply", "Reply-Text": "", "Job-UUID": "abc"}


def test_non_utf8_frame_header_does_not_crash() -> None:
    (frame,) = frames_of(b"Content-Type: command/reply\nReply-Text: -ERR caf\xe9\n\n")
    assert frame.headers["Reply-Text"] == "-ERR caf\ufffd"


def test_crlf_line_endings_are_tolerated() -> None:
    (frame,) = frames_of(b"Content-Type: api/response\r\nContent-Length: 3\r\n\r\n+OK")
    assert frame.body == b"+OK" and frame.content_type == "api/response"


def test_encode_frame_refuses_multiline_values() -> None:
    with pytest.raises(ValueError, match="one line"):
        encode_frame({"Content-Type": "command/reply", "Reply-Text": "+OK\nContent-Type: x"})


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_anything_but_protocol_errors(data: bytes) -> None:
    parser = FrameParser(max_header_bytes=512, max_body_bytes=4096)
    parser.feed(data)
    for _ in range(50):
        try:
            if parser.next_frame() is None:
                break
        except ESLProtocolError:
            parser.resync()
    assert parser.buffered <= len(data)


@pytest.mark.parametrize(
    ("length_line", "message"),
    [
        (b"Content-Length: 5x", "not a number"),
        (b"Content-Length: 99999999999999", "exceeds"),
        (b"Content-Length: ", "not a number"),
        (b"Content-Length: -1", "not a number"),
    ],
)
def test_bad_length_after_the_hot_path_learned_the_block(length_line: bytes, message: str) -> None:
    good = encode_event_json({"Event-Name": "HEARTBEAT"})
    bad = length_line + b"\nContent-Type: text/event-json\n\n{}"
    parser = FrameParser()
    parser.feed(good + good + bad)
    assert parser.next_frame() is not None and parser.next_frame() is not None
    with pytest.raises(ESLProtocolError, match=message):
        parser.next_frame()
