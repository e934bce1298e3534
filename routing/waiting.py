"""The calls waiting in one queue, in service order, with priority aging.

A call's score at time ``now`` is

    score = base_priority + aging_per_minute * (now - ranked_from) / 60

and the highest score is served first (``ranked_from`` is when the call entered the
queue, or for a call an agent transferred back to a queue that keeps transferred
callers' wait, when it first arrived). Because every call of a queue ages at the same
rate, the order of two calls never changes as time passes, so the queue is a sorted
list on the time-independent key

    (aging_per_minute * ranked_from / 60 - base_priority, ranked_from, seq)

(smaller first; ``seq`` is the arrival counter, making ties deterministic). That
also guarantees no starvation: a call with priority ``p`` that waited ``w`` seconds is
overtaken by a later call only if that call's priority exceeds ``p`` by more than
``aging_per_minute * w / 60``, which sooner or later no priority can.

Across queues (an agent in several queues) calls are compared by their score at the
moment of the decision; see :mod:`routing.acd`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sortedcontainers import SortedList

from routing.queues import QueueRules

Key = tuple[float, float, int]


@dataclass(frozen=True, slots=True)
class WaitingCall:
    """A call (or a kept-place callback) waiting for an agent.

    Attributes:
        id: the interaction id.
        priority: None means the queue's default priority.
        priority_boost: added to the priority (VIP callers).
        skills: required skill levels on top of the queue's (from the IVR).
        last_agent: ``(agent_id, epoch seconds)`` of the last agent who served this
            caller, for the sticky-agent rule.
        callback_number: set when the caller chose to be called back: when an agent
            takes it, the shell calls the agent and then this number.
        arrived_at: the first arrival of a call transferred back to a queue by an
            agent, when that queue keeps transferred callers' wait; its rank counts
            from then. Its timers (max wait, announcements ...) still count from
            ``enqueued_at``, its entry into this queue.
    """

    id: str
    queue: str
    enqueued_at: float
    priority: int | None = None
    priority_boost: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    caller_number: str = ""
    language: str = "en"
    last_agent: tuple[int, float] | None = None
    callback_number: str = ""
    arrived_at: float | None = None

    @property
    def ranked_from(self) -> float:
        """The time the call's rank (priority aging) counts from."""
        return self.enqueued_at if self.arrived_at is None else min(self.arrived_at, self.enqueued_at)


@dataclass(slots=True)
class Entry:
    """The router's record of a waiting call (mutable bookkeeping around the call)."""

    call: WaitingCall
    seq: int
    base_priority: int
    key: Key
    generation: int = 0
    predicted_wait: float = 0.0

    def score(self, aging_per_minute: float, now: float) -> float:
        return self.base_priority + aging_per_minute * (now - self.call.ranked_from) / 60.0


def make_entry(call: WaitingCall, rules: QueueRules, seq: int) -> Entry:
    base = (rules.priority if call.priority is None else call.priority) + call.priority_boost
    return Entry(call, seq, base, _key(call, base, rules, seq))


def _key(call: WaitingCall, base: int, rules: QueueRules, seq: int) -> Key:
    return (rules.aging_per_minute * call.ranked_from / 60.0 - base, call.ranked_from, seq)


class CallQueue:
    """One queue's waiting entries: ranked order, FIFO order, lookup by call id."""

    def __init__(self, rules: QueueRules) -> None:
        self.rules = rules
        self._ranked: SortedList[Key] = SortedList()
        self._by_age: SortedList[tuple[float, int]] = SortedList()
        self._entries: dict[str, Entry] = {}
        self._by_key: dict[Key, Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._entries

    def get(self, call_id: str) -> Entry | None:
        return self._entries.get(call_id)

    def add(self, entry: Entry) -> None:
        self._entries[entry.call.id] = entry
        self._by_key[entry.key] = entry
        self._ranked.add(entry.key)
        self._by_age.add((entry.call.enqueued_at, entry.seq))

    def remove(self, call_id: str) -> Entry:
        entry = self._entries.pop(call_id)
        del self._by_key[entry.key]
        self._ranked.remove(entry.key)
        self._by_age.remove((entry.call.enqueued_at, entry.seq))
        return entry

    def in_order(self) -> Iterator[Entry]:
        """Entries best first."""
        by_key = self._by_key
        for key in self._ranked:
            yield by_key[key]

    def position(self, call_id: str) -> int:
        """1-based place of the call in service order."""
        return self._ranked.bisect_left(self._entries[call_id].key) + 1

    def oldest_enqueued_at(self) -> float | None:
        return self._by_age[0][0] if self._by_age else None

    def set_rules(self, rules: QueueRules) -> None:
        """New rules may change default priority and aging: re-key every entry."""
        entries = list(self._entries.values())
        self.rules = rules
        self._ranked.clear()
        self._by_age.clear()
        self._entries.clear()
        self._by_key.clear()
        for old in entries:
            fresh = make_entry(old.call, rules, old.seq)
            fresh.generation = old.generation
            fresh.predicted_wait = old.predicted_wait
            self.add(fresh)
