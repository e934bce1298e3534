"""API tokens: hashing, scopes, allow-lists, expiry and revocation (cti/tokens.py)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.tokens import (
    SCOPES,
    TOKEN_PREFIX,
    ApiToken,
    TokenError,
    TokenStore,
    check_scopes,
    hash_token,
    new_token_text,
    parse_cidrs,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _token(**changes) -> ApiToken:
    base = dict(id=1, name="crm", prefix="cti_abc", scopes=("read",), allowed_cidrs=(), rate_per_minute=60,
                expires_at=None, revoked_at=None, created_at=NOW, created_by=None, last_used_at=None, last_used_ip="")
    return ApiToken(**{**base, **changes})


def test_token_text_is_prefixed_and_random():
    texts = {new_token_text() for _ in range(50)}
    assert len(texts) == 50
    assert all(t.startswith(TOKEN_PREFIX) and len(t) >= len(TOKEN_PREFIX) + 43 for t in texts)


def test_hash_is_sha256_hex_and_not_the_text():
    text = new_token_text()
    digest = hash_token(text)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert text not in digest and hash_token(text) == digest


@pytest.mark.parametrize("scopes, expected", [
    (["read"], ("read",)),
    (["read", "calls", "read"], ("read", "calls")),
    (list(SCOPES), SCOPES),
])
def test_check_scopes_accepts_known(scopes, expected):
    assert check_scopes(scopes) == expected


@pytest.mark.parametrize("scopes", [[], ["root"], ["read", "write"]])
def test_check_scopes_refuses_unknown_or_none(scopes):
    with pytest.raises(TokenError) as caught:
        check_scopes(scopes)
    assert caught.value.field == "scopes"


@pytest.mark.parametrize("scopes, scope, allowed", [
    (("read",), "read", True),
    (("read",), "calls", False),
    (("calls",), "read", False),
    (("admin",), "calls", True),
    (("admin",), "media", True),
    (("read", "media"), "media", True),
])
def test_scope_table(scopes, scope, allowed):
    assert _token(scopes=scopes).allows(scope) is allowed


@pytest.mark.parametrize("cidrs, address, allowed", [
    ((), "203.0.113.9", True),
    (("203.0.113.0/24",), "203.0.113.9", True),
    (("203.0.113.0/24",), "198.51.100.1", False),
    (("192.0.2.7",), "192.0.2.7", True),
    (("2001:db8::/32",), "2001:db8::1", True),
    (("2001:db8::/32",), "203.0.113.9", False),
    (("203.0.113.0/24",), "::ffff:203.0.113.9", True),
    (("203.0.113.0/24",), "not-an-address", False),
])
def test_allow_list_table(cidrs, address, allowed):
    assert _token(allowed_cidrs=parse_cidrs(cidrs)).address_allowed(address) is allowed


@given(st.ip_addresses(v=4), st.integers(min_value=8, max_value=32))
def test_an_address_is_allowed_by_its_own_network(address, prefix):
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    assert _token(allowed_cidrs=(network,)).address_allowed(str(address))


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "example.com", "", "1.2.3"])
def test_parse_cidrs_names_the_field(bad):
    with pytest.raises(TokenError) as caught:
        parse_cidrs([bad])
    assert caught.value.field == "allowed_cidrs"


@pytest.mark.parametrize("changes, status", [
    ({}, "active"),
    ({"expires_at": NOW + timedelta(seconds=1)}, "active"),
    ({"expires_at": NOW}, "expired"),
    ({"revoked_at": NOW - timedelta(days=1)}, "revoked"),
    ({"revoked_at": NOW, "expires_at": NOW - timedelta(days=1)}, "revoked"),
])
def test_status_table(changes, status):
    assert _token(**changes).status(NOW) == status


def test_public_shape_never_holds_the_hash_or_text():
    shape = _token().to_dict(NOW)
    assert "token" not in shape and "token_hash" not in shape
    assert shape["status"] == "active"


# --- the store (real PostgreSQL) ------------------------------------------------------------


def test_create_find_and_revoke(db):
    store = TokenStore(db)
    token, text = store.create("crm", ["read", "calls"], allowed_cidrs=["10.0.0.0/8"], rate_per_minute=120)
    row = db.fetchone("SELECT token_hash FROM api_tokens WHERE id = %s", (token.id,))
    assert row["token_hash"] == hash_token(text) and text not in str(row)
    found = store.find(text)
    assert found is not None and found.id == token.id and found.scopes == ("read", "calls")
    assert found.status(datetime.now(UTC)) == "active"
    assert store.find(text + "x") is None and store.find("not-a-token") is None
    revoked = store.revoke(token.id)
    assert revoked.status(datetime.now(UTC)) == "revoked"
    assert store.revoke(token.id).revoked_at == revoked.revoked_at
    assert store.find(text).status(datetime.now(UTC)) == "revoked"


def test_create_refuses_bad_requests(db):
    store = TokenStore(db)
    with pytest.raises(TokenError, match="name"):
        store.create("  ", ["read"])
    with pytest.raises(TokenError, match="future"):
        store.create("old", ["read"], expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(TokenError, match="rate_per_minute"):
        store.create("fast", ["read"], rate_per_minute=0)
    with pytest.raises(TokenError) as caught:
        store.get(10**12)
    assert caught.value.status == 404


def test_touch_writes_at_most_once_a_minute(db):
    store = TokenStore(db)
    token, _ = store.create("touchy", ["read"])
    store.touch(token, "192.0.2.1", now=1_000_000.0)
    store.touch(token, "192.0.2.2", now=1_000_030.0)
    assert store.get(token.id).last_used_ip == "192.0.2.1"
    store.touch(token, "192.0.2.3", now=1_000_061.0)
    assert store.get(token.id).last_used_ip == "192.0.2.3"
