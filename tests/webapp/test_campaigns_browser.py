"""A real Chromium drives the campaign pages: create a campaign with the form, upload a
list (its bad row reported with its row number), start it, see it live.

Served by gevent's WSGI server in this process; Playwright drives Debian's
/usr/bin/chromium (it never downloads one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gevent.pywsgi import WSGIServer

from cti.users import upsert_user
from webapp import create_app

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "Campaign-Browser-1"


@pytest.fixture(scope="module")
def base_url(services: Any) -> Iterator[str]:
    with services.db.transaction() as cur:
        upsert_user(cur, "browser-manager", roles=("campaign_manager",), password=PASSWORD)
        cur.execute("INSERT INTO queues (name) VALUES ('browser-queue')")
    services.start()
    app, _ = create_app(services)
    server = WSGIServer(("127.0.0.1", 0), app, log=None)
    server.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.stop()


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1366, "height": 900})
        tab.errors = []
        tab.on("pageerror", lambda error: tab.errors.append(str(error)))
        tab.goto(f"{base_url}/login")
        tab.fill("input[name=username]", "browser-manager")
        tab.fill("input[name=password]", PASSWORD)
        tab.click("main button.primary")
        tab.wait_for_url(f"{base_url}/")
        yield tab
        browser.close()


def test_create_upload_and_start_a_campaign(page: Any, base_url: str, tmp_path: Path) -> None:
    page.goto(f"{base_url}/campaigns/new")
    page.fill("input[name=name]", "browser-spring")
    page.fill("input[name=display_name]", "Spring offers")
    page.select_option("select[name=mode]", "progressive")
    page.select_option("select[name=queue_name]", "browser-queue")
    page.fill("input[name=caller_id_number]", "12345")
    page.fill("input[data-setting='ring_seconds']", "5")
    page.click("#cmp-form button[type=submit]")
    page.wait_for_selector("#cmp-form-error:has-text('ring_seconds')")
    assert page.get_attribute("input[data-setting='ring_seconds']", "aria-invalid") == "true"
    page.fill("input[data-setting='ring_seconds']", "20")
    page.click("#cmp-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    assert page.inner_text("#cmp-title") == "Spring offers"
    page.wait_for_selector("#cmp-live[data-live='true']")

    contacts = tmp_path / "spring.csv"
    contacts.write_text("Mobile,Customer,Tier\n+44 7911 123456,Ann,gold\nnot a number,Bob,\n", encoding="utf-8")
    page.set_input_files("#cmp-upload input[name=file]", str(contacts))
    page.fill("#cmp-upload input[name=region]", "GB")
    page.click("#cmp-upload button[type=submit]")
    page.wait_for_selector("#cmp-mapping:not([hidden])")
    assert page.input_value("[data-map='phone']") == "Mobile"
    page.click("#cmp-mapping button[type=submit]")
    page.wait_for_selector("#cmp-issues-link:not([hidden])")
    assert page.inner_text("#cmp-issues tbody td >> nth=0") == "3"
    assert "1 imported" in page.inner_text("#cmp-progress-text")
    page.wait_for_selector("#cmp-lists tbody tr")
    assert page.inner_text("#cmp-lists tbody tr td >> nth=1") == "1"
    page.wait_for_selector("#cmp-compliance tbody tr")
    periods = set(page.locator("#cmp-compliance tbody tr td:first-child").all_inner_texts())
    assert periods == {"Day", "Last 30 days"}, "compliance periods by their labels, not rolling_30_days"

    page.click("#cmp-actions [data-action=start]")
    page.wait_for_selector("#cmp-state:has-text('Running')")
    page.wait_for_selector("#cmp-stats [data-stat='contacts_left']:has-text('1')")
    assert page.is_visible("#cmp-actions [data-action=pause]") and not page.is_visible(
        "#cmp-actions [data-action=start]")
    assert page.errors == []
