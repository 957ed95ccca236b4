# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the collection's actions run a helper script on the host: without a module's wrapper,
which costs a third of a second or more per task on ansible-core 2.19."""

import base64
import json
import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six.moves import shlex_quote


class HelperError(AnsibleError):
    """The helper did not run, or did not answer with JSON; the message says what happened."""


def run_helper(action, python, script, args):
    """Runs script (a file on the controller) on the host with python, with args as its argument:
    base64 of JSON, which needs no quoting for any shell. Python runs isolated and without
    site-packages (-I -S): helpers need only the standard library, and neither PYTHON* variables
    nor .pth files change what they import. Where the connection pipelines modules (the
    pipelining setting), the script goes to Python's standard input as a module would, and
    nothing is written on the host; otherwise it is transferred to the task's temporary
    directory first. Returns the JSON object the helper printed last."""
    argument = to_text(base64.b64encode(json.dumps(args).encode()))
    if action._is_pipelining_enabled("new"):
        with open(script, "rb") as handle:
            in_data = handle.read()
        program = "-"
    else:
        shell = action._connection._shell
        if shell.tmpdir is None:
            action._make_tmp_path()
        program = shell.join_path(shell.tmpdir, os.path.basename(script))
        action._transfer_file(script, program)
        action._fixup_perms2((shell.tmpdir, program))
        in_data = None
    output = action._low_level_execute_command(
        " ".join([shlex_quote(python), "-I", "-S", shlex_quote(program), argument]), sudoable=True, in_data=in_data)
    if output["rc"] == 0:
        try:
            # Over a pseudo-terminal stderr joins stdout: the JSON is the last line.
            return json.loads(output["stdout"].strip().splitlines()[-1])
        except (ValueError, IndexError):
            pass
    raise HelperError((output["stderr"] or output["stdout"] or "exit code %d" % output["rc"]).strip())
