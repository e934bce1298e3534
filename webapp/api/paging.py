"""Pagination of lists: ``limit`` and ``offset`` parameters, and the ``next`` link.

A page fetches one row more than asked; if it came, there is a next page and its URL
(this request with ``offset`` moved on) is in ``next``; otherwise ``next`` is null.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from webapp.api.operations import ApiRequest, query_param
from webapp.api.schemas import MAX_INT

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

LIMIT = query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                    f"items per page (default {DEFAULT_LIMIT})")
OFFSET = query_param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_INT}, "items to skip")
PAGING = (LIMIT, OFFSET)


def window(req: ApiRequest) -> tuple[int, int]:
    """(limit, offset) of this request."""
    return int(req.query.get("limit", DEFAULT_LIMIT)), int(req.query.get("offset", 0))


def page(req: ApiRequest, fetch: Callable[[int, int], Sequence[T]], render: Callable[[T], Any]) -> dict[str, Any]:
    """``fetch(limit + 1, offset)`` -> the page body with ``items`` and ``next``."""
    limit, offset = window(req)
    rows = list(fetch(limit + 1, offset))
    more = len(rows) > limit
    return {
        "items": [render(r) for r in rows[:limit]],
        "next": req.next_link(offset=offset + limit, limit=limit) if more else None,
    }


def page_of(req: ApiRequest, items: Sequence[T], render: Callable[[T], Any]) -> dict[str, Any]:
    """The page of an in-memory list (live state)."""
    return page(req, lambda n, skip: items[skip:skip + n], render)
