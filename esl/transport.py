"""One Event Socket connection: greenswitch's ``InboundESL`` with our framing.

greenswitch gives the gevent socket handling and the auth handshake, but its stock
receive loop reads line by line, URL-decodes whole blocks, knows no JSON, waits
forever for replies and never reconnects. We keep its class (so its connection state,
``connected`` flag and auth event mean what they mean there) and override the parts
that matter:

* ``receive_events``: raw ``recv`` into :class:`esl.protocol.FrameParser`; every
  frame is routed by content type (replies to the waiting command, events to the
  ``on_event`` callback, which must not block). Given ``on_decoded``, the parser
  decodes the switch's JSON event frames itself (:meth:`FrameParser.next_event`,
  the ingest hot path) and hands those over as events;
* ``send``: commands are bytes from :func:`esl.protocol.encode_command`, written under
  a lock (so reply order matches send order) and waited for with a timeout;
* ``close``: one place that ends the connection and fails every pending command.

A command that gets no reply in time closes the connection: the real switch answers
commands from the same thread that sends events, so a silent reply means a stuck
listener, and only a new connection (reconnect, resubscribe, resync) is trustworthy.

Errors (this is the whole tree; :mod:`esl.client` re-exports it)::

    ESLError                      anything that went wrong talking to a switch
    ├── ESLNotConnected           no connection, or it dropped while we waited
    ├── ESLTimeout                no reply / no BACKGROUND_JOB within the timeout
    ├── ESLCommandError           the switch answered -ERR (``.reply`` is its text)
    └── ESLAuthError              the password was refused (or an ACL rejected us)
    esl.protocol.ESLProtocolError the byte stream is broken (connection is dropped)
"""

from __future__ import annotations

import logging
import socket
import time
from collections import deque
from collections.abc import Callable

import gevent
import gevent.event
import gevent.lock
import gevent.socket
from greenswitch.esl import InboundESL

from esl.events import Event
from esl.protocol import ESLProtocolError, Frame, FrameParser, encode_command

log = logging.getLogger(__name__)

RECV_BYTES = 65536
_EVENT_TYPES = frozenset(("text/event-json", "text/event-plain"))


class ESLError(Exception):
    """Base of every error talking to a switch."""


class ESLNotConnected(ESLError):
    """There is no connection, or it dropped before the reply came."""


class ESLTimeout(ESLError):
    """The switch did not answer in time."""


class ESLAuthError(ESLError):
    """The switch refused our password (check ``CTI_ESL``) or rejected our address."""


class ESLCommandError(ESLError):
    """The switch answered ``-ERR ...``; ``reply`` keeps its text unchanged."""

    def __init__(self, command: str, reply: str, node: str = "") -> None:
        where = f" on {node}" if node else ""
        super().__init__(f"{command!r} failed{where}: {reply.strip()}")
        self.command = command
        self.reply = reply


