"""The simulator's dialplan is the one in ``freeswitch-conf/``: the same applications
with the same data, and the site values of ``cti_vars.xml``. When the configuration
changes, this test says what the simulator must follow."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from esl.simulator.dialplan import (
    CTI_FALLBACK,
    CTI_FALLBACK_PATTERN,
    CTI_INBOUND_DOWN,
    CTI_INBOUND_UP,
    LEASE_VARIABLE,
    SITE_DEFAULTS,
    Action,
)
from esl.simulator.texts import LEASE_CONDITION, context_xml

CONF = Path(__file__).resolve().parents[2] / "freeswitch-conf"


def steps(extension: ET.Element, tag: str) -> tuple[Action, ...]:
    return tuple(Action(node.get("application", ""), node.get("data", "")) for node in extension.iter(tag))


def extension(path: str, name: str) -> ET.Element:
    found = ET.parse(CONF / path).getroot().find(f".//extension[@name='{name}']")
    assert found is not None, f"{path} has no extension {name}"
    return found


def test_cti_inbound_matches_the_configuration() -> None:
    ext = extension("dialplan/public/cti_inbound.xml", "cti_inbound")
    assert steps(ext, "action") == CTI_INBOUND_UP
    assert steps(ext, "anti-action") == CTI_INBOUND_DOWN
    did, lease = ext.findall("condition")
    assert (did.get("field"), did.get("expression")) == ("destination_number", "$${cti_did_regex}")
    assert (lease.get("field"), lease.get("expression")) == (LEASE_CONDITION, "^up$")
    assert LEASE_VARIABLE in LEASE_CONDITION


def test_the_fallback_matches_the_configuration() -> None:
    ext = extension("dialplan/cti.xml", "cti_fallback")
    assert steps(ext, "action") == CTI_FALLBACK
    (condition,) = ext.findall("condition")
    assert condition.get("expression") == CTI_FALLBACK_PATTERN


def test_site_values_match_cti_vars() -> None:
    text = (CONF / "cti_vars.xml").read_text()
    values = dict(re.findall(r'<X-PRE-PROCESS cmd="set" data="([a-z_]+)=([^"]*)"/>', text))
    for name, value in SITE_DEFAULTS.items():
        assert values.get(name) == value, name


def test_xml_locate_shows_our_extensions() -> None:
    variables = {**SITE_DEFAULTS, "domain": "10.0.0.1"}
    public = context_xml("public", variables)
    assert public is not None and '<extension name="cti_inbound">' in public
    assert 'expression="^\\+?1?55501[0-9]{2}$"' in public
    assert '<anti-action application="transfer" data="cti_fallback_middleware_down XML cti"/>' in public
    assert "park_timeout=3600:ALLOTTED_TIMEOUT" in public and "&gt;" in public
    fallback = context_xml("cti", variables)
    assert fallback is not None and 'data="default 10.0.0.1 1999"' in fallback
    assert context_xml("default", variables) is None
