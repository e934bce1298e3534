"""Every file of freeswitch-conf/ is XML FreeSWITCH's two load passes accept as meant."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.freeswitch_conf import fsconf

FILES = fsconf.xml_files()


def test_the_site_files_are_all_there() -> None:
    names = {fsconf.rel(p) for p in FILES}
    assert {
        "cti_vars.xml",
        "autoload_configs/event_socket.conf.xml",
        "cti/acl_cti_middleware.xml",
        "cti/local_stream_moh.xml",
        "cti/modules.xml",
        "dialplan/public/cti_inbound.xml",
        "dialplan/cti.xml",
        "sip_profiles/external/cti_gateway.xml",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=fsconf.rel)
def test_every_file_is_well_formed_xml(path) -> None:
    assert isinstance(ET.parse(path).getroot(), ET.Element)


@pytest.mark.parametrize("path", FILES, ids=fsconf.rel)
def test_no_comment_hides_a_preprocessor_command(path) -> None:
    """FreeSWITCH's preprocessor reads X-PRE-PROCESS lines and <!--# commands inside
    comments too, and substitutes $${name} there: a comment must contain none."""
    for comment in fsconf.COMMENT.findall(path.read_text(encoding="utf-8")):
        assert "x-pre-process" not in comment.lower(), comment
        assert not comment.startswith("#"), comment
        assert "$${" not in comment, comment


@pytest.mark.parametrize("path", FILES, ids=fsconf.rel)
def test_preprocessor_lines_are_whole_known_commands(path) -> None:
    """The preprocessor works line by line and ends data at the first double quote."""
    known = fsconf.reference_params("preprocessor command")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if "X-PRE-PROCESS" in line:
            match = fsconf.PREPROCESS_LINE.fullmatch(line)
            assert match, f"{fsconf.rel(path)}:{number}: not one whole X-PRE-PROCESS line"
            assert match.group(1) in known, f"{fsconf.rel(path)}:{number}: {match.group(1)}"


@pytest.mark.parametrize("path", FILES, ids=fsconf.rel)
def test_every_preprocessor_variable_is_defined(path) -> None:
    """An undefined $${name} silently becomes '' (an empty event socket password
    becomes ClueCon), so each one must be set by cti_vars.xml, the core or vanilla."""
    used = set(
        fsconf.PREPROCESSOR_VAR.findall(fsconf.without_comments(path.read_text(encoding="utf-8")))
    )
    allowed = fsconf.defined_vars() | fsconf.reference_params("core and vanilla global variable")
    assert used <= allowed, sorted(used - allowed)


def test_site_values_are_set_in_cti_vars_only() -> None:
    """Only cti_vars.xml sets variables; the other files only use them."""
    for path in FILES:
        if path.name != "cti_vars.xml":
            assert [cmd for cmd, _ in fsconf.preprocess_lines(path)] == [], fsconf.rel(path)
