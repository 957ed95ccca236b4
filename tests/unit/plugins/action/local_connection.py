# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions of the collection run for real on this machine: the connection's commands run here,
in a shell, and its transfers are copies."""

from __future__ import annotations

import os
import shutil
import subprocess
from unittest import mock

from ansible.plugins.action import ActionBase
from ansible.plugins.shell.sh import ShellModule


def local_action(cls, tmp_path, args, check_mode=False, diff=False, pipelining=False, environment=None):
    """An action of class cls for a task with args (and the task's environment), whose temporary
    directory on the "host", made when the action asks for it, is tmp_path/remote-tmp; relative
    controller paths are relative to tmp_path. With pipelining, the connection pipelines modules.
    The commands the action ran are in its attribute commands, as (command, whether it had
    input), and how often it made its temporary directory in tmp_paths_made."""
    task = mock.Mock(args=dict(args), check_mode=check_mode, diff=diff, environment=environment, delegate_to=None,
                     async_val=0)
    shell = mock.Mock(tmpdir=None)
    shell.join_path = os.path.join
    shell.env_prefix = ShellModule().env_prefix
    loader = mock.Mock()
    loader.path_dwim = lambda path: os.path.join(str(tmp_path), path)
    loader.get_real_file = lambda path, decrypt=True: path
    templar = mock.Mock(template=lambda value: value)
    plugin = cls(task, mock.Mock(_shell=shell, has_native_async=False), mock.Mock(), loader, templar, None)
    plugin.commands = []
    plugin.tmp_paths_made = 0

    def make_tmp_path():
        plugin.tmp_paths_made += 1
        shell.tmpdir = str(tmp_path / "remote-tmp")
        os.mkdir(shell.tmpdir)
        return shell.tmpdir

    def execute(command, sudoable=True, in_data=None):
        plugin.commands.append((command, in_data is not None))
        result = subprocess.run(command, shell=True, input=in_data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                check=False)
        return {"rc": result.returncode, "stdout": result.stdout.decode(), "stderr": result.stderr.decode()}

    plugin._is_pipelining_enabled = lambda module_style, wrap_async=False: pipelining
    plugin._make_tmp_path = make_tmp_path
    plugin._transfer_file = shutil.copy
    plugin._fixup_perms2 = lambda paths: None
    plugin._low_level_execute_command = execute

    def remove_tmp_path(path):
        if path:
            shutil.rmtree(path, ignore_errors=True)
        shell.tmpdir = None

    plugin._remove_tmp_path = remove_tmp_path
    plugin._find_needle = lambda kind, path: os.path.join(str(tmp_path), path)
    return plugin


def run_action(plugin, task_vars=None):
    """The action's result; ActionBase's own preparations (the temporary directory) are done."""
    with mock.patch.object(ActionBase, "run", return_value={}):
        return plugin.run(task_vars=task_vars or {})
