"""The event socket and every password: no ClueCon, no literal secret, fail closed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.freeswitch_conf import fsconf

EVENT_SOCKET = fsconf.CONF / "autoload_configs" / "event_socket.conf.xml"
SECRET_PARAMS = {"password", "vm-password"}


def _event_socket_params() -> dict[str, str]:
    root = fsconf.parse(EVENT_SOCKET)
    assert root.get("name") == "event_socket.conf"
    return {p.get("name", ""): p.get("value", "") for p in root.iter("param")}


def _secret_params() -> list[tuple[str, str, str]]:
    """(file, param name, value) of every password-like param in freeswitch-conf/."""
    found = []
    for path in fsconf.xml_files():
        for param in fsconf.parse(path).iter("param"):
            if param.get("name") in SECRET_PARAMS:
                found.append((fsconf.rel(path), param.get("name", ""), param.get("value", "")))
    return found


def test_event_socket_uses_only_real_parameters() -> None:
    assert set(_event_socket_params()) <= fsconf.reference_params(
        "event_socket.conf settings param"
    )


def test_event_socket_listens_on_8021_at_the_site_address_behind_the_acl() -> None:
    params = _event_socket_params()
    assert params["listen-port"] == "8021"
    assert params["listen-ip"] == "$${cti_esl_listen_ip}"
    assert "cti_esl_listen_ip" in fsconf.site_vars()
    acl = fsconf.parse(fsconf.CONF / "cti" / "acl_cti_middleware.xml").find("list")
    assert acl is not None
    assert params["apply-inbound-acl"] == acl.get("name") == "cti_middleware"
    assert acl.get("default") == "deny"


def test_event_socket_password_is_not_cluecon_nor_a_literal() -> None:
    password = _event_socket_params()["password"]
    assert password == "$${cti_esl_password}"
    assert "cluecon" not in fsconf.expand(password, fsconf.site_vars()).lower()
    assert "cti_esl_password" not in fsconf.site_vars()
    assert "cti_esl_password" in fsconf.exec_set_commands()


@pytest.mark.parametrize(("path", "name", "value"), _secret_params())
def test_every_password_comes_from_a_load_time_command(path, name, value) -> None:
    """No password is written in a file: each is one $${var} that cti_vars.xml fills
    with exec-set (from a secrets file, or random)."""
    variables = fsconf.PREPROCESSOR_VAR.findall(value)
    assert [f"$${{{v}}}" for v in variables] == [value], f"{path} {name}={value}"
    assert variables[0] in fsconf.exec_set_commands(), f"{path}: {variables[0]} is not exec-set"
    assert variables[0] not in fsconf.site_vars(), f"{path}: {variables[0]} has a literal value"


def _run(command: str) -> str:
    """What preprocess_exec_set() stores: stdout without trailing spaces and newlines."""
    done = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, check=False, timeout=10
    )
    return done.stdout.rstrip(" \n")


def _secret_command(variable: str, secrets_dir: Path) -> str:
    command = fsconf.exec_set_commands()[variable]
    return command.replace(fsconf.site_vars()["cti_secrets_dir"], str(secrets_dir))


SECRETS = {
    "cti_esl_password": "esl_password",
    "cti_agent_password": "agent_password",
    "cti_voicemail_pin": "voicemail_pin",
    "cti_gateway_password": "gateway_password",
}


@pytest.mark.parametrize(("variable", "filename"), SECRETS.items())
def test_a_secret_is_the_first_line_of_its_file(tmp_path, variable, filename) -> None:
    (tmp_path / filename).write_text("\n4f2a9c1e77\nsecond line\n", encoding="utf-8")
    assert _run(_secret_command(variable, tmp_path)) == "4f2a9c1e77"


@pytest.mark.parametrize(("variable", "filename"), SECRETS.items())
@pytest.mark.parametrize(
    "content", [None, "", "\n\n", "   \n"], ids=["missing", "empty", "blank", "spaces"]
)
def test_a_missing_secret_fails_closed(tmp_path, variable, filename, content) -> None:
    """Never empty (FreeSWITCH would read that as ClueCon or as 'no password needed'):
    a random value nobody knows instead, different at every load."""
    if content is not None:
        (tmp_path / filename).write_text(content, encoding="utf-8")
    command = _secret_command(variable, tmp_path)
    first, second = _run(command), _run(command)
    assert len(first) >= 24
    assert first != second


def test_users_nobody_registers_as_get_a_random_password() -> None:
    command = fsconf.exec_set_commands()["cti_no_login_password"]
    first, second = _run(command), _run(command)
    assert len(first) >= 24
    assert first != second
