"""The report form: what a report page's query string asks for, read without I/O.

A report page is a GET form, so every result has a URL that can be bookmarked, shared
and turned into an export link. The query string holds ``from``, ``to`` (local wall
clock of the site, ``2026-01-05T08:00`` or a date), ``interval``, ``by``, ``page``,
optionally ``quick`` (a named range that replaces ``from``/``to``), and the report's
filters under their own names. Any other name is taken as a filter too, so a typo
reaches :func:`reports.catalog.prepare`, which answers with the filters the report
has, instead of being silently ignored.

Quick ranges are whole local days ``[first, end)`` counted from the site's today:

=============  ==============================================
today          today
yesterday      the day before today
this_week      Monday of this week up to the end of today
last_7_days    the seven whole days before today
this_month     the first of this month up to the end of today
last_month     the whole previous month
tomorrow       the day after today (staffing looks ahead)
next_7_days    the seven days from tomorrow on
=============  ==============================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from reports.errors import ReportError

QUICK_RANGES = ("today", "yesterday", "this_week", "last_7_days", "this_month", "last_month", "tomorrow",
                "next_7_days")
#: Interval words offered by the form (``custom`` = the whole range as one row).
INTERVALS = ("30min", "hour", "day", "week", "month", "quarter", "year", "custom")
#: Reports computed per 30 minutes or hour only.
SUB_DAY_ONLY = frozenset({"staffing"})
RESERVED = frozenset({"from", "to", "interval", "by", "page", "quick"})
PAGE_SIZE = 100
MAX_PAGE = 1_000_000


def _month_start(day: date) -> date:
    return day.replace(day=1)


def quick_range(name: str, today: date) -> tuple[date, date]:
    """``[first, end)`` of the quick range ``name`` (see the module docstring)."""
    tomorrow = today + timedelta(days=1)
    if name == "today":
        return today, tomorrow
    if name == "yesterday":
        return today - timedelta(days=1), today
    if name == "this_week":
        return today - timedelta(days=today.weekday()), tomorrow
    if name == "last_7_days":
        return today - timedelta(days=7), today
    if name == "this_month":
        return _month_start(today), tomorrow
    if name == "last_month":
        this_month = _month_start(today)
        return _month_start(this_month - timedelta(days=1)), this_month
    if name == "tomorrow":
        return tomorrow, tomorrow + timedelta(days=1)
    if name == "next_7_days":
        return tomorrow, tomorrow + timedelta(days=7)
    raise ReportError(f"unknown quick range {name!r}: use one of {', '.join(QUICK_RANGES)}")


def input_value(text: str) -> str:
    """A ``datetime-local`` input's value for a date or time typed by a person."""
    text = text.strip().replace(" ", "T", 1)
    if len(text) == 10:
        return f"{text}T00:00"
    return text[:16]


@dataclass(frozen=True)
class ReportQuery:
    """One run of one report, as the form asked for it (values still unvalidated:
    :func:`reports.catalog.prepare` checks them against the report's spec)."""

    name: str
    start: str
    end: str
    interval: str
    by: str
    filters: Mapping[str, str] = field(default_factory=dict)
    page: int = 1

    def args(self, *, page: int | None = None) -> dict[str, str]:
        """The query string that reproduces this run (for paging and exports)."""
        out = {"from": self.start, "to": self.end, "interval": self.interval, "by": self.by, **self.filters}
        if page is not None and page > 1:
            out["page"] = str(page)
        return {k: v for k, v in out.items() if v}

    def run_kwargs(self, tz: str) -> dict[str, object]:
        """Keyword arguments of :func:`reports.catalog.run_report` for this run."""
        return {"name": self.name, "start": self.start, "end": self.end, "interval": self.interval,
                "by": self.by or None, "filters": dict(self.filters), "tz": tz}


def _first(values: Sequence[str] | str | None) -> str:
    if values is None:
        return ""
    if isinstance(values, str):
        return values.strip()
    return ",".join(v.strip() for v in values if v.strip())


def _page(text: str) -> int:
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise ReportError(f"page must be a whole number from 1, got {text!r}")
    return int(text)


def default_interval(name: str) -> str:
    return "30min" if name in SUB_DAY_ONLY else "day"


def read_query(name: str, args: Mapping[str, Sequence[str] | str], today: date) -> ReportQuery:
    """The run asked for by ``args`` (a query string, several values per name allowed:
    a multiple select sends ``queue=a&queue=b``, read as ``a,b``).

    Raises:
        ReportError: an unknown quick range or a bad page number.
    """
    values = {key: _first(raw) for key, raw in args.items()}
    start, end = values.get("from", ""), values.get("to", "")
    if values.get("quick"):
        first, last = quick_range(values["quick"], today)
        start, end = first.isoformat(), last.isoformat()
    if not start and not end:
        start, end = today.isoformat(), (today + timedelta(days=1)).isoformat()
    filters = {k: v for k, v in values.items() if k not in RESERVED and v}
    return ReportQuery(name=name, start=input_value(start) if start else "", end=input_value(end) if end else "",
                       interval=values.get("interval") or default_interval(name), by=values.get("by", ""),
                       filters=filters, page=_page(values.get("page", "")))
