"""Quality review in a real Chromium: a supervisor builds a scoring form, finds a
recording of their queue, plays it in the page, scores it; the agent then reads the
score on /quality/mine. Same server and browser setup as test_wallboard.py."""

from __future__ import annotations

import uuid
import wave
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from cti.config import load_settings
from cti.provision import provision
from tests.webapp.browser.conftest import serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SITE = {
    "queues": [{"name": "care", "display_name": "Customer care"}],
    "users": [{"username": "lead", "password": "lead-pw-123", "roles": ["supervisor"], "queues": ["care"]}],
    "agents": [{"username": "amy", "password": "amy-pw-1234", "name": "Amy", "code": "2201", "extension": "2201",
                "queues": ["care"]}],
}


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    return load_settings({"CTI_DATA_DIR": str(tmp_path_factory.mktemp("cti-data")), "CTI_DATABASE_URL": database_url,
                          "CTI_HTTP": "127.0.0.1:0", "CTI_REPORTS_WORKERS": "1", "CTI_SITE_TIMEZONE": "UTC"})


@pytest.fixture(scope="module")
def base_url(services) -> Iterator[str]:
    provision(services.db, SITE)
    audio = services.settings.recordings_dir / "2026" / "call.wav"
    audio.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(audio), "wb") as out:        # two seconds of silence, 8 kHz mono
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 16000)
    agent = services.db.fetchone("SELECT id FROM agents WHERE code = '2201'")["id"]
    iid = str(uuid.uuid4())
    when = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    services.db.execute("""INSERT INTO interactions (id, direction, started_at, queue_name, agent_id, caller_number)
                           VALUES (%s, 'inbound', %s, 'care', %s, '+15550777')""", (iid, when, agent))
    services.db.execute("""INSERT INTO recordings (id, interaction_id, agent_id, queue_name, caller_number, path,
                           started_at, duration_ms) VALUES (%s, %s, %s, 'care', '+15550777', %s, %s, 2000)""",
                        (str(uuid.uuid4()), iid, agent, str(audio), when))
    with serving(services) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser(base_url: str, chromium: Any) -> Any:
    return chromium


def signed_in(browser: Any, base_url: str, username: str, password: str, landing: str) -> Any:
    tab = browser.new_page(viewport={"width": 1400, "height": 900})
    tab.goto(f"{base_url}/login?next={landing}")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", password)
    tab.press("input[name=password]", "Enter")
    tab.wait_for_url(f"{base_url}{landing}")
    return tab


def test_build_a_form_play_and_score_then_the_agent_reads_it(browser: Any, base_url: str) -> None:
    from playwright.sync_api import expect

    page = signed_in(browser, base_url, "lead", "lead-pw-123", "/quality/")
    # The search results above load meanwhile and can move the summary under the
    # click: open the panel until it says it is open.
    forms = page.locator("#qa-forms")
    for _ in range(3):
        if forms.evaluate("d => d.open"):
            break
        forms.locator("summary").click()
    expect(forms).to_have_js_property("open", True)
    page.fill("#qa-form-edit input[name=name]", "Care basics")
    first = page.locator("#qa-form-criteria tbody tr").nth(0)
    first.locator("[name=label]").fill("Greeting")
    page.click("#qa-add-criterion")
    second = page.locator("#qa-form-criteria tbody tr").nth(1)
    second.locator("[name=label]").fill("Resolution")
    second.locator("[name=weight]").fill("3")
    second.locator("[name=max_points]").fill("10")
    page.click("#qa-form-edit button[type=submit]")
    expect(page.locator("#notice")).to_have_text("Form saved.")

    page.fill("#qa-search input[name=caller]", "0777")
    page.click("#qa-search button[type=submit]")
    row = page.locator("#qa-results tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("+15550777")
    expect(row.locator("td").nth(2)).to_have_text("Customer care")   # the queue as the filter names it
    # Nothing open yet: the results use the whole width, not three fifths beside an empty column.
    assert page.locator("#qa-results").bounding_box()["width"] > 1000
    row.locator("button[data-open]").click()
    audio = page.locator("#qa-player audio")
    expect(audio).to_be_visible()
    page.wait_for_function("document.querySelector('#qa-player audio').duration > 1.9")   # the file plays here

    page.select_option("#qa-points-0", "5")
    page.select_option("#qa-points-1", "6")
    page.fill('[data-comment="1"]', "solved on the first call")
    expect(page.locator("#qa-total")).to_have_text("70.00")      # (1*5/5 + 3*6/10) / 4
    page.fill("#qa-score textarea[name=comments]", "Friendly and clear")
    page.click("#qa-score button[type=submit]")
    expect(page.locator("#qa-scores")).to_contain_text("70.00")
    expect(row).to_contain_text("70.0 (1)")
    page.close()

    agent = signed_in(browser, base_url, "amy", "amy-pw-1234", "/quality/mine")
    expect(agent.locator(".qa-review")).to_contain_text("Care basics")
    expect(agent.locator(".qa-review")).to_contain_text("70.00")
    expect(agent.locator(".qa-review")).to_contain_text("solved on the first call")
    agent.close()
