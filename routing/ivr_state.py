"""The IVR's data: phases, what the shell reports back, the call context, the state
carried between steps, and the step itself. The machine is :mod:`routing.ivr`.

Everything here is immutable: a step returns a new :class:`IvrState`, so the shell
can keep it, log it, or replay a call from its results.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from routing.calendars import Calendar
from routing.callers import CallerClass
from routing.steps import Action


class Phase(enum.Enum):
    """What the machine waits for; with the result type, the key of ``ivr.TRANSITIONS``."""

    PLAYING = "playing"  # a playback runs
    COLLECTING = "collecting"  # play_and_get_digits runs
    LOOKING_UP = "looking_up"  # the shell performs an HTTP lookup
    RECORDING = "recording"  # a voicemail is being recorded
    DONE = "done"  # a routing action ended the IVR


class Stage(enum.Enum):
    """Which part of a multi-step node runs."""

    MAIN = "main"
    QUICK = "quick"  # the quick menu before the anchor menu
    EVENT_CODE = "event_code"  # voicemail: choosing the event code
    GREETING = "greeting"  # voicemail: greeting and beep
    GOODBYE = "goodbye"  # hangup node: its prompt
    REJECT = "reject"  # blacklisted caller: the reject message


# -- results the shell reports ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaybackFinished:
    """A ``playback`` ended (``CHANNEL_EXECUTE_COMPLETE``). Every result carries ``at``,
    the epoch seconds it happened, so time spent per node needs no clock here."""

    at: float


@dataclass(frozen=True, slots=True)
class DigitsEntered:
    """The value of the step's result variable ("" when nothing valid was entered)."""

    digits: str
    at: float


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """``ok`` False on timeout, error status or a body that is not a JSON object;
    ``fields`` are the object's top-level values as strings."""

    ok: bool
    fields: Mapping[str, str]
    at: float


@dataclass(frozen=True, slots=True)
class RecordingFinished:
    """The ``record`` application ended (time limit or silence); ``seconds`` recorded."""

    seconds: float
    at: float


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    """The caller's leg hung up while the IVR had it."""

    at: float


Result = PlaybackFinished | DigitsEntered | HttpResponse | RecordingFinished | CallerHungUp


# -- context, state, step -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallerShortcut:
    """The service node a caller saved (``saved``) or used last, for this flow."""

    node: str
    saved: bool


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the shell knows about the call when the IVR starts (it did the lookups).

    ``customer`` is the directory record (None if the number is unknown);
    ``service_requests`` counts recent requests per service node (quick menu);
    ``calendars`` are the calendars conditions may test.
    """

    interaction_id: str
    caller_number: str
    started_at: float
    did: str = ""
    caller_name: str = ""
    caller_class: CallerClass = CallerClass.NORMAL
    customer: Mapping[str, str] | None = None
    shortcut: CallerShortcut | None = None
    service_requests: Mapping[str, int] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    voicemail_dir: str = "/var/lib/cti/voicemail"
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IvrState:
    """Where a call is in its flow; opaque to the shell, which passes it back.

    ``attempts`` counts failed tries at the current input; ``collections`` numbers
    the digit collections (each gets its own result variable); ``offered`` is the
    shortcut offered on the anchor menu; ``path`` lists every node entered.
    """

    flow: str
    version: int
    context: CallContext
    phase: Phase
    node: str = ""
    stage: Stage = Stage.MAIN
    attempts: int = 0
    language: str = "en"
    variables: Mapping[str, str] = field(default_factory=dict)
    entered_at: float = 0.0
    collections: int = 0
    priority_boost: int = 0
    save_armed: bool = False
    quick_done: bool = False
    quick_entries: tuple[str, ...] = ()
    offered: str | None = None
    event_code: str = ""
    recording_path: str = ""
    recording_started: float = 0.0
    path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One thing that happened in the IVR, for ``interaction_events`` and statistics.

    ``kind`` is one of: node_entered, node_left (``exit``, ``seconds``), dtmf
    (``digits``), invalid_input / no_input (``attempt``), variable_set (``name``,
    ``value``), language, http_lookup (``url``), http_result (``ok``), event_code,
    voicemail, service (a request reached a queue, voicemail or transfer node),
    shortcut_offered / shortcut_used / shortcut_direct / shortcut_save_armed /
    shortcut_saved, quick_menu_offered / quick_menu_used, caller_rejected,
    caller_hangup.
    """

    at: float
    kind: str
    node: str
    data: Mapping[str, str | int | float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Step:
    """The shell's next move: carry out ``action``, record ``timeline``, keep ``state``."""

    state: IvrState
    action: Action
    timeline: tuple[TimelineEntry, ...]

    @property
    def done(self) -> bool:
        return self.state.phase is Phase.DONE
