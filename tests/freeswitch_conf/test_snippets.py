"""The pieces included into vanilla files: modules, ACL, music on hold, carrier gateway."""

from __future__ import annotations

import re

from tests.freeswitch_conf import fsconf

MODULES = fsconf.CONF / "cti" / "modules.xml"
#: What the brief and the middleware need loaded (mod_say_zh aside, which only Chinese
#: announcements need); mod_avmd, not mod_amd, is FreeSWITCH's answering-machine module.
REQUIRED = {
    "mod_event_socket",
    "mod_sofia",
    "mod_dptools",
    "mod_commands",
    "mod_dialplan_xml",
    "mod_loopback",
    "mod_local_stream",
    "mod_tone_stream",
    "mod_sndfile",
    "mod_native_file",
    "mod_say_en",
    "mod_voicemail",
    "mod_avmd",
}


def _snippet_modules() -> list[str]:
    return [load.get("module", "") for load in fsconf.parse(MODULES).iter("load")]


def test_every_module_of_the_snippet_is_a_freeswitch_110_module() -> None:
    modules = _snippet_modules()
    assert len(modules) == len(set(modules))
    assert set(modules) <= fsconf.reference_names("modules")


def test_the_snippet_loads_every_module_we_use() -> None:
    assert REQUIRED <= set(_snippet_modules())
    assert "mod_say_zh" in fsconf.reference_names("modules")
    assert "mod_amd" not in fsconf.reference_names("modules")


def test_the_readme_module_table_is_the_snippet() -> None:
    section = (
        fsconf.README.read_text(encoding="utf-8").split("## Modules", 1)[1].split("\n## ", 1)[0]
    )
    assert re.findall(r"^\| (mod_[a-z0-9_]+) \|", section, re.MULTILINE) == _snippet_modules()


def test_acl_list_uses_real_attributes_and_allows_the_middleware_host() -> None:
    (acl,) = fsconf.parse(fsconf.CONF / "cti" / "acl_cti_middleware.xml").iter("list")
    assert set(acl.attrib) <= fsconf.reference_params("acl.conf list attribute")
    nodes = list(acl.iter("node"))
    for node in nodes:
        assert set(node.attrib) <= fsconf.reference_params("acl.conf node attribute")
    assert [n.get("cidr") for n in nodes if n.get("type") == "allow"] == [
        "127.0.0.1/32",
        "$${cti_middleware_cidr}",
    ]
    assert re.fullmatch(r"[0-9.]+/[0-9]+", fsconf.site_vars()["cti_middleware_cidr"])


def test_moh_streams_cover_each_rate_with_real_parameters() -> None:
    directories = list(fsconf.parse(fsconf.CONF / "cti" / "local_stream_moh.xml").iter("directory"))
    rates = []
    for directory in directories:
        params = {p.get("name", ""): p.get("value", "") for p in directory.iter("param")}
        assert set(params) <= fsconf.reference_params("local_stream.conf directory param")
        assert directory.get("name") == f"moh/{params['rate']}"
        assert directory.get("path") == f"$${{cti_moh_dir}}/{params['rate']}"
        rates.append(params["rate"])
    assert rates == ["8000", "16000", "32000", "48000"]


def test_gateway_is_named_cti_gateway_and_uses_real_parameters() -> None:
    (gateway,) = fsconf.parse(fsconf.CONF / "sip_profiles" / "external" / "cti_gateway.xml").iter(
        "gateway"
    )
    assert gateway.get("name") == "cti_gateway"
    params = {p.get("name", ""): p.get("value", "") for p in gateway.iter("param")}
    assert set(params) <= fsconf.reference_params("sofia gateway param")
    for name in ("realm", "username", "password", "proxy", "register"):
        assert params[name] == f"$${{cti_gateway_{name}}}", name
    assert fsconf.site_vars()["cti_gateway_register"] in {"true", "false"}
