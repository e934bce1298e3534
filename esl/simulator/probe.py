"""A minimal blocking Event Socket client for tests and scripts against the simulator.

It reads frames with ``esl.protocol.FrameParser`` on a plain socket (cooperative under
gevent), keeps every event it sees in order, and returns command replies -- enough to
replay a capture's commands and compare what comes back. The product's client is
``esl.client``; this one exists so the simulator can be checked without it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from esl.events import Event
from esl.protocol import Frame, FrameParser, decode_event, encode_command

REPLY_TYPES = ("command/reply", "api/response", "auth/request", "text/disconnect-notice")


class ProbeClosed(Exception):
    """The server closed the connection."""


class Probe:
    """A connection to an Event Socket server."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.parser = FrameParser()
        self.events: list[Event] = []
        self.frames: list[Frame] = []
        self._replies: list[Frame] = []
        self.timeout = timeout
        self.closed = False

    def close(self) -> None:
        self.sock.close()

    def _pump(self, deadline: float) -> None:
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        except OSError as error:
            raise ProbeClosed(str(error)) from error
        if not data:
            self.closed = True
            raise ProbeClosed("connection closed by the server")
        self.parser.feed(data)
        while (frame := self.parser.next_frame()) is not None:
            self.frames.append(frame)
            if frame.is_event:
                self.events.append(decode_event(frame, received_at=time.monotonic()))
            elif frame.content_type in REPLY_TYPES:
                self._replies.append(frame)

    def reply(self, timeout: float | None = None) -> Frame:
        """The next reply frame (command/reply, api/response, auth/request, notice)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while not self._replies:
            if time.monotonic() >= deadline:
                raise TimeoutError("no reply from the server")
            self._pump(deadline)
        return self._replies.pop(0)

    def send(self, line: str, headers: dict[str, str] | None = None, body: str = "") -> None:
        self.sock.sendall(encode_command(line, headers, body))

    def command(self, line: str, headers: dict[str, str] | None = None, body: str = "") -> Frame:
        self.send(line, headers, body)
        return self.reply()

    def login(self, password: str, events: str = "json ALL") -> None:
        greeting = self.reply()
        assert greeting.content_type == "auth/request", greeting
        answer = self.command(f"auth {password}")
        if answer.headers.get("Reply-Text") != "+OK accepted":
            raise PermissionError(answer.headers.get("Reply-Text"))
        self.command(f"event {events}")

    def api(self, line: str) -> str:
        return self.command(f"api {line}").body.decode()

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float | None = None) -> Event:
        """The first event (seen so far or arriving) matching ``predicate``."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        seen = 0
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            if time.monotonic() >= deadline:
                raise TimeoutError("expected event did not arrive")
            self._pump(deadline)

    def drain(self, seconds: float) -> None:
        """Read whatever arrives for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self._pump(deadline)
            except ProbeClosed:
                return
