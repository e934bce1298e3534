"""What every browser test shares: Debian's Chromium launched headless with the flags
the project uses everywhere, and the web app served over real HTTP the way
``cti serve`` serves it.

A module gives a ``stack`` (or overrides ``base_url`` to serve its own services) and
gets ``base_url`` and ``chromium`` from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from cti.runtime import make_http_server
from webapp import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def serving(services: Any) -> Iterator[tuple[str, Any]]:
    """The web app over ``services`` on a free local port: (base URL, Flask app)."""
    app, _ = create_app(services)
    server = make_http_server(app, "127.0.0.1", 0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.stop()


@pytest.fixture(scope="module")
def base_url(stack: Any) -> Iterator[str]:
    with serving(stack.services) as (url, _):
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
