"""Event encoders and decoders round-trip every real event, in both formats."""

from __future__ import annotations

import json
from collections import Counter

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from tests.captures import SCENARIOS, load_capture, raw_plain_wire


def json_records(name: str) -> list[dict]:
    return [
        r for r in load_capture(name) if r["direction"] == "in" and r["headers"]["Content-Type"] == "text/event-json"
    ]


def only_frame(data: bytes) -> Frame:
    parser = FrameParser()
    parser.feed(data)
    frame = parser.next_frame()
    assert frame is not None and parser.next_frame() is None and parser.buffered == 0
    return frame


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_json_capture_event_reencodes_and_parses_back(name: str) -> None:
    records = json_records(name)
    assert records
    for record in records:
        original = decode_event(Frame(record["headers"], record["body"].encode()))
        wire = encode_event_json(original.headers, original.body)
        back = decode_event(only_frame(wire))
        assert back == original
        assert orjson.loads(only_frame(wire).body) == json.loads(record["body"])


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_json_capture_event_survives_the_plain_format(name: str) -> None:
    for record in json_records(name):
        original = decode_event(Frame(record["headers"], record["body"].encode()))
        assert decode_event(only_frame(encode_event_plain(original.headers, original.body))) == original


def test_json_frames_are_byte_identical_to_the_switch() -> None:
    """Our JSON is what mod_event_socket sent, byte for byte (same key order, escapes),
    except events that repeat a key (CODEC): a mapping keeps one of them."""
    identical = duplicated = 0
    for name in SCENARIOS:
        for record in json_records(name):
            keys = [k for k, _ in json.loads(record["body"], object_pairs_hook=lambda pairs: pairs)]
            if len(keys) != len(set(keys)):
                duplicated += 1
                continue
            event = decode_event(Frame(record["headers"], record["body"].encode()))
            assert encode_event_json(event.headers, event.body) == encode_frame(record["headers"], record["body"])
            identical += 1
    assert (identical, duplicated) == (622, 36)


def test_plain_frames_are_byte_identical_to_the_switch() -> None:
    """Re-encoding the plain capture gives the switch's bytes, except events that carry
    a header name twice (CODEC repeats Channel-Write-Codec-*): a mapping keeps one."""
    parser = FrameParser()
    parser.feed(raw_plain_wire())
    identical = duplicated = 0
    while (frame := parser.next_frame()) is not None:
        if not frame.is_event:
            continue
        event = decode_event(frame)
        names = Counter(line.split(b": ", 1)[0] for line in frame.body.split(b"\n\n", 1)[0].split(b"\n"))
        if max(names.values()) > 1:
            duplicated += 1
            continue
        assert encode_event_plain(event.headers, event.body) == encode_frame(frame.headers, frame.body)
        identical += 1
    assert (identical, duplicated) == (73, 5)


def test_json_array_header_reads_as_the_plain_array_form() -> None:
    record = next(r for r in json_records("a_inbound_park") if "DP_MATCH" in r["body"])
    event = decode_event(Frame(record["headers"], record["body"].encode()))
    assert event.headers["variable_DP_MATCH"] == "ARRAY::5900|:5900"


def test_json_scalars_that_are_not_strings_become_strings() -> None:
    body = orjson.dumps({"Event-Name": "CUSTOM", "n": 5, "t": True, "z": None, "o": {"a": 1}, "_body": "x"})
    event = decode_event(Frame({"Content-Type": "text/event-json"}, body))
    assert event.headers == {"Event-Name": "CUSTOM", "n": "5", "t": "true", "z": "", "o": '{"a":1}'}
    assert event.body == "x"


def test_empty_values_are_undef_in_plain_and_empty_after_decoding() -> None:
    wire = encode_event_plain({"Event-Name": "CUSTOM", "Empty": ""})
    assert b"Empty: _undef_\n" in wire
    assert decode_event(only_frame(wire)).headers["Empty"] == ""


def test_a_value_with_encoded_newline_stays_one_value() -> None:
    body = b"Event-Name: CUSTOM\nNote: line1%0Aline2%3A%20x\nAfter: y\n\n"
    event = decode_event(Frame({"Content-Type": "text/event-plain"}, body))
    assert event.headers == {"Event-Name": "CUSTOM", "Note": "line1\nline2: x", "After": "y"}


def test_non_utf8_plain_value_is_replaced_and_counted() -> None:
    stats = DecodeStats()
    body = b"Event-Name: CUSTOM\nCaller-Caller-ID-Name: Jos%E9\nRaw: caf\xe9\n\n"
    event = decode_event(Frame({"Content-Type": "text/event-plain"}, body), stats=stats)
    assert event.headers["Caller-Caller-ID-Name"] == "Jos\ufffd"
    assert event.headers["Raw"] == "caf\ufffd"
    assert stats.replaced_values == 2


def test_non_utf8_json_is_replaced_and_counted() -> None:
    stats = DecodeStats()
    body = b'{"Event-Name":"CUSTOM","Caller-Caller-ID-Name":"Jos\xe9","_body":"ok"}'
    event = decode_event(Frame({"Content-Type": "text/event-json"}, body), stats=stats)
    assert event.headers["Caller-Caller-ID-Name"] == "Jos\ufffd"
    assert event.body == "ok" and stats.replaced_values == 1


def test_json_lone_surrogate_is_replaced_and_counted() -> None:
    stats = DecodeStats()
    body = b'{"Event-Name":"CUSTOM","Bad":"a\\ud800b"}'
    event = decode_event(Frame({"Content-Type": "text/event-json"}, body), stats=stats)
    assert event.headers["Bad"] == "a?b" and stats.replaced_values == 1


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("text/event-json", b"[1, 2]", "not a JSON object"),
        ("text/event-json", b"{not json", "not JSON"),
        ("text/event-plain", b"Event-Name CUSTOM\n\n", "without 'Name: value'"),
        ("text/event-plain", b"Event-Name: BACKGROUND_JOB\nContent-Length: 9\n\n+OK\n", "Content-Length says '9'"),
        ("text/event-plain", b"Event-Name: BACKGROUND_JOB\n\n+OK\n", "Content-Length says None"),
        ("command/reply", b"", "not an event frame"),
    ],
)
def test_malformed_event_bodies_raise(content_type: str, body: bytes, message: str) -> None:
    with pytest.raises(ESLProtocolError, match=message):
        decode_event(Frame({"Content-Type": content_type}, body))


header_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True).filter(
    lambda n: n != "Content-Length"
)
header_values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40).filter(
    lambda v: not v.startswith("ARRAY::") and v != "_undef_"
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(header_names, header_values, min_size=1, max_size=12), header_values)
def test_any_headers_and_body_round_trip_in_both_formats(headers: dict[str, str], body: str) -> None:
    for encode in (encode_event_plain, encode_event_json):
        event = decode_event(only_frame(encode(headers, body)))
        expected = dict(headers)
        if body:
            expected["Content-Length"] = str(len(body.encode()))
        assert dict(event.headers) == expected
        assert event.body == body


def test_encode_frame_places_content_length_like_the_switch() -> None:
    assert encode_frame({"Content-Type": "api/response", "Content-Length": ""}, "") == (
        b"Content-Type: api/response\nContent-Length: 0\n\n"
    )
    assert encode_frame({"Content-Type": "command/reply", "Reply-Text": "+OK"}) == (
        b"Content-Type: command/reply\nReply-Text: +OK\n\n"
    )
    assert encode_frame({"Content-Type": "text/disconnect-notice"}, "bye\n") == (
        b"Content-Type: text/disconnect-notice\nContent-Length: 4\n\nbye\n"
    )
