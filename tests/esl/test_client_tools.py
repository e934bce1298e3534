"""Operator tools: ``dump`` of raw captures (clean, damaged, truncated) and ``tail``."""

from __future__ import annotations

import io
import json
from collections import Counter

import gevent

from cti.config import ESLNode
from esl.tools import dump, tail
from tests.captures import raw_plain_wire
from tests.esl.test_client_wire import JSON_EVENTS, ScriptedSwitch


def run_dump(data: bytes) -> tuple[int, list[dict]]:
    out = io.StringIO()
    status = dump(io.BytesIO(data), out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_dump_of_the_real_plain_wire() -> None:
    status, records = run_dump(raw_plain_wire())
    assert status == 0 and len(records) == 83
    assert Counter("event" in r for r in records) == {True: 78, False: 5}
    assert records[0] == {"content_type": "auth/request", "headers": {"Content-Type": "auth/request"}, "body": ""}
    job = next(r for r in records if r.get("event") == "BACKGROUND_JOB")
    assert job["body"] == "+OK 0f25b5fa-9dd6-4e69-a871-b9d5eca06ec7\n"
    assert records[-1]["content_type"] == "text/disconnect-notice"


def test_dump_of_json_events_names_custom_subclasses() -> None:
    status, records = run_dump(b"".join(JSON_EVENTS))
    assert status == 0 and len(records) == 78
    assert all(r["headers"]["Event-Name"] == r["event"] for r in records)


def test_dump_reports_the_offset_and_resynchronises() -> None:
    wire = raw_plain_wire()
    cut = wire.index(b"Content-Length: 1834")
    damaged = wire[:cut] + b"Garbage without colon\n\n" + wire[cut:]
    status, records = run_dump(damaged)
    assert status == 1
    errors = [r for r in records if "error" in r]
    assert errors[0]["offset"] == cut and "Garbage without colon" in errors[0]["error"]
    assert sum("event" in r for r in records) == 78  # nothing after the damage is lost


def test_dump_stops_with_status_1_on_a_truncated_stream() -> None:
    wire = raw_plain_wire()
    status, records = run_dump(wire[:5000])
    assert status == 1
    assert records[-1]["error"].startswith("stream ends inside a frame")
    assert records[-1]["offset"] + records[-1]["bytes"] == 5000


def test_tail_prints_events_until_interrupted() -> None:
    switch = ScriptedSwitch()
    switch.on_subscribed = lambda sock: sock.sendall(b"".join(JSON_EVENTS[:5]))
    out = io.StringIO()
    runner = gevent.spawn(tail, ESLNode("fs1", "127.0.0.1", switch.port, "ClueCon"), out)
    try:
        with gevent.Timeout(5):
            while out.getvalue().count("\n") < 6:
                gevent.sleep(0.02)
        runner.kill(KeyboardInterrupt, block=True, timeout=5)
        assert runner.value == 0
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        assert {"resync": "fs1", "channels": 1} in lines
        assert [r["event"] for r in lines if "event" in r][:2] == ["CHANNEL_STATE", "CHANNEL_STATE"]
        assert switch.commands[-1][0] == "exit"
    finally:
        switch.stop()
