"""Read ``freeswitch-conf/`` the way FreeSWITCH does, for the tests of this folder.

FreeSWITCH loads its XML in two passes (``src/switch_xml.c``): a line-based
preprocessor (``X-PRE-PROCESS`` ``set``/``exec-set``/``include`` and ``$${name}``
substitution, also inside comments; an undefined name becomes the empty string), then
an XML parser. The tests parse every file with :mod:`xml.etree` and model just enough
of the first pass -- the ``set`` lines of ``cti_vars.xml`` in order -- to check values
after substitution. ``exec-set`` lines run shell commands at load time; the tests keep
their command text and run it themselves where it matters.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

CONF = Path(__file__).resolve().parents[2] / "freeswitch-conf"
REFERENCE = CONF / "reference" / "fs110_applications_modules.json"
README = CONF / "README.md"

#: Values FreeSWITCH's core or the vanilla vars.xml give before cti_vars.xml is read
#: (Debian package layout); only used to expand ``$${name}`` in tests.
BUILTINS = {
    "conf_dir": "/etc/freeswitch",
    "recordings_dir": "/var/lib/freeswitch/recordings",
    "sounds_dir": "/usr/share/freeswitch/sounds",
    "domain": "192.0.2.10",
    "outbound_caller_name": "FreeSWITCH",
    "outbound_caller_id": "0000000000",
}

PREPROCESS_LINE = re.compile(r'\s*<X-PRE-PROCESS cmd="([a-z-]+)" data="([^"]*)"/>\s*')
PREPROCESSOR_VAR = re.compile(r"\$\$\{([A-Za-z0-9_-]+)\}")
COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)


def xml_files() -> list[Path]:
    """Every XML file of freeswitch-conf/, sorted."""
    return sorted(CONF.rglob("*.xml"))


def rel(path: Path) -> str:
    """A path as the tests name it: relative to freeswitch-conf/."""
    return str(path.relative_to(CONF))


@cache
def parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


@cache
def reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return data


def reference_names(section: str) -> set[str]:
    """Names of one list section of the reference file (applications, modules, apis...)."""
    return {entry["name"] for entry in reference()[section]}


def reference_params(kind: str) -> set[str]:
    """Parameter names the reference file lists for one kind of configuration element."""
    return set(reference()["config_params"][kind]["names"])


def without_comments(text: str) -> str:
    return COMMENT.sub("", text)


def preprocess_lines(path: Path) -> list[tuple[str, str]]:
    """``(cmd, data)`` of every X-PRE-PROCESS line of a file, in order."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PREPROCESS_LINE.fullmatch(line)
        if match:
            lines.append((match.group(1), match.group(2)))
    return lines


def expand(text: str, variables: dict[str, str]) -> str:
    """Substitute ``$${name}`` as the preprocessor does (unknown names become '')."""
    return PREPROCESSOR_VAR.sub(lambda m: variables.get(m.group(1), ""), text)


@cache
def site_vars(domain: str = BUILTINS["domain"]) -> dict[str, str]:
    """The variables after BUILTINS (with this domain) and the ``set`` lines of cti_vars.xml."""
    variables = dict(BUILTINS, domain=domain)
    for cmd, data in preprocess_lines(CONF / "cti_vars.xml"):
        if cmd == "set":
            name, _, value = expand(data, variables).partition("=")
            variables[name.strip()] = value.strip()
    return variables


@cache
def exec_set_commands() -> dict[str, str]:
    """Variable -> shell command of the ``exec-set`` lines of cti_vars.xml (expanded)."""
    commands = {}
    for cmd, data in preprocess_lines(CONF / "cti_vars.xml"):
        if cmd == "exec-set":
            name, _, command = expand(data, site_vars()).partition("=")
            commands[name.strip()] = command.strip()
    return commands


def defined_vars() -> set[str]:
    """Every name a ``$${name}`` in freeswitch-conf/ may use."""
    return set(site_vars()) | set(exec_set_commands())


def extension(context_file: str, name: str) -> ET.Element:
    """The ``<extension name=..>`` of a dialplan file."""
    root = parse(CONF / context_file)
    found = root.find(f".//extension[@name='{name}']")
    assert found is not None, f"{context_file}: no extension {name}"
    return found


def dialplan_steps(element: ET.Element, tag: str = "action") -> list[tuple[str, str]]:
    """``(application, data)`` of every ``<action>`` (or ``<anti-action>``) below an element."""
    return [(a.get("application", ""), a.get("data", "")) for a in element.iter(tag)]


def multiset(data: str) -> dict[str, str]:
    """The assignments of a ``multiset`` argument, with its ``^^<delim>`` prefix."""
    delimiter = " "
    if data.startswith("^^"):
        delimiter, data = data[2], data[3:]
    pairs = (item.partition("=") for item in data.split(delimiter) if item)
    return {name: value for name, _, value in pairs}


def directory_users() -> dict[str, tuple[Path, ET.Element]]:
    """User id -> (file, ``<user>`` element) of every user under directory/."""
    users: dict[str, tuple[Path, ET.Element]] = {}
    for path in sorted((CONF / "directory").rglob("*.xml")):
        for user in parse(path).iter("user"):
            user_id = user.get("id", "")
            assert user_id not in users, f"user {user_id} defined twice"
            users[user_id] = (path, user)
    return users


def readme_block(title: str) -> list[str]:
    """Lines of the README's fenced block whose first line is ``# <title>``."""
    text = README.read_text(encoding="utf-8")
    for match in re.finditer(r"```text\n(.*?)```", text, re.DOTALL):
        lines = match.group(1).strip().splitlines()
        if lines and lines[0] == f"# {title}":
            return lines[1:]
    raise AssertionError(f"README.md has no block '# {title}'")
