"""Quality forms and scores as values: validating a form's criteria and computing the
weighted total of a review. Pure; :mod:`cti.quality` stores them (sql/008_quality.sql).

A form is a list of criteria, each scored from 0 to its ``max_points`` and counting
``weight`` in the total. The total is a percentage::

    total = 100 * sum(weight_i * points_i / max_points_i) / sum(weight_i)

so a criterion's share of the total is its weight, whatever its point scale, and a
review with every criterion at its maximum scores 100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

MAX_CRITERIA = 50
MAX_TEXT = 2000


class QualityError(ValueError):
    """A form or a review is not valid; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Criterion:
    label: str
    weight: Decimal
    max_points: int = 5
    description: str = ""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ItemScore:
    """The points given to the criterion at ``position`` (0-based), with a comment."""

    position: int
    points: int
    comment: str = ""


def parse_criteria(raw: Sequence[Mapping[str, Any]]) -> list[Criterion]:
    """Criteria from a form editor's JSON: ``[{"label", "weight", "max_points",
    "description"}]``; at least one, labels unique."""
    if not raw:
        raise QualityError("a form needs at least one criterion")
    if len(raw) > MAX_CRITERIA:
        raise QualityError(f"a form has at most {MAX_CRITERIA} criteria")
    criteria = [_criterion(index, item) for index, item in enumerate(raw, 1)]
    labels = [c.label.casefold() for c in criteria]
    duplicates = sorted({c.label for c in criteria if labels.count(c.label.casefold()) > 1})
    if duplicates:
        raise QualityError(f"criteria labels must differ; repeated: {', '.join(duplicates)}")
    return criteria


def _criterion(index: int, item: Mapping[str, Any]) -> Criterion:
    label = _text(item.get("label"), f"criterion {index}: label", required=True, limit=200)
    weight = _decimal(item.get("weight", 1), f"criterion {index} ({label}): weight")
    max_points = _whole(item.get("max_points", 5), f"criterion {index} ({label}): max points", 1, 100)
    description = _text(item.get("description"), f"criterion {index}: description")
    raw_id = item.get("id")
    return Criterion(label, weight, max_points, description, raw_id if isinstance(raw_id, int) else None)


def parse_items(criteria: Sequence[Criterion], raw: Sequence[Mapping[str, Any]]) -> list[ItemScore]:
    """The points of a review: exactly one entry per criterion (``position`` 0-based,
    ``points`` within 0..max_points, optional ``comment``)."""
    given: dict[int, ItemScore] = {}
    for item in raw:
        position = _whole(item.get("position"), "position", 0, len(criteria) - 1)
        criterion = criteria[position]
        points = _whole(item.get("points"), f"{criterion.label}: points", 0, criterion.max_points)
        if position in given:
            raise QualityError(f"{criterion.label}: scored twice")
        given[position] = ItemScore(position, points, _text(item.get("comment"), f"{criterion.label}: comment"))
    missing = [c.label for index, c in enumerate(criteria) if index not in given]
    if missing:
        raise QualityError(f"score every criterion; missing: {', '.join(missing)}")
    return [given[index] for index in range(len(criteria))]


def total(criteria: Sequence[Criterion], items: Sequence[ItemScore]) -> Decimal:
    """The weighted total in percent, rounded to 2 decimals (see the module docstring)."""
    if len(criteria) != len(items) or not criteria:
        raise QualityError("score every criterion of the form")
    weights = sum((c.weight for c in criteria), Decimal(0))
    earned = sum((c.weight * Decimal(i.points) / Decimal(c.max_points) for c, i in zip(criteria, items, strict=True)),
                 Decimal(0))
    return (Decimal(100) * earned / weights).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def clean_comment(value: object, what: str = "comments") -> str:
    return _text(value, what)


def _text(value: object, what: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise QualityError(f"{what}: give text")
    value = value.strip()
    if required and not value:
        raise QualityError(f"{what}: required")
    if len(value) > limit:
        raise QualityError(f"{what}: at most {limit} characters")
    return value


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise QualityError(f"{what}: give a number above 0 (e.g. 1 or 2.5)")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise QualityError(f"{what}: give a number above 0 (e.g. 1 or 2.5), got {value!r}") from None
    if not number.is_finite() or abs(number) >= 10_000:
        raise QualityError(f"{what}: give a number from 0.01 to 9999.99, got {value!r}")
    number = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if not Decimal("0.01") <= number <= Decimal("9999.99"):
        raise QualityError(f"{what}: give a number from 0.01 to 9999.99, got {value!r}")
    return number


def _whole(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise QualityError(f"{what}: give a whole number from {low} to {high}, got {value!r}")
    return value
