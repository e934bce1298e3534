"""The OpenAPI 3.1 document of the REST API, served at ``/api/v1/openapi.json``.

Built from :data:`webapp.api.operations.OPERATIONS` (every endpoint declares its
parameters, body and responses once, next to its view) and
:data:`webapp.api.schemas.COMPONENTS`, the same schemas the request validation
compiles. Error responses are added from what each operation can do: every
authenticated operation may answer 401, 403, 429; one with a body 400, 413, 422; one
with query parameters 422; one that changes live state 409.
"""

from __future__ import annotations

from typing import Any

from cti.bus import EVENT_TYPES
from cti.tokens import SCOPES
from webapp.api.operations import OPERATIONS, ApiRequest, Operation, Reply, api_operation
from webapp.api.schemas import COMPONENTS, ref

TITLE = "Call center CTI middleware API"
VERSION = "1.0.0"

DESCRIPTION = """\
JSON over HTTPS. Authenticate with `Authorization: Bearer <token>`; an admin creates
tokens (shown once) with scopes: """ + ", ".join(f"`{s}`" for s in SCOPES) + """ (`admin` implies all).
Each operation names the scope it needs in `x-required-scope`.

Errors always have the body `{"error": {"code", "message", "field"}}`. Lists are
paginated with `limit` and `offset`; the `next` member is the URL of the next page
(null on the last). Every write is recorded in the audit log with the token as actor.

Webhooks: subscriptions receive domain events as POSTed JSON (the same shape as
`GET /api/v1/events` lists), signed with `X-CTI-Signature: sha256=<HMAC-SHA256 of
"<X-CTI-Timestamp>.<body>">`, at least once and in order per interaction:
deduplicate by the event `id`.
"""

_ERRORS: dict[int, str] = {
    400: "The body is not JSON",
    401: "No token, or an unknown, expired or revoked one",
    403: "The token lacks the scope, or is used from an address outside its allow-list",
    404: "What the request names does not exist",
    409: "Conflicts with the current state (an agent on a call, a call not on hold ...)",
    413: "The body is too large",
    422: "A parameter or body field is wrong; `field` names it",
    429: "Rate limited; retry after `Retry-After` seconds",
    502: "The switch refused the command; the message says why",
    503: "The database or the switch is not reachable right now",
}


def _error_codes(op: Operation) -> list[int]:
    codes = {404, 503}
    if op.scope is not None:
        codes |= {401, 403, 429}
    if op.body is not None:
        codes |= {400, 413, 422}
    if any(p.location == "query" for p in op.params):
        codes.add(422)
    if op.conflicts:
        codes.add(409)
    if op.switch:
        codes |= {409, 422, 502}
    return sorted(codes)


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": op.operation_id, "summary": op.summary, "tags": [op.tag],
        "parameters": [
            {"name": p.name, "in": p.location, "required": p.required, "schema": p.schema,
             **({"description": p.description} if p.description else {})}
            for p in op.params
        ],
        "responses": {},
    }
    if op.description:
        out["description"] = op.description
    if op.scope is None:
        out["security"] = []
    else:
        out["x-required-scope"] = op.scope
        out["description"] = (out.get("description", "") + f"\n\nRequires the token scope(s): {', '.join(op.scopes)}.").strip()
    if op.body is not None:
        out["requestBody"] = {"required": not op.body_optional,
                              "content": {"application/json": {"schema": op.body}}}
    for status, (description, schema) in sorted(op.responses.items()):
        entry: dict[str, Any] = {"description": description}
        if schema is not None:
            entry["content"] = {op.media_type: {"schema": schema}}
        out["responses"][str(status)] = entry
    for status in _error_codes(op):
        entry = {"description": _ERRORS[status], "content": {"application/json": {"schema": ref("Error")}}}
        if status == 429:
            entry["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}}
        out["responses"].setdefault(str(status), entry)
    return out


def document() -> dict[str, Any]:
    """The whole OpenAPI document (built on every call: it is small and cheap)."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
        "tags": sorted(({"name": t} for t in {op.tag for op in OPERATIONS}), key=lambda t: t["name"]),
    }


@api_operation("GET", "/openapi.json", summary="This document", tag="meta", scope=None,
               responses={200: ("The OpenAPI 3.1 document", {"type": "object", "required": ["openapi", "paths"]})})
def openapi_document(req: ApiRequest) -> Reply:
    """Public, so tools can load it before they hold a token."""
    return document()


@api_operation("GET", "/events", summary="Domain event types", tag="meta", scope="read",
               responses={200: ("Every event type webhooks can deliver", {"type": "array", "items": ref("EventType")})})
def event_types(req: ApiRequest) -> Reply:
    """What a webhook subscription's ``events`` patterns can match."""
    return [{"type": name, "description": text} for name, text in EVENT_TYPES.items()]
