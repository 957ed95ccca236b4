# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.install with a scripted Poetry: the commands it runs, in order, and what it
reports. Poetry's answers are output captured from real Poetry (module_utils/fixtures)."""

import json
import os

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils._install import STAMP_FILE
from ansible_collections.lockstep.poetry.plugins.modules import install
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.fake_poetry import (
    SCRATCH,
    Call,
    FakeHost,
    make_poetry_installation,
    make_virtualenv,
    uninstall,
    version,
)
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.fake_poetry import install as install_packages
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.run_module import run_module

LOCKED = [("click", "8.1.8"), ("iniconfig", "2.1.0"), ("lockstep-sample-lib", "1.1.0"), ("demo-app", "0.1.0")]


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "app"
    path.mkdir()
    (path / "pyproject.toml").write_text('[tool.poetry]\nname = "demo-app"\nversion = "0.1.0"\n')
    (path / "poetry.lock").write_text('[[package]]\nname = "click"\nversion = "8.1.8"\n')
    return str(path)


@pytest.fixture
def venv(tmp_path):
    return str(tmp_path / "venv")


@pytest.fixture
def host(monkeypatch, tmp_path):
    return FakeHost(monkeypatch, tmp_path)


def run(capsys, project, venv, check_mode=False, **args):
    args = dict(args, project_path=project, virtualenv=venv)
    return run_module(install, capsys, args, check_mode=check_mode, diff=True)


def in_venv(venv):
    return {"VIRTUAL_ENV": venv}


def test_check_mode_plans_in_a_throwaway_virtualenv(capsys, host, project, venv):
    host.expect(
        version("2.5.1"),
        Call([host.bin["python3"], "-m", "venv", "--without-pip", SCRATCH]),
        Call.captured(["sync", "--dry-run"], "2.5.1", "dry-run-fresh", env={"POETRY_VIRTUALENVS_PATH": None}),
    )
    result = run(capsys, project, venv, check_mode=True)
    assert host.done()
    assert result["changed"] is True
    assert sorted(op["name"] for op in result["operations"]) == sorted(name for name, _version in LOCKED)
    assert {"action": "install", "name": "demo-app", "version": "0.1.0"} in result["operations"]
    assert result["diff"] == {"before": {}, "after": dict(sorted(LOCKED))}
    assert result["virtualenv"] == venv
    assert not os.path.exists(venv)
    # The dry run went against the throwaway virtualenv, not the one to create.
    scratch = host.seen[1][-1]
    assert scratch != venv and not os.path.exists(scratch)


def new_virtualenv_planned_and_created(host, venv):
    """Poetry 2.5.1 plans against a throwaway virtualenv, then the real one is created."""
    return [
        version("2.5.1"),
        Call([host.bin["python3"], "-m", "venv", "--without-pip", SCRATCH]),
        Call.captured(["sync", "--dry-run"], "2.5.1", "dry-run-fresh"),
        Call([host.bin["python3"], "-m", "venv", "--without-pip", venv], effect=lambda *a: make_virtualenv(venv)),
    ]


def test_apply_creates_the_virtualenv_syncs_and_stamps(capsys, host, project, venv):
    host.expect(
        *new_virtualenv_planned_and_created(host, venv),
        Call.captured(["sync"], "2.5.1", "sync-fresh", env=in_venv(venv),
                      effect=lambda *a: install_packages(venv, LOCKED)),
    )
    result = run(capsys, project, venv)
    assert host.done()
    assert result["changed"] is True
    assert sorted(op["name"] for op in result["operations"]) == sorted(name for name, _version in LOCKED)
    assert result["diff"]["after"] == dict(sorted(LOCKED))
    assert result["lock_hash"].startswith("sha256:")
    assert result["commands"] == host.seen
    stamp = json.loads(open(os.path.join(venv, STAMP_FILE)).read())
    assert stamp["installed"] == dict(sorted(LOCKED))
    assert stamp["selection"]["sync"] is True


@pytest.fixture
def synced(capsys, host, project, venv):
    """A virtualenv after one successful sync (with the stamp written)."""
    make_virtualenv(venv, LOCKED)
    host.expect(version("2.5.1"), Call.captured(["sync", "--dry-run"], "2.5.1", "dry-run-in-sync"))
    result = run(capsys, project, venv)
    assert result["changed"] is False and host.done()
    assert os.path.isfile(os.path.join(venv, STAMP_FILE))
    return venv