class ESLTransport(InboundESL):  # type: ignore[misc]
    """A single authenticated connection; the client above owns reconnection.

    ``on_event(frame, received_at)`` runs in the reading greenlet for every event frame
    and must only enqueue; ``on_close(reason)`` runs once when the connection ends.
    With ``on_decoded(event)``, event frames the parser decodes itself (events tagged
    with ``name``) go there instead, and only the others to ``on_event``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        *,
        name: str,
        on_event: Callable[[Frame, float], None],
        on_close: Callable[[str], None],
        connect_timeout: float = 5.0,
        on_decoded: Callable[[Event], None] | None = None,
    ) -> None:
        super().__init__(host, port, password, timeout=connect_timeout)
        self.name = name
        self._on_event = on_event
        self._on_decoded = on_decoded
        self._on_close = on_close
        self._parser = FrameParser()
        self._pending: deque[gevent.event.AsyncResult] = deque()
        self._send_lock = gevent.lock.Semaphore()
        self._rejected = False
        self.closed = gevent.event.Event()
        self.close_reason = ""
        self.last_received = time.monotonic()
        self.sock: socket.socket | None = None

    # --- connection ---------------------------------------------------------------

    def connect(self) -> None:
        """Open the socket, wait for ``auth/request`` and authenticate (all bounded)."""
        try:
            self.sock = gevent.socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ESLNotConnected(f"cannot connect to {self.name} at {self.host}:{self.port}: {exc}") from exc
        self.sock.settimeout(None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.connected = True
        self._receive_events_greenlet = gevent.spawn(self.receive_events)
        if not self._auth_request_event.wait(self.timeout) or self.closed.is_set():
            reason = self.close_reason or f"no auth/request within {self.timeout} s"
            self.close(reason)
            raise ESLAuthError(f"{self.name} rejected the connection") if self._rejected else ESLNotConnected(
                f"{self.name}: {reason}"
            )
        self.authenticate()

    def authenticate(self) -> None:
        if "\n" in self.password or "\r" in self.password:
            self.close("bad password")
            raise ESLAuthError(f"{self.name}: the ESL password contains a line break")
        reply = self.send(encode_command(f"auth {self.password}"), self.timeout).headers.get("Reply-Text", "")
        if not reply.startswith("+OK"):
            self.close("authentication refused")
            raise ESLAuthError(f"{self.name} refused the ESL password ({reply}); check CTI_ESL")

    def close(self, reason: str) -> None:
        """End the connection once: fail every pending command, tell ``on_close``."""
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.connected = False
        self._run = False
        self.closed.set()
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
        error = ESLNotConnected(f"connection to {self.name} ended: {reason}")
        while self._pending:
            pending = self._pending.popleft()
            if not pending.ready():
                pending.set_exception(error)
        self._on_close(reason)

    def stop(self) -> None:
        """Say ``exit`` if we can, then close (greenswitch's ``stop`` would block)."""
        if self.connected:
            try:
                self.send(encode_command("exit"), 1.0)
            except ESLError:
                pass
        self.close("stopped")

    # --- reading ------------------------------------------------------------------

    def start_event_handlers(self) -> None:
        """greenswitch's second greenlet (process_events) is replaced by the client's
        bounded queue; only the reader runs here (started by :meth:`connect`)."""

    def receive_events(self) -> None:
        reason = "connection closed by the switch"
        sock = self.sock
        assert sock is not None
        feed = self._parser.feed
        deliver = self._deliver_frames if self._on_decoded is None else self._deliver_decoded
        try:
            while not self.closed.is_set():
                data = sock.recv(RECV_BYTES)
                if not data:
                    break
                received_at = self.last_received = time.monotonic()
                feed(data)
                deliver(received_at)
        except ESLProtocolError as exc:
            reason = f"protocol error: {exc}"
            log.error("esl: protocol error, dropping the connection", extra={"node": self.name, "error": str(exc)})
        except OSError as exc:
            reason = f"socket error: {exc}"
        self.close(reason)

    def _deliver_frames(self, received_at: float) -> None:
        """Every complete frame: events straight to ``on_event``, the rest routed by
        :meth:`handle_event`."""
        next_frame, on_event, handle = self._parser.next_frame, self._on_event, self.handle_event
        while (frame := next_frame()) is not None:
            if frame.headers["Content-Type"] in _EVENT_TYPES:
                on_event(frame, received_at)
            else:
                handle(frame, received_at)

    def _deliver_decoded(self, received_at: float) -> None:
        """The ingest hot path (thousands of events a second): events the parser
        decoded go to ``on_decoded``, other events to ``on_event``, the rest to
        :meth:`handle_event`."""
        next_event, name = self._parser.next_event, self.name
        on_decoded, on_event, handle = self._on_decoded, self._on_event, self.handle_event
        assert on_decoded is not None
        while (item := next_event(name, received_at)) is not None:
            if isinstance(item, Event):
                on_decoded(item)
            elif item.headers["Content-Type"] in _EVENT_TYPES:
                on_event(item, received_at)
            else:
                handle(item, received_at)

    def handle_event(self, frame: Frame, received_at: float = 0.0) -> None:  # type: ignore[override]
        """Route one frame by its content type."""
        kind = frame.content_type
        if kind in _EVENT_TYPES:
            self._on_event(frame, received_at)
        elif kind in ("command/reply", "api/response"):
            if self._pending:
                self._pending.popleft().set(frame)
            else:
                log.warning("esl: reply without a command", extra={"node": self.name, "headers": frame.headers})
        elif kind == "auth/request":
            self._auth_request_event.set()
        elif kind == "text/disconnect-notice":
            log.info("esl: disconnect notice", extra={"node": self.name, "body": frame.body[:200]})
        elif kind == "text/rude-rejection":
            self._rejected = True
            log.error("esl: switch rejected our address (event_socket ACL)", extra={"node": self.name})
            self._auth_request_event.set()
        else:
            log.warning("esl: ignoring frame", extra={"node": self.name, "content_type": kind})

    # --- writing ------------------------------------------------------------------

    def send(self, data: bytes, timeout: float) -> Frame:  # type: ignore[override]
        """Write one encoded command and wait for its reply frame.

        Raises ESLNotConnected (no connection, or it ended while waiting) and
        ESLTimeout (no reply in ``timeout`` seconds; the connection is then closed).
        """
        if not self.connected or self.closed.is_set() or self.sock is None:
            raise ESLNotConnected(f"not connected to {self.name}")
        result = gevent.event.AsyncResult()
        deadline = time.monotonic() + timeout
        try:
            with gevent.Timeout(timeout, ESLTimeout(f"{self.name}: could not send within {timeout} s")):
                with self._send_lock:
                    self._pending.append(result)
                    self.sock.sendall(data)
        except ESLTimeout as exc:
            self.close(f"sending stalled for {timeout} s")
            raise exc
        except OSError as exc:
            self.close(f"socket error while sending: {exc}")
            raise ESLNotConnected(f"connection to {self.name} failed while sending: {exc}") from exc
        try:
            frame: Frame = result.get(timeout=max(0.0, deadline - time.monotonic()))
        except gevent.Timeout:
            command = data.split(b"\n", 1)[0].decode("utf-8", errors="replace")
            if command.startswith("auth "):
                command = "auth ********"
            self.close(f"no reply to {command!r} within {timeout} s")
            raise ESLTimeout(f"{self.name} did not answer {command!r} within {timeout} s") from None
        return frame
