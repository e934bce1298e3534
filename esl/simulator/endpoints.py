"""The people and devices on the other end of simulated calls (pure data and choices).

* :class:`Directory` / :class:`Phone`: the SIP directory (vanilla users 1000-1019,
  all registered by default) and how each registered phone behaves when it rings:
  ``answer`` after ``answer_after`` seconds, ``no_answer`` (rings until the
  originate times out: NO_ANSWER), ``busy`` (486: USER_BUSY) or ``reject``
  (603: CALL_REJECTED). A directory user without a registration gives
  USER_NOT_REGISTERED, an unknown user SUBSCRIBER_ABSENT (capture c).
* :class:`CallerBehaviour`: an inbound caller's patience, talk time and the digits it
  keys in when prompted.
* :class:`CustomerProfile`: how the people an outbound campaign dials answer --
  human, answering machine, busy, no answer, invalid number.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

DEFAULT_DOMAIN = "127.0.0.1"
VANILLA_USERS = tuple(str(n) for n in range(1000, 1020))
PHONE_BEHAVIOURS = ("answer", "no_answer", "busy", "reject")
_DIALABLE = re.compile(r"^\+?[0-9]{6,15}$")


@dataclass(slots=True)
class Phone:
    """A registered SIP phone of a directory user."""

    extension: str
    answer_after: float | None = 1.0
    behaviour: str = "answer"
    port: int = 5090

    def __post_init__(self) -> None:
        if self.behaviour not in PHONE_BEHAVIOURS:
            raise ValueError(
                f"phone behaviour must be one of {', '.join(PHONE_BEHAVIOURS)}, got {self.behaviour!r}"
            )
        if self.behaviour == "answer" and self.answer_after is None:
            self.behaviour = "no_answer"


class Directory:
    """Directory users and their registrations."""

    def __init__(self, users: Iterable[str] = ()) -> None:
        self.users: set[str] = set(users)
        self.phones: dict[str, Phone] = {}

    def register(self, extension: str, *, answer_after: float | None = 1.0, behaviour: str = "answer") -> Phone:
        """Register a phone for ``extension`` (adding the user to the directory)."""
        if not extension or not extension.isalnum():
            raise ValueError(f"extension must be letters and digits, got {extension!r}")
        phone = Phone(extension=extension, answer_after=answer_after, behaviour=behaviour)
        self.users.add(extension)
        self.phones[extension] = phone
        return phone

    def unregister(self, extension: str) -> None:
        self.phones.pop(extension, None)

    def lookup(self, extension: str) -> Phone | str:
        """The registered phone, or the cause an originate to it fails with."""
        if extension not in self.users:
            return "SUBSCRIBER_ABSENT"
        phone = self.phones.get(extension)
        return phone if phone is not None else "USER_NOT_REGISTERED"


@dataclass(frozen=True, slots=True)
class CallerBehaviour:
    """An inbound caller.

    Attributes:
        patience: hang up (abandon) this many seconds after calling unless bridged.
        talk_time: once bridged to someone, hang up after this many seconds.
        prompt_digits: what to key in, in turn, each time a digit prompt
            (``play_and_get_digits``) starts; an empty string lets the prompt time out.
        think_time: seconds between a prompt starting and the first key press.
    """

    patience: float | None = None
    talk_time: float | None = None
    prompt_digits: tuple[str, ...] = ()
    think_time: float = 1.0


@dataclass(frozen=True, slots=True)
class CustomerOutcome:
    """What happens when one number is dialled."""

    kind: str  # human | machine | busy | no_answer | invalid
    ring_time: float = 0.0
    talk_time: float = 0.0
    greeting_time: float = 0.0


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    """The population an outbound campaign dials.

    Probabilities are independent of each other in this order: a number that is not
    dialable (not 6-15 digits) or listed in ``scripted`` as ``invalid`` is invalid;
    then ``busy_probability``; then ``answer_probability`` (of which
    ``machine_probability`` are answering machines); the rest never answer.
    ``scripted`` fixes the outcome kind for given numbers (tests, demos).
    """

    answer_probability: float = 0.7
    machine_probability: float = 0.15
    busy_probability: float = 0.1
    ring_time: tuple[float, float] = (2.0, 10.0)
    talk_time: tuple[float, float] = (20.0, 120.0)
    greeting_time: tuple[float, float] = (3.0, 8.0)
    scripted: Mapping[str, str] = field(default_factory=dict)

    def outcome(self, rng: random.Random, number: str) -> CustomerOutcome:
        kind = self.scripted.get(number)
        if kind is None:
            if not _DIALABLE.match(number):
                kind = "invalid"
            elif rng.random() < self.busy_probability:
                kind = "busy"
            elif rng.random() < self.answer_probability:
                kind = "machine" if rng.random() < self.machine_probability else "human"
            else:
                kind = "no_answer"
        return CustomerOutcome(
            kind=kind,
            ring_time=rng.uniform(*self.ring_time),
            talk_time=rng.uniform(*self.talk_time),
            greeting_time=rng.uniform(*self.greeting_time),
        )
