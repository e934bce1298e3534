"""The client against a scripted TCP server that answers with the real switch's bytes
(replies and events taken from the captures), to pin the wire behaviour: auth,
subscription, api/bgapi/sendmsg replies, events with their node, resync content."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import gevent.event
import gevent.server
import pytest

from cti.config import ESLNode
from esl.client import (
    DEFAULT_EVENTS,
    ESLAuthError,
    ESLClient,
    ESLCommandError,
    ESLNotConnected,
    ESLTimeout,
    SwitchSet,
    backoff_delay,
)
from esl.events import Event
from esl.protocol import CommandParser, encode_event_json, encode_frame
from tests.captures import load_capture

CALLER = "e065745f-ffa3-438b-948a-b9ce6a0afff8"


def _api_bodies() -> dict[str, str]:
    """api command -> the real switch's response body (scenario g, snapshot 2)."""
    bodies: dict[str, str] = {}
    last = ""
    for record in load_capture("g_state_snapshot_commands"):
        if record["direction"] == "out":
            last = record["command"]
        elif record["direction"] == "in" and record["headers"].get("Content-Type") == "api/response" \
                and last.startswith("api "):
            bodies[last[4:]] = record["body"]
    return bodies


API = _api_bodies()
JSON_EVENTS = [
    encode_frame(r["headers"], r["body"])
    for r in load_capture("b_park_moh_originate_bridge")
    if r["direction"] == "in" and r["headers"]["Content-Type"] == "text/event-json"
]


class ScriptedSwitch:
    """Speaks just enough ESL, with captured bytes, to drive the client."""

    def __init__(self, password: str = "ClueCon") -> None:
        self.password = password
        self.commands: list[tuple[str, dict[str, str], bytes]] = []
        self.sockets: list[Any] = []
        self.mute_replies = False
        self.on_subscribed: Callable[[Any], None] | None = None
        self.server = gevent.server.StreamServer(("127.0.0.1", 0), self._handle)
        self.server.start()
        self.port = self.server.server_port

    def stop(self) -> None:
        self.server.stop()
        self.drop()

    def drop(self) -> None:
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass
        self.sockets.clear()

    def _reply(self, sock: Any, text: str, **headers: str) -> None:
        if not self.mute_replies:
            sock.sendall(encode_frame({"Content-Type": "command/reply", "Reply-Text": text, **headers}))

    def _handle(self, sock: Any, _address: Any) -> None:
        self.sockets.append(sock)
        sock.sendall(encode_frame({"Content-Type": "auth/request"}))
        parser = CommandParser()
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            parser.feed(data)
            while (command := parser.next_command()) is not None:
                self.commands.append((command.line, command.headers, command.body))
                if not self._answer(sock, command.line, command.headers):
                    sock.close()
                    return

    def _answer(self, sock: Any, line: str, headers: dict[str, str]) -> bool:
        verb, _, rest = line.partition(" ")
        if verb == "auth":
            ok = rest == self.password
            self._reply(sock, "+OK accepted" if ok else "-ERR invalid")
            return ok
        if verb == "event":
            self._reply(sock, "+OK event listener enabled json")
            if self.on_subscribed is not None:
                gevent.spawn(self.on_subscribed, sock)
        elif verb == "api":
            body = API.get(rest, "-ERR no_such_command Command not found!\n")
            if rest.startswith("uuid_dump ") and rest != f"uuid_dump {CALLER} json":
                body = "-ERR No such channel!\n"
            if not self.mute_replies:
                sock.sendall(encode_frame({"Content-Type": "api/response", "Content-Length": ""}, body))
        elif verb == "bgapi":
            job = headers["Job-UUID"]
            self._reply(sock, f"+OK Job-UUID: {job}", **{"Job-UUID": job})
            result = "-ERR USER_NOT_REGISTERED\n" if "1018" in rest else "+OK 2f313ba6-ec5b-4684-907e-954535510695\n"
            if "user/1019" not in rest:  # 1019 never answers: no BACKGROUND_JOB
                event = {"Event-Name": "BACKGROUND_JOB", "Job-UUID": job, "Job-Command": rest.split(" ")[0]}
                gevent.spawn_later(0.05, sock.sendall, encode_event_json(event, result))
        elif verb == "sendmsg":
            ok = rest == CALLER
            self._reply(sock, "+OK" if ok else f"-ERR invalid session id [{rest}]")
        elif verb == "exit":
            self._reply(sock, "+OK bye")
            sock.sendall(encode_frame({"Content-Type": "text/disconnect-notice", "Content-Length": ""},
                                      "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"))
            return False
        return True


