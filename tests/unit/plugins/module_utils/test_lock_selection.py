# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lock selection against what real Poetry 1.8.5 and 2.5.1 install (fixtures/lock_selection,
captured with its capture.py under Python 3.11 and, in a Debian 13 container, 3.13), and the
marker, requirement and constraint readers under it."""

import glob
import json
import os
import sys

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils import _lock_selection, _markers
from ansible_collections.lockstep.poetry.plugins.module_utils._toml import load

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "lock_selection")
ENV_311 = {
    "implementation_name": "cpython", "implementation_version": "3.11.7", "os_name": "posix",
    "platform_machine": "x86_64", "platform_python_implementation": "CPython",
    "platform_release": "6.1.0-18-amd64", "platform_system": "Linux", "platform_version": "#1 SMP Debian",
    "python_full_version": "3.11.7", "python_version": "3.11", "sys_platform": "linux",
}
ENV_WINDOWS_39 = dict(ENV_311, os_name="nt", platform_system="Windows", sys_platform="win32",
                      python_full_version="3.9.2", python_version="3.9", platform_release="10")


def _captures():
    for directory in sorted(glob.glob(os.path.join(FIXTURES, "*", ""))):
        for path in sorted(glob.glob(os.path.join(directory, "dry_run-*.json"))):
            with open(path) as handle:
                record = json.load(handle)
            for name, case in sorted(record["selections"].items()):
                yield pytest.param(directory, record["environment"], case["selection"], case["installs"],
                                   id="%s-py%s-%s" % (os.path.basename(directory.rstrip("/")),
                                                      record["environment"]["python_version"], name))


CAPTURES = list(_captures())


def _versions(selected):
    return {name: distribution["version"] for name, distribution in selected.items()}


def test_fixtures_cover_both_poetry_versions_and_pythons():
    ids = [case.id for case in CAPTURES]
    assert len(ids) >= 30
    for part in ("legacy-1.8.5-py3.11", "legacy-1.8.5-py3.13", "legacy-2.5.1-py3.13", "pep621-2.5.1-py3.11"):
        assert any(case_id.startswith(part) for case_id in ids)


@pytest.mark.parametrize("directory, environment, selection, installs", CAPTURES)
def test_selection_is_what_poetry_installs(directory, environment, selection, installs):
    pyproject, lock = load(os.path.join(directory, "pyproject.toml")), load(os.path.join(directory, "poetry.lock"))
    assert _versions(_lock_selection.select(pyproject, lock, selection, environment)) == installs


@pytest.mark.parametrize("directory, environment, selection, installs",
                         [case for case in CAPTURES if "2.5.1" in case.id])
def test_walk_agrees_with_poetry_2_lock_markers(directory, environment, selection, installs):
    """The dependency walk (lock 2.0) gives Poetry 2's answer on lock 2.1 data too."""
    pyproject, lock = load(os.path.join(directory, "pyproject.toml")), load(os.path.join(directory, "poetry.lock"))
    stripped = dict(lock, package=[{key: value for key, value in package.items() if key not in ("groups", "markers")}
                                   for package in lock["package"]])
    assert _versions(_lock_selection.select(pyproject, stripped, selection, environment)) == installs


def test_distribution_carries_the_locked_files_and_hashes():
    directory = os.path.join(FIXTURES, "legacy-2.5.1")
    selected = _lock_selection.select(load(os.path.join(directory, "pyproject.toml")),
                                      load(os.path.join(directory, "poetry.lock")), {"only": ["main"]}, ENV_311)
    assert selected["pysocks"]["name"] == "pysocks"
    assert selected["pysocks"]["hashes"] == sorted([
        "08e69f092cc6dbe92a0fdd16eeb9b9ffbc13cadfe5ca4c7bd92ffb078b293299",
        "2725bd0a9925919b9b51739eea5f9e2bae91e83288108a9ad338b2e3a4435ee5",
        "3f8804571ebe159c380ac6de37643bb4685970655d3bba243530d6558b799aa0",
    ])
    assert {"file": "PySocks-1.7.1-py3-none-any.whl",
            "hash": "sha256:2725bd0a9925919b9b51739eea5f9e2bae91e83288108a9ad338b2e3a4435ee5"} in selected["pysocks"]["files"]


@pytest.mark.parametrize("name", ["legacy-1.8.5", "legacy-2.5.1"])
def test_windows_python_39(name):
    """A marker environment no capture has: Windows' colorama, Python 3.9's backports."""
    directory = os.path.join(FIXTURES, name)
    selected = _lock_selection.select(load(os.path.join(directory, "pyproject.toml")),
                                      load(os.path.join(directory, "poetry.lock")), {"only": ["main"]}, ENV_WINDOWS_39)
    assert {"colorama", "tomli", "exceptiongroup", "typing-extensions"} <= set(selected)
    assert "humanize" not in selected


