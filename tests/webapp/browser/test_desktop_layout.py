"""What an agent sees on the desktop at 1366x768, in a real headless Chromium.

Found walking the demo: the page's flex and grid rules beat the ``hidden`` attribute,
so a logged-out agent saw the state bar and every call-control button beside the
phone login; the recent-calls table pushed the page sideways; an old refusal stayed
on screen after the next action worked; outcomes and dispositions showed as codes.

The site is the demo site on the simulated switch (tests/webapp/agent_calls.py), served
by gevent's WSGI server in this process; Playwright drives Debian's /usr/bin/chromium.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.webapp.agent_calls import CUSTOMERS, dial_and_connect, end, fast_stack
from tests.webapp.agent_web import password
from webapp import agent_views

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 20_000
#: The parts of the desktop a logged-out agent without a call must not see.
NOT_FOR_A_LOGGED_OUT_AGENT = ("#ag-statebar", "#ag-controls", "#ag-after-call", "#ag-wrapup", "#ag-pop", "#ag-preview")


@pytest.fixture(scope="module")
def stack(site_db_url, tmp_path_factory):
    yield from fast_stack(site_db_url, tmp_path_factory.mktemp("browser-layout"))


def open_desktop(chromium: Any, base_url: str, username: str, *, chinese: bool = False) -> Any:
    """The desktop of ``username`` at 1366x768; ``page.errors`` collects script errors."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password(username))
    page.click("main button.primary")
    page.wait_for_url(f"{base_url}/")
    if chinese != (page.get_attribute("html", "lang") == "zh-CN"):
        page.click("#switch-language")
        page.wait_for_load_state("load")
    page.goto(f"{base_url}/agent/")
    page.wait_for_selector("#ag-live[data-live=true]")
    return page


def test_a_logged_out_agent_sees_the_phone_login_only(stack, base_url, chromium) -> None:
    page = open_desktop(chromium, base_url, "agent1013")
    page.wait_for_selector("#ag-login", state="visible")
    for part in NOT_FOR_A_LOGGED_OUT_AGENT:
        assert page.is_hidden(part), f"{part} is shown to a logged-out agent"

    page.fill("#ag-dial-number", CUSTOMERS[30])
    page.click("#ag-dial button[type=submit]")
    page.wait_for_selector("#notice[data-kind=error]")
    assert "Log in with your phone" in page.inner_text("#notice")

    page.click("#ag-login button[type=submit]")
    page.wait_for_selector("#ag-statebar", state="visible")
    assert page.is_hidden("#ag-login") and page.is_hidden("#ag-controls")
    assert page.inner_text("#notice") == "", "the refusal is gone once the next action worked"
    page.click("#ag-logout")
    page.wait_for_selector("#ag-login", state="visible")
    assert page.errors == []
    page.context.close()


def test_recent_calls_fit_the_page_in_chinese(stack, base_url, chromium) -> None:
    agent_id, interaction_id = dial_and_connect(stack, "1014", CUSTOMERS[31])
    end(stack, interaction_id)
    stack.wait_for(lambda: agent_views.recent_calls(stack.db, agent_id), timeout=20, what="the call in the store")

    page = open_desktop(chromium, base_url, "agent1014", chinese=True)
    page.wait_for_selector("#ag-recent tbody tr")
    cells = page.locator("#ag-recent tbody tr").first.locator("td").all_inner_texts()
    assert cells[1] == CUSTOMERS[31] and cells[2] == "已接听", cells
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    fits = page.evaluate("""() => { const table = document.getElementById('ag-recent');
        const card = table.closest('.card'); const style = getComputedStyle(card);
        const inner = card.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return [table.scrollWidth, inner]; }""")
    assert fits[0] <= fits[1] + 1, f"the recent calls are wider than their card: {fits}"

    page.fill("#ag-dial-number", CUSTOMERS[32])   # still wrapping up: refused, in Chinese
    page.click("#ag-dial button[type=submit]")
    page.wait_for_selector("#notice[data-kind=error]")
    assert "当前无法拨打电话" in page.inner_text("#notice")
    assert page.errors == []
    page.context.close()
