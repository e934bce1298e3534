"""Blacklist and VIP: who the caller is, and what that means for the call.

The ``caller_lists`` table holds numbers per list. Numbers are compared after
:func:`normalize_number`, so ``+33 1 23-45`` and ``00331 2345`` are the same caller.
A number on both lists is treated as blacklisted: refusing a call is the safer error.

Per flow, :class:`CallerPolicy` says what happens: a blacklisted caller is rejected
with a message, hung up on, or let through (``ignore``: the flow may test the list in
a condition node itself); a VIP's queue priority is raised by ``vip_priority_boost``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from routing.flow_nodes import Prompt


class CallerClass(enum.Enum):
    NORMAL = "normal"
    VIP = "vip"
    BLACKLISTED = "blacklisted"


class BlacklistAction(enum.Enum):
    REJECT = "reject"  # play the reject prompt, then hang up
    HANGUP = "hangup"  # hang up at once
    IGNORE = "ignore"  # carry on; the flow decides


def normalize_number(number: str) -> str:
    """Digits with a leading ``+`` for international numbers; punctuation dropped.

    ``00`` as an international prefix becomes ``+``. Anything that is not a digit
    (spaces, dashes, dots, brackets) is removed.
    """
    text = number.strip()
    plus = text.startswith("+")
    digits = "".join(c for c in text if c.isdigit())
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]
    return f"+{digits}" if plus else digits


class CallerLists:
    """The blacklist and the VIP list, ready for O(1) lookups."""

    def __init__(self, blacklist: Iterable[str] = (), vip: Iterable[str] = ()) -> None:
        self._blacklist = frozenset(normalize_number(n) for n in blacklist)
        self._vip = frozenset(normalize_number(n) for n in vip)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str]]) -> CallerLists:
        """From ``(list_name, number)`` rows of ``caller_lists``."""
        by_list: dict[str, list[str]] = {"blacklist": [], "vip": []}
        for list_name, number in rows:
            if list_name not in by_list:
                raise ValueError(f"unknown caller list {list_name!r}; only blacklist and vip exist")
            by_list[list_name].append(number)
        return cls(by_list["blacklist"], by_list["vip"])

    def classify(self, number: str) -> CallerClass:
        normal = normalize_number(number)
        if normal and normal in self._blacklist:
            return CallerClass.BLACKLISTED
        if normal and normal in self._vip:
            return CallerClass.VIP
        return CallerClass.NORMAL


@dataclass(frozen=True, slots=True)
class CallerPolicy:
    blacklist_action: BlacklistAction = BlacklistAction.HANGUP
    reject_prompt: Prompt | None = None
    vip_priority_boost: int = 10


@dataclass(frozen=True, slots=True)
class CallerDecision:
    """``proceed`` False means the call is refused: play ``prompt`` (if any), hang up
    with ``hangup_cause``. ``priority_boost`` applies to any queue the call enters."""

    proceed: bool
    priority_boost: int = 0
    prompt: Prompt | None = None
    hangup_cause: str = ""


def decide(caller: CallerClass, policy: CallerPolicy) -> CallerDecision:
    if caller is CallerClass.BLACKLISTED:
        if policy.blacklist_action is BlacklistAction.REJECT:
            return CallerDecision(False, prompt=policy.reject_prompt, hangup_cause="CALL_REJECTED")
        if policy.blacklist_action is BlacklistAction.HANGUP:
            return CallerDecision(False, hangup_cause="CALL_REJECTED")
    if caller is CallerClass.VIP:
        return CallerDecision(True, priority_boost=policy.vip_priority_boost)
    return CallerDecision(True)
