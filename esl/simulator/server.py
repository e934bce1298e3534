"""The inbound Event Socket server: mod_event_socket's command handling over TCP.

One reader greenlet per connection parses commands (``esl.protocol.CommandParser``)
and answers them in order -- an ``api`` blocks that connection's commands like on the
real switch, while its writer greenlet keeps sending events. Replies and events share
one outgoing queue, so a reply always precedes the ``API`` event of its command
(captures b-i). Wording comes from mod_event_socket.c: ``+OK accepted``,
``-ERR invalid`` (then ``text/disconnect-notice`` and close), ``-ERR command not
found``, ``+OK Job-UUID: <uuid>``, ``-ERR invalid session id [<uuid>]``, and the
67-byte goodbye of ``exit``. A listener that falls 100000 events behind loses events
and after 500 lost ones is disconnected, as FreeSWITCH does (MAX_QUEUE_LEN/MAX_MISSED).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import gevent
import gevent.queue
import gevent.server

from esl.protocol import (
    Command,
    CommandParser,
    ESLProtocolError,
    encode_event_json,
    encode_event_plain,
    encode_frame,
)
from esl.simulator import commands
from esl.simulator.core import Interrupt
from esl.simulator.engine import Engine
from esl.simulator.listener import Listener, event_type

log = logging.getLogger(__name__)

GOODBYE = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
MAX_QUEUE_LEN = 100_000
MAX_MISSED = 500
_CLOSE = object()


class EventItem:
    """One fired event, encoded at most once per format for all connections."""

    __slots__ = ("headers", "body", "_cache")

    def __init__(self, headers: dict[str, str], body: str) -> None:
        self.headers = headers
        self.body = body
        self._cache: dict[str, bytes] = {}

    def encoded(self, fmt: str) -> bytes:
        data = self._cache.get(fmt)
        if data is None:
            if fmt == "json":
                data = encode_event_json(self.headers, self.body)
            elif fmt == "xml":
                data = _encode_xml(self.headers, self.body)
            else:
                data = encode_event_plain(self.headers, self.body)
            self._cache[fmt] = data
        return data


def _encode_xml(headers: dict[str, str], body: str) -> bytes:
    lines = ["<event>", "  <headers>"]
    lines += [f"    <{name}>{escape(value)}</{name}>" for name, value in headers.items()]
    lines.append("  </headers>")
    if body:
        lines.append(f"  <body>{escape(body)}</body>")
    lines.append("</event>")
    payload = "\n".join(lines).encode("utf-8")
    return f"Content-Length: {len(payload)}\nContent-Type: text/event-xml\n\n".encode() + payload


def _reply(text: str, **extra: str) -> bytes:
    return encode_frame({"Content-Type": "command/reply", "Reply-Text": text, **extra})


class Connection:
    """One Event Socket client."""

    def __init__(self, server: EslServer, sock: socket.socket, address: Any) -> None:
        self.server = server
        self.sock = sock
        self.address = address
        self.listener = Listener()
        self.authed = False
        self.out: gevent.queue.Queue[Any] = gevent.queue.Queue()
        self.lost = 0
        self.closed = False
        self.writer: gevent.Greenlet | None = None

    # -- output ---------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        if not self.closed:
            self.out.put(data)

    def deliver(self, item: EventItem) -> None:
        if self.closed or not self.listener.wants(item.headers):
            return
        if self.out.qsize() >= MAX_QUEUE_LEN:
            self.lost += 1
            if self.lost > MAX_MISSED:
                log.warning("esl listener too slow, disconnecting", extra={"peer": str(self.address)})
                self.abort()
            return
        self.lost = 0
        self.out.put(item)

    def _write_loop(self) -> None:
        while True:
            item = self.out.get()
            if item is _CLOSE:
                self._close_socket()
                return
            data = item.encoded(self.listener.format) if isinstance(item, EventItem) else item
            try:
                self.sock.sendall(data)
            except OSError:
                self.abort()
                return

    def abort(self) -> None:
        """Close at once, without a goodbye (a dropped network connection)."""
        if self.closed:
            return
        self.closed = True
        self._close_socket()
        self.out.put(_CLOSE)

    def _close_socket(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def goodbye(self) -> None:
        """Send the disconnect notice after what is queued, then close."""
        if self.closed:
            return
        self.out.put(encode_frame({"Content-Type": "text/disconnect-notice", "Content-Length": ""}, GOODBYE))
        self.out.put(_CLOSE)
        self.closed = True

    # -- input ----------------------------------------------------------------------------

    def run(self) -> None:
        self.writer = gevent.spawn(self._write_loop)
        self.send(encode_frame({"Content-Type": "auth/request"}))
        parser = CommandParser()
        try:
            while not self.closed:
                data = self.sock.recv(65536)
                if not data:
                    break
                parser.feed(data)
                while not self.closed:
                    command = parser.next_command()
                    if command is None:
                        break
                    self.server.wait_stall()
                    self.handle(command)
        except ESLProtocolError as error:
            log.warning("esl protocol error from client", extra={"peer": str(self.address), "error": str(error)})
        except OSError:
            pass
        finally:
            if not self.closed:
                self.abort()
            if self.writer is not None:
                self.writer.join(timeout=5)

    def handle(self, command: Command) -> None:
        line = command.line.strip()
        lower = line.lower()
        if lower.startswith("exit") or lower.startswith("..."):
            self.send(_reply("+OK bye"))
            self.goodbye()
            return
        if not self.authed:
            self._handle_auth(line)
            return
        name, _, rest = line.partition(" ")
        handler = _COMMANDS.get(name.lower())
        if handler is None:
            self.send(_reply("-ERR command not found"))
            return
        handler(self, rest, command)

    def _handle_auth(self, line: str) -> None:
        if line.lower().startswith("auth "):
            if line[5:] == self.server.password:
                self.authed = True
                self.send(_reply("+OK accepted"))
            else:
                self.send(_reply("-ERR invalid"))
                self.goodbye()
        elif line.lower().startswith("userauth "):
            self.send(_reply("-ERR invalid"))
            self.goodbye()
        else:
            self.send(_reply("-ERR command not found"))


# -- commands after auth ------------------------------------------------------------------

CommandHandler = Callable[[Connection, str, Command], None]
_COMMANDS: dict[str, CommandHandler] = {}


def _command(name: str) -> Callable[[CommandHandler], CommandHandler]:
    def register(fn: CommandHandler) -> CommandHandler:
        _COMMANDS[name] = fn
        return fn

    return register


@_command("event")
def _event(conn: Connection, rest: str, command: Command) -> None:
    conn.send(_reply(conn.listener.event(rest)))


@_command("nixevent")
def _nixevent(conn: Connection, rest: str, command: Command) -> None:
    conn.send(_reply(conn.listener.nixevent(rest)))


@_command("noevents")
def _noevents(conn: Connection, rest: str, command: Command) -> None:
    conn.send(_reply(conn.listener.noevents()))


@_command("filter")
def _filter(conn: Connection, rest: str, command: Command) -> None:
    conn.send(_reply(conn.listener.filter(rest)))


@_command("myevents")
def _myevents(conn: Connection, rest: str, command: Command) -> None:
    uuid, _, fmt = rest.strip().partition(" ")
    if conn.server.engine.core.find(uuid) is None:
        conn.send(_reply("-ERR invalid uuid"))
        return
    conn.send(_reply(conn.listener.myevents(uuid, fmt)))


@_command("divert_events")
def _divert(conn: Connection, rest: str, command: Command) -> None:
    conn.send(_reply("-ERR not controlling a session."))


@_command("linger")
def _linger(conn: Connection, rest: str, command: Command) -> None:
    conn.send(_reply("-ERR not controlling a session"))


@_command("nolinger")
def _nolinger(conn: Connection, rest: str, command: Command) -> None:
    conn.send(_reply("-ERR not controlling a session"))


@_command("log")
def _log(conn: Connection, rest: str, command: Command) -> None:
    level = rest.strip() or "debug"
    levels = {"console": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}
    number = levels.get(level.lower(), int(level) if level.isdigit() else -1)
    conn.send(_reply(f"+OK log level {level} [{number}]" if number >= 0 else "-ERR invalid log level"))


@_command("nolog")
def _nolog(conn: Connection, rest: str, command: Command) -> None:
    conn.send(_reply("-ERR not loging"))


@_command("api")
def _api(conn: Connection, rest: str, command: Command) -> None:
    cmd, _, arg = rest.strip().partition(" ")
    engine = conn.server.engine

    def report(text: str) -> None:
        conn.send(encode_frame({"Content-Type": "api/response", "Content-Length": ""}, text or "-ERR no reply\n"))
        _fire_api(engine, cmd, arg)

    commands.run(engine, cmd, arg, report)


@_command("bgapi")
def _bgapi(conn: Connection, rest: str, command: Command) -> None:
    cmd, _, arg = rest.strip().partition(" ")
    engine = conn.server.engine
    job = command.headers.get("Job-UUID") or command.headers.get("job-uuid") or engine.core.new_uuid()
    conn.send(_reply(f"+OK Job-UUID: {job}", **{"Job-UUID": job}))

    def report(text: str) -> None:
        _fire_api(engine, cmd, arg)
        fields = [("Job-UUID", job), ("Job-Command", cmd)] + ([("Job-Command-Arg", arg)] if arg else [])
        engine.core.fire_plain("BACKGROUND_JOB", "BACKGROUND_JOB", fields, body=text)

    engine.core.spawn(commands.run, engine, cmd, arg, report)


def _fire_api(engine: Engine, cmd: str, arg: str) -> None:
    fields = [("API-Command", cmd)] + ([("API-Command-Argument", arg)] if arg else [])
    engine.core.fire_plain("API", "API", fields)


@_command("sendmsg")
def _sendmsg(conn: Connection, rest: str, command: Command) -> None:
    headers = {k.lower(): v for k, v in command.headers.items()}
    uuid = rest.strip() or headers.get("session-id", "")
    leg = conn.server.engine.core.find(uuid) if uuid else None
    if leg is None or leg.hanging_up:
        conn.send(_reply(f"-ERR invalid session id [{uuid}]"))
        return
    private = {k: v for k, v in command.headers.items() if k.lower() not in ("content-length", "content-type")}
    if command.body and "execute-app-arg" not in headers:
        private["execute-app-arg"] = command.body.decode("utf-8", errors="replace")
    private = {k.lower(): v for k, v in private.items()}
    leg.push(Interrupt("private", {"headers": private}))
    conn.send(_reply("+OK"))


@_command("sendevent")
def _sendevent(conn: Connection, rest: str, command: Command) -> None:
    name = event_type(rest.strip() or "CUSTOM") or "CUSTOM"
    engine = conn.server.engine
    event_uuid = engine.core.new_uuid()
    fields = [(k, v) for k, v in command.headers.items() if k.lower() not in ("content-length", "event-subclass")]
    fields.append(("Event-UUID", event_uuid))
    subclass = command.headers.get("Event-Subclass", "") if name == "CUSTOM" else ""
    engine.core.fire_plain(name, "API", fields, body=command.body.decode("utf-8", errors="replace"),
                           subclass=subclass)
    conn.send(_reply(f"+OK {event_uuid}"))


class EslServer:
    """Accepts Event Socket clients for one :class:`Engine`."""

    def __init__(self, engine: Engine, *, password: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.engine = engine
        self.password = password
        self.host = host
        self.port = port
        self.connections: set[Connection] = set()
        self._stall_until = 0.0
        self._server: gevent.server.StreamServer | None = None

    def start(self) -> None:
        self._server = gevent.server.StreamServer((self.host, self.port), self._handle)
        self._server.start()
        self.port = self._server.server_port

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(timeout=1)
            self._server = None
        self.drop_connections()

    def _handle(self, sock: socket.socket, address: Any) -> None:
        conn = Connection(self, sock, address)
        self.connections.add(conn)
        try:
            conn.run()
        finally:
            self.connections.discard(conn)

    def publish(self, headers: dict[str, str], body: str) -> None:
        item = EventItem(headers, body)
        for conn in list(self.connections):
            conn.deliver(item)

    def drop_connections(self) -> None:
        for conn in list(self.connections):
            conn.abort()

    def stall(self, seconds: float) -> None:
        self._stall_until = max(self._stall_until, time.monotonic() + seconds)

    def wait_stall(self) -> None:
        delay = self._stall_until - time.monotonic()
        if delay > 0:
            gevent.sleep(delay)