def test_nothing_changed_since_the_last_sync_runs_no_poetry(capsys, host, project, synced):
    for check_mode in (True, False):
        result = run(capsys, project, synced, check_mode=check_mode)
        assert result["changed"] is False
        assert result["operations"] == []
        assert result["commands"] == []


@pytest.mark.parametrize("change", ["lock", "pyproject", "options", "drift"])
def test_any_change_since_the_last_sync_asks_poetry_again(capsys, host, project, synced, change):
    args = {}
    if change in ("lock", "pyproject"):
        with open(os.path.join(project, "poetry.lock" if change == "lock" else "pyproject.toml"), "a") as handle:
            handle.write("\n")
        host.expect(version("2.5.1"), Call.captured(["sync", "--dry-run"], "2.5.1", "dry-run-in-sync"))
    elif change == "options":
        args = {"without_groups": ["dev"], "root": False}
        host.expect(version("2.5.1"), Call.captured(["sync", "--dry-run", "--without=dev", "--no-root"], "2.5.1",
                                                    "dry-run-without-dev-no-root"))
    else:
        uninstall(synced, "click", "8.1.8")
        host.expect(version("2.5.1"), Call.captured(["sync", "--dry-run"], "2.5.1", "dry-run-in-sync"))
    result = run(capsys, project, synced, check_mode=True, **args)
    assert host.done()
    assert len(result["commands"]) == 2


def test_downloads_happen_before_removals(capsys, host, project, venv):
    # A Poetry 1.8 virtualenv as Poetry creates it (with setuptools, which its sync removes).
    make_virtualenv(venv, [("setuptools", "82.0.0")])
    host.expect(
        version("1.8.5"),
        Call.captured(["install", "--sync", "--dry-run"], "1.8.5", "dry-run-fresh", env=in_venv(venv)),
        # First without --sync: a source that fails fails the task before anything is removed.
        Call(["install"], stdout="  - Installing click (8.1.8)\n  - Installing iniconfig (2.1.0)\n"
                                 "  - Installing lockstep-sample-lib (1.1.0)\n"
                                 "Installing the current project: demo-app (0.1.0)\n",
             effect=lambda *a: install_packages(venv, LOCKED)),
        Call(["install", "--sync"], stdout="  - Removing setuptools (82.0.0)\n",
             effect=lambda *a: uninstall(venv, "setuptools", "82.0.0")),
    )
    result = run(capsys, project, venv)
    assert host.done()
    assert result["changed"] is True
    assert result["operations"][-2:] == [{"action": "remove", "name": "setuptools", "version": "82.0.0"},
                                         {"action": "install", "name": "demo-app", "version": "0.1.0"}]
    assert result["diff"] == {"before": {"setuptools": "82.0.0"}, "after": dict(sorted(LOCKED))}


def test_sources_failing_leave_pending_removals_undone(capsys, host, project, venv):
    make_virtualenv(venv, [("setuptools", "82.0.0")])
    host.expect(
        version("1.8.5"),
        Call.captured(["install", "--sync", "--dry-run"], "1.8.5", "dry-run-fresh"),
        Call.captured(["install"], "1.8.5", "sync-unreachable"),
        Call(["source", "show"], stdout=" name : private\n url : http://127.0.0.1:%s/simple/\n"
             % Call.captured([], "1.8.5", "sync-unreachable").stdout.split("port=", 1)[1].split(")", 1)[0]),
    )
    result = run(capsys, project, venv)
    assert host.done()
    assert result["failed"] is True
    assert "cannot reach the package index" in result["msg"] and "(source 'private')" in result["msg"]
    assert os.path.isdir(os.path.join(venv, "lib", "python3.11", "site-packages", "setuptools-82.0.0.dist-info"))


def test_project_reinstalled_at_the_same_version_is_no_change(capsys, host, project, venv):
    make_virtualenv(venv, LOCKED)
    host.expect(version("2.5.1"), Call.captured(["sync", "--dry-run"], "2.5.1", "dry-run-in-sync"))
    result = run(capsys, project, venv)
    assert result["changed"] is False
    assert len(result["commands"]) == 2


