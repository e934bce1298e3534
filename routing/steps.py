"""What routing asks the shell to do: FreeSWITCH applications and routing actions.

An :class:`Execute` is one dialplan application run on the caller's leg (over ESL
``sendmsg ... execute``); its ``args`` string is exactly what FreeSWITCH parses. The
argument orders come from mod_dptools (FreeSWITCH 1.10/1.11 source):

- ``playback <file>``; several files are joined as ``file_string://a.wav!b.wav``.
- ``play_and_get_digits <min> <max> <tries> <timeout> <terminators> <file>
  <invalid_file> <var_name> <regexp> <digit_timeout>``; arguments are split on spaces
  (single quotes group, a backslash escapes), so no argument may contain a space and
  the regexp is written without backslashes.
- ``say <module_name>[:<lang>] <say_type> <say_method> [<gender>] <text>``.
- ``record <path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]``.

We always run ``play_and_get_digits`` with one try and a permissive regexp: retries,
invalid-input and timeout prompts are decided by :mod:`routing.ivr`, which therefore
sees (and records on the timeline) every digit the caller pressed. Each collection
uses its own result variable so a value left over from an earlier step can never be
mistaken for new input.

The other classes are routing actions that end or suspend the IVR: the shell enqueues,
transfers, stores a voicemail, hangs up, or performs an HTTP lookup and resumes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: Characters a prompt file name may not contain: they would split or quote the
#: application arguments, or (``!``) split a ``file_string://`` list.
_FORBIDDEN_IN_PROMPT = frozenset(" \t\r\n'\"\\!")

#: Played as the "invalid input" file, which never plays with our permissive regexp
#: but must be a real argument so the positional arguments after it stay in place.
_NO_INVALID_FILE = "silence_stream://250"

#: The digits a caller can press and we accept; ``#`` is kept as the terminator.
DIGIT_CLASS = "[0-9*]"

#: Prefix of the channel variable a digit collection stores its result in.
DIGITS_VARIABLE_PREFIX = "cti_ivr_digits_"


def prompt_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be used as a prompt file, or None if it can.

    Any non-empty file name works (relative to the sound prefix, absolute, a
    ``tone_stream://`` ...), including Chinese names; only characters that break
    FreeSWITCH's argument parsing are refused.
    """
    if not isinstance(name, str) or not name:
        return "must be a non-empty file name"
    bad = sorted({c for c in name if c in _FORBIDDEN_IN_PROMPT})
    if bad:
        return f"file name {name!r} contains {''.join(bad)!r}; rename the file without spaces, quotes, '!' or backslashes"
    return None


def prompt_string(files: Sequence[str]) -> str:
    """One playable string for one or more files (``file_string://`` joins several)."""
    if not files:
        raise ValueError("at least one prompt file is needed")
    if len(files) == 1:
        return files[0]
    return "file_string://" + "!".join(files)


@dataclass(frozen=True, slots=True)
class Execute:
    """Run dialplan application ``app`` with ``args`` on the caller's leg.

    ``result_variable`` names the channel variable holding the application's result
    (the digits of ``play_and_get_digits``), read by the shell from
    ``CHANNEL_EXECUTE_COMPLETE`` as ``variable_<name>``. ``secret``: the digits are a
    PIN or a card number; the shell keeps them off the record (masked DTMF).
    """

    app: str
    args: str
    result_variable: str = ""
    secret: bool = False


def playback(*files: str) -> Execute:
    return Execute("playback", prompt_string(files))


def play_and_get_digits(
    *,
    files: Sequence[str],
    min_digits: int,
    max_digits: int,
    timeout_ms: int,
    variable: str,
    digit_timeout_ms: int,
    secret: bool = False,
) -> Execute:
    """One collection attempt: play ``files``, read ``min..max`` digits, ``#`` ends.

    FreeSWITCH raises a timeout under 1000 ms to 1000 ms; so do we, to say what runs.
    """
    regexp = f"^{DIGIT_CLASS}+$"
    args = " ".join(
        (
            str(min_digits),
            str(max_digits),
            "1",
            str(max(timeout_ms, 1000)),
            "#",
            prompt_string(files),
            _NO_INVALID_FILE,
            variable,
            regexp,
            str(digit_timeout_ms),
        )
    )
    return Execute("play_and_get_digits", args, result_variable=variable, secret=secret)


def own_seconds(step: Execute) -> float:
    """The longest the application itself may wait for the caller, on top of playing
    its prompts (whose length only the switch knows): the digit timeouts of a
    collection, the time limit of a recording. The shell adds an allowance for the
    prompts to bound its wait for the application's end."""
    args = step.args.split()
    if step.app == "play_and_get_digits" and len(args) >= 10:
        max_digits, timeout_ms, digit_timeout_ms = int(args[1]), int(args[3]), int(args[9])
        return (timeout_ms + max_digits * digit_timeout_ms) / 1000
    if step.app == "record" and len(args) >= 2 and args[1].isdigit():
        return float(args[1])
    return 0.0


def say(language: str, say_type: str, method: str, text: str) -> Execute:
    """``say``: e.g. ``say("en", "NUMBER", "pronounced", "3")`` says "three"."""
    if " " in text or not text:
        raise ValueError(f"say text must be one non-empty word, got {text!r}")
    return Execute("say", f"{language} {say_type} {method} {text}")


def record(path: str, max_seconds: int) -> Execute:
    """Record the caller to ``path`` for at most ``max_seconds`` (3 s of silence ends it)."""
    if prompt_name_problem(path) is not None:
        raise ValueError(f"recording path {path!r} cannot be passed to FreeSWITCH")
    return Execute("record", f"{path} {max_seconds} 200 3")


@dataclass(frozen=True, slots=True)
class HttpLookup:
    """Perform an HTTP GET of ``url`` (timeout ``timeout_ms``) and resume the IVR with
    an :class:`routing.ivr.HttpResponse`; ``fields`` maps call variables to the keys
    of the JSON response object that fill them."""

    url: str
    timeout_ms: int
    fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Put the call in ``queue``. ``priority`` None means the queue's default;
    ``priority_boost`` is added to it (VIP callers); ``skills`` add to the queue's
    required skills; ``variables`` are the call variables collected in the IVR."""

    queue: str
    priority: int | None
    priority_boost: int
    skills: Mapping[str, int]
    language: str
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Transfer:
    """Send the call to a phone number (``kind="number"``) or another flow."""

    kind: str
    target: str


@dataclass(frozen=True, slots=True)
class LeaveVoicemail:
    """A voicemail was recorded to ``path``: store it in ``box`` and hang up."""

    box: str
    event_code: str
    path: str
    seconds: float


@dataclass(frozen=True, slots=True)
class HangupCall:
    """Hang the call up with FreeSWITCH cause ``cause`` (``NORMAL_CLEARING`` ...)."""

    cause: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallerGone:
    """The caller hung up during the IVR; nothing is left to do but record it."""

    node: str


#: Everything a step can ask for.
Action = Execute | HttpLookup | Enqueue | Transfer | LeaveVoicemail | HangupCall | CallerGone
