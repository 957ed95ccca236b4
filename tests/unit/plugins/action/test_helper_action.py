# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.helper's action, run for real on this machine (the connection's commands run
here, in a shell)."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.lockstep.poetry.plugins.action import helper
from ansible_collections.lockstep.poetry.tests.unit.plugins.action.local_connection import local_action, run_action


def action(tmp_path, args, check_mode=False, pipelining=False):
    return local_action(helper.ActionModule, tmp_path, args, check_mode, pipelining=pipelining)


@pytest.mark.parametrize("pipelining", [False, True])
def test_runs_the_helper_on_the_host(tmp_path, pipelining):
    (tmp_path / "current").symlink_to("releases/1")
    plugin = action(tmp_path, {"name": "switch_links", "python": sys.executable,
                               "args": {"links": [[str(tmp_path / "current"), "releases/2"]]}}, pipelining=pipelining)
    result = run_action(plugin)
    assert not result.get("failed"), result
    assert result["changed"] is True and result["links_changed"] == [str(tmp_path / "current")]
    assert os.readlink(str(tmp_path / "current")) == "releases/2"
    # On Python's standard input when pipelined, else from the temporary directory, gone afterwards.
    [(command, with_input)] = plugin.commands
    # Its arguments are in the program, not on the command line.
    assert command == "%s -I -S %s" % (
        sys.executable, "-" if pipelining else str(tmp_path / "remote-tmp" / "switch_links.py"))
    assert with_input is pipelining
    assert not os.path.exists(str(tmp_path / "remote-tmp"))


def test_check_mode_predicts(tmp_path):
    (tmp_path / "current").symlink_to("releases/1")
    result = run_action(action(tmp_path, {"name": "switch_links", "python": sys.executable,
                                          "args": {"links": [[str(tmp_path / "current"), "releases/2"]]}},
                               check_mode=True))
    assert result["changed"] is True
    assert os.readlink(str(tmp_path / "current")) == "releases/1"


def test_a_helper_that_does_not_run_in_check_mode_is_skipped(tmp_path):
    plugin = action(tmp_path, {"name": "run_command", "python": sys.executable,
                               "args": {"chdir": "/", "env_file": "/dev/null", "venv": "/nonexistent", "command": "true"}},
                    check_mode=True)
    result = run_action(plugin)
    assert result["skipped"] and not result["changed"]
    assert plugin.commands == []


def test_a_failing_command_fails_the_task_with_its_message(tmp_path):
    result = run_action(action(tmp_path, {"name": "run_command", "python": sys.executable,
                                          "args": {"chdir": str(tmp_path), "env_file": "/dev/null",
                                                   "venv": "/nonexistent", "command": "false"}}))
    assert result["failed"] and result["rc"] == 1 and result["msg"] == "false exited with 1"


@pytest.mark.parametrize("args, message", [
    pytest.param({"name": "format_disk", "python": "python3"}, "format_disk", id="unknown helper"),
    pytest.param({"name": "switch_links", "python": "python3", "args": {}}, "Invalid args for the helper switch_links: ",
                 id="its arguments are checked against its spec"),
    pytest.param({"name": "switch_links", "python": "/nonexistent/python3", "args": {"links": []}},
                 "The helper switch_links did not answer with Python '/nonexistent/python3': ",
                 id="a python that does not run"),
])
def test_bad_input(tmp_path, args, message):
    plugin = action(tmp_path, args)
    result = run_action(plugin)
    assert result["failed"] and message in result["msg"], result
