# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.lock with a scripted Poetry: check --lock first, lock only when needed."""

import json
import os

import pytest

from ansible_collections.lockstep.poetry.plugins.modules import lock
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.fake_poetry import Call, FakeHost, version
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.run_module import run_module

PYPROJECT = '[tool.poetry]\nname = "demo-app"\nversion = "0.1.0"\n'
OLD_LOCK = '[[package]]\nname = "click"\nversion = "8.1.8"\n\n[[package]]\nname = "lockstep-sample-lib"\nversion = "1.1.0"\n'
NEW_LOCK = OLD_LOCK.replace('"1.1.0"', '"2.0.0"')


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "app"
    path.mkdir()
    (path / "pyproject.toml").write_text(PYPROJECT)
    return str(path)


@pytest.fixture
def host(monkeypatch, tmp_path):
    return FakeHost(monkeypatch, tmp_path)


def write_lock(text):
    """The effect of `poetry lock` in the directory it runs in."""
    def effect(cmd, cwd, env):
        with open(os.path.join(cwd, "poetry.lock"), "w") as handle:
            handle.write(text)
    return effect


def read(project):
    with open(os.path.join(project, "poetry.lock")) as handle:
        return handle.read()


def run(capsys, project, check_mode=False, **args):
    return run_module(lock, capsys, dict(args, project_path=project), check_mode=check_mode, diff=True)


def test_fresh_lock_costs_one_check(capsys, host, project):
    write_lock(OLD_LOCK)(None, project, None)
    host.expect(Call.captured(["check", "--lock"], "2.5.1", "check-lock-fresh"))
    result = run(capsys, project)
    assert host.done()
    assert result["changed"] is False
    assert result["status"] == "fresh"
    assert result["lock_hash"].startswith("sha256:")
    assert "diff" not in result or result["diff"] is None


def test_missing_lock_in_check_mode_resolves_in_a_scratch_copy(capsys, host, project):
    host.expect(version("2.5.1"), Call(["lock"], effect=write_lock(NEW_LOCK),
                                       env={"POETRY_VIRTUALENVS_IN_PROJECT": "true"}))
    result = run(capsys, project, check_mode=True)
    assert host.done()
    assert result["changed"] is True
    assert result["status"] == "missing"
    assert result["predicted"] is True
    assert result["lock_hash"] is None
    assert result["diff"] == {"before": {}, "after": {"click": "8.1.8", "lockstep-sample-lib": "2.0.0"}}
    assert not os.path.exists(os.path.join(project, "poetry.lock"))


@pytest.mark.parametrize("poetry, command", [("1.8.5", ["lock", "--no-update"]), ("2.5.1", ["lock"])])
def test_stale_lock_is_locked_keeping_versions(capsys, host, project, poetry, command):
    write_lock(OLD_LOCK)(None, project, None)
    host.expect(
        Call.captured(["check", "--lock"], poetry, "check-lock-stale"),
        version(poetry),
        Call(command, effect=write_lock(OLD_LOCK + "# content-hash changed\n")),
    )
    result = run(capsys, project)
    assert host.done()
    assert result["changed"] is True
    assert result["status"] == "stale"
    assert result["diff"]["before"] == result["diff"]["after"]
    assert read(project).endswith("# content-hash changed\n")


@pytest.mark.parametrize("poetry, command", [("1.8.5", ["lock"]), ("2.5.1", ["lock", "--regenerate"])])
def test_regenerate_changes_only_when_the_lock_does(capsys, host, project, poetry, command):
    write_lock(OLD_LOCK)(None, project, None)
    host.expect(Call(["check", "--lock"]), version(poetry), Call(command, effect=write_lock(NEW_LOCK)))
    result = run(capsys, project, regenerate=True)
    assert result["changed"] is True
    assert result["diff"]["after"]["lockstep-sample-lib"] == "2.0.0"
    host.expect(Call(["check", "--lock"]), version(poetry), Call(command, effect=write_lock(NEW_LOCK)))
    assert run(capsys, project, regenerate=True)["changed"] is False
    assert host.done()


def test_regenerate_in_check_mode_leaves_the_lock_alone(capsys, host, project):
    write_lock(OLD_LOCK)(None, project, None)
    host.expect(Call(["check", "--lock"]), version("2.5.1"), Call(["lock", "--regenerate"], effect=write_lock(NEW_LOCK)))
    result = run(capsys, project, check_mode=True, regenerate=True)
    assert host.done()
    assert result["changed"] is True and result["predicted"] is True
    assert read(project) == OLD_LOCK


def test_path_dependencies_cannot_be_predicted(capsys, host, project):
    with open(os.path.join(project, "pyproject.toml"), "a") as handle:
        handle.write('[tool.poetry.dependencies]\nlib = { path = "../lib" }\n')
    result = run(capsys, project, check_mode=True)
    assert host.done()
    assert result["changed"] is True
    assert result["predicted"] is False
    assert "the project has path dependencies: check mode cannot resolve its lock" in json.dumps(result["warnings"])


def test_other_check_failures_are_errors(capsys, host, project):
    write_lock(OLD_LOCK)(None, project, None)
    host.expect(Call(["check", "--lock"], rc=1, stderr="Error: [tool.poetry] 'name' is a required property\n"))
    result = run(capsys, project)
    assert result["failed"] is True
    assert result["msg"] == "poetry check --lock failed: Error: [tool.poetry] 'name' is a required property"


def test_refused_credentials_name_the_source(capsys, host, project):
    host.expect(version("1.8.5"), Call.captured(["lock", "--no-update"], "1.8.5", "lock-bad-credentials"))
    result = run(capsys, project)
    assert result["failed"] is True
    assert result["msg"].startswith("poetry lock --no-update failed: package source 'private' refused the credentials")
    assert not os.path.exists(os.path.join(project, "poetry.lock"))
