"""Pure plans for load: when inbound callers arrive and who they are, and how a
population of agent phones behaves. :mod:`esl.simulator.traffic` runs them.

Arrivals are a Poisson process: gaps are exponential with mean ``1 / rate``. A
duration is given as a number (fixed), a ``(low, high)`` pair (uniform) or ``None``
(never: a caller without patience waits forever). Everything comes from one seeded
``random.Random``, so a seed replays the same traffic.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from esl.simulator.endpoints import CallerBehaviour

Duration = float | tuple[float, float] | None


def draw(rng: random.Random, value: Duration) -> float | None:
    """One sample of a :data:`Duration`.

    Raises:
        ValueError: a negative value or an inverted range.
    """
    if value is None:
        return None
    if isinstance(value, tuple):
        low, high = value
        if low < 0 or high < low:
            raise ValueError(f"a duration range must be 0 <= low <= high, got {value!r}")
        return rng.uniform(low, high)
    if value < 0:
        raise ValueError(f"a duration must not be negative, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One inbound call: ``gap`` simulated seconds after the previous one."""

    gap: float
    did: str
    caller_number: str
    behaviour: CallerBehaviour


def plan_calls(
    rng: random.Random,
    *,
    rate_per_second: float,
    dids: Sequence[str],
    patience: Duration = (20.0, 180.0),
    talk_time: Duration = (30.0, 240.0),
    dtmf_script: Sequence[str] = (),
    think_time: Duration = (0.5, 2.0),
) -> Iterator[PlannedCall]:
    """An endless stream of callers to ``dids`` (chosen uniformly).

    ``dtmf_script`` is what every caller keys in, in turn, at each digit prompt.

    Raises:
        ValueError: a rate that is not positive, or no DIDs.
    """
    if rate_per_second <= 0:
        raise ValueError(f"rate_per_second must be positive, got {rate_per_second!r}")
    if not dids:
        raise ValueError("at least one DID is needed")
    while True:
        yield PlannedCall(
            gap=rng.expovariate(rate_per_second),
            did=rng.choice(list(dids)),
            caller_number="+1555" + "".join(rng.choice("0123456789") for _ in range(7)),
            behaviour=CallerBehaviour(
                patience=draw(rng, patience),
                talk_time=draw(rng, talk_time),
                prompt_digits=tuple(dtmf_script),
                think_time=draw(rng, think_time) or 0.0,
            ),
        )


@dataclass(frozen=True, slots=True)
class PlannedPhone:
    """How one agent phone answers (see :class:`esl.simulator.endpoints.Phone`)."""

    extension: str
    behaviour: str
    answer_after: float | None


def plan_phones(
    rng: random.Random,
    extensions: Iterable[str],
    *,
    answer_after: Duration = (0.5, 3.0),
    no_answer_share: float = 0.0,
    busy_share: float = 0.0,
) -> list[PlannedPhone]:
    """A phone per extension: a share of them never answers or is busy, the rest
    answer after a drawn delay.

    Raises:
        ValueError: shares outside 0..1 or adding up to more than 1.
    """
    if not (0 <= no_answer_share <= 1 and 0 <= busy_share <= 1 and no_answer_share + busy_share <= 1):
        raise ValueError("no_answer_share and busy_share must be in 0..1 and add up to at most 1")
    phones = []
    for extension in extensions:
        roll = rng.random()
        if roll < no_answer_share:
            phones.append(PlannedPhone(extension, "no_answer", None))
        elif roll < no_answer_share + busy_share:
            phones.append(PlannedPhone(extension, "busy", None))
        else:
            phones.append(PlannedPhone(extension, "answer", draw(rng, answer_after)))
    return phones