@pytest.fixture
def switch() -> Iterator[ScriptedSwitch]:
    server = ScriptedSwitch()
    yield server
    server.stop()


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.resyncs: list[tuple[str, list[dict[str, Any]]]] = []
        self.got_events = gevent.event.Event()
        self.want = 0

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        if len(self.events) >= self.want:
            self.got_events.set()

    def on_resync(self, node: str, channels: list[dict[str, Any]]) -> None:
        self.resyncs.append((node, channels))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def make_client(switch: ScriptedSwitch, recorder: Recorder, **kw: Any) -> ESLClient:
    node = ESLNode("fs1", "127.0.0.1", switch.port, kw.pop("password", "ClueCon"))
    options: dict[str, Any] = {"command_timeout": 2.0, "backoff": (0.05, 0.2), **kw}
    return ESLClient(node, on_event=recorder.on_event, on_resync=recorder.on_resync, **options)


@pytest.fixture
def client(switch: ScriptedSwitch, recorder: Recorder) -> Iterator[ESLClient]:
    esl = make_client(switch, recorder)
    esl.start()
    assert esl.wait_connected(5)
    yield esl
    esl.stop()


def test_connects_subscribes_to_the_events_we_use_and_resyncs(
    client: ESLClient, switch: ScriptedSwitch, recorder: Recorder
) -> None:
    lines = [line for line, _, _ in switch.commands]
    assert lines[:3] == ["auth ClueCon", "event json " + " ".join(DEFAULT_EVENTS), "api show channels as json"]
    assert "CUSTOM sofia::register" in lines[1] and "ALL" not in lines[1].split()
    assert client.connected
    (node, channels), = recorder.resyncs
    assert node == "fs1" and len(channels) == 1  # the agent leg's dump fails: it hung up meanwhile
    channel = channels[0]
    assert channel["uuid"] == CALLER and channel["callstate"] == "ACTIVE"  # from the show row
    assert channel["Unique-ID"] == CALLER and channel["Event-Name"] == "CHANNEL_DATA"  # from uuid_dump
    assert client.stats.resyncs == 1


def test_events_arrive_in_order_tagged_with_the_node(switch: ScriptedSwitch, recorder: Recorder) -> None:
    recorder.want = len(JSON_EVENTS)
    switch.on_subscribed = lambda sock: sock.sendall(b"".join(JSON_EVENTS))
    esl = make_client(switch, recorder)
    esl.start()
    try:
        assert recorder.got_events.wait(5)
        assert len(recorder.events) == 78
        expected = [json.loads(frame.split(b"\n\n", 1)[1])["Event-Sequence"] for frame in JSON_EVENTS]
        assert [e.headers["Event-Sequence"] for e in recorder.events] == expected  # the switch's order
        assert {e.node for e in recorder.events} == {"fs1"}
        assert all(e.received_at > 0 for e in recorder.events)
        assert esl.stats.events_received == 78 and esl.stats.events_dropped == 0
    finally:
        esl.stop()


def test_api_returns_the_body_and_raises_on_err(client: ESLClient) -> None:
    assert client.api("version") == "FreeSWITCH Version 1.11.1-release~64bit ( 64bit)\n"
    with pytest.raises(ESLCommandError) as err:
        client.api("no_such_command")
    assert err.value.reply == "-ERR no_such_command Command not found!\n"
    assert "no_such_command Command not found!" in str(err.value) and "fs1" in str(err.value)


