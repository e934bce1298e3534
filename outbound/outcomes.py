"""What the database learns when a dialled call ends, and the writer that tells it.

The dialer never touches the database from its event greenlet: it hands a
:class:`LineResult` (or an agent's disposition) to the :class:`Writer`, a greenlet
that runs each piece of work in its own transaction, in order, and retries while the
database is unreachable, so an outage delays outcomes but never loses one.

A call's end, in one transaction (:func:`record_result`): the attempt is closed with
its outcome, the day's compliance counters move, and the contact takes its next
step -- :func:`outbound.retries.after_call` then the contact transition of
:mod:`outbound.campaign_states`. A call that reached an agent waits in ``connected``
for the agent's disposition (:func:`record_disposition`), which may still make it a
callback, an answering machine, a do-not-call or a wrong number.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import gevent
import gevent.queue

from cti.db import Database, DatabaseUnavailable
from outbound import campaign_sql
from outbound import store as sql
from outbound.campaign_config import CampaignConfig
from outbound.campaign_states import ContactEffect, ContactEvent, ContactState, contact_transition
from outbound.compliance import AmdResult, DialVerdict, Refusal
from outbound.errors import IllegalTransition
from outbound.retries import CallOutcome, NextStep, after_call, redial_floor

log = logging.getLogger(__name__)

_COUNTER = {
    CallOutcome.NO_ANSWER: "no_answer",
    CallOutcome.BUSY: "busy",
    CallOutcome.FAILED: "failed",
    CallOutcome.INVALID_NUMBER: "failed",
    CallOutcome.MACHINE: "amd_machine",
    CallOutcome.ABANDONED: "abandoned",
    CallOutcome.CONNECTED: "connected",
    CallOutcome.AGENTLESS_DONE: "connected",
}
_STEP_EVENT = {
    NextStep.RETRY: ContactEvent.RETRY,
    NextStep.DONE: ContactEvent.DONE,
    NextStep.DNC: ContactEvent.DNC,
    NextStep.INVALID: ContactEvent.INVALID,
}


@dataclass(frozen=True)
class LineResult:
    """A dialled call that ended, as the dialer saw it."""

    campaign_id: int
    contact_id: int
    attempt_id: int
    outcome: CallOutcome
    ended_at: datetime
    answered_at: datetime | None = None
    ring_seconds: float | None = None
    amd: AmdResult | None = None
    cause: str = ""
    agent_id: int | None = None
    disposition: str = ""
    late_message: bool = False


def record_result(cur: Any, result: LineResult, config: CampaignConfig) -> bool:
    """Close the attempt, count it, move the contact on; True when the contact became final."""
    sql.finish_attempt(
        cur, result.attempt_id, result.outcome, ended_at=result.ended_at, answered_at=result.answered_at,
        ring_seconds=result.ring_seconds, amd_result=result.amd, hangup_cause=result.cause,
        agent_id=result.agent_id, disposition=result.disposition,
    )
    counts = {_COUNTER[result.outcome]: 1} if result.outcome in _COUNTER else {}
    if result.late_message:
        counts["late_message"] = 1
    if counts:
        sql.bump_counters(cur, result.campaign_id, sql.counter_day(config.rules, result.ended_at), **counts)
    contact = campaign_sql.contact(cur, result.contact_id, lock=True)
    if contact is None:
        return False
    if result.outcome is CallOutcome.CONNECTED:
        _move(cur, contact, ContactEvent.ANSWERED)
        return False
    return after_outcome(cur, contact, result.outcome, config, result.ended_at)


def record_disposition(cur: Any, campaign_id: int, attempt_id: int, contact_id: int, disposition: str,
                       config: CampaignConfig, now: datetime) -> bool:
    """An agent's disposition of a connected call; True when the contact became final."""
    outcome = config.runtime.disposition_outcome(disposition)
    cur.execute("UPDATE outbound_attempts SET outcome = %s, disposition = %s WHERE id = %s",
                (outcome.value, disposition, attempt_id))
    cur.execute("UPDATE outbound_contacts SET last_outcome = %s, updated_at = now() WHERE id = %s",
                (outcome.value, contact_id))
    if outcome is CallOutcome.MACHINE:
        sql.bump_counters(cur, campaign_id, sql.counter_day(config.rules, now), connected=-1, agent_machine=1)
    contact = campaign_sql.contact(cur, contact_id, lock=True)
    if contact is None or contact["state"] != ContactState.CONNECTED.value:
        return False
    return after_outcome(cur, contact, outcome, config, now)


