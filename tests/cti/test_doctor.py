"""`cti doctor` against the simulator: a healthy site passes; each misconfiguration
gives its own clear line and a non-zero exit."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cti.config import load_settings
from cti.doctor import doctor, required_modules
from esl.simulator import FakeSwitch

PASSWORD = "doctor-secret"


@pytest.fixture(scope="module")
def switch(tmp_path_factory):
    recordings = tmp_path_factory.mktemp("recordings")
    with FakeSwitch(password=PASSWORD, recordings_dir=str(recordings)) as fake:
        fake.recordings = recordings
        yield fake


def site_env(switch, db_url: str, tmp_path: Path, password: str = PASSWORD) -> dict[str, str]:
    return {
        "CTI_DATA_DIR": str(tmp_path),
        "CTI_DATABASE_URL": db_url,
        "CTI_ESL": f"esl://fs1:{password}@127.0.0.1:{switch.port}",
        "CTI_RECORDINGS_DIR": str(switch.recordings),
    }


def run(env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    status = doctor(load_settings(env), out)
    return status, out.getvalue()


def line(report: str, name: str) -> str:
    found = [row for row in report.splitlines() if name in row]
    assert found, f"no line for {name!r} in:\n{report}"
    return found[0]


def test_healthy_site_passes_every_check(switch, site_db_url, tmp_path) -> None:
    status, report = run(site_env(switch, site_db_url, tmp_path))
    assert status == 0, report
    for name in ("database reachable", "database migrated", "reachable", "ESL password accepted", "version",
                 "required modules loaded", "dialplan extension cti_inbound", "recordings folder is the same",
                 "recordings folder visible to the switch", "agent phones registered", "events arriving"):
        assert line(report, name).startswith("[ok  ]"), report
    assert "ready to take calls" in report
    assert f"{len(required_modules())} modules" in report


def test_wrong_password_is_its_own_failure(switch, site_db_url, tmp_path) -> None:
    status, report = run(site_env(switch, site_db_url, tmp_path, password="not-the-password"))
    assert status == 1
    assert line(report, "ESL password accepted").startswith("[FAIL]")
    assert "cti_secrets/esl_password" in report
    assert line(report, "database reachable").startswith("[ok  ]")


def test_missing_module_is_named(switch, site_db_url, tmp_path) -> None:
    switch.unload_module("mod_avmd")
    try:
        status, report = run(site_env(switch, site_db_url, tmp_path))
    finally:
        switch.engine.modules.add("mod_avmd")
    assert status == 1
    modules = line(report, "required modules loaded")
    assert modules.startswith("[FAIL]") and "missing: mod_avmd" in modules
    assert "freeswitch-conf/cti/modules.xml" in report


def test_unregistered_agent_phone_is_a_warning_only(switch, site_db_url, tmp_path) -> None:
    switch.unregister_phone("1007")
    try:
        status, report = run(site_env(switch, site_db_url, tmp_path))
    finally:
        switch.register_phone("1007")
    assert status == 0, report
    phones = line(report, "agent phones registered")
    assert phones.startswith("[warn]") and "not registered: 1007" in phones


def test_unreachable_database_and_switch(tmp_path) -> None:
    env = {"CTI_DATA_DIR": str(tmp_path), "CTI_DATABASE_URL": f"postgresql://nobody@/nodb?host={tmp_path}",
           "CTI_ESL": "esl://fs9:x-secret@127.0.0.1:1"}
    status, report = run(env)
    assert status == 1
    assert line(report, "database reachable").startswith("[FAIL]")
    assert "CTI_DATABASE_URL" in report
    assert line(report, "switch fs9 (127.0.0.1:1): reachable").startswith("[FAIL]")


def test_cli_exit_status(switch, site_db_url, tmp_path) -> None:
    env = {**os.environ, **site_env(switch, site_db_url, tmp_path)}
    result = subprocess.run([sys.executable, "-m", "cti.cli", "doctor"], env=env, capture_output=True,
                            text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ready to take calls" in result.stdout
