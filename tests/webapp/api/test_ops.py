"""/healthz, /readyz and /metrics without a switch: probes, and who may scrape."""

from __future__ import annotations

import pytest

from tests.webapp.api.conftest import bearer


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"database": "ok"}


def test_metrics_need_a_metrics_token(client, make_token):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer(make_token("read"))).status_code == 403
    scraped = client.get("/metrics", headers=bearer(make_token("metrics")))
    assert scraped.status_code == 200
    assert scraped.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "cti_webhook_outbox_pending" in scraped.get_data(as_text=True)


@pytest.fixture
def allow_listed_app(services):
    from dataclasses import replace

    from webapp import create_app

    original = services.settings
    services.settings = replace(original, extra={**original.extra, "CTI_METRICS_ALLOW": "10.0.0.0/8, 192.0.2.1"})
    app, _ = create_app(services, {"TESTING": True})
    yield app
    services.settings = original


def test_metrics_from_an_allowed_address_need_no_token(allow_listed_app):
    client = allow_listed_app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 401
