# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parsers over output captured from real Poetry 1.8.5 and 2.5.1 (fixtures/capture.sh).

Every scenario runs against both versions: the demo project locks lockstep-sample-lib 1.1.0,
click, an optional rich (extra "fancy"), tomli for Python < 3.11, iniconfig in group dev and
tabulate in the optional group docs; the virtualenv runs Python 3.11.
"""

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils._install import parse_operations, parse_root
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_failures import explain_failure, is_stale_lock
from ansible_collections.lockstep.poetry.tests.unit.plugins.module_utils.captured import VERSIONS, Captured


def install(name, version):
    return {"action": "install", "name": name, "version": version}


def remove(name, version):
    return {"action": "remove", "name": name, "version": version}


def change(action, name, before, after):
    return {"action": action, "name": name, "from": before, "to": after}


LOCKED = [install("click", "8.1.8"), install("iniconfig", "2.1.0"), install("lockstep-sample-lib", "1.1.0")]
PROJECT = ("demo-app", "0.1.0")

# scenario -> (operations, the project line); version-specific differences are noted.
DRY_RUNS = {
    "dry-run-fresh": (LOCKED, PROJECT),
    "sync-fresh": (LOCKED, PROJECT),
    "dry-run-in-sync": ([], PROJECT),
    "dry-run-with-docs-fancy": (
        [install("markdown-it-py", "3.0.0"), install("mdurl", "0.1.2"), install("pygments", "2.21.0"),
         install("rich", "15.0.0"), install("tabulate", "0.9.0")],
        PROJECT,
    ),
    "dry-run-without-dev-no-root": ([remove("iniconfig", "2.1.0")], None),
    "dry-run-removal": ([remove("tabulate", "0.9.0")], PROJECT),
    "dry-run-update": (
        [remove("tabulate", "0.9.0"), change("update", "lockstep-sample-lib", "1.1.0", "2.0.0")],
        ("demo-app", "0.2.0"),
    ),
    "dry-run-downgrade": (
        [remove("tabulate", "0.9.0"), change("downgrade", "lockstep-sample-lib", "1.1.0", "1.0.0")],
        PROJECT,
    ),
}
# Poetry 1.8's virtualenvs come with setuptools, which its sync removes.
SETUPTOOLS_1_8 = {"dry-run-fresh", "sync-fresh"}


def by_name(operations):
    return sorted(operations, key=lambda op: (op["name"], op["action"]))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("scenario", sorted(DRY_RUNS))
def test_operations_and_project(version, scenario):
    captured = Captured(version, scenario)
    operations, root = DRY_RUNS[scenario]
    if version.startswith("1.") and scenario in SETUPTOOLS_1_8:
        operations = operations + [remove("setuptools", "82.0.0")]
    assert captured.rc == 0
    assert by_name(parse_operations(captured.stdout)) == by_name(operations)
    assert parse_root(captured.stdout) == root


@pytest.mark.parametrize("version", VERSIONS)
def test_skipped_lines_are_not_operations(version):
    stdout = Captured(version, "dry-run-in-sync").stdout
    assert stdout.count("Skipped for the following reason") == 7
    assert parse_operations(stdout) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_operations_keep_poetry_order(version):
    operations = parse_operations(Captured(version, "dry-run-update").stdout)
    assert operations[0] == remove("tabulate", "0.9.0")


@pytest.mark.parametrize("version", VERSIONS)
def test_command_spelling_per_version(version):
    expected = "poetry sync --dry-run" if version.startswith("2.") else "poetry install --sync --dry-run"
    assert Captured(version, "dry-run-fresh").command == expected


def test_project_plugins_are_not_operations():
    """Poetry 2.x installs the plugins a project requires into the project before its dry run
    (or sync); their operations are Poetry's, not the environment's."""
    stdout = Captured("2.5.1", "dry-run-project-plugins").stdout
    assert "  - Installing lockstep-test-plugin (0.1.0)" in stdout
    assert parse_operations(stdout) == [install("click", "8.1.8")]
    assert parse_root(stdout) == PROJECT
    # A failed plugin installation leaves no operations either.
    assert parse_operations("Installing Poetry plugins only for the current project...\n"
                            "  - Installing lockstep-test-plugin (0.1.0)\n") == []


def test_project_plugins_that_cannot_be_installed_are_explained():
    captured = Captured("2.5.1", "dry-run-project-plugins-unavailable")
    message = explain_failure(captured.stdout, captured.stderr)
    assert captured.rc == 1
    assert message.startswith("Poetry could not install the plugins the project requires "
                              "(lockstep-test-plugin (>=0.1)) into the project's .poetry/plugins")
    assert "depends on zipp (4.1.2) which doesn't match any versions" in message
    assert "poetry_plugins" in message
    # Whatever stopped it, the plugins are named with the reason.
    unreachable = explain_failure(captured.stdout, "\nAll attempts to connect to 127.0.0.1:53773 failed.\n",
                                  {"private": "http://127.0.0.1:53773/simple/"})
    assert "(lockstep-test-plugin (>=0.1)) into the project's .poetry/plugins (cannot reach the package index " \
        "at 127.0.0.1:53773 (source 'private')" in unreachable


# scenario -> words the explanation must contain.
FAILURES = {
    "dry-run-stale-lock": ["poetry.lock is stale", "lockstep.poetry.lock"],
    "dry-run-unknown-group": ["no dependency group named nosuch", "--with"],
    "dry-run-unknown-extra": ["no extra named nosuch"],
    "dry-run-python-not-allowed": ["Python 3.8.18", ">=3.9"],
    "sync-bad-credentials": ["source 'private' refused the credentials", "POETRY_HTTP_BASIC_PRIVATE_USERNAME"],
    "sync-no-credentials": ["source 'private' refused the credentials", "http-basic.private"],
    "lock-bad-credentials": ["source 'private' refused the credentials"],
    "lock-no-credentials": ["source 'private' refused the credentials"],
    "sync-unreachable": ["cannot reach the package index at 127.0.0.1:", "(source 'private')"],
    "lock-unreachable": ["cannot reach the package index at 127.0.0.1:", "(source 'private')"],
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("scenario", sorted(FAILURES))
def test_failures_are_explained(version, scenario):
    captured = Captured(version, scenario)
    sources = {"private": "http://127.0.0.1:%s/simple/" % captured.port()}
    message = explain_failure(captured.stdout, captured.stderr, sources)
    assert captured.rc == 1
    assert message is not None
    for words in FAILURES[scenario]:
        assert words in message


@pytest.mark.parametrize("version", VERSIONS)
def test_stale_lock_told_apart_by_check_lock(version):
    assert is_stale_lock(Captured(version, "check-lock-stale").stderr)
    assert not is_stale_lock(Captured(version, "check-lock-missing").stderr)
    fresh = Captured(version, "check-lock-fresh")
    assert fresh.rc == 0 and not is_stale_lock(fresh.stderr)
