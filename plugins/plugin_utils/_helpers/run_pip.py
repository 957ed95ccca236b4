# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): runs pip in a virtualenv of lockstep.poetry.app that has
no pip of its own (the role makes them with `venv --without-pip`, as Poetry does): pip runs from
its wheel with the virtualenv's Python (VENV/bin/python PIP.whl/pip ARGS), so it installs into
and removes from that virtualenv. The wheel is the host's Python's own (the one venv's ensurepip
would copy in: the planner names it, or the directory that holds it). With `make_with`, the
virtualenv is made first with that Python when it is not there yet; `remove` lists what goes
once pip succeeded (the unpacked wheelhouse). The host's pip settings (another index,
constraints) do not apply. Answers with pip's exit code and output; it failed unless that is 0."""
import base64
import glob
import json
import os
import shutil
import subprocess
import sys

ARGUMENT_SPEC = {
    "venv": {"type": "str", "required": True},
    # pip's wheel, or the directory that holds it (the OS package just installed it there).
    "pip_wheel": {"type": "str", "required": True},
    "args": {"type": "list", "elements": "str", "required": True},
    "make_with": {"type": "str"},
    "remove": {"type": "list", "elements": "str", "default": []},
}
# pip changes the virtualenv: not run in check mode.
RUNS_IN_CHECK_MODE = False

PIP_ENVIRONMENT = {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}


def newest_pip_wheel(directory):
    """The newest pip-VERSION-*.whl in directory; None when it has none. (inspect_app has the
    same few lines: a helper imports nothing but the standard library.)"""
    def version(path):
        return tuple(int(part) if part.isdigit() else 0 for part in os.path.basename(path).split("-")[1].split("."))
    found = sorted(glob.glob(os.path.join(directory, "pip-*.whl")), key=version)
    return found[-1] if found else None


def failure(what, result):
    last = (result.stderr.strip() or result.stdout.strip()).splitlines()
    return "%s exited with %d%s" % (what, result.returncode, ": " + last[-1] if last else "")


def main(args):
    wheel = newest_pip_wheel(args["pip_wheel"]) if os.path.isdir(args["pip_wheel"]) else args["pip_wheel"]
    if not wheel or not os.path.isfile(wheel):
        return {"failed": True, "changed": False,
                "msg": "there is no wheel of pip at %s to run pip with" % args["pip_wheel"]}
    python = os.path.join(args["venv"], "bin", "python")
    run = dict(stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
               check=False)
    made = False
    if args["make_with"] and not os.path.exists(python):
        result = subprocess.run([args["make_with"], "-m", "venv", "--without-pip", args["venv"]], **run)
        if result.returncode != 0:
            return {"failed": True, "changed": False, "rc": result.returncode,
                    "msg": failure("making the virtualenv %s" % args["venv"], result)}
        made = True
    cmd = [python, os.path.join(wheel, "pip")] + args["args"]
    result = subprocess.run(cmd, env=dict(os.environ, **PIP_ENVIRONMENT), **run)
    answer = {"changed": True, "made_venv": made, "cmd": cmd, "rc": result.returncode,
              "stdout": result.stdout, "stderr": result.stderr}
    if result.returncode != 0:
        answer.update(failed=True, msg=failure("pip %s" % " ".join(args["args"][:1]), result))
        return answer
    for path in args["remove"]:
        shutil.rmtree(path, ignore_errors=True)
    return answer


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
