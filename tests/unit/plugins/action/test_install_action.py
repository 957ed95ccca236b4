# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.install's action: when the helper proves a no-op on the host, its result is
the module's own (the module run for real beside it, as `python -m`); in every other case the
module runs. The helper runs for real here, with this Python and a Poetry installation that
never runs (fake_poetry)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.lockstep.poetry.plugins.action import install
from ansible_collections.lockstep.poetry.plugins.module_utils._install import Installer, Project, Selection
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PoetryRunner
from ansible_collections.lockstep.poetry.tests.unit.plugins.action.local_connection import local_action, run_action
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.fake_poetry import (
    make_poetry_installation,
    make_virtualenv,
)

LOCKED = [("click", "8.1.8"), ("demo-app", "0.1.0")]
SECRET = "s3cret-value"


@pytest.fixture
def synced(tmp_path):
    """A project, a virtualenv and a Poetry as a successful sync leaves them (the stamp
    written); Poetry's own configuration and cache are in tmp_path."""
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.poetry]\nname = "demo-app"\nversion = "0.1.0"\n')
    (project / "poetry.lock").write_text('[[package]]\nname = "click"\nversion = "8.1.8"\n')
    venv = str(tmp_path / "venv")
    make_virtualenv(venv, LOCKED)
    poetry = make_poetry_installation(tmp_path, "2.5.1")
    Installer(PoetryRunner(None, poetry), Project(str(project)), Selection(), virtualenv=venv).write_stamp(venv)
    environ = {"POETRY_CONFIG_DIR": str(tmp_path / "config"), "POETRY_CACHE_DIR": str(tmp_path / "cache")}
    return {"project_path": str(project), "virtualenv": venv, "executable": poetry, "environ": environ}


def run_module(args, check_mode, diff, environ):
    """The module's result, run for real as `python -m` with its arguments in a file."""
    with open(os.path.join(os.path.dirname(args["project_path"]), "args.json"), "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)}, handle)
    done = subprocess.run([sys.executable, "-m", "ansible_collections.lockstep.poetry.plugins.modules.install",
                           handle.name], env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **environ),
                          stdout=subprocess.PIPE, check=True)
    return json.loads(done.stdout)


def run(tmp_path, args, check_mode=False, diff=False, environment=None, task_vars=None, pipelining=False):
    """The action's result, and the module runs it asked for (the module then answers with
    its real result)."""
    plugin = local_action(install.ActionModule, tmp_path, args, check_mode, diff, pipelining, environment)
    module_runs = []

    def execute_module(module_name, task_vars=None, wrap_async=False):
        module_runs.append(module_name)
        return run_module(args, check_mode, diff, environment or {})

    plugin._execute_module = execute_module
    result = run_action(plugin, {"ansible_python_interpreter": sys.executable} if task_vars is None else task_vars)
    return result, module_runs, plugin.commands


def task_args(synced, **args):
    return dict({name: synced[name] for name in ("project_path", "virtualenv", "executable")}, **args)


@pytest.mark.parametrize("check_mode, diff, pipelining", [
    (False, False, False), (True, True, False), (False, True, True), (True, False, True)])
def test_a_proven_no_op_is_the_module_result_without_a_module_run(tmp_path, synced, check_mode, diff, pipelining):
    args = task_args(synced, env=dict(synced["environ"], POETRY_HTTP_BASIC_X_PASSWORD=SECRET))
    result, module_runs, commands = run(tmp_path, args, check_mode, diff, pipelining=pipelining)
    assert module_runs == []
    [(command, with_input)] = commands
    assert " -I -S " in command and with_input is pipelining
    assert result == run_module(args, check_mode, diff, {})
    assert result["changed"] is False and result["commands"] == [] and ("diff" in result) is diff
    assert SECRET not in json.dumps(result)


def test_the_task_environment_reaches_the_helper(tmp_path, synced):
    # Without the virtualenv option, an active virtualenv is Poetry's choice: the helper sees it
    # only in the task's environment.
    args = task_args(synced)
    del args["virtualenv"]
    environment = dict(synced["environ"], VIRTUAL_ENV=synced["virtualenv"])
    result, module_runs, _commands = run(tmp_path, args, environment=[environment])
    assert module_runs == [] and result["virtualenv"] == synced["virtualenv"]
    assert result == run_module(args, False, False, environment)
    # And its env option, as it reaches the module.
    result, module_runs, _commands = run(tmp_path, dict(args, env=environment))
    assert module_runs == [] and result["virtualenv"] == synced["virtualenv"]


def change_lock(synced):
    with open(os.path.join(synced["project_path"], "poetry.lock"), "a") as handle:
        handle.write("\n")


def poetry_without_version(synced):
    # An installation that does not tell its version: Poetry's rules need Poetry itself.
    with open(synced["executable"], "w") as handle:
        handle.write("#!/bin/sh\nexit 1\n")


# situation, what makes it, the task's arguments, its variables, whether the helper runs
@pytest.mark.parametrize("situation, change, args, task_vars, helper_runs", [
    ("changed since the last sync", change_lock, {}, None, True),
    ("the environment left to Poetry", poetry_without_version, {"virtualenv": None}, None, True),
    ("wrong arguments", None, {"extras": ["a"], "all_extras": True}, None, False),
    ("a Python that does not run", None, {}, {"ansible_python_interpreter": "/nonexistent/python3"}, True),
    ("the host's Python not yet discovered", None, {}, {"ansible_python_interpreter": "auto_silent"}, False),
])
def test_otherwise_the_module_runs(tmp_path, synced, situation, change, args, task_vars, helper_runs):
    if change:
        change(synced)
    args = dict(task_args(synced, env=synced["environ"]), **args)
    plugin = local_action(install.ActionModule, tmp_path, args)
    module_runs = []
    plugin._execute_module = lambda module_name, task_vars=None, wrap_async=False: module_runs.append(module_name) or {
        "changed": True}
    result = run_action(plugin, {"ansible_python_interpreter": sys.executable} if task_vars is None else task_vars)
    assert module_runs == ["lockstep.poetry.install"], situation
    assert result == {"changed": True}
    assert len(plugin.commands) == int(helper_runs)


def test_discovered_python_is_used(tmp_path, synced):
    task_vars = {"ansible_python_interpreter": "auto", "ansible_facts": {"discovered_interpreter_python": sys.executable}}
    result, module_runs, commands = run(tmp_path, task_args(synced, env=synced["environ"]), task_vars=task_vars)
    assert module_runs == [] and result["changed"] is False
    assert commands[0][0].startswith(sys.executable + " -I -S ")
