"""Every error the REST API answers with, and the one place that maps exceptions to them.

Body (always)::

    {"error": {"code": "<stable kebab-case id>", "message": "<what to change>", "field": "<name or null>"}}

Status codes::

    400 bad-json, bad-request        the body is not JSON / not what the endpoint reads at all
    401 missing-token, invalid-token, token-expired, token-revoked
    403 insufficient-scope, address-not-allowed
    404 not-found and <thing>-not-found
    409 conflicts with the live state (agent on a call, call not on hold, campaign state ...)
    413 payload-too-large
    422 validation-failed (``field`` names it) and domain refusals of a value
    429 rate-limited (with ``Retry-After`` seconds)
    503 unavailable (database or switch not reachable right now; retry)

Domain exceptions of the other packages (customers, outbound, reports, tokens,
webhooks, the live state) are translated in :func:`register`, so resource modules just
let them raise.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Blueprint, jsonify, request

from cti.agent_states import IllegalAgentTransition
from cti.agents import AgentRequestError
from cti.call_errors import CallControlError
from cti.call_states import IllegalTransition
from cti.customers import CustomerError
from cti.db import DatabaseUnavailable
from cti.tokens import TokenError
from cti.tracker import UnknownAgent, UnknownInteraction
from cti.webhook_store import WebhookError
from outbound.errors import CampaignSettingsError, OutboundError
from outbound.errors import IllegalTransition as CampaignIllegal
from reports.errors import ReportError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An API refusal with its status, stable code, message and optional field."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


def error_body(code: str, message: str, field: str | None = None) -> dict[str, dict[str, str | None]]:
    return {"error": {"code": code, "message": message, "field": field}}


def respond(exc: ApiError):
    response = jsonify(error_body(exc.code, exc.message, exc.field))
    response.status_code = exc.status
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def not_found(what: str) -> ApiError:
    return ApiError(404, "not-found", f"{what} does not exist")


def translate(exc: Exception) -> ApiError | None:
    """The API error for a domain exception raised by the packages the API drives."""
    if isinstance(exc, CallControlError):
        status = 422 if exc.status == 400 else exc.status
        return ApiError(status, exc.error_id, exc.message, field=exc.field)
    if isinstance(exc, CustomerError):
        status = 422 if exc.status == 400 else exc.status
        return ApiError(status, exc.error_id, str(exc))
    if isinstance(exc, TokenError | WebhookError):
        return ApiError(exc.status, exc.error_id, str(exc), field=exc.field)
    if isinstance(exc, CampaignSettingsError):
        return ApiError(422, exc.error_id, exc.message, field=f"settings.{exc.field}")
    if isinstance(exc, CampaignIllegal):
        return ApiError(409, "campaign-state-conflict", f"the campaign is {exc.state}; it cannot {exc.event}")
    if isinstance(exc, OutboundError):
        status = 422 if exc.status == 400 else exc.status
        return ApiError(status, exc.error_id, exc.message)
    if isinstance(exc, ReportError):
        return ApiError(422, "invalid-report-request", str(exc))
    if isinstance(exc, IllegalAgentTransition | IllegalTransition):
        return ApiError(409, "state-conflict", str(exc))
    if isinstance(exc, AgentRequestError):
        return ApiError(exc.status, exc.error_id, str(exc), field=exc.field)
    if isinstance(exc, UnknownAgent | UnknownInteraction):
        return ApiError(404, "not-found", str(exc))
    if isinstance(exc, DatabaseUnavailable):
        return ApiError(503, "unavailable", "the database is not reachable right now; retry in a moment",
                        headers={"Retry-After": "5"})
    return None


def register(bp: Blueprint) -> None:
    """Map :class:`ApiError` and the domain exceptions to JSON for the API blueprint."""

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return respond(exc)

    @bp.errorhandler(Exception)
    def _domain_error(exc: Exception):
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            code = (exc.name or "error").lower().replace(" ", "-")
            return respond(ApiError(exc.code or 500, code, exc.description or exc.name))
        mapped = translate(exc)
        if mapped is not None:
            return respond(mapped)
        log.exception("unhandled API error", extra={"path": request.path, "method": request.method})
        return respond(ApiError(500, "internal-error", "something went wrong on our side; it has been logged"))
