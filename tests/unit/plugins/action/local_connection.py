# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions of the collection run for real on this machine: the connection's commands run here,
in a shell, and its transfers are copies."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from unittest import mock

from ansible.plugins.action import ActionBase


def local_action(cls, tmp_path, args, check_mode=False, diff=False):
    """An action of class cls for a task with args, whose temporary directory on the "host" is
    tmp_path/remote-tmp; relative controller paths are relative to tmp_path."""
    task = mock.Mock(args=dict(args), check_mode=check_mode, diff=diff)
    shell = mock.Mock(tmpdir=str(tmp_path / "remote-tmp"))
    shell.join_path = os.path.join
    loader = mock.Mock()
    loader.path_dwim = lambda path: os.path.join(str(tmp_path), path)
    loader.get_real_file = lambda path, decrypt=True: path
    plugin = cls(task, mock.Mock(_shell=shell), mock.Mock(), loader, None, None)
    os.mkdir(shell.tmpdir)

    def execute(command, sudoable=True):
        result = subprocess.run(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True, check=False)
        return {"rc": result.returncode, "stdout": result.stdout, "stderr": result.stderr}

    plugin._transfer_file = shutil.copy
    plugin._fixup_perms2 = lambda paths: None
    plugin._low_level_execute_command = execute
    plugin._remove_tmp_path = functools.partial(shutil.rmtree, ignore_errors=True)
    plugin._find_needle = lambda kind, path: os.path.join(str(tmp_path), path)
    return plugin


def run_action(plugin, task_vars=None):
    """The action's result; ActionBase's own preparations (the temporary directory) are done."""
    with mock.patch.object(ActionBase, "run", return_value={}):
        return plugin.run(task_vars=task_vars or {})
