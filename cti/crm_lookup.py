"""Who is calling, according to the customer's CRM: an optional per-queue HTTP lookup
merged into the screen-pop.

A queue may set ``crm_lookup_url`` (routing/queues.py), a URL template with the call's
placeholders (``https://crm.example.com/lookup?phone={caller_number}&q={queue}``)
rendered by :func:`routing.queues.render_url`, every value percent-encoded. Before the
screen-pop is pushed, :meth:`CrmLookup.enrich` GETs it with a short time limit and
merges the answer; answers are cached per URL for ``ttl`` seconds (a caller who calls
back within a minute costs the CRM nothing), failures for a shorter time so a CRM that
is down is not hammered.

What the CRM answers: a JSON object; these keys are used, the rest ignored::

    {"name": "Ann Lee", "company": "Acme", "vip": true, "tags": ["gold"], "notes": "...",
     "email": "ann@acme.example", "url": "https://crm.example.com/contacts/42",
     "fields": {"Account": "A-1001", "Plan": "Premium"}}

Failures (timeout, refused connection, non-2xx, not JSON) never reach the agent: the
screen-pop simply shows the local directory's data, as without a CRM. They are logged
(warning, with the queue and the CRM host but not the caller's number) and counted.

Lookup URLs are site configuration written by an admin (``cti provision``), and CRMs
are usually inside the network, so unlike webhook targets they are not limited to
public addresses.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 1.5
DEFAULT_TTL = 60.0
FAILURE_TTL = 10.0
RULES_TTL = 30.0
_TEXT_KEYS = ("name", "company", "notes", "email", "url")
_MAX_TEXT = 2000

Fetch = Callable[[str, float], Any]


class CrmAnswerError(ValueError):
    """The CRM answered something that is not a usable record."""


@dataclass
class CrmStats:
    lookups: int = 0
    cache_hits: int = 0
    failures: int = 0


class TtlCache:
    """A bounded map whose entries expire; the clock is passed in (pure, testable)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._max = max_entries

    def get(self, key: str, now: float) -> tuple[bool, Any]:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            self._entries.pop(key, None)
            return False, None
        self._entries.move_to_end(key)
        return True, entry[1]

    def put(self, key: str, value: Any, expires_at: float) -> None:
        self._entries[key] = (expires_at, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


def parse_answer(answer: Any) -> dict[str, Any]:
    """The usable part of a CRM answer (see the module docstring); raises
    :class:`CrmAnswerError` when it is not a JSON object."""
    if not isinstance(answer, Mapping):
        raise CrmAnswerError("the CRM did not answer a JSON object")
    record: dict[str, Any] = {}
    for key in _TEXT_KEYS:
        value = answer.get(key)
        if isinstance(value, str) and value.strip():
            record[key] = value.strip()[:_MAX_TEXT]
    if isinstance(answer.get("vip"), bool):
        record["vip"] = answer["vip"]
    tags = answer.get("tags")
    if isinstance(tags, list):
        record["tags"] = [t.strip()[:100] for t in tags if isinstance(t, str) and t.strip()][:50]
    fields = answer.get("fields")
    if isinstance(fields, Mapping):
        record["fields"] = {str(k)[:100]: str(v)[:_MAX_TEXT] for k, v in list(fields.items())[:50]
                            if isinstance(v, str | int | float | bool)}
    return record


def merge(screen_pop: Mapping[str, Any], crm: Mapping[str, Any] | None) -> dict[str, Any]:
    """The screen-pop with the CRM's record under ``crm``; when the local directory
    does not know the caller, ``customer`` is built from the CRM's data
    (``"source": "crm"``) so the agent sees a name either way. Local data is kept as
    it is: the directory is what the history and the agents' notes refer to."""
    merged = dict(screen_pop)
    merged["crm"] = dict(crm) if crm else None
    if crm and merged.get("customer") is None and crm.get("name"):
        merged["customer"] = {
            "id": None, "name": crm["name"], "company": crm.get("company", ""), "vip": crm.get("vip", False),
            "tags": list(crm.get("tags", [])), "notes": crm.get("notes", ""), "email": crm.get("email", ""),
            "numbers": [], "source": "crm",
        }
    return merged


def _http_get(url: str, timeout: float) -> Any:
    """GET ``url`` (no redirects), within ``timeout`` in all; the decoded JSON."""
    import gevent
    import requests

    with gevent.Timeout(timeout, TimeoutError(f"no answer within {timeout:g} s")):
        response = requests.get(url, timeout=timeout, allow_redirects=False,
                                headers={"Accept": "application/json", "User-Agent": "cti-crm-lookup/1"})
    if not 200 <= response.status_code < 300:
        raise CrmAnswerError(f"HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise CrmAnswerError("the answer is not JSON") from None


class CrmLookup:
    """Per-queue CRM lookups with a cache (see the module docstring).

    Args:
        db: where the queues' rules are read (refreshed every :data:`RULES_TTL` s).
        fetch: ``fetch(url, timeout) -> decoded JSON``; raises on failure.
    """

    def __init__(self, db: Any, *, timeout: float = DEFAULT_TIMEOUT, ttl: float = DEFAULT_TTL,
                 failure_ttl: float = FAILURE_TTL, fetch: Fetch = _http_get,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.timeout = timeout
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self.stats = CrmStats()
        self._fetch = fetch
        self._clock = clock
        self._cache = TtlCache()
        self._templates: dict[str, str] = {}
        self._templates_until = 0.0

    @classmethod
    def for_services(cls, services: Any) -> CrmLookup:
        """The site's one lookup service (made on first use, kept on ``services``)."""
        existing = getattr(services, "crm_lookup", None)
        if isinstance(existing, cls):
            return existing
        lookup = cls(services.db)
        services.crm_lookup = lookup
        return lookup

    def template(self, queue: str) -> str:
        """The queue's ``crm_lookup_url`` ('' when none)."""
        now = self._clock()
        if now >= self._templates_until:
            self._templates = self._load_templates()
            self._templates_until = now + RULES_TTL
        return self._templates.get(queue, "")

    def _load_templates(self) -> dict[str, str]:
        from routing.queues import QueueConfigError, parse_queue_rules

        templates: dict[str, str] = {}
        for row in self.db.fetchall("SELECT name, settings FROM queues"):
            try:
                url = parse_queue_rules(row["name"], row["settings"]).crm_lookup_url
            except QueueConfigError:
                continue  # the routing engine reports invalid rules
            if url:
                templates[row["name"]] = url
        return templates

    def lookup(self, queue: str, values: Mapping[str, object],
               variables: Mapping[str, str] | None = None) -> dict[str, Any] | None:
        """The CRM's record for this call, or None (no lookup configured, or it failed)."""
        from routing.queues import render_url

        template = self.template(queue)
        if not template:
            return None
        url = render_url(template, values, variables or {})
        now = self._clock()
        hit, cached = self._cache.get(url, now)
        if hit:
            self.stats.cache_hits += 1
            return cached  # type: ignore[no-any-return]
        self.stats.lookups += 1
        try:
            record: dict[str, Any] | None = parse_answer(self._fetch(url, self.timeout))
            self._cache.put(url, record, now + self.ttl)
        except Exception as exc:
            self.stats.failures += 1
            log.warning("CRM lookup failed; the screen-pop shows the local directory only",
                        extra={"queue": queue, "crm_host": urlsplit(url).hostname or "",
                               "call": values.get("interaction_id"), "error": f"{type(exc).__name__}: {exc}"})
            record = None
            self._cache.put(url, None, now + self.failure_ttl)
        return record

    def enrich(self, screen_pop: Mapping[str, Any], queue: str, values: Mapping[str, object],
               variables: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The screen-pop merged with the CRM's record (:func:`merge`); never raises
        because of the CRM."""
        return merge(screen_pop, self.lookup(queue, values, variables) if queue else None)


__all__ = ["CrmAnswerError", "CrmLookup", "CrmStats", "TtlCache", "merge", "parse_answer"]
