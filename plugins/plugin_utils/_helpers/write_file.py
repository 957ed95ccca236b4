# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): one file written whole, with its owner, group and mode,
when it is not as asked: atomically (module_utils/_files.replace_file), so that a reader finds
the old content or the new. The app role writes the service's environment file with it, whose
content may hold secrets: like every helper's arguments they travel inside the program, never
on a command line, and the answer never holds the content. Predicts in check mode."""
import base64
import json
import os
import stat
import sys

from ansible_collections.lockstep.poetry.plugins.module_utils._files import account_ids, missing_accounts, replace_file

ARGUMENT_SPEC = {
    "path": {"type": "str", "required": True},
    "content": {"type": "str", "required": True, "no_log": True},
    "owner": {"type": "str", "required": True},
    "group": {"type": "str", "required": True},
    # Octal, as a string: "0600".
    "mode": {"type": "str", "required": True},
}
# It predicts in check mode.
RUNS_IN_CHECK_MODE = True


def is_as_asked(path, content, uid, gid, mode):
    """Whether the file at path holds content with that owner, group and mode."""
    try:
        found = os.stat(path)
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read() == content and (found.st_uid, found.st_gid, stat.S_IMODE(found.st_mode)) == (uid, gid, mode)
    except (OSError, UnicodeDecodeError):
        return False


def main(args):
    check_mode = args.get("_check_mode", False)
    uid, gid = account_ids(args["owner"], args["group"])
    if uid is None or gid is None:
        if check_mode:  # the account comes with the deploy (the role makes it first)
            return {"changed": True}
        return {"changed": False, "failed": True, "msg": "Could not write %s: %s"
                % (args["path"], missing_accounts(args["owner"], args["group"], uid, gid))}
    mode = int(args["mode"], 8)
    if is_as_asked(args["path"], args["content"], uid, gid, mode):
        return {"changed": False}
    if not check_mode:
        try:
            replace_file(args["path"], args["content"], mode, owner=(uid, gid))
        except OSError as error:
            return {"changed": False, "failed": True, "msg": "Could not write %s: %s" % (args["path"], error)}
    return {"changed": True}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
