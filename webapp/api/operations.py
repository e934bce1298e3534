"""How an API endpoint is declared: one decorator registers the Flask route AND its
OpenAPI operation, and wraps the view in the same steps for every request:

1. authenticate the bearer token, check its IP allow-list, scope and rate limit
   (:mod:`webapp.api.auth`);
2. coerce and validate path and query parameters and the JSON body against the
   declared schemas (:mod:`webapp.api.validation`);
3. call the view with an :class:`ApiRequest`;
4. for writes (POST, PUT, PATCH, DELETE), record the attempt in ``audit_log`` with the
   token as actor, whatever the outcome.

Paths are written the OpenAPI way (``/api/v1/agents/{agent_id}``) and turned into
Flask rules here, so the document and the URL map are built from the same list
(:data:`OPERATIONS`); a test checks they match route for route.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, current_app, g, request

from cti.tokens import ApiToken
from webapp.api import auth
from webapp.api.errors import ApiError, respond, translate
from webapp.api.validation import parse_body, parse_params

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__)

PREFIX = "/api/v1"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Param:
    name: str
    location: str          # path | query
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


def path_param(name: str, schema: dict[str, Any], description: str = "") -> Param:
    return Param(name, "path", schema, description, required=True)


def query_param(name: str, schema: dict[str, Any], description: str = "", *, required: bool = False) -> Param:
    return Param(name, "query", schema, description, required)


@dataclass(frozen=True)
class Operation:
    """One endpoint as the OpenAPI document describes it."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    scope: str | None
    params: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None
    responses: Mapping[int, tuple[str, dict[str, Any] | None]] = field(default_factory=dict)
    description: str = ""
    media_type: str = "application/json"     # of the success responses
    conflicts: bool = False                   # may answer 409
    switch: bool = False                      # drives the switch: may answer 502
    body_optional: bool = False               # an empty body means {}

    @property
    def scopes(self) -> tuple[str, ...]:
        """Every scope the token needs (``read+media``: both)."""
        return tuple(self.scope.split("+")) if self.scope else ()

    @property
    def flask_rule(self) -> str:
        return re.sub(r"\{(\w+)\}", r"<\1>", self.path)


#: Every operation of the API, in declaration order.
OPERATIONS: list[Operation] = []


@dataclass(frozen=True)
class ApiRequest:
    """What a view gets: validated parameters and body, the token, the site's services."""

    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    token: ApiToken | None
    services: Any

    def next_link(self, **changes: Any) -> str:
        """This request's URL with some query parameters changed (pagination)."""
        params = {**{k: request.args[k] for k in request.args}, **{k: str(v) for k, v in changes.items()}}
        return f"{request.path}?{urlencode(params)}"

    @property
    def actor(self) -> str:
        return f"token:{self.token.name}" if self.token is not None else "anonymous"


Reply = Response | Mapping[str, Any] | list[Any] | tuple[Any, int]


def json_response(data: Any, status: int = 200) -> Response:
    """JSON with datetimes and UUIDs rendered the standard way (orjson)."""
    body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, status=status, mimetype="application/json")


def api_operation(
    method: str, path: str, *, summary: str, tag: str, scope: str | None,
    params: Sequence[Param] = (), body: dict[str, Any] | None = None,
    responses: Mapping[int, tuple[str, dict[str, Any] | None]], description: str = "",
    media_type: str = "application/json", conflicts: bool = False, switch: bool = False,
    body_optional: bool = False,
) -> Callable[[Callable[[ApiRequest], Reply]], Callable[..., Response]]:
    """Declare an endpoint (see the module docstring). ``scope=None``: no token needed;
    ``read+media``: the token needs both."""

    def decorator(view: Callable[[ApiRequest], Reply]) -> Callable[..., Response]:
        op = Operation(method, PREFIX + path, view.__name__, summary, tag, scope, tuple(params), body,
                       dict(responses), description or (view.__doc__ or "").strip(), media_type, conflicts,
                       switch, body_optional)
        if any(o.operation_id == op.operation_id for o in OPERATIONS):
            raise ValueError(f"two API views named {op.operation_id}")
        OPERATIONS.append(op)

        @functools.wraps(view)
        def wrapped(**raw_path: str) -> Response:
            return _handle(op, view, raw_path)

        bp.add_url_rule(op.flask_rule, endpoint=op.operation_id, view_func=wrapped, methods=[method])
        return wrapped

    return decorator


def _handle(op: Operation, view: Callable[[ApiRequest], Reply], raw_path: Mapping[str, str]) -> Response:
    services = current_app.extensions["cti"]
    token: ApiToken | None = None
    response: Response
    try:
        if op.scope is not None:
            token = auth.authenticate(services, op.scopes)
        path = parse_params(list(op.params), raw_path, "path")
        query = parse_params(list(op.params), request.args.to_dict(), "query")
        body = _body(op)
        response = _as_response(view(ApiRequest(path, query, body, token, services)))
    except ApiError as exc:
        response = respond(exc)
    except Exception as exc:
        mapped = translate(exc)
        if mapped is None:
            raise
        response = respond(mapped)
    if token is None:
        token = g.get("api_token")
    if op.method in WRITE_METHODS and token is not None:
        _audit(services, op, token, raw_path, response.status_code)
    return response


def _body(op: Operation) -> Any:
    if op.body is None:
        return None
    raw = request.get_data(cache=True)
    if op.body_optional and not raw.strip():
        return {}
    return parse_body(raw, op.body)


def _as_response(reply: Reply) -> Response:
    if isinstance(reply, Response):
        return reply
    if isinstance(reply, tuple):
        data, status = reply
        return Response(status=204) if status == 204 else json_response(data, status)
    return json_response(reply)


def _audit(services: Any, op: Operation, token: ApiToken, raw_path: Mapping[str, str], status: int) -> None:
    """One ``audit_log`` row per write attempt (never the body: it may hold secrets)."""
    target = next(iter(raw_path.values()), "")
    result = "ok" if status < 400 else f"refused {status}"
    details = {"method": op.method, "path": request.path, "status": status, "ip": request.remote_addr or ""}
    try:
        services.db.execute(
            """INSERT INTO audit_log (actor_type, actor_id, actor_name, action, target_type, target_id, details, result)
               VALUES ('token', %s, %s, %s, %s, %s, %s, %s)""",
            (token.id, token.name, f"api.{op.operation_id}", op.tag, str(target)[:200],
             orjson.dumps(details).decode(), result),
        )
    except Exception:
        log.exception("audit row not written", extra={"action": op.operation_id, "token": token.id})
