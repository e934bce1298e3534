"""The errors of call control, one tree, each with an HTTP status and a stable id::

    CallControlError            a RequestError (cti.request_errors): status, error_id, message, field
    ├── ActionRefused   409     the call's live state does not allow it now
    ├── BadRequest      400     a malformed argument (number, digits, target)
    ├── NotFound        404     no such live call, or the agent is not logged in
    └── SwitchError     502     FreeSWITCH answered -ERR (its reason kept in ``reason``)
        └── SwitchDown  503     no connection to the switch

The web's one error handler turns any of them into ``{"error": {"code", "message",
"field"}}``; the message says what to change.
"""

from __future__ import annotations

from cti.request_errors import RequestError


class CallControlError(RequestError):
    status = 400
    error_id = "call-control"


class ActionRefused(CallControlError):
    status = 409
    error_id = "refused"


class BadRequest(CallControlError):
    status = 400
    error_id = "bad-request"


class NotFound(CallControlError):
    status = 404
    error_id = "not-found"


class SwitchError(CallControlError):
    status = 502
    error_id = "switch-refused"

    def __init__(self, message: str, *, reason: str = "", error_id: str | None = None) -> None:
        super().__init__(message, error_id=error_id)
        self.reason = reason


class SwitchDown(SwitchError):
    status = 503
    error_id = "switch-unavailable"


#: FreeSWITCH's -ERR texts and hangup causes, as a sentence an agent understands.
SWITCH_REASONS: dict[str, str] = {
    "NO_ANSWER": "nobody answered",
    "NO_USER_RESPONSE": "nobody answered",
    "ALLOTTED_TIMEOUT": "nobody answered in time",
    "USER_BUSY": "the line is busy",
    "CALL_REJECTED": "the call was rejected",
    "USER_NOT_REGISTERED": "that phone is not registered (not switched on or not signed in)",
    "SUBSCRIBER_ABSENT": "that phone is not registered",
    "UNALLOCATED_NUMBER": "the number does not exist",
    "INVALID_NUMBER_FORMAT": "the number is not in a valid format",
    "NO_ROUTE_DESTINATION": "there is no route to that number",
    "NORMAL_TEMPORARY_FAILURE": "the carrier could not place the call",
    "GATEWAY_DOWN": "the carrier trunk is down",
    "INVALID_GATEWAY": "the carrier trunk is not configured",
    "ORIGINATOR_CANCEL": "the call was cancelled",
    "DESTINATION_OUT_OF_ORDER": "the destination is out of order",
    "NO SUCH CHANNEL": "that leg of the call no longer exists",
    "INVALID UUID": "that leg of the call no longer exists",
    "OPERATION FAILED": "the switch could not do it in the call's current state",
}


def explain(reply: str) -> tuple[str, str]:
    """``-ERR NO_ANSWER`` -> ("NO_ANSWER", "nobody answered"); unknown texts are kept."""
    text = reply.strip()
    for prefix in ("-ERR", "-USAGE:", "-USAGE"):
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
            break
    reason = text.rstrip("!. ").strip()
    key = reason.upper()
    for known, sentence in SWITCH_REASONS.items():
        if key == known or key.startswith(known):
            return reason, sentence
    return reason, reason.lower() or "the switch refused"


__all__ = [
    "ActionRefused", "BadRequest", "CallControlError", "NotFound", "SWITCH_REASONS", "SwitchDown", "SwitchError",
    "explain",
]
