"""API tokens: what an integration (CRM, ticketing, in-house tool) signs its requests with.

An admin creates a token with a name, scopes, an optional IP allow-list (CIDRs), an
optional expiry and a rate limit; the token text is returned once and never again.
Only its SHA-256 is stored. A slow password hash (argon2) exists to make guessing
low-entropy passwords expensive; these tokens are 256 random bits, which no one can
guess or brute-force from the hash, so a fast hash loses nothing and lets every
request find its token with one indexed lookup (``api_tokens.token_hash`` is unique).

Scopes (``admin`` implies every other one)::

    read       GET anything: agents, queues, calls, customers, media metadata, campaigns, reports
    calls      click-to-dial, hang up, hold, transfer, recording pause/resume, voicemail status
    agents     log agents in and out, change their state
    customers  create, change and delete customers and their numbers
    campaigns  create and change campaigns, add contacts, start/pause/stop
    media      download recording and voicemail audio (with read)
    metrics    scrape /metrics
    admin      all of the above, plus tokens and webhook subscriptions

Revocation and expiry take effect at once: every request reads the token's row.
``last_used_at`` is written at most once a minute per token so a busy integration does
not turn every read into a write.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cti.request_errors import RequestError

if TYPE_CHECKING:
    from cti.db import Database

SCOPES: tuple[str, ...] = ("read", "calls", "agents", "customers", "campaigns", "media", "metrics", "admin")
TOKEN_PREFIX = "cti_"
DEFAULT_RATE_PER_MINUTE = 600
#: Seconds between two writes of ``last_used_at`` for one token.
TOUCH_EVERY = 60.0

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TokenError(RequestError, ValueError):
    """A token request that cannot be done as asked; ``field`` names what to change."""

    status = 422
    error_id = "invalid-token-request"


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    allowed_cidrs: tuple[IpNetwork, ...]
    rate_per_minute: int
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime
    created_by: int | None
    last_used_at: datetime | None
    last_used_ip: str

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes

    def address_allowed(self, address: str) -> bool:
        """True when the allow-list is empty or holds ``address``."""
        if not self.allowed_cidrs:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self.allowed_cidrs)

    def status(self, now: datetime) -> str:
        """``active``, ``revoked`` or ``expired``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        """The public shape (never the token text or its hash)."""
        return {
            "id": self.id, "name": self.name, "prefix": self.prefix, "scopes": list(self.scopes),
            "allowed_cidrs": [str(n) for n in self.allowed_cidrs], "rate_per_minute": self.rate_per_minute,
            "expires_at": _iso(self.expires_at), "revoked_at": _iso(self.revoked_at),
            "created_at": _iso(self.created_at), "created_by": self.created_by,
            "last_used_at": _iso(self.last_used_at), "last_used_ip": self.last_used_ip,
            "status": self.status(now or datetime.now(UTC)),
        }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


# --- pure helpers ---------------------------------------------------------------------


def new_token_text() -> str:
    """A fresh token: the prefix (so leaked tokens are recognisable by secret scanners)
    and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    given = tuple(dict.fromkeys(scopes))
    unknown = [s for s in given if s not in SCOPES]
    if unknown or not given:
        raise TokenError(f"scopes must be one or more of {', '.join(SCOPES)}; got {', '.join(given) or 'none'}",
                         field="scopes")
    return given


def parse_cidrs(values: Iterable[str]) -> tuple[IpNetwork, ...]:
    """CIDRs (``10.0.0.0/8``, ``2001:db8::/32``) or single addresses (``192.0.2.7``)."""
    networks: list[IpNetwork] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise TokenError(f"allowed_cidrs: {value!r} is not an address or a CIDR such as 192.0.2.0/24",
                             field="allowed_cidrs") from None
    return tuple(dict.fromkeys(networks))


def _token(row: Mapping[str, Any]) -> ApiToken:
    return ApiToken(
        id=int(row["id"]), name=row["name"], prefix=row["prefix"], scopes=tuple(row["scopes"]),
        allowed_cidrs=tuple(ipaddress.ip_network(c, strict=False) for c in row["allowed_cidrs"]),
        rate_per_minute=int(row["rate_per_minute"]), expires_at=row["expires_at"], revoked_at=row["revoked_at"],
        created_at=row["created_at"], created_by=row["created_by"], last_used_at=row["last_used_at"],
        last_used_ip=row["last_used_ip"],
    )


# --- the store -------------------------------------------------------------------------


class TokenStore:
    """API tokens in the site database (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._touched: dict[int, float] = {}

    def create(
        self, name: str, scopes: Sequence[str], *, allowed_cidrs: Sequence[str] = (),
        expires_at: datetime | None = None, rate_per_minute: int = DEFAULT_RATE_PER_MINUTE,
        created_by: int | None = None,
    ) -> tuple[ApiToken, str]:
        """A new token and its text (shown to the admin once; only the hash is kept)."""
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise TokenError("name: give the token a name of 1 to 100 characters (who uses it)", field="name")
        checked = check_scopes(scopes)
        networks = parse_cidrs(allowed_cidrs)
        if not 1 <= rate_per_minute <= 100_000:
            raise TokenError("rate_per_minute: expected 1 to 100000", field="rate_per_minute")
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise TokenError("expires_at: the expiry must lie in the future", field="expires_at")
        text = new_token_text()
        row = self.db.fetchone(
            """INSERT INTO api_tokens (name, token_hash, prefix, scopes, allowed_cidrs, rate_per_minute,
                                       expires_at, created_by)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING *""",
            (name, hash_token(text), text[: len(TOKEN_PREFIX) + 6], list(checked), [str(n) for n in networks],
             rate_per_minute, expires_at, created_by),
        )
        assert row is not None
        return _token(row), text

    def all(self) -> list[ApiToken]:
        return [_token(r) for r in self.db.fetchall("SELECT * FROM api_tokens ORDER BY id")]

    def get(self, token_id: int) -> ApiToken:
        row = self.db.fetchone("SELECT * FROM api_tokens WHERE id = %s", (token_id,))
        if row is None:
            raise TokenError(f"no API token {token_id}", error_id="token-not-found", status=404)
        return _token(row)

    def revoke(self, token_id: int) -> ApiToken:
        """Revoke at once (idempotent: the first revocation time is kept)."""
        row = self.db.fetchone(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = %s RETURNING *", (token_id,)
        )
        if row is None:
            raise TokenError(f"no API token {token_id}", error_id="token-not-found", status=404)
        return _token(row)

    def find(self, text: str) -> ApiToken | None:
        """The token with this text (whatever its status), or None."""
        if not text.startswith(TOKEN_PREFIX) or len(text) > 200:
            return None
        row = self.db.fetchone("SELECT * FROM api_tokens WHERE token_hash = %s", (hash_token(text),))
        return None if row is None else _token(row)

    def touch(self, token: ApiToken, address: str, *, now: float | None = None) -> None:
        """Note a use of ``token`` (written at most every :data:`TOUCH_EVERY` seconds)."""
        at = time.time() if now is None else now
        if at - self._touched.get(token.id, float("-inf")) < TOUCH_EVERY:
            return
        self._touched[token.id] = at
        self.db.execute(
            "UPDATE api_tokens SET last_used_at = to_timestamp(%s), last_used_ip = %s WHERE id = %s",
            (at, address[:64], token.id),
        )


__all__ = [
    "ApiToken", "DEFAULT_RATE_PER_MINUTE", "SCOPES", "TOKEN_PREFIX", "TokenError", "TokenStore", "check_scopes",
    "hash_token", "new_token_text", "parse_cidrs",
]
