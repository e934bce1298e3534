"""A real Chromium opens a report: the form, the table and the chart drawn by Chart.js.

The site is tests/webapp/test_reports_support.py's, served by gevent's WSGI server in
this process; Playwright drives Debian's /usr/bin/chromium (it never downloads one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cti.config import load_settings
from tests.webapp.browser.conftest import serving
from tests.webapp.test_reports_support import DAY, TZ, build_site, password

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    return load_settings({"CTI_DATA_DIR": str(tmp_path_factory.mktemp("cti-data")), "CTI_DATABASE_URL": database_url,
                          "CTI_HTTP": "127.0.0.1:0", "CTI_SITE_TIMEZONE": TZ, "CTI_REPORTS_WORKERS": "1"})


@pytest.fixture(scope="module")
def base_url(services) -> Iterator[str]:
    build_site(services.db)
    with serving(services) as (url, app):
        yield url
    app.extensions["cti_report_workers"].stop()


@pytest.fixture(scope="module")
def page(base_url: str, chromium: Any) -> Iterator[Any]:
    tab = chromium.new_page(viewport={"width": 1366, "height": 800})
    tab.goto(f"{base_url}/login")
    tab.fill("input[name=username]", "boss")
    tab.fill("input[name=password]", password("boss"))
    tab.click("main button.primary")
    tab.wait_for_url(f"{base_url}/")
    yield tab
    tab.close()


def test_open_a_report_see_the_table_and_the_chart(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/reports/")
    page.click("text=Queue summary")
    page.fill("input[name=from]", f"{DAY}T00:00")
    page.fill("input[name=to]", "2026-01-06T00:00")
    page.select_option("select[name=interval]", "hour")
    page.select_option("select[name=by]", "none")
    page.click("main button.primary")
    page.wait_for_selector("#report-table")
    assert page.locator("#report-table tbody tr").count() == 24
    nine = page.locator("#report-table tbody tr").nth(9).locator("td")
    assert nine.nth(0).inner_text() == f"{DAY} 09:00" and nine.nth(2).inner_text() == "3"
    canvas = page.locator("#report-chart")
    canvas.wait_for()
    page.wait_for_function("document.getElementById('report-chart').dataset.drawn === 'true'")
    painted = page.evaluate("""() => {
        const c = document.getElementById('report-chart');
        const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) n++;
        return {n, width: c.width, height: c.height, bars: Chart.getChart(c).data.datasets.length};
    }""")
    assert painted["width"] > 300 and painted["height"] > 100
    assert painted["n"] > 1000 and painted["bars"] == 4  # offered, answered, abandoned + service level
    assert page.locator("#report-heat-map").is_visible()


def test_the_form_is_keyboard_usable(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/reports/inbound_summary")
    page.focus("input[name=from]")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('primary')"):
            break
    else:
        pytest.fail("the run button cannot be reached with Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#report-results")


def test_a_bad_range_is_shown_next_to_the_form(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/reports/inbound_summary?from=2026-01-06T00:00&to=2026-01-05T00:00")
    assert "before it starts" in page.locator("#report-error").inner_text()
