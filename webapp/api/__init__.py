"""The REST API under ``/api/v1``: one module per resource, the OpenAPI document built
from their declarations (:mod:`webapp.api.openapi`), token authentication
(:mod:`webapp.api.auth`), validation (:mod:`webapp.api.validation`) and one error
mapping (:mod:`webapp.api.errors`).

The blueprint is exempt from CSRF because it never accepts the session cookie: only
bearer tokens, which a browser does not attach on its own (see :mod:`webapp.api.auth`).
"""

from __future__ import annotations

from flask.blueprints import BlueprintSetupState

from webapp.api import (  # noqa: F401 -- importing a resource module declares its endpoints
    agents,
    calls,
    campaigns,
    customers,
    media,
    openapi,
    queues,
    reports,
    tokens,
    webhooks,
)
from webapp.api.errors import register
from webapp.api.operations import bp

register(bp)


@bp.record_once
def _exempt_from_csrf(state: BlueprintSetupState) -> None:
    state.app.extensions["csrf"].exempt(bp)


__all__ = ["bp"]
