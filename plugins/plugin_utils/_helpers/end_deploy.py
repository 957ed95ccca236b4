# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): ends a run of lockstep.poetry.app, whatever happened in
it. Removes the scratch space that inspect_app made for the run (`scratch`), also in check mode,
which writes there; and releases the deploy lock (`lock`, the lock file's path, and `token`, the
one this run wrote into it; taken by inspect_app, see plugin_utils/_deploy_lock.py) if this run
still holds it: a run that took it over since (poetry_app_break_lock) keeps it. Answers whether
it released the lock."""
import base64
import json
import os
import shutil
import sys

ARGUMENT_SPEC = {
    "scratch": {"type": "str"},
    "lock": {"type": "str"},
    "token": {"type": "str"},
}
# Check mode takes no lock, but has scratch space.
RUNS_IN_CHECK_MODE = True


def release(path, token):
    """The answer for the lock at path: released when this run (token) still holds it."""
    try:
        with open(path) as handle:
            holder = json.load(handle)
    except (OSError, ValueError):
        return {"released": False}
    if holder.get("token") != token:
        return {"released": False, "holder": holder}
    os.unlink(path)
    return {"released": True}


def main(args):
    if args["scratch"]:
        shutil.rmtree(args["scratch"], ignore_errors=True)
    answer = release(args["lock"], args["token"]) if args["lock"] and args["token"] else {"released": False}
    return dict(answer, changed=answer["released"])


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
