"""Abandoned-call figures: the counts, the two formulas, and the periods they cover.

An *abandoned* call is one the dialer itself ended after a person answered, because
no agent was free within the deadline (the abandon message is played). Two formulas:

Default (US FTC Telemarketing Sales Rule, 16 CFR 310.4(b)(4)(i) style)::

    rate = abandoned / (connected + abandoned)

i.e. a share of calls answered by a live person, measured per campaign per day and
over a rolling 30 days.

UK, Ofcom (persistent misuse policy statement, 2016, Annex 3 "Calculating the
abandoned call rate", and the 2010 statement "Tackling abandoned and silent calls"
that defined its terms)::

    live_share      = connected / (connected + agent_machine)
    live_abandoned  = abandoned * live_share        # drops minus a reasoned estimate
                                                    # of drops that reached machines
    false_positives = amd_machine * amd_false_positive_rate
    rate = (live_abandoned + false_positives) / (connected + live_abandoned + false_positives)

measured per campaign per 24 hours, midnight to midnight. The reasoned estimate of
drops that reached answer machines comes from live data: the share of calls put
through to agents that agents marked as machines (Ofcom 2010, 4.72). AMD false
positives (live people that AMD took for machines and hung up on or messaged) count
as abandoned calls *and* as live calls; their number is the AMD "machine" count
times the false-positive rate the campaign has measured with test calls (Ofcom asks
for a reasoned, evidenced estimate; none is assumed). With no calls passed to agents
yet, ``live_share`` is 1: every drop counts as live, the cautious choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class CallCounts:
    """What happened to one campaign's calls over some period."""

    dials: int = 0
    connected: int = 0        # answered by a person and connected to an agent
    abandoned: int = 0        # answered, no agent within the deadline: message played, call ended
    amd_machine: int = 0      # AMD said machine and the call was handled without an agent
    agent_machine: int = 0    # passed to an agent who marked it an answering machine
    no_answer: int = 0
    busy: int = 0
    failed: int = 0
    late_message: int = 0     # abandon message started after the deadline (must stay 0)

    def __add__(self, other: CallCounts) -> CallCounts:
        return CallCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def total(counts: Iterable[CallCounts]) -> CallCounts:
    result = CallCounts()
    for c in counts:
        result = result + c
    return result


@dataclass(frozen=True)
class AbandonRate:
    """A rate as a fraction with its parts, so displays and audits can show the working."""

    abandoned: float
    live: float

    @property
    def rate(self) -> float:
        return self.abandoned / self.live if self.live > 0 else 0.0


def standard_rate(c: CallCounts) -> AbandonRate:
    """Abandoned as a share of live-answered calls (the default profile)."""
    return AbandonRate(float(c.abandoned), float(c.connected + c.abandoned))


def ofcom_rate(c: CallCounts, amd_false_positive_rate: float) -> AbandonRate:
    """The Ofcom formula (see the module docstring)."""
    if not 0.0 <= amd_false_positive_rate <= 1.0:
        raise ValueError("amd_false_positive_rate must be between 0 and 1")
    passed = c.connected + c.agent_machine
    live_share = c.connected / passed if passed else 1.0
    live_abandoned = c.abandoned * live_share
    false_positives = c.amd_machine * amd_false_positive_rate
    return AbandonRate(live_abandoned + false_positives, c.connected + live_abandoned + false_positives)


@dataclass(frozen=True)
class PeriodFigure:
    """One compliance figure: a period, its counts, the rate and the verdict."""

    period: str            # "day" or "rolling_30_days"
    start: date
    end: date              # inclusive
    counts: CallCounts
    rate: AbandonRate
    limit: float
    formula: str           # "standard" or "ofcom"

    @property
    def within_limit(self) -> bool:
        return self.rate.rate <= self.limit

    def as_row(self) -> dict[str, Any]:
        """A flat row for CSV/XLSX audit export and JSON."""
        return {
            "period": self.period,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            **self.counts.as_dict(),
            "abandoned_counted": round(self.rate.abandoned, 3),
            "live_counted": round(self.rate.live, 3),
            "abandon_rate": round(self.rate.rate, 5),
            "limit": self.limit,
            "within_limit": self.within_limit,
            "formula": self.formula,
        }


def period_figures(
    daily: Mapping[date, CallCounts],
    day: date,
    *,
    limit: float,
    rolling_days: int | None,
    ofcom: bool,
    amd_false_positive_rate: float = 0.0,
) -> list[PeriodFigure]:
    """The day's figure, and the rolling figure ending that day when ``rolling_days``.

    ``daily`` maps each calendar day (in the profile's day zone) to its counts; days
    with no calls may be missing.
    """
    def rate(c: CallCounts) -> AbandonRate:
        return ofcom_rate(c, amd_false_positive_rate) if ofcom else standard_rate(c)

    formula = "ofcom" if ofcom else "standard"
    today = daily.get(day, CallCounts())
    result = [PeriodFigure("day", day, day, today, rate(today), limit, formula)]
    if rolling_days:
        start = day - timedelta(days=rolling_days - 1)
        window = total(c for d, c in daily.items() if start <= d <= day)
        result.append(PeriodFigure(f"rolling_{rolling_days}_days", start, day, window, rate(window), limit, formula))
    return result


def governing(figures: Iterable[PeriodFigure]) -> AbandonRate:
    """The figure the pacing governor must respect: the highest rate among the periods."""
    return max((f.rate for f in figures), key=lambda r: r.rate, default=AbandonRate(0.0, 0.0))
