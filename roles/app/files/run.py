# Runs one of the application's commands for lockstep.poetry.app (a pre-switch command, the
# health check): in a release's directory, with the service's environment file loaded by sh and
# the virtualenv first on the PATH, so that no value of the environment appears on a command line.
# argv: base64 of a JSON object {"chdir": directory, "env_file": path, "venv": path, "command":
# a string, split like ansible.builtin.command splits it (no shell), or a list of arguments}.
import base64
import json
import os
import shlex
import sys

LOAD_ENVIRONMENT = 'set -a && . "$0" && set +a && PATH="$VIRTUAL_ENV/bin:$PATH" && exec "$@"'


def main():
    args = json.loads(base64.b64decode(sys.argv[1]))
    command = args["command"]
    if not isinstance(command, list):
        command = shlex.split(command)
    os.chdir(args["chdir"])
    os.environ["VIRTUAL_ENV"] = args["venv"]
    os.execv("/bin/sh", ["/bin/sh", "-c", LOAD_ENVIRONMENT, args["env_file"]] + command)


main()
