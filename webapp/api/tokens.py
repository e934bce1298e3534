"""API tokens, managed by admins: list, create (the token text is in the answer, once),
read, revoke."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cti.tokens import DEFAULT_RATE_PER_MINUTE, SCOPES, ApiToken
from webapp.api.auth import token_store
from webapp.api.operations import ApiRequest, Reply, api_operation, path_param
from webapp.api.paging import PAGING, page_of
from webapp.api.schemas import ID, closed, page, ref
from webapp.api.validation import parse_time

TOKEN_ID = path_param("token_id", ID)

NEW_TOKEN = closed(
    {
        "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"},
        "scopes": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": list(SCOPES)}},
        "allowed_cidrs": {"type": "array", "maxItems": 100, "items": {"type": "string", "maxLength": 64}},
        "expires_at": {"type": "string", "format": "date-time"},
        "rate_per_minute": {"type": "integer", "minimum": 1, "maximum": 100000,
                            "default": DEFAULT_RATE_PER_MINUTE},
    },
    ("name", "scopes"),
)


def _render(token: ApiToken) -> dict[str, Any]:
    return token.to_dict(datetime.now(UTC))


@api_operation("GET", "/tokens", summary="List API tokens", tag="tokens", scope="admin", params=PAGING,
               responses={200: ("Tokens (never their text)", page(ref("Token")))})
def list_tokens(req: ApiRequest) -> Reply:
    return page_of(req, token_store().all(), _render)


@api_operation("POST", "/tokens", summary="Create an API token", tag="tokens", scope="admin", body=NEW_TOKEN,
               responses={201: ("The token; `token` is shown this once only", ref("NewToken"))})
def create_token(req: ApiRequest) -> Reply:
    """The answer's ``token`` is the only time the token text is ever shown; store it
    in the integration's secret store."""
    body = req.body
    expires = parse_time(body["expires_at"], "expires_at") if "expires_at" in body else None
    token, text = token_store().create(
        body["name"], body["scopes"], allowed_cidrs=body.get("allowed_cidrs", ()), expires_at=expires,
        rate_per_minute=body.get("rate_per_minute", DEFAULT_RATE_PER_MINUTE),
    )
    return {**_render(token), "token": text}, 201


@api_operation("GET", "/tokens/{token_id}", summary="One API token", tag="tokens", scope="admin",
               params=(TOKEN_ID,), responses={200: ("The token", ref("Token"))})
def get_token(req: ApiRequest) -> Reply:
    return _render(token_store().get(req.path["token_id"]))


@api_operation("DELETE", "/tokens/{token_id}", summary="Revoke an API token", tag="tokens", scope="admin",
               params=(TOKEN_ID,), responses={200: ("The revoked token (refused from now on)", ref("Token"))})
def revoke_token(req: ApiRequest) -> Reply:
    return _render(token_store().revoke(req.path["token_id"]))
