# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in-process, the way Ansible would, and return its result."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args


def run_module(module, capsys, args, check_mode=False, diff=False):
    """The JSON result of ``module.main()`` with ``args``; ``result["failed"]`` tells failures."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)
