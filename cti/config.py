"""Settings: one frozen object built once at start-up, then passed explicitly.

Layers, lowest first: built-in defaults, an optional env-style file named by
``CTI_CONFIG`` (``CTI_NAME=value`` lines, the same format as a systemd
``EnvironmentFile``), then ``CTI_``-prefixed environment variables. Every value is
validated here; a bad one raises :class:`ConfigError` whose message names the variable
and what is expected, so start-up stops with one clear line.
"""

from __future__ import annotations

import os
import secrets
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: FreeSWITCH's stock event_socket password; accepted only by the demo.
DEFAULT_ESL_PASSWORD = "ClueCon"

DEFAULTS: Mapping[str, str] = {
    "CTI_DATA_DIR": "./var",
    "CTI_HTTP": "127.0.0.1:5000",
    "CTI_LOG_LEVEL": "INFO",
    "CTI_DB_POOL_SIZE": "8",
    "CTI_ESL_COMMAND_TIMEOUT": "10",
    "CTI_SITE_TIMEZONE": "UTC",
}

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it and says what is expected."""


@dataclass(frozen=True)
class ESLNode:
    """One FreeSWITCH event socket the middleware connects to."""

    name: str
    host: str
    port: int
    password: str

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one running site."""

    data_dir: Path
    database_url: str | None
    esl_nodes: tuple[ESLNode, ...]
    http_host: str
    http_port: int
    secret_key: str
    recordings_dir: Path
    log_level: str
    db_pool_size: int
    esl_command_timeout: float
    site_timezone: str
    demo: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def embedded_database(self) -> bool:
        """True when the site runs the embedded PostgreSQL in the data dir."""
        return self.database_url is None

    def for_demo(self) -> Settings:
        """The same settings marked as the demo (which alone may use ClueCon)."""
        return replace(self, demo=True)


def parse_esl_urls(value: str, *, variable: str = "CTI_ESL") -> tuple[ESLNode, ...]:
    """Parse ``esl://[name]:PASSWORD@HOST:PORT`` entries separated by commas.

    The optional user part names the node (it defaults to ``HOST:PORT``); every event
    carries that name so several switches can be told apart.
    """
    nodes: list[ESLNode] = []
    for raw in (part.strip() for part in value.split(",")):
        if not raw:
            continue
        parts = urlsplit(raw)
        expected = f"{variable}: expected esl://:PASSWORD@HOST:PORT[,...], got {raw!r}"
        if parts.scheme != "esl" or not parts.hostname:
            raise ConfigError(expected)
        try:
            port = parts.port or 8021
        except ValueError as exc:
            raise ConfigError(expected) from exc
        if parts.password is None or parts.password == "":
            raise ConfigError(f"{variable}: {raw!r} has no password (esl://:PASSWORD@HOST:PORT)")
        name = unquote(parts.username or "") or f"{parts.hostname}:{port}"
        nodes.append(ESLNode(name, parts.hostname, port, unquote(parts.password)))
    names = [n.name for n in nodes]
    if len(set(names)) != len(names):
        raise ConfigError(f"{variable}: two switches share a name: {', '.join(names)}")
    return tuple(nodes)


def _parse_http(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"CTI_HTTP: expected HOST:PORT such as 127.0.0.1:5000, got {value!r}")
    return host, int(port)


def _positive_number(values: Mapping[str, str], name: str, kind: type) -> float | int:
    raw = values[name]
    try:
        number = kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: expected a positive {kind.__name__}, got {raw!r}") from exc
    if number <= 0:
        raise ConfigError(f"{name}: expected a positive {kind.__name__}, got {raw!r}")
    return number


def read_env_file(path: Path) -> dict[str, str]:
    """Read ``CTI_NAME=value`` lines; ``#`` starts a comment, quotes are stripped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"CTI_CONFIG: cannot read {path}: {exc.strerror}") from exc
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        if not sep or not key.startswith("CTI_"):
            raise ConfigError(f"CTI_CONFIG: {path}:{number}: expected CTI_NAME=value, got {line!r}")
        values[key] = value.strip().strip("'\"")
    return values


def _secret_key(data_dir: Path, given: str | None) -> str:
    """Use the given key, or one generated once and kept in the data dir."""
    if given:
        return given
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


def load_settings(environ: Mapping[str, str] | None = None, *, demo: bool = False) -> Settings:
    """Build and validate the settings from defaults, ``CTI_CONFIG`` and the environment."""
    env = {k: v for k, v in (os.environ if environ is None else environ).items() if k.startswith("CTI_")}
    file_values = read_env_file(Path(env["CTI_CONFIG"])) if env.get("CTI_CONFIG") else {}
    values = ChainMap(env, file_values, dict(DEFAULTS))

    data_dir = Path(values["CTI_DATA_DIR"]).expanduser().resolve()
    database_url = values.get("CTI_DATABASE_URL") or None
    if database_url and not database_url.startswith(("postgresql://", "postgres://")):
        raise ConfigError("CTI_DATABASE_URL: expected postgresql://USER:PASSWORD@HOST:PORT/DB")
    esl_nodes = parse_esl_urls(values.get("CTI_ESL", ""))
    if not demo:
        for node in esl_nodes:
            if node.password == DEFAULT_ESL_PASSWORD:
                raise ConfigError(
                    f"CTI_ESL: switch {node.name} uses FreeSWITCH's default password "
                    f"{DEFAULT_ESL_PASSWORD!r}; set a private one in event_socket.conf.xml"
                )
    http_host, http_port = _parse_http(values["CTI_HTTP"])
    log_level = values["CTI_LOG_LEVEL"].upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"CTI_LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    recordings_dir = Path(values.get("CTI_RECORDINGS_DIR") or data_dir / "recordings").expanduser()
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        esl_nodes=esl_nodes,
        http_host=http_host,
        http_port=http_port,
        secret_key=_secret_key(data_dir, values.get("CTI_SECRET_KEY")),
        recordings_dir=recordings_dir.resolve(),
        log_level=log_level,
        db_pool_size=int(_positive_number(values, "CTI_DB_POOL_SIZE", int)),
        esl_command_timeout=float(_positive_number(values, "CTI_ESL_COMMAND_TIMEOUT", float)),
        site_timezone=_timezone(values["CTI_SITE_TIMEZONE"]),
        demo=demo,
        extra={k: v for k, v in values.items() if k not in _KNOWN},
    )


def _timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"CTI_SITE_TIMEZONE: expected an IANA zone such as Asia/Shanghai, got {name!r}") from exc
    return name


_KNOWN = frozenset(
    {
        "CTI_CONFIG",
        "CTI_DATA_DIR",
        "CTI_DATABASE_URL",
        "CTI_ESL",
        "CTI_HTTP",
        "CTI_SECRET_KEY",
        "CTI_RECORDINGS_DIR",
        "CTI_LOG_LEVEL",
        "CTI_DB_POOL_SIZE",
        "CTI_ESL_COMMAND_TIMEOUT",
        "CTI_SITE_TIMEZONE",
    }
)
# Read by the components that use them (from ``Settings.extra``), documented in README:
# CTI_PHONE_REGION (cti.customers), CTI_REPORTS_EXPORT_DIR / CTI_REPORTS_DAILY /
# CTI_REPORTS_WORKERS (reports), CTI_WEBHOOK_* (cti.webhooks), CTI_METRICS_ALLOW
# (webapp.ops), CTI_WALLBOARD_* (webapp.wallboard).
