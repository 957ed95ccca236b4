# Points links at new targets atomically, run by lockstep.poetry.app on the host: each new link
# is made beside the old one and renamed over it, so the path always resolves to the old or the
# new target, never to nothing (ansible.builtin.file removes the old link first).
# argv: base64 of a JSON object {"links": [[path, target or null to remove it], ...], "touch":
# directory or null, "check": bool}. A link already as asked is left alone; "touch" marks a release
# directory as the newest (the order in which releases are kept). Prints one JSON object: the
# links changed (or, with "check", to change).
import base64
import json
import os
import sys


def main():
    args = json.loads(base64.b64decode(sys.argv[1]))
    changed = []
    for path, target in args["links"]:
        if (os.readlink(path) if os.path.islink(path) else None) == target:
            continue
        changed.append(path)
        if args["check"]:
            continue
        if target is None:
            os.unlink(path)
            continue
        new = path + ".new"
        if os.path.lexists(new):
            os.unlink(new)
        os.symlink(target, new)
        os.replace(new, path)
    if changed and args["touch"] and not args["check"]:
        os.utime(args["touch"])
    print(json.dumps({"changed": changed}))


main()
