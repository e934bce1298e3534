"""Blacklist / VIP classification and decisions."""

from __future__ import annotations

import pytest

from routing.callers import (
    BlacklistAction,
    CallerClass,
    CallerDecision,
    CallerLists,
    CallerPolicy,
    decide,
    normalize_number,
)
from routing.flow_nodes import Prompt


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("+33 1 23 45 67 89", "+33123456789"),
        ("0033-1-23-45-67-89", "+33123456789"),
        ("(555) 123.4567", "5551234567"),
        ("  1001 ", "1001"),
        ("", ""),
    ],
)
def test_normalize_number(raw: str, normal: str) -> None:
    assert normalize_number(raw) == normal


def test_classify() -> None:
    lists = CallerLists.from_rows([("blacklist", "+1 555 0100"), ("vip", "+15550200"), ("vip", "+15550100")])
    assert lists.classify("+15550100") is CallerClass.BLACKLISTED  # on both: refusing is safer
    assert lists.classify("0015550200") is CallerClass.VIP
    assert lists.classify("+15550300") is CallerClass.NORMAL
    assert lists.classify("") is CallerClass.NORMAL
    with pytest.raises(ValueError, match="unknown caller list"):
        CallerLists.from_rows([("greylist", "1")])


REJECT = Prompt("sorry.wav")


@pytest.mark.parametrize(
    ("caller", "policy", "expected"),
    [
        (CallerClass.NORMAL, CallerPolicy(), CallerDecision(True)),
        (CallerClass.VIP, CallerPolicy(vip_priority_boost=25), CallerDecision(True, priority_boost=25)),
        (CallerClass.BLACKLISTED, CallerPolicy(), CallerDecision(False, hangup_cause="CALL_REJECTED")),
        (
            CallerClass.BLACKLISTED,
            CallerPolicy(BlacklistAction.REJECT, REJECT),
            CallerDecision(False, prompt=REJECT, hangup_cause="CALL_REJECTED"),
        ),
        (CallerClass.BLACKLISTED, CallerPolicy(BlacklistAction.IGNORE), CallerDecision(True)),
    ],
)
def test_decide(caller: CallerClass, policy: CallerPolicy, expected: CallerDecision) -> None:
    assert decide(caller, policy) == expected
