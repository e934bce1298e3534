"""What ``/metrics`` shows, in the Prometheus text format (version 0.0.4).

Two halves: :func:`render` is pure (metric families in, exposition text out, escaping
by the format's rules) and :class:`MetricsCollector` reads a running site's figures:
calls waiting per queue, agents per state, ESL events (total and per second),
reconnects and drops per switch, event-to-state latency percentiles, the store's
write backlog and the webhook backlog. Counters end in ``_total``; everything else is a
gauge (latency quantiles are a gauge with a ``quantile`` label), so ``rate()`` works on the counters in Prometheus and
``cti_esl_events_per_second`` gives the same figure to a plain reader.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Labels = Mapping[str, str]

#: Event-to-state latency quantiles exported.
QUANTILES = (0.5, 0.95, 0.99)


@dataclass(frozen=True)
class Family:
    """One metric family: name, type (counter or gauge), help and samples."""

    name: str
    kind: str
    help: str
    samples: Sequence[tuple[Labels, float]] = field(default_factory=tuple)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def render(families: Iterable[Family]) -> str:
    """The exposition text of ``families`` (one HELP and TYPE line per family)."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {family.help.replace(chr(92), chr(92) * 2).replace(chr(10), ' ')}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for labels, value in family.samples:
            text = ",".join(f'{k}="{_escape_label(str(v))}"' for k, v in labels.items())
            lines.append(f"{family.name}{{{text}}} {_number(value)}" if text else f"{family.name} {_number(value)}")
    return "\n".join(lines) + "\n"


def gauge(name: str, help_text: str, samples: Sequence[tuple[Labels, float]]) -> Family:
    return Family(name, "gauge", help_text, samples)


def counter(name: str, help_text: str, samples: Sequence[tuple[Labels, float]]) -> Family:
    return Family(name, "counter", help_text, samples)


def one(value: float) -> list[tuple[Labels, float]]:
    return [({}, float(value))]


# --- reading a running site -------------------------------------------------------------------

AGENT_STATES = ("logged_out", "available", "not_ready", "reserved", "on_call", "on_hold", "in_consult", "wrap_up")


