"""One HTTP POST of a webhook, to the address that was checked.

The host name is resolved here, at delivery time; every address it resolves to is
checked (:func:`cti.webhook_rules.pick_address`), and the connection is made to that
checked address -- never resolved a second time -- with the original host in the
``Host`` header and, for https, in SNI and certificate verification. That is what
defeats DNS rebinding. Redirects are not followed and only the first bytes of the
answer are read.

Runs under gevent (sockets and the resolver are cooperative once patched).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3

from cti.webhook_rules import WebhookRuleError, pick_address

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
_READ_AT_MOST = 2048


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None     # None: no HTTP answer (refused target, connection error, timeout)
    duration_ms: float
    error: str                  # empty when the receiver answered 2xx
    refused: bool = False       # the target address was refused (SSRF rule)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def post(url: str, body: bytes, headers: Mapping[str, str], *, allow_private: bool,
         connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT) -> SendResult:
    """POST ``body`` to ``url``; never raises for network trouble (it is in the result)."""
    started = time.monotonic()

    def took() -> float:
        return round((time.monotonic() - started) * 1000, 3)

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = pick_address(host, resolve(host, port), allow_private=allow_private)
    except WebhookRuleError as exc:
        return SendResult(None, took(), str(exc), refused=True)
    except OSError as exc:
        return SendResult(None, took(), f"cannot resolve {host}: {exc}")
    pool = _pool(parts.scheme, str(address), port, host, connect_timeout, read_timeout)
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = pool.urlopen(
            "POST", path, body=body, headers={**headers, "Host": host_header}, redirect=False, retries=False,
            preload_content=False, assert_same_host=False,
        )
        try:
            snippet = response.read(_READ_AT_MOST)
        finally:
            response.release_conn()
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return SendResult(None, took(), f"{type(exc).__name__}: {exc}")
    finally:
        pool.close()
    status = int(response.status)
    error = "" if 200 <= status < 300 else f"HTTP {status}: {snippet[:200].decode('utf-8', 'replace')}"
    return SendResult(status, took(), error)


def _pool(scheme: str, address: str, port: int, host: str, connect_timeout: float,
          read_timeout: float) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, maxsize=1, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(),
            server_hostname=host, assert_hostname=host,
        )
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout, maxsize=1)


__all__ = ["SendResult", "post", "resolve"]