def test_project_version_change_is_an_update(capsys, host, project, venv):
    make_virtualenv(venv, LOCKED[:3] + [("demo-app", "0.0.9")])
    host.expect(
        version("2.5.1"),
        Call(["sync", "--dry-run"], stdout="Installing the current project: demo-app (0.1.0)\n"),
        Call(["sync"], stdout="Installing the current project: demo-app (0.1.0)\n",
             effect=lambda *a: (uninstall(venv, "demo-app", "0.0.9"), install_packages(venv, [("demo-app", "0.1.0")]))),
    )
    result = run(capsys, project, venv)
    assert host.done()
    assert result["operations"] == [{"action": "update", "name": "demo-app", "from": "0.0.9", "to": "0.1.0"}]


def test_failed_run_removes_the_virtualenv_it_created(capsys, host, project, venv):
    host.expect(*new_virtualenv_planned_and_created(host, venv), Call.captured(["sync"], "2.5.1", "sync-no-credentials"))
    result = run(capsys, project, venv)
    assert host.done()
    assert result["failed"] is True
    assert result["msg"].startswith("poetry sync failed: package source 'private' refused the credentials")
    assert not os.path.exists(venv)


def test_named_python_for_a_new_virtualenv(capsys, host, project, venv):
    host.expect(
        version("2.5.1"),
        Call([host.bin["python3.12"], "-m", "venv", "--without-pip", SCRATCH]),
        Call.captured(["sync", "--dry-run", "--only=main"], "2.5.1", "dry-run-in-sync"),
    )
    result = run(capsys, project, venv, check_mode=True, python="python3.12", only=["main"])
    assert host.done()
    # Everything else is "Already installed" in that capture; a new virtualenv gets the project.
    assert result["operations"] == [{"action": "install", "name": "demo-app", "version": "0.1.0"}]


def test_missing_interpreter_for_a_new_virtualenv(capsys, host, project, venv):
    host.expect(version("2.5.1"))
    result = run(capsys, project, venv, python="python3.99")
    assert result["failed"] is True
    assert result["msg"] == "cannot create the virtualenv %s: no Python interpreter python3.99" % venv
    assert not os.path.exists(venv)


def test_poetry_own_virtualenv_is_asked_for(capsys, host, project, venv):
    make_virtualenv(venv, LOCKED)
    host.expect(
        Call(["env", "info", "--path"], stdout=venv + "\n"),
        version("2.5.1"),
        Call.captured(["sync", "--dry-run"], "2.5.1", "dry-run-in-sync", env={"VIRTUAL_ENV": None}),
    )
    result = run(capsys, project, None)
    assert host.done()
    assert result["virtualenv"] == venv and result["changed"] is False
    host.expect(Call(["env", "info", "--path"], stdout=venv + "\n"))
    assert run(capsys, project, None)["commands"] == [host.seen[-1]]


@pytest.mark.parametrize("number", ["1.8.5", "2.5.1"])
def test_poetry_own_virtualenv_found_by_its_rules(capsys, host, project, monkeypatch, tmp_path, number):
    """Where Poetry's installation tells its version, its rules find the in-project .venv: the
    sync is planned in it, and the next run with nothing to do starts no Poetry at all."""
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POETRY_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("POETRY_CACHE_DIR", str(tmp_path / "cache"))
    executable = make_poetry_installation(tmp_path, number)
    in_project = os.path.join(project, ".venv")
    make_virtualenv(in_project, LOCKED)
    command = ["sync"] if number.startswith("2") else ["install", "--sync"]
    host.poetry = executable
    host.expect(Call.captured(command + ["--dry-run"], number, "dry-run-in-sync", env={"VIRTUAL_ENV": None}))
    result = run(capsys, project, None, executable=executable)
    assert host.done()
    assert result["virtualenv"] == in_project and result["changed"] is False
    assert result["commands"] == host.seen
    assert run(capsys, project, None, executable=executable)["commands"] == []


def test_no_lock_fails_before_any_command(capsys, host, project, venv):
    os.remove(os.path.join(project, "poetry.lock"))
    result = run(capsys, project, venv)
    assert result["failed"] is True
    assert result["msg"].startswith("no poetry.lock in %s: installing never resolves dependencies" % project)
    assert result["commands"] == []


def test_extras_and_all_extras_exclude_each_other(capsys, host, project, venv):
    result = run(capsys, project, venv, extras=["fancy"], all_extras=True)
    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"]
