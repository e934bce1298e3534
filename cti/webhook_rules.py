"""The pure rules of webhook delivery: which events a subscription wants, how a delivery
is signed, when to retry, and which target addresses are refused.

No I/O here (the dispatcher in :mod:`cti.webhooks` does it); everything is a function
of its arguments so it is tested with tables and properties.

Signature (what integrators verify)::

    X-CTI-Timestamp: 1795000000
    X-CTI-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>

The timestamp is part of the signed text so a captured delivery cannot be replayed
later with a new timestamp; receivers should refuse timestamps far from their clock
(:func:`verify` takes a tolerance) and deduplicate by the event ``id`` in the body,
because delivery is at least once.

Target addresses: a webhook URL is fetched by the middleware from inside the call
center's network, so a URL pointing at loopback, private, link-local (cloud metadata
at 169.254.169.254), CGNAT, multicast or reserved space would let whoever configures
webhooks probe or attack internal services (SSRF). Such targets are refused unless an
admin allowed them explicitly for that subscription. The check runs on every address
the host name resolves to, at delivery time, and the connection goes to the address
that was checked (a host that resolves to a public address when saved and to
127.0.0.1 later -- DNS rebinding -- is caught).
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import ipaddress
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from cti.bus import EVENT_TYPES

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookRuleError(ValueError):
    """A subscription setting that cannot work; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


# --- which events -----------------------------------------------------------------------


def matches(patterns: Iterable[str], event_type: str) -> bool:
    """True when one of the subscription's patterns (``*``, ``call.*``, exact) matches."""
    return any(p == "*" or p == event_type or fnmatch.fnmatchcase(event_type, p) for p in patterns)


def check_patterns(patterns: Sequence[str]) -> tuple[str, ...]:
    """Each pattern must match at least one known event type (a typo is an error, not
    a subscription that silently never fires)."""
    given = tuple(dict.fromkeys(p.strip() for p in patterns if p.strip()))
    if not given:
        raise WebhookRuleError("events", "give at least one event type or pattern such as call.* or *")
    for pattern in given:
        if not any(matches((pattern,), t) for t in EVENT_TYPES):
            raise WebhookRuleError(
                "events", f"{pattern!r} matches no event type; known types: {', '.join(EVENT_TYPES)}"
            )
    return given


# --- where to --------------------------------------------------------------------------


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host and no credentials in it."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise WebhookRuleError("url", f"{url!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRuleError("url", "expected an absolute http:// or https:// URL such as https://crm.example.com/hook")
    if parts.username or parts.password:
        raise WebhookRuleError("url", "put no credentials in the URL; the signature authenticates deliveries")
    if port == 0:
        raise WebhookRuleError("url", "port 0 cannot be connected to")
    if len(text) > 2000:
        raise WebhookRuleError("url", "at most 2000 characters")
    return text


def refused_address(address: IpAddress) -> str | None:
    """Why ``address`` is not a public internet address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified or address.is_reserved or not address.is_global:
        return "reserved or not globally routable"
    return None


def pick_address(host: str, addresses: Sequence[str], *, allow_private: bool) -> IpAddress:
    """The address to connect to, after checking EVERY address ``host`` resolved to.

    Raises:
        WebhookRuleError: no address, or one of them is refused (and not allowed).
    """
    parsed = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    if not parsed:
        raise WebhookRuleError("url", f"host {host!r} did not resolve to any address")
    if not allow_private:
        for address in parsed:
            why = refused_address(address)
            if why is not None:
                raise WebhookRuleError(
                    "url", f"host {host!r} resolves to {address} ({why}); such targets need the admin's "
                           "explicit 'allow private target' on this subscription"
                )
    return parsed[0]


# --- signing ---------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-CTI-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float,
           tolerance: float = 300.0) -> bool:
    """What a receiver does: constant-time compare, and refuse stale timestamps."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


# --- retrying --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits a random time in
    ``[base * 2**(n-1) / 2, base * 2**(n-1)]`` (capped), up to ``max_attempts`` in all.

    The defaults retry for about a day (2 s, 4 s ... capped at one hour), which rides
    out an integrator's maintenance window; then the delivery is marked failed and an
    admin can redeliver it.
    """

    max_attempts: int = 30
    base_seconds: float = 2.0
    cap_seconds: float = 3600.0

    def delay(self, attempts_made: int, rand: Callable[[], float] = random.random) -> float:
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** min(max(attempts_made - 1, 0), 40))
        return float(ceiling / 2 + rand() * ceiling / 2)

    def exhausted(self, attempts_made: int) -> bool:
        return attempts_made >= self.max_attempts


def succeeded(status_code: int | None) -> bool:
    """Only a 2xx answer means the receiver has the event (a redirect is not followed:
    it could lead anywhere, including inside the network)."""
    return status_code is not None and 200 <= status_code < 300


__all__ = [
    "RetryPolicy", "WebhookRuleError", "check_patterns", "check_url", "matches", "pick_address",
    "refused_address", "sign", "succeeded", "verify",
]
