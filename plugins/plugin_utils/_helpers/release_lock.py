# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): releases the deploy lock of lockstep.poetry.app (taken
by inspect_app, see plugin_utils/_deploy_lock.py), if this run still holds it: a run that took
it over since (poetry_app_break_lock) keeps it. Answers whether it was released."""
import base64
import json
import os
import sys

ARGUMENT_SPEC = {
    "path": {"type": "str", "required": True},
    # The token this run wrote into the lock file.
    "token": {"type": "str", "required": True},
}
# No lock is taken in check mode: nothing to release.
RUNS_IN_CHECK_MODE = False


def main(args):
    try:
        with open(args["path"]) as handle:
            holder = json.load(handle)
    except (OSError, ValueError):
        return {"changed": False, "released": False}
    if holder.get("token") != args["token"]:
        return {"changed": False, "released": False, "holder": holder}
    os.unlink(args["path"])
    return {"changed": True, "released": True}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
