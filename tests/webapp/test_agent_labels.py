"""Every refusal the agent desktop can show has a Chinese label.

The server speaks English; in Chinese the desktop shows the label ``ag_err_<code>`` of
the error's code (static/js/agent.js, ``translated``). A code without one reached a
Chinese-speaking agent in English ("You cannot place a call while logged out."). The
codes are read from the modules that raise them, so a new refusal needs its label.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cti.interaction import Outcome
from webapp import agent_labels  # noqa: F401  (adds the labels)
from webapp.i18n import CATALOG

ROOT = Path(__file__).resolve().parents[2]
#: Where the desktop's refusals come from: call control and its rules, transfers, the
#: desktop's own endpoints, wrap-up and "not ready after this call".
SOURCES = ("cti/call_rules.py", "cti/call_control.py", "cti/call_errors.py", "cti/transfers.py",
           "webapp/agent.py", "webapp/agent_wrapup.py", "webapp/after_call.py", "cti/agents.py")
PATTERNS = (r'error_id="([a-z-]+)"', r'_no\("([a-z-]+)"', r'error_response\(\d+, "([a-z-]+)"',
            r'"code": "([a-z-]+)"', r'error_id = "([a-z-]+)"')
#: Codes that only a broken client or a bug can cause: the server's sentence is shown.
#: (``invalid-agent-request``: the desktop shows the core's other agent request errors
#: as ``refused``; only ``extension-in-use`` keeps its code there.)
NOT_FOR_AGENTS = {"bad-request", "call-control", "not-found", "refused", "unknown-action", "bad-state", "bad-status",
                  "invalid-agent-request"}


def _codes() -> set[str]:
    codes: set[str] = set()
    for source in SOURCES:
        text = (ROOT / source).read_text(encoding="utf-8")
        for pattern in PATTERNS:
            codes.update(re.findall(pattern, text))
    return codes - NOT_FOR_AGENTS


def test_the_sources_still_name_their_codes() -> None:
    assert {"not-logged-in", "agent-busy", "extension-in-use", "still-ringing", "dial-failed"} <= _codes()


@pytest.mark.parametrize("code", sorted(_codes()))
def test_each_refusal_has_a_chinese_label(code: str) -> None:
    entry = CATALOG.get(f"ag_err_{code}")
    assert entry is not None, f"add ag_err_{code} to webapp/agent_labels.py"
    assert entry["zh"] and entry["zh"] != entry["en"]


@pytest.mark.parametrize("outcome", [o.value for o in Outcome])
def test_recent_call_outcomes_are_labelled(outcome: str) -> None:
    """How a call ended, as the "My recent calls" table shows it."""
    assert CATALOG[f"ag_out_{outcome}"]["zh"]
