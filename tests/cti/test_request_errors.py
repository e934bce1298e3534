"""The errors a caller can fix all carry status, error_id, message and field alike."""

from __future__ import annotations

import pytest

from cti.call_errors import ActionRefused, BadRequest, CallControlError, SwitchDown
from cti.request_errors import RequestError
from cti.tokens import TokenError
from cti.webhook_store import WebhookError


@pytest.mark.parametrize(("error", "status", "error_id"), [
    (RequestError, 400, "bad-request"),
    (CallControlError, 400, "call-control"),
    (ActionRefused, 409, "refused"),
    (BadRequest, 400, "bad-request"),
    (SwitchDown, 503, "switch-unavailable"),
    (TokenError, 422, "invalid-token-request"),
    (WebhookError, 422, "invalid-webhook"),
])
def test_each_kind_has_its_defaults(error: type[RequestError], status: int, error_id: str) -> None:
    raised = error("change this")
    assert isinstance(raised, RequestError)
    assert (raised.status, raised.error_id, raised.message, raised.field, str(raised)) == \
        (status, error_id, "change this", None, "change this")


@pytest.mark.parametrize("error", [RequestError, CallControlError, TokenError, WebhookError])
def test_one_raise_may_say_more(error: type[RequestError]) -> None:
    raised = error("no such thing", error_id="thing-not-found", status=404, field="id")
    assert (raised.status, raised.error_id, raised.field) == (404, "thing-not-found", "id")
    assert (error.status, error.error_id) != (404, "thing-not-found"), "the class defaults stay as they were"


def test_token_and_webhook_errors_stay_value_errors() -> None:
    assert issubclass(TokenError, ValueError) and issubclass(WebhookError, ValueError)
