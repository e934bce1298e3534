"""The pure rules of webhooks: patterns, URLs, refused addresses, signing, backoff."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.bus import EVENT_TYPES
from cti.webhook_rules import (
    RetryPolicy,
    WebhookRuleError,
    check_patterns,
    check_url,
    matches,
    pick_address,
    refused_address,
    sign,
    succeeded,
    verify,
)


@pytest.mark.parametrize("patterns, event_type, expected", [
    (("*",), "call.created", True),
    (("call.*",), "call.ended", True),
    (("call.*",), "agent.state_changed", False),
    (("agent.state_changed",), "agent.state_changed", True),
    (("queue.changed", "call.ended"), "call.ended", True),
    (("call.end",), "call.ended", False),
])
def test_matches_table(patterns, event_type, expected):
    assert matches(patterns, event_type) is expected


def test_check_patterns_refuses_typos_and_empty():
    assert check_patterns(["call.*", " call.*", "*"]) == ("call.*", "*")
    for bad in (["cal.*"], [], ["  "], ["call.endd"]):
        with pytest.raises(WebhookRuleError) as caught:
            check_patterns(bad)
        assert caught.value.field == "events"


@pytest.mark.parametrize("url", ["https://crm.example.com/hook", "http://203.0.113.5:8080/x?y=1"])
def test_check_url_accepts(url):
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["ftp://x/y", "/relative", "https://", "https://user:pw@example.com/",
                                 "http://example.com:0/", "http://[::1", "https://x/" + "a" * 2000])
def test_check_url_refuses(url):
    with pytest.raises(WebhookRuleError) as caught:
        check_url(url)
    assert caught.value.field == "url"


@pytest.mark.parametrize("address, why", [
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("fd00::1", "private"),
    ("::ffff:127.0.0.1", "loopback"),
    ("100.64.0.1", "reserved or not globally routable"),
    ("0.0.0.0", "private"),
    ("224.0.0.1", "multicast"),
    ("8.8.8.8", None),
    ("2606:4700:4700::1111", None),
])
def test_refused_address_table(address, why):
    assert refused_address(ipaddress.ip_address(address)) == why


def test_every_resolved_address_is_checked():
    """DNS rebinding: one private address among public ones refuses the target."""
    with pytest.raises(WebhookRuleError, match="127.0.0.1"):
        pick_address("evil.example", ["8.8.8.8", "127.0.0.1"], allow_private=False)
    with pytest.raises(WebhookRuleError, match="did not resolve"):
        pick_address("nowhere.example", [], allow_private=False)
    assert str(pick_address("ok.example", ["8.8.8.8", "1.1.1.1"], allow_private=False)) == "8.8.8.8"
    assert str(pick_address("lab", ["127.0.0.1"], allow_private=True)) == "127.0.0.1"


@given(st.text(min_size=16, max_size=40), st.integers(min_value=0, max_value=2**40), st.binary(max_size=300))
def test_signature_verifies_and_binds_the_timestamp_and_body(secret, timestamp, body):
    signature = sign(secret, timestamp, body)
    assert signature.startswith("sha256=")
    assert verify(secret, str(timestamp), body, signature, now=timestamp)
    assert not verify(secret, str(timestamp + 1), body, signature, now=timestamp)
    assert not verify(secret, str(timestamp), body + b"x", signature, now=timestamp)
    assert not verify(secret + "x", str(timestamp), body, signature, now=timestamp)


def test_verify_refuses_stale_or_malformed_timestamps():
    signature = sign("s" * 16, 1000, b"{}")
    assert verify("s" * 16, "1000", b"{}", signature, now=1200)
    assert not verify("s" * 16, "1000", b"{}", signature, now=1400)
    assert not verify("s" * 16, "-1000", b"{}", signature, now=1000)


@given(st.integers(min_value=1, max_value=200), st.floats(min_value=0, max_value=1))
def test_backoff_is_bounded_and_grows(attempts, rand):
    policy = RetryPolicy(max_attempts=10, base_seconds=2.0, cap_seconds=60.0)
    delay = policy.delay(attempts, lambda: rand)
    ceiling = min(60.0, 2.0 * 2 ** (attempts - 1))
    assert ceiling / 2 <= delay <= ceiling
    assert policy.delay(attempts, lambda: 1.0) <= policy.delay(attempts + 1, lambda: 1.0)


def test_attempts_run_out():
    policy = RetryPolicy(max_attempts=3)
    assert [policy.exhausted(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


@pytest.mark.parametrize("code, ok", [(200, True), (204, True), (299, True), (301, False), (404, False),
                                      (500, False), (None, False)])
def test_only_2xx_succeeds(code, ok):
    assert succeeded(code) is ok


def test_every_event_type_is_matched_by_star():
    assert all(matches(("*",), t) for t in EVENT_TYPES)
