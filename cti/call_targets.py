"""Where a call can go: parsing transfer targets and phone numbers an agent typed.

Pure (``phonenumbers`` only). Numbers are dialled in E.164 through the carrier gateway,
so anything else is refused here with a message that shows how to write it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cti.call_errors import BadRequest
from cti.customers import normalize_number

_UNSAFE = re.compile(r"[\x00-\x1f\x7f{}\[\]<>^'\"\\`$]")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a transfer or consultation goes: ``agent`` (id), ``queue`` (name), ``number`` (E.164)."""

    kind: str
    value: str


def parse_target(text: str, region: str | None = None) -> Target:
    """``agent:7``, ``queue:sales``, ``number:+86...`` or a bare number."""
    raw = (text or "").strip()
    kind, sep, value = raw.partition(":")
    if not sep:
        kind, value = "number", raw
    value = value.strip()
    if kind == "agent" and value.isdigit():
        return Target("agent", value)
    if kind == "queue" and re.fullmatch(r"[a-z0-9_-]{1,64}", value):
        return Target("queue", value)
    if kind == "number":
        return Target("number", check_dial_number(value, region))
    raise BadRequest(f"transfer target {raw!r} not understood; use agent:<id>, queue:<name> or a phone number",
                     error_id="bad-target", field="target")


def check_dial_number(text: str, region: str | None = None) -> str:
    """The number in E.164, or BadRequest saying how to write it."""
    number = normalize_number(re.sub(r"[\s().-]", "", text or ""), region)
    if not re.fullmatch(r"\+[1-9][0-9]{6,14}", number):
        example = "+8613800138000"
        hint = "with its country code" if region is None else f"with its country code or as a {region} number"
        raise BadRequest(f"{text!r} is not a phone number we can dial; write it {hint}, e.g. {example}",
                         error_id="bad-number", field="number")
    return number


def safe_label(text: str, limit: int = 40) -> str:
    """Text safe for a caller-id name (the switch would expand or split anything else)."""
    return _UNSAFE.sub("", text or "").strip()[:limit]


__all__ = ["Target", "check_dial_number", "parse_target", "safe_label"]
