# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way the collection's actions run their own code on a host.

A helper is one Python file with the standard library alone: the scripts in
plugin_utils/_helpers/ (and module_utils/_release.py, which the app_release module also imports).
It runs as ``PYTHON -I -S HELPER``: isolated and without site-packages, so neither its
directory, PYTHON* variables nor .pth files change what it imports; the task's ``environment``
comes first, as it does for a module. Its arguments, base64 of one JSON object, travel inside the
program, as a module's travel inside its payload: the program's first line puts them into
``sys.argv[1]``, where the helper reads them. They are never on a command line, where the host's
process list would show them to every user (a service's environment file, with its secrets, is
written by a helper). It prints its answer as one JSON object on a line of its own.

A helper may import the collection's own module_utils, so that it runs a module's code rather
than a copy of it (install_noop.py runs the install module's no-op check). Those files travel
with it: helper_program() puts their sources, and those they import, behind _helpers/shipped.py,
which makes Python's import find them there, and runs the helper; the host gets one program, as
with any other helper. They must need no more than the standard library where the helper goes:
a file that imports Ansible at its top level is refused here (an import inside a function is
left alone, for the paths helpers do not take).

Where the connection pipelines modules (the pipelining setting, or ``ansible_pipelining`` on the
task), the helper goes to Python's standard input, as a module would, and nothing is written on
the host; otherwise it is copied into the task's temporary directory first.

Whatever else reaches the output (a warning from sudo, a login banner, a line a shell profile
echoes; over SSH with a pseudo-terminal stderr joins stdout with CRLF line ends) is passed
over: the answer is the last line that is a JSON object. A helper that fails before it answers
(a traceback, a Python that does not run) is reported with the last line it wrote, which names
what went wrong.
"""

import ast
import base64
import functools
import json
import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six.moves import shlex_quote

# The helper scripts, beside this file.
HELPERS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_helpers")
# The collection's module_utils, as Python imports them and as files.
MODULE_UTILS = "ansible_collections.lockstep.poetry.plugins.module_utils"
MODULE_UTILS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils")


class HelperError(AnsibleError):
    """The helper did not run or did not answer; the message says what happened."""


def helper_path(name):
    """The file of the helper called name (plugin_utils/_helpers/NAME.py)."""
    return os.path.join(HELPERS_DIR, name + ".py")


def _module_utils_imported(tree):
    """The names of the collection's module_utils that a parsed file imports, anywhere in it."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == MODULE_UTILS:
            for alias in node.names:
                yield "%s.%s" % (MODULE_UTILS, alias.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(MODULE_UTILS + "."):
            yield node.module


def _imports_ansible(tree):
    """Whether a parsed file imports Ansible at its top level."""
    for node in tree.body:
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        if any(name == "ansible" or name.startswith("ansible.") for name in names):
            return True
    return False


def shipped_sources(script):
    """{module name: source} of the collection's module_utils that the file script imports,
    directly or through one another. HelperError when one imports Ansible at its top level."""
    sources = {}
    with open(script) as handle:
        pending = list(_module_utils_imported(ast.parse(handle.read(), script)))
    while pending:
        name = pending.pop()
        if name in sources:
            continue
        path = os.path.join(MODULE_UTILS_DIR, name[len(MODULE_UTILS) + 1:] + ".py")
        with open(path) as handle:
            sources[name] = handle.read()
        tree = ast.parse(sources[name], path)
        if _imports_ansible(tree):
            raise HelperError("%s cannot run as part of the helper %s: it imports Ansible" % (
                path, os.path.basename(script)))
        pending.extend(_module_utils_imported(tree))
    return sources


@functools.lru_cache(maxsize=None)
def helper_program(script):
    """The program (text) that runs the helper file script on a host: the file itself, or, when
    it imports the collection's module_utils, _helpers/shipped.py followed by
    ``run(SOURCES, MAIN)`` (shipped_sources() and the helper's own source)."""
    with open(script) as handle:
        main = handle.read()
    sources = shipped_sources(script)
    if not sources:
        return main
    with open(helper_path("shipped")) as handle:
        return "%s\n\nrun(%r, %r)\n" % (handle.read(), sources, main)


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


def host_spec(spec):
    """An argument spec to check a helper's arguments with on the controller: its path options
    as strings, which the host expands (as the module would there)."""
    return dict((name, dict(option, type="str") if option.get("type") == "path" else option)
                for name, option in spec.items())


def program_with_arguments(script, args):
    """The program that runs script (a helper file on the controller) with args (a JSON object):
    its first line puts them into sys.argv[1], as base64 (which needs no quoting in Python)."""
    argument = to_text(base64.b64encode(json.dumps(args).encode()))
    return "import sys; sys.argv[1:] = [%r]\n%s" % (argument, helper_program(script))


def helper_command(action, python, script, args):
    """(command, standard input) that run script (a helper file on the controller) on the host
    with python, with args (a JSON object) inside the program and the task's environment."""
    program = program_with_arguments(script, args)
    if action._is_pipelining_enabled("new"):
        in_data = program.encode()
        path = "-"
    else:
        shell = action._connection._shell
        if shell.tmpdir is None:
            action._make_tmp_path()
        path = shell.join_path(shell.tmpdir, os.path.basename(script))
        action._transfer_data(path, program)
        action._fixup_perms2((shell.tmpdir, path))
        in_data = None
    words = [action._compute_environment_string(), shlex_quote(python), "-I", "-S", shlex_quote(path)]
    return " ".join(word for word in words if word), in_data


def run_helper(action, python, script, args):
    """Runs script (a helper file on the controller) on the host with python, with args (a JSON
    object) as its argument; returns the JSON object it answered. Raises HelperError when it
    answered nothing."""
    command, in_data = helper_command(action, python, script, args)
    return read_answer(action._low_level_execute_command(command, sudoable=True, in_data=in_data))
