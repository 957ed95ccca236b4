# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py) of lockstep.poetry.install's action: the module's own
no-op check (Installer.look() in module_utils/_install.py, shipped with this file), without the
wrapper a module run costs and without starting Poetry.

Its argument: {"params": the module's parameters, checked by the action against its argument
spec, "paths": the names of the path options, which are expanded here, on the host, as the
module expands them}. It answers {"no_op": true, "result": the module's result, "module_args":
the parameters as the module would have used them} when the stamp of the last sync proves that
nothing changed, else {"no_op": false, "reason": why not}: the environment is left to Poetry,
something changed, or a parameter is wrong (the module then says so)."""
import base64
import json
import os
import shutil
import subprocess
import sys

from ansible_collections.lockstep.poetry.plugins.module_utils._install import Installer
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PoetryError, PoetryRunner

# Where AnsibleModule.get_bin_path() looks after the PATH.
SBIN_DIRS = ["/sbin", "/usr/sbin", "/usr/local/sbin"]


class Host:
    """What PoetryRunner asks of the AnsibleModule it is given, from the standard library: a
    command found as get_bin_path() finds it, and a command run as run_command() runs it."""

    @staticmethod
    def get_bin_path(name, opt_dirs=()):
        dirs = list(opt_dirs) + os.environ.get("PATH", "").split(os.pathsep) + SBIN_DIRS
        return shutil.which(name, path=os.pathsep.join(dirs))

    @staticmethod
    def run_command(cmd, cwd=None, environ_update=None, check_rc=False):
        del check_rc  # PoetryRunner checks the exit code itself
        done = subprocess.run(cmd, cwd=cwd, env=dict(os.environ, **(environ_update or {})), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
        return done.returncode, done.stdout, done.stderr


def main(args):
    params = dict(args["params"])
    for name in args["paths"]:
        if params.get(name) is not None:  # the module's type path
            params[name] = os.path.expanduser(os.path.expandvars(params[name]))
    try:
        runner = PoetryRunner(Host(), params["executable"], params["env"])
        _venv, _installed, result = Installer.from_params(runner, params).look(ask_poetry=False)
    except PoetryError as error:
        return {"no_op": False, "reason": error.msg}
    if result is None:
        return {"no_op": False, "reason": "not proven unchanged since the last sync"}
    return {"no_op": True, "result": dict(result, commands=runner.commands), "module_args": params}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
