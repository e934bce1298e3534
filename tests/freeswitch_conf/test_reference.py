"""The reference data file: every entry says where it was checked."""

from __future__ import annotations

import pytest

from tests.freeswitch_conf import fsconf

LIST_SECTIONS = ("modules", "applications", "apis", "channel_variables")


def _entries() -> list[tuple[str, dict]]:
    data = fsconf.reference()
    entries = [(section, entry) for section in LIST_SECTIONS for entry in data[section]]
    entries += [
        ("config_params", {"name": kind, **spec}) for kind, spec in data["config_params"].items()
    ]
    return entries


@pytest.mark.parametrize("source", sorted(fsconf.reference()["sources"]))
def test_every_source_can_be_found_again(source) -> None:
    spec = fsconf.reference()["sources"][source]
    assert spec.get("url") or spec.get("path"), source
    if "commit" in spec:
        assert len(spec["commit"]) == 40 and spec.get("repository"), source


def test_every_entry_names_known_sources() -> None:
    known = set(fsconf.reference()["sources"])
    for section, entry in _entries():
        assert entry["sources"], f"{section}: {entry['name']}"
        assert set(entry["sources"]) <= known, f"{section}: {entry['name']}"


@pytest.mark.parametrize("section", LIST_SECTIONS)
def test_no_entry_is_listed_twice(section) -> None:
    keys = [(e["name"], e.get("module", "")) for e in fsconf.reference()[section]]
    assert len(keys) == len(set(keys))


def test_modules_have_their_source_tree_path() -> None:
    for module in fsconf.reference()["modules"]:
        category, name = module["path"].removeprefix("src/mod/").split("/")
        assert name == module["name"] and category, module


def test_applications_belong_to_listed_modules() -> None:
    modules = fsconf.reference_names("modules")
    assert {a["module"] for a in fsconf.reference()["applications"]} <= modules