class MetricsCollector:
    """Reads the figures of ``services`` at each scrape (see the module docstring).

    Keeps the previous event count to report events per second between two scrapes.
    """

    def __init__(self, services: Any) -> None:
        self.services = services
        self._last_events: tuple[float, int] | None = None

    def collect(self) -> list[Family]:
        families: list[Family] = [
            counter("cti_bus_events_published_total", "Domain events published on the bus",
                    one(self.services.bus.published)),
            counter("cti_bus_subscriber_errors_total", "Domain event subscribers that raised",
                    one(self.services.bus.subscriber_errors)),
        ]
        core = getattr(self.services, "core", None)
        if core is not None:
            families += self._core(core)
        store = getattr(self.services, "store", None)
        if store is not None:
            families += self._store(store.stats())
        webhooks = getattr(self.services, "webhooks", None)
        if webhooks is not None:
            families += self._webhooks(webhooks)
        return families

    def _events_per_second(self, total: int) -> float:
        now = time.monotonic()
        previous, self._last_events = self._last_events, (now, total)
        if previous is None or now <= previous[0]:
            return 0.0
        return max(0.0, (total - previous[1]) / (now - previous[0]))

    def _core(self, core: Any) -> list[Family]:
        now = time.time()
        calls = core.state.live_calls(now)
        queues = [row["name"] for row in self.services.db.fetchall("SELECT name FROM queues ORDER BY name")]
        waiting = Counter(c["queue"] for c in calls if c["state"] in ("queued", "offering") and c["queue"])
        longest: dict[str, float] = {}
        for c in calls:
            if c["state"] in ("queued", "offering") and c["queue"]:
                longest[c["queue"]] = max(longest.get(c["queue"], 0.0), c.get("wait_seconds") or 0.0)
        agents = Counter(a["state"] for a in core.state.agents())
        switches = list(core.switches)
        stats = {client.node.name: client.stats for client in switches}
        latency = core.latency
        return [
            gauge("cti_calls_live", "Interactions not over", one(len(calls))),
            gauge("cti_queue_calls_waiting", "Calls waiting in a queue (queued or ringing an agent)",
                  [({"queue": q}, float(waiting.get(q, 0))) for q in sorted({*queues, *waiting})]),
            gauge("cti_queue_longest_wait_seconds", "Longest current wait in a queue",
                  [({"queue": q}, longest.get(q, 0.0)) for q in sorted({*queues, *waiting})]),
            gauge("cti_agents", "Agents by state", [({"state": s}, float(agents.get(s, 0))) for s in
                                                   sorted({*AGENT_STATES, *agents})]),
            counter("cti_esl_events_total", "ESL events applied by the core", one(core.stats.events)),
            gauge("cti_esl_events_per_second", "ESL events per second since the previous scrape",
                  one(self._events_per_second(core.stats.events))),
            counter("cti_call_illegal_transitions_total", "Events the call model refused",
                    one(core.stats.illegal_transitions)),
            gauge("cti_esl_connected", "1 while the switch link is up", [({"node": c.node.name}, float(c.connected))
                                                                         for c in switches]),
            counter("cti_esl_reconnects_total", "ESL reconnections", [({"node": n}, s.reconnects)
                                                                      for n, s in stats.items()]),
            counter("cti_esl_events_dropped_total", "ESL events dropped (queue full)",
                    [({"node": n}, s.events_dropped) for n, s in stats.items()]),
            counter("cti_esl_resyncs_total", "Resyncs after a reconnect or a drop",
                    [({"node": n}, s.resyncs) for n, s in stats.items()]),
            gauge("cti_esl_queue_depth", "ESL events waiting to be applied", [({"node": n}, s.queue_depth)
                                                                              for n, s in stats.items()]),
            gauge("cti_event_latency_seconds", "ESL event arrival to live state applied, by quantile (recent sample)",
                  [({"quantile": str(q)}, latency.percentile(q * 100)) for q in QUANTILES]),
            counter("cti_event_latency_samples_total", "Events whose latency was measured", one(latency.count)),
        ]

    @staticmethod
    def _store(stats: Mapping[str, Any]) -> list[Family]:
        return [
            gauge("cti_store_backlog_records", "Records journalled and not yet in the database",
                  one(stats.get("backlog", 0))),
            gauge("cti_store_oldest_pending_seconds", "Age of the oldest record waiting for the database",
                  one(stats.get("oldest_pending_s", 0.0))),
            gauge("cti_store_database_down", "1 while the store cannot reach the database",
                  one(float(bool(stats.get("database_down"))))),
            counter("cti_store_written_total", "Records written to the database", one(stats.get("written", 0))),
            counter("cti_store_errors_total", "Store batches that failed", one(stats.get("errors", 0))),
            counter("cti_store_journal_full_total", "Records lost because the journal was full",
                    one(stats.get("journal_full", 0))),
        ]

    def _webhooks(self, webhooks: Any) -> list[Family]:
        s = webhooks.stats
        families = [
            gauge("cti_webhook_journal_backlog", "Events waiting to enter the webhook outbox", one(s.journal_backlog)),
            counter("cti_webhook_attempts_total", "Webhook delivery attempts", one(s.attempts)),
            counter("cti_webhook_delivered_total", "Webhook deliveries acknowledged with 2xx", one(s.delivered)),
            counter("cti_webhook_retries_total", "Webhook attempts that will be retried", one(s.retries)),
            counter("cti_webhook_failed_total", "Webhook deliveries given up (redeliver by hand)", one(s.failed)),
            counter("cti_webhook_refused_targets_total", "Attempts refused: target on a private address",
                    one(s.refused)),
            counter("cti_webhook_journal_full_total", "Events lost for webhooks because the journal was full",
                    one(s.journal_full)),
        ]
        backlog = webhooks.store.backlog()
        families += [
            gauge("cti_webhook_outbox_pending", "Webhook deliveries pending", one(backlog["pending"])),
            gauge("cti_webhook_outbox_failed", "Webhook deliveries failed for good", one(backlog["failed"])),
            gauge("cti_webhook_outbox_oldest_pending_seconds", "Age of the oldest pending webhook delivery",
                  one(backlog["oldest_seconds"])),
        ]
        return families


__all__ = ["Family", "MetricsCollector", "QUANTILES", "counter", "gauge", "render"]