@pytest.mark.parametrize("selection, message", [
    ({"only": ["nope"]}, "only names groups the project does not have: nope"),
    ({"with_groups": ["docs", "x"]}, "with_groups names groups the project does not have: x"),
    ({"without_groups": ["y"]}, "without_groups names groups"),
    ({"extras": ["nope"]}, "extras names extras the project does not have: nope (it has: fancy, human)"),
])
def test_unknown_groups_and_extras_fail(selection, message):
    directory = os.path.join(FIXTURES, "legacy-1.8.5")
    with pytest.raises(_lock_selection.LockSelectionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _lock_selection.select(load(os.path.join(directory, "pyproject.toml")),
                               load(os.path.join(directory, "poetry.lock")), selection, ENV_311)


def test_stale_lock_fails():
    pyproject = {"tool": {"poetry": {"dependencies": {"python": "^3.9", "absent": "*"}}}}
    with pytest.raises(_lock_selection.LockSelectionError, match="the lock has no package absent"):
        _lock_selection.select(pyproject, {"package": []}, {}, ENV_311)


def test_pep735_groups_and_several_locked_versions():
    pyproject = {"project": {"name": "x", "dependencies": ["numpy"]},
                 "dependency-groups": {"lint": ["ruff"], "ci": [{"include-group": "lint"}, "tox"]}}
    lock = {"package": [
        {"name": "numpy", "version": "1.26.4", "python-versions": ">=3.9", "files": []},
        {"name": "numpy", "version": "2.2.0", "python-versions": ">=3.10", "files": []},
        {"name": "ruff", "version": "0.9.0", "files": []},
        {"name": "tox", "version": "4.0", "files": [],
         "dependencies": {"numpy": [{"version": "<2", "markers": "python_version < \"3.10\""},
                                    {"version": ">=2", "markers": "python_version >= \"3.10\""}]}},
    ]}
    groups, optional, _extras = _lock_selection.project_groups(pyproject)
    assert sorted(groups) == ["ci", "lint", "main"] and not optional
    assert [dependency.name for dependency in groups["ci"]] == ["ruff", "tox"]
    selected = _lock_selection.select(pyproject, lock, {"only": ["ci"]}, ENV_311)
    assert _versions(selected) == {"numpy": "2.2.0", "ruff": "0.9.0", "tox": "4.0"}


@pytest.mark.parametrize("known, optional, options, expected", [
    (["main", "dev", "docs"], ["docs"], {}, {"main", "dev"}),
    (["main", "dev", "docs"], ["docs"], {"with_groups": ["docs"], "without_groups": ["dev"]}, {"main", "docs"}),
    (["main", "dev", "docs"], ["docs"], {"only": ["docs"], "with_groups": ["dev"]}, {"docs"}),
    (["main", "dev"], [], {"without_groups": ["main"]}, {"dev"}),
])
def test_selected_groups(known, optional, options, expected):
    assert _lock_selection.selected_groups(known, optional, **options) == expected


MARKERS = [
    # marker, environment changes, extras, expected
    ('python_version < "3.11"', {}, (), False),
    ('python_version >= "3.11"', {}, (), True),
    ('python_version > "3.9"', {"python_version": "3.10"}, (), True),  # not a string comparison
    ('python_full_version >= "3.11.7"', {}, (), True),
    ('python_full_version < "3.11.10"', {}, (), True),
    ('python_full_version == "3.11.*"', {}, (), True),
    ('python_full_version != "3.11.*"', {}, (), False),
    ('python_full_version ~= "3.11.2"', {}, (), True),
    ('python_full_version ~= "3.10.2"', {}, (), False),
    ('python_full_version >= "3.13.0a1"', {"python_full_version": "3.13.0rc1"}, (), True),
    ('python_full_version >= "3.13"', {"python_full_version": "3.13.0rc1"}, (), False),
    ("sys_platform == 'linux' and python_version >= '3.13'", {}, (), False),
    ("sys_platform == 'win32' or (python_version >= '3.8' and os_name == 'posix')", {}, (), True),
    ('platform_system == "Windows" or sys_platform == "win32"', {}, (), False),
    ('platform_release >= "5.10"', {"platform_release": "6.1.0"}, (), True),
    ('platform_release < "6.2"', {}, (), True),  # "6.1.0-18-amd64": no version, compared as text
    ('"linux" in sys_platform', {}, (), True),
    ("'x86' not in platform_machine", {}, (), False),
    ('platform_machine in "x86_64 aarch64"', {}, (), True),
    ('extra == "socks"', {}, ("socks",), True),
    ('extra == "socks"', {}, (), False),
    ('extra != "Socks"', {}, ("socks",), False),
    ('extra == "use_chardet-on.py3"', {}, ("use-chardet-on-py3",), True),
    ('python_version >= "3.12" and extra == "human"', {"python_version": "3.13"}, ("human", "fancy"), True),
    ("os.name == 'posix' and platform.machine == 'x86_64'", {}, (), True),
    ('implementation_name == "cpython" and platform_python_implementation != "PyPy"', {}, (), True),
    ('implementation_version >= "3.11"', {}, (), True),
]


@pytest.mark.parametrize("marker, changes, extras, expected", MARKERS)
def test_marker(marker, changes, extras, expected):
    assert _markers.evaluate(_markers.parse_marker(marker), dict(ENV_311, **changes), extras) is expected


@pytest.mark.parametrize("marker", ['python_version <', 'nonsense == "1"', '(python_version < "3"',
                                    'python_version < "3" and', 'extra > "x"', '"a" ~ "b"'])
def test_bad_marker(marker):
    with pytest.raises(_markers.MarkerError):
        _markers.evaluate(_markers.parse_marker(marker), ENV_311)


def test_parenthesis_is_closed():
    assert _markers.evaluate(_markers.parse_marker('(python_version < "3") or (os_name == "posix")'), ENV_311)


@pytest.mark.parametrize("text, name, extras, constraint, marker_holds", [
    ("httpx[socks]>=0.27", "httpx", ["socks"], ">=0.27", True),
    ("click ; sys_platform != 'win32'", "click", [], "", True),
    ("tomli>=1 ; python_version < '3.11'", "tomli", [], ">=1", False),
    ("PySocks (>=1.5.6,!=1.5.7)", "PySocks", [], ">=1.5.6,!=1.5.7", True),
    ('trio (>=0.31.0) ; python_version < "3.10"', "trio", [], ">=0.31.0", False),
    ("requests[ socks , zstd ]", "requests", ["socks", "zstd"], "", True),
    ("lib @ https://example.com/lib-1.0.tar.gz ; os_name == 'posix'", "lib", [], "", True),
])
def test_requirement(text, name, extras, constraint, marker_holds):
    requirement = _markers.parse_requirement(text)
    assert (requirement["name"], requirement["extras"], requirement["constraint"]) == (name, extras, constraint)
    assert _markers.evaluate(requirement["marker"], ENV_311) is marker_holds


@pytest.mark.parametrize("constraint, version, allowed", [
    ("*", "1.0", True), ("", "1.0", True),
    ("^1.2", "1.9.1", True), ("^1.2", "2.0", False), ("^0.2.3", "0.2.9", True), ("^0.2.3", "0.3", False),
    ("~1.2", "1.2.5", True), ("~1.2", "1.3", False), ("~=1.2", "1.9", True),
    (">=1.5.6,<1.5.7 || >1.5.7", "1.5.7", False), (">=1.5.6,<1.5.7 || >1.5.7", "1.7.1", True),
    (">=2 <3", "2.5", True), ("1.2.*", "1.2.9", True), ("!=1.2.*", "1.2.9", False), ("1.0", "1.0.0", True),
    (">=3.9,<3.11", "3.10", True),
])
def test_constraint(constraint, version, allowed):
    assert _markers.constraint_allows(constraint, version) is allowed


@pytest.mark.parametrize("lower, higher", [
    ("1.0.dev1", "1.0a1"), ("1.0a1", "1.0b2"), ("1.0rc1", "1.0"), ("1.0", "1.0.post1"),
    ("1.0.post1.dev1", "1.0.post1"), ("2026.10.19", "2026.10.19.post1"), ("1!0.1", "1!1.0"), ("9.9", "1!0.1"),
])
def test_version_order(lower, higher):
    assert _markers.version_key(lower) < _markers.version_key(higher)


def test_version_key_equal_and_invalid():
    assert _markers.version_key("1.0") == _markers.version_key("1.0.0") == _markers.version_key("v1.0+local")
    assert _markers.version_key("6.1.0-18-amd64") is None


def test_marker_environment_of_this_interpreter():
    environment = _lock_selection.marker_environment()
    assert environment["python_version"] == "%d.%d" % sys.version_info[:2]
    assert environment["sys_platform"] == sys.platform
    assert sorted(environment) == sorted(ENV_311)
