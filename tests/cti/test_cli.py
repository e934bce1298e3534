"""The `cti` command as users run it: a real process, real PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
CTI = [sys.executable, "-m", "cti.cli"]


def run_cti(*args: str, env: dict[str, str], input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CTI, *args], env={**os.environ, **env}, cwd=REPO, input=input,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def site_env(fresh_db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"CTI_DATABASE_URL": fresh_db_url, "CTI_DATA_DIR": str(tmp_path)}


def test_migrate_then_up_to_date(site_env) -> None:
    first = run_cti("migrate", env=site_env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied ") and "001_site.sql" in first.stdout
    second = run_cti("migrate", env=site_env)
    assert second.returncode == 0
    assert second.stdout.strip() == "database is up to date"


def test_provision_and_user_add(site_env) -> None:
    result = run_cti("provision", "examples/site.yaml", env=site_env)
    assert result.returncode == 0, result.stderr
    assert "20 agents" in result.stdout and "4 queues" in result.stdout
    added = run_cti("user", "add", "carol", "--role", "supervisor", "--role", "agent",
                    "--password", "long-enough-pw", env=site_env)
    assert added.returncode == 0, added.stderr
    assert "carol" in added.stdout and "supervisor, agent" in added.stdout
    weak = run_cti("user", "add", "dave", "--role", "agent", "--password", "short", env=site_env)
    assert weak.returncode == 2
    assert weak.stderr.strip() == "cti: password must be at least 8 characters"


def test_bad_configuration_stops_with_one_line(tmp_path: Path) -> None:
    result = run_cti("migrate", env={"CTI_DATA_DIR": str(tmp_path), "CTI_HTTP": "nonsense"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "cti: CTI_HTTP: expected HOST:PORT such as 127.0.0.1:5000, got 'nonsense'"
    ]


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    url = f"postgresql://nobody@/nodb?host={tmp_path}"
    result = run_cti("migrate", env={"CTI_DATA_DIR": str(tmp_path), "CTI_DATABASE_URL": url})
    assert result.returncode == 2
    assert result.stderr.startswith("cti: cannot connect to the database")
    assert "Traceback" not in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_processes_using(folder: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and str(folder) in cmdline:
            found.append(proc)
    return found


@pytest.mark.slow
def test_demo_serves_the_web_app_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CTI_DATA_DIR": str(tmp_path), "CTI_HTTP": f"127.0.0.1:{port}"}
    env.pop("CTI_DATABASE_URL", None)
    demo = subprocess.Popen([*CTI, "demo"], env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert demo.poll() is None, demo.stderr.read()
            try:
                page = requests.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "demo did not serve within 2 minutes"
                time.sleep(0.5)
        assert page.status_code == 200
        assert "Sign in" in page.text
        assert postgres_processes_using(tmp_path)
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, err
    assert f"Demo running at http://127.0.0.1:{port}/" in out
    assert "admin" in out and "agent1000" in out
    time.sleep(0.5)
    assert postgres_processes_using(tmp_path) == []


def test_report_command_writes_csv_and_names_mistakes(site_env) -> None:
    assert run_cti("provision", "examples/site.yaml", env=site_env).returncode == 0
    result = run_cti("report", "inbound_summary", "--from", "2026-11-01", "--to", "2026-11-02",
                     "--interval", "hour", "--format", "csv", env=site_env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 + 24 * 4  # header + every hour of the day for each of 4 queues, as zeros
    assert all(",0,0,0," in line for line in lines[1:])
    listing = run_cti("report", "--list", env=site_env)
    assert "agent_performance" in listing.stdout
    wrong = run_cti("report", "no_such_report", "--from", "2026-11-01", "--to", "2026-11-02", env=site_env)
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("cti: ") and "no_such_report" in wrong.stderr
