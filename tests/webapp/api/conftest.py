"""Fixtures of the API tests: the web app over this module's services, tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cti.tokens import TokenStore


@pytest.fixture(scope="module")
def app(services):
    from webapp import create_app

    flask_app, _ = create_app(services, {"TESTING": True})
    return flask_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def make_token(services) -> Callable[..., str]:
    """``make_token(*scopes, **options)`` -> the text of a new token."""
    store = TokenStore(services.db)

    def make(*scopes: str, name: str = "test", **options) -> str:
        return store.create(name, list(scopes) or ["admin"], **options)[1]

    return make


@pytest.fixture(scope="module")
def admin_headers(make_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token('admin', name='admin', rate_per_minute=100000)}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
