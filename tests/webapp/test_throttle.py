from __future__ import annotations

from webapp.throttle import BASE_LOCK_SECONDS, FORGET_AFTER, MAX_LOCK_SECONDS, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_free_attempts_then_growing_locks() -> None:
    clock = Clock()
    throttle = LoginThrottle(3, clock)
    for _ in range(3):
        throttle.failed("ana")
        assert throttle.retry_after("ana") == 0
    throttle.failed("ana")
    assert throttle.retry_after("ana") == BASE_LOCK_SECONDS
    throttle.failed("ana")
    assert throttle.retry_after("ana") == 2 * BASE_LOCK_SECONDS
    for _ in range(20):
        throttle.failed("ana")
    assert throttle.retry_after("ana") == MAX_LOCK_SECONDS
    assert throttle.retry_after("bob") == 0


def test_success_and_time_forgive() -> None:
    clock = Clock()
    throttle = LoginThrottle(1, clock)
    throttle.failed("ana")
    throttle.failed("ana")
    assert throttle.retry_after("ana") > 0
    clock.now += MAX_LOCK_SECONDS
    assert throttle.retry_after("ana") == 0
    throttle.succeeded("ana")
    throttle.failed("ana")
    assert throttle.retry_after("ana") == 0
    throttle.failed("ana")
    clock.now += FORGET_AFTER + 1
    throttle.failed("ana")
    assert throttle.retry_after("ana") == 0
