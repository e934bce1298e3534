"""Client-to-server encoding and the simulator's command parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esl.protocol import (
    SENDMSG_INLINE_LIMIT,
    Command,
    CommandArgumentError,
    CommandParser,
    ESLProtocolError,
    encode_command,
    encode_sendmsg,
)
from tests.captures import SCENARIOS, capture_commands

UUID = "97511e48-b3d4-4e10-9b51-71f8be74f0a2"


def commands_of(data: bytes) -> list[Command]:
    parser = CommandParser()
    parser.feed(data)
    out = []
    while (command := parser.next_command()) is not None:
        out.append(command)
    return out


def test_plain_command_bytes() -> None:
    assert encode_command("api status") == b"api status\n\n"
    assert encode_command("bgapi status", {"Job-UUID": UUID}) == f"bgapi status\nJob-UUID: {UUID}\n\n".encode()


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_captured_command_round_trips(name: str) -> None:
    lines = capture_commands(name)
    wire = b"".join(encode_command(line) for line in lines)
    assert [c.line for c in commands_of(wire)] == lines


@pytest.mark.parametrize(
    ("line", "headers"),
    [
        ("api status\n\napi hupall", None),
        ("api status\r", None),
        ("   ", None),
        ("sendmsg x", {"execute-app-arg": "a\nexecute-app-name: hangup"}),
        ("sendmsg x", {"bad name": "v"}),
        ("sendmsg x", {"x\n": "v"}),
    ],
)
def test_injection_is_refused(line: str, headers: dict[str, str] | None) -> None:
    with pytest.raises(CommandArgumentError):
        encode_command(line, headers)


def test_body_gets_a_content_length() -> None:
    wire = encode_command("sendevent CUSTOM", {"Event-Subclass": "cti::test"}, "héllo")
    (command,) = commands_of(wire)
    assert command.headers["content-length"] == "6"
    assert command.body == "héllo".encode()


def test_sendmsg_short_argument_inline() -> None:
    wire = encode_sendmsg(UUID, "playback", "local_stream://moh", event_lock=True, loops=2)
    assert wire == (
        f"sendmsg {UUID}\ncall-command: execute\nexecute-app-name: playback\n"
        "execute-app-arg: local_stream://moh\nloops: 2\nevent-lock: true\n\n"
    ).encode()


@pytest.mark.parametrize("arg", ["x" * (SENDMSG_INLINE_LIMIT + 1), "line one\nline two", "a\rb", " lead"])
def test_sendmsg_long_or_multiline_argument_goes_in_the_body(arg: str) -> None:
    (command,) = commands_of(encode_sendmsg(UUID, "set", arg))
    assert command.line == f"sendmsg {UUID}"
    assert "execute-app-arg" not in command.headers
    assert command.headers["content-type"] == "text/plain"
    assert command.body.decode() == arg


@pytest.mark.parametrize(
    ("uuid", "app", "loops"),
    [("", "park", 1), ("a b", "park", 1), (UUID + "\n", "park", 1), (UUID, "park\nx", 1), (UUID, "pa rk", 1),
     (UUID, "park", 0)],
)
def test_sendmsg_refuses_bad_uuid_app_or_loops(uuid: str, app: str, loops: int) -> None:
    with pytest.raises(CommandArgumentError):
        encode_sendmsg(uuid, app, loops=loops)


def test_parser_like_mod_event_socket_skips_stray_blank_lines_and_reads_crlf() -> None:
    data = b"\n\r\nauth ClueCon\r\n\r\n\nevent json ALL\n\n"
    assert [c.line for c in commands_of(data)] == ["auth ClueCon", "event json ALL"]


def test_parser_header_values_lose_leading_spaces() -> None:
    (command,) = commands_of(b"sendmsg u\ncall-command:   execute\nCONTENT-LENGTH: 2\n\nhi")
    assert command.headers == {"call-command": "execute", "CONTENT-LENGTH": "2"}
    assert command.body == b"hi"


def test_parser_refuses_header_without_colon_and_oversized_blocks() -> None:
    with pytest.raises(ESLProtocolError, match="without 'name: value'"):
        commands_of(b"sendmsg u\nnot a header\n\n")
    parser = CommandParser(max_header_bytes=100)
    parser.feed(b"api " + b"x" * 200)
    with pytest.raises(ESLProtocolError, match="longer than 100"):
        parser.next_command()


command_lines = st.text(st.characters(codec="utf-8", exclude_characters="\r\n", exclude_categories=("Cs",)),
                        min_size=1, max_size=60).filter(lambda s: s.strip() and s[0] not in " ")
args = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=1500)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["park", "playback", "set"]), args), max_size=5), st.integers(1, 50))
def test_sendmsg_stream_splits_anywhere(messages: list[tuple[str, str]], chunk: int) -> None:
    wire = b"".join(encode_sendmsg(UUID, app, arg) for app, arg in messages)
    parser = CommandParser()
    parsed = []
    for i in range(0, len(wire), chunk):
        parser.feed(wire[i : i + chunk])
        while (command := parser.next_command()) is not None:
            parsed.append(command)
    assert len(parsed) == len(messages)
    for command, (app, arg) in zip(parsed, messages, strict=True):
        assert command.headers["execute-app-name"] == app
        got = command.headers.get("execute-app-arg", command.body.decode())
        assert got == arg


@settings(max_examples=100, deadline=None)
@given(command_lines)
def test_any_single_line_command_round_trips(line: str) -> None:
    (command,) = commands_of(encode_command(line))
    assert command.line == line


def test_large_command_body_in_small_reads() -> None:
    arg = "x" * 600_000
    wire = encode_sendmsg(UUID, "set", arg) + encode_command("api status")
    parser = CommandParser()
    parsed = []
    for i in range(0, len(wire), 8192):
        parser.feed(wire[i : i + 8192])
        while (command := parser.next_command()) is not None:
            parsed.append(command)
    assert [c.line for c in parsed] == [f"sendmsg {UUID}", "api status"]
    assert parsed[0].body.decode() == arg
