# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): runs one of the application's commands for
lockstep.poetry.app (a pre-switch command, the health check) in a release's directory, with the
service's environment file loaded by sh and the virtualenv first on the PATH, so that no value of
the environment appears on a command line. The command is a string, split like
ansible.builtin.command splits it (no shell), or a list of arguments. Answers with its exit code
and output; it failed unless the exit code is 0."""
import base64
import json
import os
import shlex
import subprocess
import sys

ARGUMENT_SPEC = {
    "chdir": {"type": "str", "required": True},
    "env_file": {"type": "str", "required": True},
    "venv": {"type": "str", "required": True},
    "command": {"type": "raw", "required": True},
}
# The application's commands change what they like: not run in check mode.
RUNS_IN_CHECK_MODE = False

LOAD_ENVIRONMENT = 'set -a && . "$0" && set +a && PATH="$VIRTUAL_ENV/bin:$PATH" && exec "$@"'


def main(args):
    command = args["command"]
    if not isinstance(command, list):
        command = shlex.split(command)
    result = subprocess.run(
        ["/bin/sh", "-c", LOAD_ENVIRONMENT, args["env_file"]] + command, cwd=args["chdir"],
        env=dict(os.environ, VIRTUAL_ENV=args["venv"]), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    answer = {"changed": True, "cmd": command, "rc": result.returncode,
              "stdout": result.stdout, "stderr": result.stderr}
    if result.returncode != 0:
        last = (result.stderr.strip() or result.stdout.strip()).splitlines()
        answer.update(failed=True, msg="%s exited with %d%s" % (
            shlex.join(command), result.returncode, ": " + last[-1] if last else ""))
    return answer


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
