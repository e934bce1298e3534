"""A real Chromium on the wallboard: it goes live over Socket.IO and follows the floor
without polling -- a call that queues and an agent who changes state show within a
second -- and a supervisor listens, whispers from the keyboard, and leaves.

The site is tests/webapp/supervisor_site.py's (simulated switch + real services),
served by the production HTTP server (gevent pywsgi) in this process; Playwright drives
Debian's /usr/bin/chromium. The one-second figures are waits with a timeout (the
brief's "updates within a second"), not timing measurements.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.stack import Stack
from tests.webapp.browser.conftest import serving
from tests.webapp.supervisor_site import PHONES, call_into, ready, supervisor_stack, talking

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WITHIN_A_SECOND = 1000   # ms


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = supervisor_stack(database_url, tmp_path_factory.mktemp("wallboard"), speed=1.0)
    yield stack
    stack.close()


@pytest.fixture(scope="module")
def base_url(site: Stack) -> Iterator[str]:
    with serving(site.services) as (url, _):
        yield url


@pytest.fixture(scope="module")
def page(base_url: str, chromium: Any) -> Iterator[Any]:
    tab = chromium.new_page(viewport={"width": 1400, "height": 900})
    tab.goto(f"{base_url}/login?next=/supervisor/")
    tab.fill("input[name=username]", "lead_red")
    tab.fill("input[name=password]", "red-pw-123")
    tab.press("input[name=password]", "Enter")
    tab.wait_for_url(f"{base_url}/supervisor/")
    tab.wait_for_selector('#wb-status[data-live="true"]', timeout=10_000)
    yield tab
    tab.close()


def test_a_queued_call_and_an_agent_state_change_show_within_a_second(page: Any, site: Stack) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".wb-tile[data-queue=sup_wait] .wb-waiting")).to_have_text("0")
    _, iid = call_into(site, "sup_wait", "+15550401")          # returns once the call is queued
    expect(page.locator(f'#wb-calls tr[data-call="{iid}"]')).to_be_visible(timeout=WITHIN_A_SECOND)
    expect(page.locator(".wb-tile[data-queue=sup_wait] .wb-waiting")).to_have_text("1", timeout=WITHIN_A_SECOND)
    row = page.locator(f'#wb-calls tr[data-call="{iid}"]')
    expect(row.locator("td").first).to_have_text("+15550401")   # the switch's name is the number: once
    expect(row.locator('button[data-action="listen"]')).to_be_disabled()     # nobody to listen to yet
    expect(row.locator('button[data-action="intercept"]')).to_be_enabled()

    agent = site.agent_id("1003")
    ready(site, "1003")
    expect(page.locator(f'#wb-agents tr[data-agent="{agent}"]')).to_have_attribute(
        "data-state", "available", timeout=WITHIN_A_SECOND)
    site.core.command(site.core.state.agent_set_state, agent, "not_ready", "break", now=time.time())
    expect(page.locator(f'#wb-agents tr[data-agent="{agent}"]')).to_have_attribute(
        "data-state", "not_ready", timeout=WITHIN_A_SECOND)
    expect(page.locator(f'#wb-agents tr[data-agent="{agent}"]')).to_contain_text("(Break)")   # the label, not the code

    site.switch.hangup(site.core.state.interaction(iid).customer_leg)
    expect(page.locator(f'#wb-calls tr[data-call="{iid}"]')).to_have_count(0, timeout=WITHIN_A_SECOND)
    expect(page.locator(".wb-tile[data-queue=sup_wait] .wb-waiting")).to_have_text("0", timeout=WITHIN_A_SECOND)


def test_listen_then_whisper_from_the_keyboard_then_leave(page: Any, site: Stack) -> None:
    from playwright.sync_api import expect

    page.fill("#wb-extension input[name=extension]", PHONES["lead_red"])
    page.press("#wb-extension input[name=extension]", "Enter")
    expect(page.locator("#notice")).to_have_text("Saved.")
    _, iid = talking(site, "1001", "+15550402")
    row = page.locator(f'#wb-calls tr[data-call="{iid}"]')
    expect(row).to_have_attribute("data-state", "connected")
    row.locator('button[data-action="listen"]').click()
    session = page.locator(".wb-my-session")
    expect(session).to_have_attribute("data-state", "active", timeout=10_000)
    expect(session).to_have_attribute("data-mode", "listen")
    page.locator("body").press("2")                     # the phone's whisper key, on the keyboard
    expect(session).to_have_attribute("data-mode", "whisper")
    leg = session.get_attribute("data-leg")
    site.wait_for(lambda: any(c["uuid"] == leg and c["eavesdrop_mode"] == "whisper" for c in site.switch.channels()),
                  what="the switch whispering")
    expect(row).to_contain_text("whispering to the agent")
    session.locator("button[data-leave]").click()
    expect(page.locator(".wb-my-session")).to_have_count(0, timeout=10_000)
    site.wait_event("call.supervisor_left", interaction_id=iid, leg_uuid=leg)
    site.switch.hangup(site.core.state.interaction(iid).customer_leg)


def test_the_wall_display(page: Any, base_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base_url}/supervisor/wall")
    expect(page.locator('#wb-status[data-live="true"]')).to_be_visible(timeout=10_000)
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator(".wb-tile")).to_have_count(3)
    assert page.locator("#wb-calls button").count() == 0      # a wall shows, it does not act


def test_an_alert_when_a_caller_waits_longer_than_the_limit(page: Any, site: Stack, base_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base_url}/supervisor/")
    expect(page.locator('#wb-status[data-live="true"]')).to_be_visible(timeout=10_000)
    page.locator("details.card summary").click()
    page.fill("#wb-alert-settings input[name=max_wait_s]", "1")
    page.press("#wb-alert-settings input[name=max_wait_s]", "Enter")
    expect(page.locator("#wb-alerts")).to_be_empty()
    _, iid = call_into(site, "sup_wait", "+15550403")
    expect(page.locator("#wb-alerts")).to_contain_text("a caller has waited longer than the limit", timeout=5_000)
    expect(page.locator(".wb-tile[data-queue=sup_wait]")).to_have_class(re.compile("wb-breach"))
    site.switch.hangup(site.core.state.interaction(iid).customer_leg)
    expect(page.locator("#wb-alerts")).to_be_empty(timeout=5_000)
    page.evaluate("localStorage.clear()")


def test_in_chinese_reasons_and_refusals_are_labelled(page: Any, site: Stack, base_url: str) -> None:
    """The titles of disabled buttons were the server's English sentence in Chinese."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/supervisor/")
    page.click("#switch-language")
    expect(page.locator('#wb-status[data-live="true"]')).to_be_visible(timeout=10_000)
    try:
        _, iid = call_into(site, "sup_wait", "+15550404")
        listen = page.locator(f'#wb-calls tr[data-call="{iid}"] button[data-action="listen"]')
        expect(listen).to_be_disabled(timeout=WITHIN_A_SECOND)
        expect(listen).to_have_attribute("title", "排队：监听、密语和强插需要坐席正在通话中")
        site.switch.hangup(site.core.state.interaction(iid).customer_leg)
    finally:
        page.click("#switch-language")
        expect(page.locator("html")).to_have_attribute("lang", "en")
