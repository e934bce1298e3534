"""Who is calling the API: bearer tokens, their scopes, IP allow-lists and rate limits.

The API authenticates with ``Authorization: Bearer <token>`` only (:mod:`cti.tokens`).
The browser's session cookie is NOT accepted here, on purpose: a cookie is sent by the
browser on its own, so accepting it would make every API write a CSRF target; tokens
are sent deliberately, so the API blueprint is exempt from CSRF and safe without it.
The web pages keep their own session-and-CSRF endpoints.

Order of checks, and what a client sees::

    address over its failed-authentication budget  429 rate-limited (Retry-After)
    no Authorization header                        401 missing-token
    unknown token                                  401 invalid-token
    revoked / expired token                        401 token-revoked / token-expired
    client address not in the token's allow-list   403 address-not-allowed
    token lacks the operation's scope              403 insufficient-scope
    token over its requests per minute             429 rate-limited (Retry-After)

The client address is the TCP peer (``request.remote_addr``). Behind a reverse proxy,
configure the WSGI server or a trusted-proxy middleware so that it is the real client;
never trust an ``X-Forwarded-For`` header the client could set itself.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import current_app, g, request

from cti.tokens import ApiToken, TokenStore
from webapp.api.errors import ApiError
from webapp.api.limits import RateLimiter

#: Failed authentications an address may make per minute before it is refused (429).
FAILURES_PER_MINUTE = 30


def token_store() -> TokenStore:
    store = current_app.extensions.get("cti_api_tokens")
    if store is None:
        store = current_app.extensions["cti_api_tokens"] = TokenStore(current_app.extensions["cti"].db)
    return store


def limiter() -> RateLimiter:
    found = current_app.extensions.get("cti_api_limiter")
    if found is None:
        found = current_app.extensions["cti_api_limiter"] = RateLimiter()
    return found


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _refuse(status: int, code: str, message: str, **headers: str) -> ApiError:
    return ApiError(status, code, message, headers=headers or None)


def _failed(address: str, status: int, code: str, message: str) -> ApiError:
    limiter().spend(("failed", address), FAILURES_PER_MINUTE, time.monotonic())
    headers = {"WWW-Authenticate": 'Bearer realm="cti"'} if status == 401 else {}
    return ApiError(status, code, message, headers=headers)


def authenticate(services: Any, scopes: tuple[str, ...]) -> ApiToken:
    """The request's token, holding every one of ``scopes``, used from an allowed
    address and within its rate;
    raises :class:`ApiError` otherwise (see the module docstring)."""
    address = request.remote_addr or ""
    wait = limiter().blocked(("failed", address), FAILURES_PER_MINUTE, time.monotonic())
    if wait:
        raise _refuse(429, "rate-limited", f"too many failed authentications from {address}; retry in {wait} s",
                      **{"Retry-After": str(wait)})
    text = bearer_token()
    if text is None:
        raise _failed(address, 401, "missing-token", "send an API token: Authorization: Bearer <token>")
    tokens = token_store()
    token = tokens.find(text)
    if token is None:
        raise _failed(address, 401, "invalid-token", "this API token is not known; ask an admin for a token")
    status = token.status(datetime.now(UTC))
    if status != "active":
        raise _failed(address, 401, f"token-{status}", f"this API token is {status}; ask an admin for a new one")
    g.api_token = token
    if not token.address_allowed(address):
        raise _refuse(403, "address-not-allowed",
                      f"token {token.name!r} may not be used from {address}; an admin can change its allow-list")
    missing = [s for s in scopes if not token.allows(s)]
    if missing:
        raise _refuse(403, "insufficient-scope",
                      f"token {token.name!r} lacks the {' and '.join(missing)} scope this operation needs "
                      f"(it has: {', '.join(token.scopes)})")
    wait = limiter().take(("token", token.id), token.rate_per_minute, time.monotonic())
    if wait:
        raise _refuse(429, "rate-limited",
                      f"token {token.name!r} is over its {token.rate_per_minute} requests per minute; "
                      f"retry in {wait} s", **{"Retry-After": str(wait)})
    tokens.touch(token, address)
    return token
