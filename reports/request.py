"""A validated report request: window, interval, grouping and typed filters.

Every named report declares the groupings (``by``) and filters it understands in a
:class:`ReportSpec`; :func:`build_request` checks the user's words against it, so a
typo gives a message listing what the report accepts instead of a silent empty report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from reports.errors import ReportError
from reports.intervals import Interval, Window, make_window, parse_interval
from reports.kpi import KpiRules

Parser = Callable[[str, Any], Any]


def _texts(name: str, value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    texts = tuple(str(item).strip() for item in items if str(item).strip())
    if not texts:
        raise ReportError(f"filter {name}: give at least one value")
    return texts


def _ints(name: str, value: Any) -> tuple[int, ...]:
    try:
        return tuple(int(item) for item in _texts(name, value))
    except ValueError:
        raise ReportError(f"filter {name}: expected whole numbers separated by commas, got {value!r}") from None


def _text(name: str, value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ReportError(f"filter {name}: give a value")
    return text


def _number(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ReportError(f"filter {name}: expected a number, got {value!r}") from None
    if not number >= 0:
        raise ReportError(f"filter {name}: expected a number >= 0, got {value!r}")
    return number


def _whole(name: str, value: Any) -> int:
    number = _number(name, value)
    if number != int(number) or number < 1:
        raise ReportError(f"filter {name}: expected a whole number >= 1, got {value!r}")
    return int(number)


def _fraction(name: str, value: Any) -> float:
    number = _number(name, value)
    if not 0 < number < 1:
        raise ReportError(f"filter {name}: expected a share between 0 and 1 such as 0.8, got {value!r}")
    return number


def choice(*options: str) -> Parser:
    """A filter that takes one of ``options``."""

    def parse(name: str, value: Any) -> str:
        text = str(value).strip().lower()
        if text not in options:
            raise ReportError(f"filter {name}: use one of {', '.join(options)}, got {value!r}")
        return text

    return parse


TEXTS: Parser = _texts
INTS: Parser = _ints
TEXT: Parser = _text
NUMBER: Parser = _number
WHOLE: Parser = _whole
FRACTION: Parser = _fraction

#: Filters every queue report shares (the KPI thresholds may be overridden per run).
THRESHOLD_FILTERS: Mapping[str, Parser] = {"sl_threshold": NUMBER, "short_abandon": NUMBER}


@dataclass(frozen=True)
class ReportRequest:
    """What to report on; built by :func:`build_request`, read by the report functions."""

    name: str
    window: Window
    interval: Interval
    by: tuple[str, ...]
    filters: Mapping[str, Any]
    rules: KpiRules = field(default_factory=KpiRules)

    def get(self, key: str, default: Any = None) -> Any:
        return self.filters.get(key, default)

    def with_rules(self, rules: KpiRules) -> ReportRequest:
        """The request with the site's thresholds, overridden by the run's filters."""
        sl = self.filters.get("sl_threshold")
        short = self.filters.get("short_abandon")
        merged = KpiRules(
            sl_threshold_s=rules.sl_threshold_s if sl is None else sl,
            short_abandon_s=rules.short_abandon_s if short is None else short,
            sl_threshold_by_queue={} if sl is not None else dict(rules.sl_threshold_by_queue),
        )
        return ReportRequest(self.name, self.window, self.interval, self.by, self.filters, merged)


@dataclass(frozen=True)
class ReportSpec:
    """A named report: its function, what it groups by and which filters it takes."""

    name: str
    title: str
    run: Callable[[Any, ReportRequest], pd.DataFrame]
    by_choices: tuple[str, ...] = ()
    default_by: tuple[str, ...] = ()
    filters: Mapping[str, Parser] = field(default_factory=dict)
    uses_interval: bool = True


def _parse_by(spec: ReportSpec, by: str | Sequence[str] | None) -> tuple[str, ...]:
    if by is None:
        return spec.default_by
    words = tuple(w.strip() for w in (by.split(",") if isinstance(by, str) else by) if w.strip())
    if words in (("none",), ("total",)):
        return ()
    for word in words:
        if word not in spec.by_choices:
            allowed = ", ".join(spec.by_choices) or "nothing (it is a list)"
            raise ReportError(f"report {spec.name} cannot be grouped by {word!r}: it groups by {allowed}")
    return tuple(dict.fromkeys(words))


def _parse_filters(spec: ReportSpec, filters: Mapping[str, Any] | None) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        if value is None or value == "":
            continue
        parser = spec.filters.get(key)
        if parser is None:
            allowed = ", ".join(sorted(spec.filters)) or "none"
            raise ReportError(f"report {spec.name} has no filter {key!r}; its filters are: {allowed}")
        parsed[key] = parser(key, value)
    return parsed


def build_request(spec: ReportSpec, *, start: datetime | date | str, end: datetime | date | str,
                  interval: str | Interval = Interval.DAY, by: str | Sequence[str] | None = None,
                  filters: Mapping[str, Any] | None = None, tz: str = "UTC") -> ReportRequest:
    """Validate a request for ``spec``; every mistake is a :class:`ReportError`."""
    window = make_window(start, end, tz)
    return ReportRequest(spec.name, window, parse_interval(interval), _parse_by(spec, by),
                         _parse_filters(spec, filters))
