"""Retry rules per outcome, attempt limits, callbacks and the UK redial floors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from outbound.compliance import PROFILES
from outbound.retries import (
    DEFAULT_RULES,
    CallOutcome,
    NextStep,
    RetryPolicy,
    RetryRule,
    after_call,
    redial_floor,
)

NOW = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("outcome", "step"),
    [
        (CallOutcome.CONNECTED, NextStep.DONE),
        (CallOutcome.AGENTLESS_DONE, NextStep.DONE),
        (CallOutcome.INVALID_NUMBER, NextStep.INVALID),
        (CallOutcome.DO_NOT_CALL, NextStep.DNC),
    ],
)
def test_final_outcomes(outcome: CallOutcome, step: NextStep) -> None:
    decision = after_call(POLICY, outcome, attempts=1, attempts_with_outcome=1, now=NOW)
    assert decision.step is step and decision.not_before is None and decision.outcome is outcome


@pytest.mark.parametrize("outcome", list(DEFAULT_RULES))
def test_each_retryable_outcome_waits_its_delay(outcome: CallOutcome) -> None:
    decision = after_call(POLICY, outcome, attempts=1, attempts_with_outcome=1, now=NOW)
    assert decision.step is NextStep.RETRY
    assert decision.not_before == NOW + DEFAULT_RULES[outcome].delay


def test_gives_up_after_the_outcomes_own_limit() -> None:
    rule = DEFAULT_RULES[CallOutcome.NO_ANSWER]
    last = after_call(POLICY, CallOutcome.NO_ANSWER, attempts=rule.max_attempts,
                      attempts_with_outcome=rule.max_attempts, now=NOW)
    assert last.step is NextStep.DONE and "limit 4" in last.reason
    before = after_call(POLICY, CallOutcome.NO_ANSWER, attempts=rule.max_attempts - 1,
                        attempts_with_outcome=rule.max_attempts - 1, now=NOW)
    assert before.step is NextStep.RETRY


def test_gives_up_after_the_campaign_wide_limit() -> None:
    policy = RetryPolicy(max_attempts=3)
    decision = after_call(policy, CallOutcome.BUSY, attempts=3, attempts_with_outcome=1, now=NOW)
    assert decision.step is NextStep.DONE and "3 attempts made" in decision.reason


def test_a_requested_callback_is_kept_even_past_the_limits() -> None:
    when = NOW + timedelta(days=2, hours=3)
    decision = after_call(RetryPolicy(max_attempts=1), CallOutcome.CALLBACK, attempts=9, attempts_with_outcome=9,
                          now=NOW, callback_at=when)
    assert decision.step is NextStep.RETRY and decision.not_before == when


def test_an_outcome_without_a_rule_is_done() -> None:
    policy = RetryPolicy(rules={CallOutcome.BUSY: RetryRule(timedelta(minutes=5), 2)})
    assert after_call(policy, CallOutcome.NO_ANSWER, attempts=1, attempts_with_outcome=1, now=NOW).step is NextStep.DONE


def test_uk_floors_push_automatic_redials_back() -> None:
    uk = PROFILES["uk_ofcom"]
    assert redial_floor(uk, CallOutcome.ABANDONED) == timedelta(hours=72)
    assert redial_floor(uk, CallOutcome.MACHINE) == timedelta(hours=24)
    assert redial_floor(uk, CallOutcome.NO_ANSWER) == timedelta(0)
    assert redial_floor(PROFILES["default"], CallOutcome.ABANDONED) == timedelta(0)
    decision = after_call(POLICY, CallOutcome.ABANDONED, attempts=1, attempts_with_outcome=1, now=NOW,
                          floor=redial_floor(uk, CallOutcome.ABANDONED))
    assert decision.not_before == NOW + timedelta(hours=72)


def test_rules_are_validated() -> None:
    with pytest.raises(ValueError):
        RetryRule(timedelta(minutes=-1), 2)
    with pytest.raises(ValueError):
        RetryRule(timedelta(minutes=1), 0)
