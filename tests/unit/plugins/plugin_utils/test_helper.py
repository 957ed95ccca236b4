# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a helper's answer is read from what the host printed. The fixtures are real: a helper run
over SSH with a pseudo-terminal (how Ansible runs commands without pipelining, stderr joined to
stdout with CRLF line ends) as a sudo user, on a host whose shell start-up file greets and whose
sudo warns on every call (tests/testbed/ssh_host.sh ... noisy); kept as JSON strings, which keep
the CRLF line ends that a text file may not have."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.lockstep.poetry.plugins.plugin_utils import _helper
from ansible_collections.lockstep.poetry.plugins.plugin_utils._helper import HelperError, read_answer

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


with open(os.path.join(FIXTURES, "ssh-tty-noisy.json")) as fixtures:
    CAPTURED = json.load(fixtures)


def test_the_answer_among_a_noisy_login_over_a_terminal():
    output = CAPTURED["answer"]
    assert "\r\n" in output["stdout"] and "world writable" in output["stdout"]
    assert read_answer(output) == {"changed": True, "links_changed": ["/srv/shopfront-ssh/current"]}


@pytest.mark.parametrize("fixture, message", [
    pytest.param("traceback",
                 "FileNotFoundError: [Errno 2] No such file or directory: 'y' -> '/nonexistent/x.new' (exit code 1)",
                 id="the helper raised"),
    pytest.param("no-python", "/bin/sh: 1: /usr/bin/python3.0: not found (exit code 127)", id="no such python"),
])
def test_a_helper_that_did_not_answer_is_reported_by_what_it_said_last(fixture, message):
    with pytest.raises(HelperError) as raised:
        read_answer(CAPTURED[fixture])
    assert raised.value.message == message


@pytest.mark.parametrize("stdout, stderr, answer", [
    pytest.param('{"changed": false}\n', "", {"changed": False}, id="quiet"),
    pytest.param('Welcome to web1\n{"changed": false}\n', "sudo: unable to resolve host web1\n",
                 {"changed": False}, id="pipelined: a greeting on stdout, sudo's warning on stderr"),
    pytest.param('{ banner in braces }\n{"changed": false}\n{also not json\n', "", {"changed": False},
                 id="lines that look like JSON but are not"),
    pytest.param('["a", "list"]\n{"changed": true}\n', "", {"changed": True}, id="only an object is an answer"),
    pytest.param('{"failed": true, "msg": "Refused to unpack"}\n', "", {"failed": True, "msg": "Refused to unpack"},
                 id="an answer that says the helper failed"),
])
def test_the_answer_is_the_last_json_object(stdout, stderr, answer):
    assert read_answer({"rc": 0, "stdout": stdout, "stderr": stderr}) == answer


@pytest.mark.parametrize("output, message", [
    pytest.param({"rc": 1, "stdout": "Welcome\n", "stderr": "Traceback ...\nValueError: bad\n\n"},
                 "ValueError: bad (exit code 1)", id="stderr's last line first"),
    pytest.param({"rc": 255, "stdout": "", "stderr": ""}, "no answer (exit code 255)", id="nothing at all"),
])
def test_no_answer(output, message):
    with pytest.raises(HelperError) as raised:
        read_answer(output)
    assert raised.value.message == message


def test_module_utils_travel_with_the_helper_that_imports_them():
    program = _helper.helper_program(_helper.helper_path("install_noop"))
    shipped = _helper.shipped_sources(_helper.helper_path("install_noop"))
    # Imported directly, through one another, and inside a function (_runner's explanations).
    assert {"_install", "_runner", "_poetry_env", "_toml_read", "_poetry_failures"} <= {
        name.rsplit(".", 1)[1] for name in shipped}
    assert "%s._poetry_module" % _helper.MODULE_UTILS not in shipped
    assert program.endswith("\n") and "\nrun({" in program
    # A helper without them runs as it is.
    with open(_helper.helper_path("end_deploy")) as handle:
        assert _helper.helper_program(_helper.helper_path("end_deploy")) == handle.read()


def test_module_utils_that_import_ansible_cannot_travel(tmp_path):
    script = tmp_path / "helper.py"
    script.write_text("from %s._poetry_module import run_task\n" % _helper.MODULE_UTILS)
    with pytest.raises(_helper.HelperError, match=r"_poetry_module.py cannot run as part of the helper helper.py"):
        _helper.shipped_sources(str(script))


class PipeliningAction:
    """What helper_command asks of an action: a connection that pipelines, and the task's
    environment as a string (none here)."""

    def _is_pipelining_enabled(self, module_style):
        return True

    def _compute_environment_string(self):
        return ""


def test_arguments_travel_inside_the_program_never_on_the_command_line(tmp_path):
    secret = str(tmp_path / "DATABASE_URL=postgres:app:s3cret@db")
    command, program = _helper.helper_command(PipeliningAction(), sys.executable, _helper.helper_path("end_deploy"),
                                              {"scratch": None, "lock": secret, "token": "t"})
    assert command == "%s -I -S -" % sys.executable
    # The helper got them all the same: it read the lock file named, which is not there.
    answer = subprocess.run(command.split(), input=program, stdout=subprocess.PIPE, check=True).stdout
    assert json.loads(answer) == {"changed": False, "released": False}
    assert program.decode().split("\n", 1)[1] == _helper.helper_program(_helper.helper_path("end_deploy"))
