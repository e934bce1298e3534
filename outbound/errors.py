"""Every exception the outbound package raises, in one tree::

    OutboundError                       base; carries status, error_id, message, details
    ├── IllegalTransition               a state machine got an event its state does not accept (409)
    ├── CampaignSettingsError           a campaign's settings are invalid (400)
    ├── InvalidPhoneNumber              a number cannot be normalised to E.164 (400)
    ├── ImportFileError                 a contact file cannot be imported at all (400)
    ├── UnknownContactList              the contact list to import into does not exist (404)
    ├── UnknownCampaign                 no campaign has this id or name (404)
    └── CampaignNotReady                the campaign lacks what it needs to start (409)

Caller mistakes carry a message that says what to change; ``error_id`` is a stable
kebab-case code for the API error handler. Bad rows inside an import file are not
exceptions: they are reported row by row (see :mod:`outbound.import_rows`).
"""

from __future__ import annotations

from typing import Any


class OutboundError(Exception):
    """Base of the tree; maps to a JSON API error."""

    status = 400
    error_id = "outbound-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class IllegalTransition(OutboundError):
    """An event arrived in a state that does not accept it (a bug or a race)."""

    status = 409
    error_id = "illegal-transition"

    def __init__(self, machine: str, state: str, event: str) -> None:
        super().__init__(
            f"{machine}: event {event!r} is not allowed in state {state!r}",
            machine=machine,
            state=state,
            event=event,
        )
        self.machine = machine
        self.state = state
        self.event = event


class CampaignSettingsError(OutboundError):
    """A campaign setting is missing or out of range; ``field`` names it."""

    error_id = "invalid-campaign-settings"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.field = field


class InvalidPhoneNumber(OutboundError):
    """The text is not a dialable number; ``reason`` says why in words for the user."""

    error_id = "invalid-phone-number"

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"{raw!r}: {reason}", raw=raw, reason=reason)
        self.raw = raw
        self.reason = reason


class ImportFileError(OutboundError):
    """The whole file is unusable (unreadable, unknown format, mapped column missing)."""

    error_id = "import-file-unusable"


class UnknownContactList(OutboundError):
    """The list id names no contact list."""

    status = 404
    error_id = "unknown-contact-list"


class UnknownCampaign(OutboundError):
    """No campaign has this id or name."""

    status = 404
    error_id = "unknown-campaign"


class CampaignNotReady(OutboundError):
    """The campaign cannot start (or be scheduled) yet; the message says what to set."""

    status = 409
    error_id = "campaign-not-ready"
