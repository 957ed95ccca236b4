# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way the collection's actions run their own code on a host.

A helper is one Python file with the standard library alone: the scripts in
plugin_utils/_helpers/ (and module_utils/_release.py, which the app_release module also imports).
It runs as ``PYTHON -I -S HELPER BASE64``: isolated and without site-packages, so neither its
directory, PYTHON* variables nor .pth files change what it imports, and with its arguments as
base64 of one JSON object, which needs no quoting for any shell. It prints its answer as one
JSON object on a line of its own.

Where the connection pipelines modules (the pipelining setting, or ``ansible_pipelining`` on the
task), the helper goes to Python's standard input, as a module would, and nothing is written on
the host; otherwise it is copied into the task's temporary directory first.

Whatever else reaches the output (a warning from sudo, a login banner, a line a shell profile
echoes; over SSH with a pseudo-terminal stderr joins stdout with CRLF line ends) is passed
over: the answer is the last line that is a JSON object. A helper that fails before it answers
(a traceback, a Python that does not run) is reported with the last line it wrote, which names
what went wrong.
"""

import base64
import json
import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six.moves import shlex_quote

# The helper scripts, beside this file.
HELPERS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_helpers")


class HelperError(AnsibleError):
    """The helper did not run or did not answer; the message says what happened."""


def helper_path(name):
    """The file of the helper called name (plugin_utils/_helpers/NAME.py)."""
    return os.path.join(HELPERS_DIR, name + ".py")


def read_answer(output):
    """The helper's answer in the output of its command ({rc, stdout, stderr}): the last line of
    stdout that is a JSON object, whatever else was printed around it (an answer may say that the
    helper failed, with failed and msg). Raises HelperError with what the helper (or the shell, or
    Python) said last when there is none."""
    for line in reversed(output.get("stdout", "").splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            answer = json.loads(line)
        except ValueError:
            continue
        if isinstance(answer, dict):
            return answer
    raise HelperError(last_words(output))


def last_words(output):
    """What a command that did not answer said last: a traceback ends with the exception, a shell
    with the command it could not run. stderr first, stdout if stderr is empty (over a
    pseudo-terminal both are in stdout)."""
    for stream in ("stderr", "stdout"):
        lines = [line.strip() for line in output.get(stream, "").splitlines() if line.strip()]
        if lines:
            return "%s (exit code %s)" % (lines[-1], output.get("rc"))
    return "no answer (exit code %s)" % output.get("rc")


def run_helper(action, python, script, args):
    """Runs script (a helper file on the controller) on the host with python, with args (a JSON
    object) as its argument; returns the JSON object it answered. Raises HelperError when it
    answered nothing."""
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
    return read_answer(output)
