# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): points links at new targets atomically for
lockstep.poetry.app, as the application's user. Each new link is made beside the old one and
renamed over it, so the path always resolves to the old or the new target, never to nothing.
A link already as asked is left alone; touch marks a release directory as the newest (the order
in which releases are kept). record writes a file (atomically) before any link changes, and
forget removes one once they are as asked: the role records a switch that its health check has
not confirmed yet, so that a run killed in between is finished by the next one. Answers with the
links changed (in check mode: to change)."""
import base64
import json
import os
import sys

from ansible_collections.lockstep.poetry.plugins.module_utils._files import replace_file

ARGUMENT_SPEC = {
    # [[path, target, or None to remove the link], ...]; pairs, as lists or tuples (Jinja's zip).
    "links": {"type": "list", "elements": "raw", "required": True},
    "touch": {"type": "str"},
    # {path, content}: JSON written before the links change.
    "record": {"type": "dict"},
    # A file removed once the links are as asked.
    "forget": {"type": "str"},
}
# It predicts in check mode.
RUNS_IN_CHECK_MODE = True


def main(args):
    changed = []
    check_mode = args.get("_check_mode", False)
    if args.get("record") and not check_mode:
        replace_file(args["record"]["path"], json.dumps(args["record"]["content"]))
    for path, target in args["links"]:
        if (os.readlink(path) if os.path.islink(path) else None) == target:
            continue
        changed.append(path)
        if check_mode:
            continue
        if target is None:
            os.unlink(path)
            continue
        new = path + ".new"
        if os.path.lexists(new):
            os.unlink(new)
        os.symlink(target, new)
        os.replace(new, path)
    if changed and args.get("touch") and not check_mode:
        os.utime(args["touch"])
    if args.get("forget") and os.path.lexists(args["forget"]) and not check_mode:
        os.unlink(args["forget"])
    return {"changed": bool(changed), "links_changed": changed}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
