# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): removes paths of lockstep.poetry.app's layout, all in one
task, as ansible.builtin.file with state absent removes each: a directory with all it holds,
anything else (a link too, not what it points to) itself, a path that is gone already left
alone. Answers with the paths removed (in check mode: to remove)."""
import base64
import json
import os
import shutil
import sys

ARGUMENT_SPEC = {
    "paths": {"type": "list", "elements": "str", "required": True},
}
# It predicts in check mode.
RUNS_IN_CHECK_MODE = True


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def main(args):
    removed = []
    for path in args["paths"]:
        if not os.path.lexists(path):
            continue
        if not args.get("_check_mode", False):
            try:
                remove(path)
            except OSError as error:
                return {"changed": bool(removed), "failed": True, "paths_removed": removed,
                        "msg": "Could not remove %s: %s" % (path, error)}
        removed.append(path)
    return {"changed": bool(removed), "paths_removed": removed}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