def after_outcome(cur: Any, contact: dict[str, Any], outcome: CallOutcome, config: CampaignConfig,
                  now: datetime) -> bool:
    """:func:`outbound.retries.after_call`, then the contact transition; True when final."""
    by_outcome = sql.outcome_counts(cur, contact["id"])
    decision = after_call(
        config.rules.retry, outcome, attempts=int(contact["attempts"]),
        attempts_with_outcome=by_outcome.get(outcome, 0), now=now,
        floor=redial_floor(config.rules.profile, outcome),
    )
    event = _STEP_EVENT[decision.step]
    if event is ContactEvent.INVALID and contact["state"] == ContactState.CONNECTED.value:
        event = ContactEvent.DONE   # a wrong number found by the agent: done, noted as invalid_number
    final_outcome = "" if decision.step is NextStep.RETRY else outcome.value
    return _move(cur, contact, event, next_attempt_at=decision.not_before if decision.step is NextStep.RETRY
                 else None, final_outcome=final_outcome)


def refuse_dial(cur: Any, contact: dict[str, Any], verdict: DialVerdict) -> bool:
    """The check before dialling said no: DNC and impossible windows are final, the
    rest wait for ``verdict.not_before``. True when the contact became final."""
    if Refusal.GLOBAL_DNC in verdict.refusals or Refusal.CAMPAIGN_DNC in verdict.refusals:
        return _move(cur, contact, ContactEvent.DNC, final_outcome="do_not_call")
    if verdict.final:
        return _move(cur, contact, ContactEvent.INVALID, final_outcome="no_calling_window")
    return _move(cur, contact, ContactEvent.DIAL_REFUSED, next_attempt_at=verdict.not_before)


def _move(cur: Any, contact: dict[str, Any], event: ContactEvent, *, next_attempt_at: datetime | None = None,
          final_outcome: str = "") -> bool:
    try:
        state, effects = contact_transition(ContactState(contact["state"]), event)
    except IllegalTransition as exc:
        log.warning("contact not moved", extra={"contact": contact["id"], "why": exc.message})
        return False
    sql.set_contact_state(cur, contact["id"], state, next_attempt_at=next_attempt_at, final_outcome=final_outcome)
    if ContactEffect.ADD_TO_CAMPAIGN_DNC in effects:
        dnc = sql.campaign_dnc_list(cur, contact["campaign_id"])
        sql.add_to_dnc(cur, dnc, contact["e164"], reason="asked during a call", added_by="dialer")
    return ContactEffect.CHECK_EXHAUSTED in effects


def utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


# -- the writer ------------------------------------------------------------------------

Work = Callable[[Any], Any]
Then = Callable[[Any], None]


class Writer:
    """Database work off the event path, in order, retried while the database is down."""

    RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: gevent.queue.Queue[tuple[Work, Then | None]] = gevent.queue.Queue()
        self._runner: gevent.Greenlet | None = None
        self.failed = 0

    def start(self) -> None:
        self._runner = gevent.spawn(self._run)

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the queued work (up to ``timeout``), then stop."""
        if self._runner is None:
            return
        deadline = time.monotonic() + timeout
        while self._queue.qsize() and time.monotonic() < deadline:
            gevent.sleep(0.05)
        self._runner.kill()
        self._runner = None

    def submit(self, work: Work, then: Then | None = None) -> None:
        self._queue.put((work, then))

    def _run(self) -> None:
        while True:
            work, then = self._queue.peek()
            result = self._attempt(work)
            self._queue.get()
            if then is not None and result is not _FAILED:
                try:
                    then(result)
                except Exception:
                    log.exception("outbound: follow-up of a database write failed")

    def _attempt(self, work: Work) -> Any:
        for attempt in itertools.count():
            try:
                with self.db.transaction() as cur:
                    return work(cur)
            except DatabaseUnavailable:
                delay = self.RETRY_SECONDS[min(attempt, len(self.RETRY_SECONDS) - 1)]
                log.warning("outbound: database unavailable; outcome kept and retried", extra={"in": delay})
                gevent.sleep(delay)
            except Exception:
                self.failed += 1
                log.exception("outbound: database write failed and was dropped")
                return _FAILED
        raise AssertionError("unreachable")


_FAILED = object()
