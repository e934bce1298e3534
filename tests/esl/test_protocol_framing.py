"""Framing of the real switch's bytes: the raw ``event plain ALL`` capture split every
which way must give the same 83 frames (78 events) every time."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esl.events import Event
from esl.protocol import Frame, FrameParser, decode_event
from tests.captures import capture_events, raw_plain_wire
from tests.purity import loaded_by

RAW = raw_plain_wire()


def parse_in_chunks(chunks: list[bytes]) -> list[Frame]:
    parser = FrameParser()
    frames = []
    for chunk in chunks:
        parser.feed(chunk)
        while (frame := parser.next_frame()) is not None:
            frames.append(frame)
    assert parser.buffered == 0
    return frames


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@cache
def reference() -> tuple[Frame, ...]:
    return tuple(parse_in_chunks([RAW]))


def test_whole_capture_gives_every_frame_in_order() -> None:
    frames = reference()
    kinds = Counter(f.content_type for f in frames)
    assert kinds == {"text/event-plain": 78, "command/reply": 3, "auth/request": 1, "text/disconnect-notice": 1}
    assert frames[0].headers == {"Content-Type": "auth/request"}
    assert frames[1].headers["Reply-Text"] == "+OK accepted"
    assert frames[-2].headers["Reply-Text"] == "+OK bye"
    assert frames[-1].body == b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
    assert len(frames[-1].body) == 67


def test_one_byte_at_a_time_covers_every_boundary() -> None:
    assert parse_in_chunks(split_every(RAW, 1)) == list(reference())


@pytest.mark.parametrize("size", [*range(2, 130), 251, 509, 1021, 2048, 4093, 8192, 65536])
def test_fixed_chunk_sizes(size: int) -> None:
    assert parse_in_chunks(split_every(RAW, size)) == list(reference())


def test_two_pieces_at_every_offset_around_the_background_job() -> None:
    """The BACKGROUND_JOB frame ends in its inner body with no blank line after it,
    directly followed by the next frame: split it and its neighbours at every byte."""
    start = RAW.index(b"Event-Name: BACKGROUND_JOB")
    start = RAW.rindex(b"Content-Length:", 0, RAW.rindex(b"Content-Type: text/event-plain", 0, start))
    window = RAW[start:]
    end = 0
    for _ in range(3):
        header_end = window.index(b"\n\n", end) + 2
        length = int(window[end:header_end].split(b"Content-Length: ")[1].split(b"\n")[0])
        end = header_end + length
    window = window[:end]
    whole = parse_in_chunks([window])
    assert [decode_event(f).name for f in whole][0] == "BACKGROUND_JOB"
    for cut in range(1, len(window)):
        assert parse_in_chunks([window[:cut], window[cut:]]) == whole


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(RAW)), max_size=200))
def test_random_splits(cuts: list[int]) -> None:
    points = sorted(set(cuts) | {0, len(RAW)})
    chunks = [RAW[a:b] for a, b in zip(points, points[1:], strict=False)]
    assert parse_in_chunks(chunks) == list(reference())


def test_background_job_inner_body() -> None:
    events = [decode_event(f) for f in reference() if f.is_event]
    job = next(e for e in events if e.name == "BACKGROUND_JOB")
    assert job.body == "+OK 0f25b5fa-9dd6-4e69-a871-b9d5eca06ec7\n"
    assert job.headers["Content-Length"] == "41"
    assert job.job_uuid == "f4b3f41c-406a-4c41-bed0-461cf319a392"
    assert job.headers["Job-Command-Arg"] == (
        "{origination_uuid=0f25b5fa-9dd6-4e69-a871-b9d5eca06ec7,ignore_early_media=true}user/1001 &park()"
    )


def test_plain_values_are_url_decoded_per_value() -> None:
    first = decode_event(next(f for f in reference() if f.is_event))
    assert first.headers["Channel-Name"] == "sofia/external/+15550001@127.0.0.1:5201"
    assert first.headers["Event-Date-GMT"] == "Sun, 22 Nov 2026 11:59:37 GMT"
    assert first.headers["FreeSWITCH-IPv6"] == "fd00::2"


def test_plain_stream_decodes_to_the_same_events_as_the_json_capture() -> None:
    """Both connections watched scenario b: event by event (matched on Event-Sequence)
    the plain and JSON decoders must agree on every header and body."""
    plain = {e.sequence: e for e in (decode_event(f) for f in reference() if f.is_event)}
    as_json = {e.sequence: e for e in capture_events("b_park_moh_originate_bridge")}
    assert plain.keys() == as_json.keys() and len(plain) == 78
    for seq, event in plain.items():
        expected = as_json[seq]
        headers = {k: _as_plain(v) for k, v in expected.headers.items()}
        assert dict(event.headers) == headers, seq
        assert event.body == expected.body


def _as_plain(value: object) -> str:
    # tests.captures keeps JSON arrays as lists; the wire decoder gives the plain form.
    return "ARRAY::" + "|:".join(value) if isinstance(value, list) else str(value)


def test_node_and_receive_time_are_attached() -> None:
    frame = next(f for f in reference() if f.is_event)
    event = decode_event(frame, node="fs2", received_at=12.5)
    assert isinstance(event, Event) and event.node == "fs2" and event.received_at == 12.5


def test_sans_io_modules_import_no_io_library() -> None:
    assert loaded_by(["esl.protocol", "esl.commands"], ("gevent", "socket", "greenswitch", "psycopg2", "flask")) == []


@pytest.mark.parametrize("chunk", [4096, 65536])
def test_large_body_in_many_reads(chunk: int) -> None:
    """A multi-megabyte api/response (``show channels`` of a busy switch) is collected
    as chunks and joined once; frames around it are unaffected."""
    body = bytes(range(256)) * 8192  # 2 MiB
    reply = b"Content-Type: command/reply\nReply-Text: +OK\n\n"
    big = f"Content-Type: api/response\nContent-Length: {len(body)}\n\n".encode() + body
    frames = parse_in_chunks(split_every(reply + big + reply, chunk))
    assert [f.content_type for f in frames] == ["command/reply", "api/response", "command/reply"]
    assert frames[1].body == body


def test_offset_and_buffered_track_the_stream() -> None:
    parser = FrameParser()
    parser.feed(RAW[:1000])
    while parser.next_frame() is not None:
        pass
    assert parser.offset + parser.buffered == 1000
    parser.feed(RAW[1000:])
    count = 0
    while parser.next_frame() is not None:
        count += 1
    assert parser.offset == len(RAW) and parser.buffered == 0 and count > 0
