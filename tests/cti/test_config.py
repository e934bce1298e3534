from __future__ import annotations

from pathlib import Path

import pytest

from cti.config import ConfigError, load_settings, parse_esl_urls


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"CTI_DATA_DIR": str(tmp_path), **values}


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert settings.embedded_database
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 5000)
    assert settings.esl_nodes == ()
    assert settings.recordings_dir == tmp_path / "recordings"
    assert len(settings.secret_key) == 64


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings(env(tmp_path)).secret_key
    assert load_settings(env(tmp_path)).secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_several_switches_with_names() -> None:
    nodes = parse_esl_urls("esl://:s3cret@10.0.0.5:8021, esl://fs2:p%40ss@fs2.local")
    assert [(n.name, n.host, n.port, n.password) for n in nodes] == [
        ("10.0.0.5:8021", "10.0.0.5", 8021, "s3cret"),
        ("fs2", "fs2.local", 8021, "p@ss"),
    ]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CTI_ESL", "http://x:1", "CTI_ESL: expected esl://"),
        ("CTI_ESL", "esl://host:8021", "has no password"),
        ("CTI_ESL", "esl://:ClueCon@127.0.0.1:8021", "default password"),
        ("CTI_HTTP", "5000", "CTI_HTTP: expected HOST:PORT"),
        ("CTI_HTTP", "127.0.0.1:99999", "CTI_HTTP"),
        ("CTI_HTTP", ":80", "CTI_HTTP"),
        ("CTI_LOG_LEVEL", "LOUD", "CTI_LOG_LEVEL"),
        ("CTI_DATABASE_URL", "mysql://x", "CTI_DATABASE_URL"),
        ("CTI_DB_POOL_SIZE", "0", "CTI_DB_POOL_SIZE"),
        ("CTI_SITE_TIMEZONE", "Mars/Base", "CTI_SITE_TIMEZONE"),
    ],
)
def test_invalid_values_name_the_variable(tmp_path: Path, variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(env(tmp_path, **{variable: value}))
    assert str(info.value).startswith(variable)
    assert "\n" not in str(info.value)


def test_default_esl_password_is_accepted_only_by_the_demo(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path, CTI_ESL="esl://:ClueCon@127.0.0.1:8021"), demo=True)
    assert settings.esl_nodes[0].password == "ClueCon"


def test_config_file_is_layered_under_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "cti.env"
    config.write_text("# site\nCTI_HTTP=0.0.0.0:8080\nCTI_LOG_LEVEL='debug'\n")
    settings = load_settings(env(tmp_path, CTI_CONFIG=str(config), CTI_LOG_LEVEL="warning"))
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", 8080)
    assert settings.log_level == "WARNING"


def test_config_file_errors_name_the_line(tmp_path: Path) -> None:
    config = tmp_path / "cti.env"
    config.write_text("CTI_HTTP=1.2.3.4:80\nnonsense\n")
    with pytest.raises(ConfigError, match=r"cti.env:2: expected CTI_NAME=value"):
        load_settings(env(tmp_path, CTI_CONFIG=str(config)))
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(env(tmp_path, CTI_CONFIG=str(tmp_path / "missing.env")))
