"""The base of the errors a caller can fix: a request (from the web, the API or the CLI)
that cannot be done as asked.

::

    RequestError                status, error_id (kebab-case), message, field
    ├── cti.call_errors.CallControlError    the call-control tree (refused, bad request ...)
    ├── cti.tokens.TokenError               API tokens (also a ValueError)
    └── cti.webhook_store.WebhookError      webhook subscriptions and deliveries (also a ValueError)

Every one carries what an error response needs, the same way: ``status`` (HTTP),
``error_id`` (a stable kebab-case code), ``message`` (what to change) and ``field``
(the input to change, or None). A subclass sets its defaults as class attributes; a
single raise may override ``error_id`` and ``status``.
"""

from __future__ import annotations


class RequestError(Exception):
    """A request that cannot be done as asked; the message says what to change."""

    status: int = 400
    error_id: str = "bad-request"

    def __init__(self, message: str, *, error_id: str | None = None, status: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if error_id is not None:
            self.error_id = error_id
        if status is not None:
            self.status = status


__all__ = ["RequestError"]
