"""Every main page in a real Chromium, as the demo users: nothing the page asks for is
missing (the favicon included), the keyboard focus is always visible, and a page's
own form comes first -- its primary button is the first submit button of the page
and the default button of its form (pressing Enter in a field does what the page is
for, never "sign out", "switch language" or a shortcut such as a quick date range).

The site is the demo site on the simulated switch (tests/webapp/agent_calls.py),
served by the production HTTP server in this process; Playwright drives Debian's
/usr/bin/chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.webapp.agent_calls import fast_stack
from tests.webapp.agent_web import password

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABS = 30   # focus stops checked per page

PAGES = [
    ("agent1000", "/agent/"),
    ("agent1000", "/campaigns/preview"),
    ("super1", "/supervisor/"),
    ("super1", "/reports/"),
    ("manager", "/campaigns/"),
    ("manager", "/campaigns/new"),
    ("admin", "/reports/"),
    ("admin", "/reports/inbound_summary"),
    ("admin", "/admin/integrations"),
    ("admin", "/admin/audit"),
]

#: For each form with a submit button: its default button (the first submit button in
#: tree order, what Enter in a field presses) and whether that is a good default.
FORMS_JS = """() => [...document.forms].map((form) => {
  const submits = [...form.elements].filter((e) => e.matches('button:not([type]), button[type=submit], input[type=submit]'));
  const first = submits[0];
  return {
    id: form.id || form.getAttribute('action') || '(form)', count: submits.length,
    untyped: [...form.querySelectorAll('button:not([type])')].length,
    primary: Boolean(first && first.classList.contains('primary')),
    plain: Boolean(first && !first.name && !first.value),
    inMain: Boolean(form.closest('main')),
  };
}).filter((f) => f.count > 0)"""

FIRST_SUBMIT_JS = """() => {
  const first = document.querySelector('button[type=submit], button:not([type]), input[type=submit]');
  return first ? {inMain: Boolean(first.closest('main')), text: first.textContent.trim()} : null;
}"""

FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  const box = el.getBoundingClientRect();
  return {what: `${el.tagName.toLowerCase()}[${el.type || ""}]#${el.id || ''}.${el.className || ''} "${(el.textContent || el.value || '').trim().slice(0, 30)}"`,
          visible: outline || shadow, onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0};
}"""


@pytest.fixture(scope="module")
def stack(site_db_url, tmp_path_factory):
    yield from fast_stack(site_db_url, tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def sessions(chromium: Any, base_url: str) -> Iterator[dict[str, Any]]:
    """One signed-in browser context per demo user (signed in by pressing Enter)."""
    contexts: dict[str, Any] = {}
    for username in sorted({user for user, _ in PAGES}):
        context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
        page = context.new_page()
        page.goto(f"{base_url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password(username))
        page.press("input[name=password]", "Enter")
        page.wait_for_url(f"{base_url}/")
        page.close()
        contexts[username] = context
    yield contexts
    for context in contexts.values():
        context.close()


def visit(context: Any, url: str) -> tuple[Any, list[str], list[str]]:
    """The page loaded and settled, with the failed requests and script errors seen."""
    page = context.new_page()
    failed: list[str] = []
    errors: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page, failed, errors


def test_the_login_page_signs_in_on_enter_and_has_an_icon(chromium: Any, base_url: str) -> None:
    context = chromium.new_context()
    page, failed, errors = visit(context, f"{base_url}/login")
    assert page.evaluate(FIRST_SUBMIT_JS) == {"inMain": True, "text": "Sign in"}
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    for url in (icon, f"{base_url}/favicon.ico"):
        response = page.request.get(url)
        assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml"), url
    assert failed == [] and errors == []
    context.close()


@pytest.mark.parametrize(("username", "path"), PAGES, ids=[f"{u}{p}" for u, p in PAGES])
def test_a_page_as_its_user(sessions: dict[str, Any], base_url: str, username: str, path: str) -> None:
    page, failed, errors = visit(sessions[username], f"{base_url}{path}")
    assert failed == [], f"requests that failed on {path}: {failed}"
    assert errors == [], f"script errors on {path}: {errors}"

    forms = page.evaluate(FORMS_JS)
    assert [f["id"] for f in forms if f["untyped"]] == [], "buttons without a type submit their form by accident"
    wrong = [f["id"] for f in forms if f["inMain"] and not (f["primary"] or f["plain"])]
    assert wrong == [], f"forms whose Enter key presses a secondary button: {wrong}"
    if any(f["inMain"] for f in forms):
        assert page.evaluate(FIRST_SUBMIT_JS)["inMain"], "the page's own form must come before sign-out"
    assert page.locator("#sign-out").bounding_box()["y"] < 60, "sign-out is drawn in the top bar"

    page.mouse.click(1, 890)   # start from the document, as a keyboard user arriving would
    unseen = []
    for _ in range(TABS):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus is None:
            break
        if not (focus["visible"] and focus["onScreen"]):
            unseen.append(focus["what"])
    assert unseen == [], f"focus not visible on {path}: {unseen}"
    page.close()


def test_the_skip_link_is_the_first_stop_and_shows(sessions: dict[str, Any], base_url: str) -> None:
    page, _, _ = visit(sessions["super1"], f"{base_url}/reports/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = page.locator(".skip-link").bounding_box()
    assert box["y"] >= 0 and box["height"] > 0
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    page.close()
