"""``run_fakeswitch``: serve a simulated FreeSWITCH until SIGINT or SIGTERM (the demo,
manual testing, load). ``python -m esl.simulator`` and ``cti fakeswitch`` call it.

The vanilla directory users 1000-1019 are registered and answer after a second;
``phones`` adds agent phones answering after 0.5-3 s; ``caller_rate`` > 0 starts
Poisson callers to ``dids``.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence

import gevent
import gevent.event

from esl.simulator.switch import FakeSwitch
from esl.simulator.traffic import CallerGenerator, register_agent_phones

log = logging.getLogger(__name__)

DEFAULT_DIDS = ("5550100",)


def run_fakeswitch(
    port: int,
    password: str,
    *,
    host: str = "127.0.0.1",
    speed: float = 1.0,
    caller_rate: float = 0.0,
    dids: Sequence[str] = DEFAULT_DIDS,
    phones: Sequence[str] = (),
    seed: int | None = None,
    middleware_lease: bool = False,
    recordings_dir: str | None = None,
) -> None:
    """Serve on ``host:port`` until SIGINT/SIGTERM, then stop cleanly.

    Raises:
        ValueError: an empty password, a speed that is not positive, a negative
            caller rate, or a caller rate without DIDs.
        OSError: the port cannot be bound.
    """
    if not password:
        raise ValueError("the event socket password must not be empty")
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed!r}")
    if caller_rate < 0:
        raise ValueError(f"caller_rate must not be negative, got {caller_rate!r}")
    if caller_rate > 0 and not dids:
        raise ValueError("caller_rate needs at least one DID")
    switch = FakeSwitch(password=password, host=host, port=port, speed=speed, seed=seed,
                        middleware_lease=middleware_lease, recordings_dir=recordings_dir)
    if phones:
        register_agent_phones(switch, phones, seed=seed)
    generator = CallerGenerator(switch, rate_per_second=caller_rate, dids=dids, seed=seed) if caller_rate else None
    stop = gevent.event.Event()
    handlers = [gevent.signal_handler(signum, stop.set) for signum in (signal.SIGINT, signal.SIGTERM)]
    switch.start()
    try:
        log.info("fakeswitch listening", extra={
            "host": host, "port": switch.port, "speed": speed, "caller_rate": caller_rate,
            "dids": ",".join(dids), "phones": len(phones), "core_uuid": switch.core_uuid,
        })
        if generator is not None:
            generator.start()
        stop.wait()
        log.info("fakeswitch stopping", extra={"port": switch.port})
    finally:
        if generator is not None:
            generator.stop()
        switch.stop()
        for handler in handlers:
            handler.cancel()
