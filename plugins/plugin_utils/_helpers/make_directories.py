# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): the directories of lockstep.poetry.app's layout, all in
one task, as ansible.builtin.file with state directory makes each: a directory that is missing is
made, with those above it that are missing too, and each gets the owner, group and mode asked
for; a link to a directory is followed, a file where a directory belongs fails. Answers with the
directories changed (in check mode: to change; an owner or group the host does not know yet, as
before the role makes the account, counts as a change)."""
import base64
import json
import os
import stat
import sys

from ansible_collections.lockstep.poetry.plugins.module_utils._files import account_ids, missing_accounts

ARGUMENT_SPEC = {
    "paths": {"type": "list", "elements": "str", "required": True},
    "owner": {"type": "str", "required": True},
    "group": {"type": "str", "required": True},
    # Octal, as a string: "0755".
    "mode": {"type": "str", "required": True},
}
# It predicts in check mode.
RUNS_IN_CHECK_MODE = True


def to_make(path, made):
    """The directories to make for path, the topmost first: path and those above it that are
    missing, and not made already (made: in check mode, made in this run only in thought)."""
    missing = []
    while not os.path.lexists(path) and path not in made:
        missing.insert(0, path)
        path = os.path.dirname(path)
    return missing


def main(args):
    check_mode = args.get("_check_mode", False)
    mode = int(args["mode"], 8)
    uid, gid = account_ids(args["owner"], args["group"])
    changed = []
    try:
        if not check_mode and (uid is None or gid is None):
            raise ValueError(missing_accounts(args["owner"], args["group"], uid, gid))
        for path in args["paths"]:
            path = os.path.abspath(path)
            missing = to_make(path, changed)
            for directory in missing:
                changed.append(directory)
                if not check_mode:
                    os.mkdir(directory)
                    os.chown(directory, uid, gid)
                    os.chmod(directory, mode)
            if missing or path in changed:
                continue
            if not os.path.isdir(path):
                raise ValueError("%s is there, and is not a directory" % path)
            found = os.stat(path)
            if (found.st_uid, found.st_gid, stat.S_IMODE(found.st_mode)) != (uid, gid, mode):
                changed.append(path)
                if not check_mode:
                    os.chown(path, uid, gid)
                    os.chmod(path, mode)
    except (OSError, ValueError) as error:
        return {"changed": bool(changed), "failed": True, "directories_changed": changed,
                "msg": "Could not make the application's directories: %s" % error}
    return {"changed": bool(changed), "directories_changed": changed}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