def test_bgapi_waits_for_its_background_job(client: ESLClient, switch: ScriptedSwitch) -> None:
    assert client.bgapi("originate {origination_uuid=x}user/1001 &park()") == (
        "+OK 2f313ba6-ec5b-4684-907e-954535510695\n"
    )
    line, headers, _ = switch.commands[-1]
    assert line.startswith("bgapi originate") and len(headers["Job-UUID"]) == 36
    with pytest.raises(ESLCommandError, match="USER_NOT_REGISTERED"):
        client.bgapi("originate user/1018 &park()")


def test_bgapi_async_many_at_once(client: ESLClient) -> None:
    results = [client.bgapi_async(f"originate user/10{n:02d} &park()") for n in range(18)]
    failing = client.bgapi_async("originate user/1018 &park()")
    for result in results:
        assert result.get(timeout=5).startswith("+OK")
    with pytest.raises(ESLCommandError, match="USER_NOT_REGISTERED"):
        failing.get(timeout=5)


def test_bgapi_without_background_job_times_out_but_the_link_stays(client: ESLClient) -> None:
    with pytest.raises(ESLTimeout, match="no result for bgapi"):
        client.bgapi("originate user/1019 &park()", timeout=0.3)
    assert client.connected and client.api("version").startswith("FreeSWITCH")


def test_sendmsg_ok_and_invalid_session(client: ESLClient, switch: ScriptedSwitch) -> None:
    client.sendmsg(CALLER, "playback", "local_stream://moh", event_lock=True)
    _, headers, _ = switch.commands[-1]
    assert headers == {"call-command": "execute", "execute-app-name": "playback",
                       "execute-app-arg": "local_stream://moh", "event-lock": "true"}
    other = "2f313ba6-ec5b-4684-907e-954535510695"
    with pytest.raises(ESLCommandError) as err:
        client.sendmsg(other, "park")
    assert err.value.reply == f"-ERR invalid session id [{other}]"


def test_missing_reply_times_out_and_every_pending_command_fails_at_once(
    client: ESLClient, switch: ScriptedSwitch
) -> None:
    switch.mute_replies = True
    waiting = [gevent.spawn(client.api, "version", timeout=30) for _ in range(3)]
    gevent.sleep(0.05)
    with pytest.raises(ESLTimeout, match="did not answer 'api status'"):
        client.api("status", timeout=0.3)
    gevent.joinall(waiting, timeout=2)
    assert all(isinstance(g.exception, ESLNotConnected) for g in waiting)
    assert "no reply to 'api status'" in str(waiting[0].exception)
    assert client.stats.commands_timed_out == 1
    switch.mute_replies = False
    assert client.wait_connected(5)  # reconnected and resynced
    assert client.stats.reconnects == 1 and client.stats.resyncs == 2


def test_drop_fails_pending_jobs_then_reconnects(client: ESLClient, switch: ScriptedSwitch, recorder: Recorder) -> None:
    job = client.bgapi_async("originate user/1019 &park()", timeout=30)
    switch.drop()
    with pytest.raises(ESLNotConnected):
        job.get(timeout=2)
    with pytest.raises(ESLNotConnected):
        client.api("version")
    assert client.wait_connected(5)
    assert client.api("version").startswith("FreeSWITCH")
    assert len(recorder.resyncs) == 2


def test_wrong_password_is_reported_and_retried(switch: ScriptedSwitch, recorder: Recorder) -> None:
    esl = make_client(switch, recorder, password="wrong")
    esl.start()
    try:
        assert not esl.wait_connected(0.5)
        assert [line for line, _, _ in switch.commands].count("auth wrong") >= 2
    finally:
        esl.stop()


def test_auth_error_message_names_the_setting(switch: ScriptedSwitch) -> None:
    from esl.transport import ESLTransport

    transport = ESLTransport("127.0.0.1", switch.port, "nope", name="fs1", on_event=lambda f, t: None,
                             on_close=lambda reason: None)
    with pytest.raises(ESLAuthError, match="refused the ESL password .*CTI_ESL"):
        transport.connect()


def test_nothing_listening_gives_not_connected() -> None:
    from esl.transport import ESLTransport

    server = gevent.server.StreamServer(("127.0.0.1", 0), lambda s, a: None)
    server.start()
    port = server.server_port
    server.stop()
    transport = ESLTransport("127.0.0.1", port, "x", name="fs9", on_event=lambda f, t: None, on_close=lambda r: None)
    with pytest.raises(ESLNotConnected, match="cannot connect to fs9"):
        transport.connect()


