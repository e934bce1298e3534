"""Load generators and ``run_fakeswitch`` / ``python -m esl.simulator``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from esl.simulator import FakeSwitch
from esl.simulator.probe import Probe
from esl.simulator.traffic import CallerGenerator, register_agent_phones

PASSWORD = "ClueCon"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def switch() -> Iterator[FakeSwitch]:
    fake = FakeSwitch(password=PASSWORD, speed=50, seed=9)
    fake.start()
    yield fake
    fake.stop()


def test_callers_arrive_wait_and_abandon(switch: FakeSwitch) -> None:
    probe = Probe("127.0.0.1", switch.port, timeout=10)
    probe.login(PASSWORD)
    generator = CallerGenerator(switch, rate_per_second=1.0, dids=["5550100", "5550101"], patience=2.0, seed=4)
    generator.start()
    assert generator.running
    probe.wait_for(lambda e: e.name == "CHANNEL_HANGUP_COMPLETE" and e.uuid in generator.placed[:3]
                   and len(generator.placed) >= 3)
    generator.stop()
    assert not generator.running
    placed = list(generator.placed)
    parks = {e.uuid: e for e in probe.events if e.name == "CHANNEL_PARK"}
    arrived = [uuid for uuid in placed if uuid in parks]
    assert arrived
    assert {parks[uuid].get("variable_cti_did") for uuid in arrived} <= {"5550100", "5550101"}
    abandoned = [e for e in probe.events if e.name == "CHANNEL_HANGUP_COMPLETE" and e.uuid in placed]
    assert {e.get("variable_sip_hangup_disposition") for e in abandoned} == {"recv_bye"}
    probe.close()


def test_agent_phone_population(switch: FakeSwitch) -> None:
    behaviours = register_agent_phones(switch, ["3001", "3002", "3003", "3004"], no_answer_share=0.5, seed=2)
    assert set(behaviours) == {"3001", "3002", "3003", "3004"}
    probe = Probe("127.0.0.1", switch.port, timeout=10)
    probe.login(PASSWORD)
    answering = next(ext for ext, kind in behaviours.items() if kind == "answer")
    job = probe.command(f"bgapi originate user/{answering} &park()").headers["Job-UUID"]
    body = probe.wait_for(lambda e: e.name == "BACKGROUND_JOB" and e.get("Job-UUID") == job).body
    assert body.startswith("+OK ")
    probe.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_python_m_esl_simulator_serves_until_sigterm() -> None:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "esl.simulator", "--port", str(port), "--password", PASSWORD,
         "--speed", "20", "--caller-rate", "0.5", "--seed", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                probe = Probe("127.0.0.1", port, timeout=10)
                break
            except OSError:
                assert time.monotonic() < deadline, process.stderr.read().decode() if process.poll() else "no server"
                time.sleep(0.1)
        probe.login(PASSWORD)
        park = probe.wait_for(lambda e: e.name == "CHANNEL_PARK")
        assert park.get("variable_cti_did") == "5550100"
        probe.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert b"fakeswitch listening" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_bad_settings_are_refused() -> None:
    from esl.simulator.main import run_fakeswitch

    for kwargs in ({"password": ""}, {"password": "x", "speed": 0}, {"password": "x", "caller_rate": -1},
                   {"password": "x", "caller_rate": 1, "dids": ()}):
        password = str(kwargs.pop("password"))
        with pytest.raises(ValueError):
            run_fakeswitch(0, password, **kwargs)  # type: ignore[arg-type]
