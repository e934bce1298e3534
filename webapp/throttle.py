"""Login throttling: after repeated failures for one username or one address, further
attempts are refused for a while, growing with each new failure.

Addresses get many more free attempts than usernames: a whole call-center floor often
signs in from one NAT address, and one agent's typos must not lock out the others.

Pure bookkeeping with an injectable clock; kept in memory because one process serves
the site (a restart forgives, which is acceptable for a throttle).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

FREE_ATTEMPTS_PER_USERNAME = 5
FREE_ATTEMPTS_PER_ADDRESS = 50
BASE_LOCK_SECONDS = 30.0
MAX_LOCK_SECONDS = 15 * 60.0
FORGET_AFTER = 60 * 60.0


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last_failure: float = 0.0


class LoginThrottle:
    def __init__(self, free_attempts: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._free_attempts = free_attempts
        self._clock = clock
        self._records: dict[str, _Record] = {}

    def retry_after(self, *keys: str) -> float:
        """Seconds until any of ``keys`` may try again (0 when allowed now)."""
        now = self._clock()
        waits = [self._records[k].locked_until - now for k in keys if k in self._records]
        return max([0.0, *waits])

    def failed(self, *keys: str) -> None:
        now = self._clock()
        for key in keys:
            record = self._records.get(key)
            if record is None or now - record.last_failure > FORGET_AFTER:
                record = self._records[key] = _Record()
            record.failures += 1
            record.last_failure = now
            if record.failures > self._free_attempts:
                lock = BASE_LOCK_SECONDS * 2 ** (record.failures - self._free_attempts - 1)
                record.locked_until = now + min(lock, MAX_LOCK_SECONDS)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._records.pop(key, None)
