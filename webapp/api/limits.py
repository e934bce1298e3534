"""Rate limits for the API: one token bucket per key (an API token, or an address that
keeps failing to authenticate). Pure: the caller passes the clock.

A bucket holds up to ``per_minute`` requests and refills continuously at
``per_minute / 60`` per second, so a client may burst up to its minute's worth and
then proceeds at the steady rate. A refused request costs nothing and learns how long
to wait (``Retry-After``).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    level: float
    at: float


class RateLimiter:
    """Token buckets by key, the least recently used forgotten beyond ``max_keys``."""

    def __init__(self, *, max_keys: int = 10_000) -> None:
        self._buckets: OrderedDict[object, _Bucket] = OrderedDict()
        self._max_keys = max_keys

    def _refilled(self, key: object, per_minute: int, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(per_minute), now)
            self._buckets[key] = bucket
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.at)
            bucket.level = min(float(per_minute), bucket.level + elapsed * per_minute / 60.0)
            bucket.at = now
        return bucket

    def take(self, key: object, per_minute: int, now: float) -> int:
        """Spend one request. Returns 0 when allowed, else the whole seconds to wait."""
        bucket = self._refilled(key, per_minute, now)
        if bucket.level >= 1.0:
            bucket.level -= 1.0
            return 0
        return max(1, math.ceil((1.0 - bucket.level) * 60.0 / per_minute))

    def blocked(self, key: object, per_minute: int, now: float) -> int:
        """Like :meth:`take` but spends nothing: 0 when a request would be allowed."""
        bucket = self._refilled(key, per_minute, now)
        return 0 if bucket.level >= 1.0 else max(1, math.ceil((1.0 - bucket.level) * 60.0 / per_minute))

    def spend(self, key: object, per_minute: int, now: float) -> None:
        """Spend one request whatever the level (a failed sign-in counts even when over)."""
        bucket = self._refilled(key, per_minute, now)
        bucket.level = max(0.0, bucket.level - 1.0)
