"""The API's token buckets (webapp/api/limits.py): pure, driven by a fake clock."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from webapp.api.limits import RateLimiter


def test_burst_then_refused_then_refilled():
    limiter = RateLimiter()
    assert [limiter.take("t", 3, 0.0) for _ in range(3)] == [0, 0, 0]
    wait = limiter.take("t", 3, 0.0)
    assert wait == 20          # one request per 20 s at 3 per minute
    assert limiter.take("t", 3, 10.0) > 0
    assert limiter.take("t", 3, 20.0) == 0


def test_keys_are_independent_and_bounded():
    limiter = RateLimiter(max_keys=2)
    assert limiter.take("a", 1, 0.0) == 0
    assert limiter.take("a", 1, 0.0) > 0
    assert limiter.take("b", 1, 0.0) == 0
    limiter.take("c", 1, 0.0)          # "a" is forgotten (least recently used)
    assert limiter.take("a", 1, 0.0) == 0


def test_blocked_spends_nothing_and_spend_always_spends():
    limiter = RateLimiter()
    limiter.spend("ip", 2, 0.0)
    limiter.spend("ip", 2, 0.0)
    limiter.spend("ip", 2, 0.0)
    assert limiter.blocked("ip", 2, 0.0) > 0
    assert limiter.blocked("ip", 2, 0.0) > 0
    assert limiter.blocked("ip", 2, 30.0) == 0


@given(st.integers(min_value=1, max_value=600), st.lists(st.floats(min_value=0, max_value=5), max_size=60))
def test_never_more_than_the_rate_allows(per_minute, gaps):
    limiter = RateLimiter()
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        allowed += limiter.take("k", per_minute, now) == 0
    assert allowed <= per_minute + now * per_minute / 60.0 + 1e-9