def test_slow_consumer_fills_the_bounded_queue_drops_are_counted_then_resync(
    switch: ScriptedSwitch,
) -> None:
    release = gevent.event.Event()
    seen: list[Event] = []
    resyncs: list[int] = []

    def slow(event: Event) -> None:
        release.wait()
        seen.append(event)

    switch.on_subscribed = lambda sock: gevent.spawn_later(0.2, sock.sendall, b"".join(JSON_EVENTS))
    node = ESLNode("fs1", "127.0.0.1", switch.port, "ClueCon")
    esl = ESLClient(node, on_event=slow, on_resync=lambda n, c: resyncs.append(len(c)), queue_size=10,
                    command_timeout=2.0, backoff=(0.05, 0.2))
    esl.start()
    try:
        assert esl.wait_connected(5)
        gevent.sleep(0.5)
        stats = esl.stats
        assert stats.events_received == 78
        # the reader decodes a whole recv() without yielding: 10 queued, the rest dropped
        assert stats.queue_high_water == 10 and stats.events_dropped == 78 - 10
        release.set()
        gevent.sleep(0.5)
        assert len(seen) == 10 and len(resyncs) == 2  # the drop triggered a second resync
    finally:
        esl.stop()


def test_switch_set_routes_by_node(switch: ScriptedSwitch, recorder: Recorder) -> None:
    second = ScriptedSwitch()
    nodes = [ESLNode("fs1", "127.0.0.1", switch.port, "ClueCon"), ESLNode("fs2", "127.0.0.1", second.port, "ClueCon")]
    switches = SwitchSet(nodes, on_event=recorder.on_event, on_resync=recorder.on_resync, command_timeout=2.0)
    switches.start()
    try:
        assert switches.wait_connected(5)
        assert switches.names == ["fs1", "fs2"] and len(switches) == 2
        switches.api("fs2", "version")
        assert switch.commands[-1][0] != "api version" and second.commands[-1][0] == "api version"
        assert sorted(node for node, _ in recorder.resyncs) == ["fs1", "fs2"]
        with pytest.raises(ESLNotConnected, match="unknown switch 'fs3'; configured: fs1, fs2"):
            switches.api("fs3", "version")
        assert set(switches.stats()) == {"fs1", "fs2"}
    finally:
        switches.stop()
        second.stop()


def test_stop_says_exit(switch: ScriptedSwitch, recorder: Recorder) -> None:
    esl = make_client(switch, recorder)
    esl.start()
    assert esl.wait_connected(5)
    esl.stop()
    assert switch.commands[-1][0] == "exit"
    assert not esl.connected
    with pytest.raises(ESLNotConnected):
        esl.api("version")


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(0, 0.25, 0.5), (1, 0.5, 1.0), (3, 2.0, 4.0), (6, 15.0, 30.0), (50, 15.0, 30.0)],
)
def test_backoff_is_exponential_capped_and_jittered(attempt: int, low: float, high: float) -> None:
    assert backoff_delay(attempt, 0.5, 30.0, rand=lambda: 0.0) == low
    assert backoff_delay(attempt, 0.5, 30.0, rand=lambda: 1.0) == high


def test_resync_rows_are_the_real_show_output() -> None:
    rows = json.loads(API["show channels as json"])["rows"]
    assert {r["uuid"] for r in rows} == {CALLER, "2f313ba6-ec5b-4684-907e-954535510695"}


def test_silent_link_is_probed_and_replaced(switch: ScriptedSwitch, recorder: Recorder) -> None:
    esl = make_client(switch, recorder, liveness_interval=0.2, command_timeout=0.3)
    esl.start()
    try:
        assert esl.wait_connected(5)
        switch.mute_replies = True  # half-open: nothing comes back any more
        gevent.sleep(0.8)
        assert ("api status", {}, b"") in switch.commands
        assert not esl.connected and esl.stats.commands_timed_out >= 1
        switch.mute_replies = False
        assert esl.wait_connected(5)
        assert esl.stats.reconnects >= 1
    finally:
        esl.stop()
