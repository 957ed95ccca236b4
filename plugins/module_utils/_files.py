# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files replaced whole, the one way the collection writes a record that others read (a virtualenv's
stamp and ready mark, the record of a switch, a deploy lock taken over), in modules and in the
host helpers (plugin_utils/_helper.py sends this file with a helper that imports it); and the ids
of the accounts that the helpers give files and directories to (and the words for those missing).
Private to this collection: no compatibility promise."""

import grp
import os
import pwd
import tempfile


def account_ids(owner, group):
    """(uid, gid) of the user owner and the group group on this host, None for one it does not have."""
    def found(lookup, name):
        try:
            return lookup(name)[2]
        except KeyError:
            return None
    return found(pwd.getpwnam, owner), found(grp.getgrnam, group)


def missing_accounts(owner, group, uid, gid):
    """What account_ids did not find, for a message ("the host has no user app"), '' for nothing."""
    missing = [("user %s" % owner) if uid is None else None, ("group %s" % group) if gid is None else None]
    named = " and no ".join(name for name in missing if name)
    return "the host has no %s" % named if named else ""


def replace_file(path, text, mode=0o644, owner=None):
    """Writes text to path atomically: into a new file beside it, renamed over it, so that a
    reader finds the old content or the new, never a part of either. owner: (uid, gid) of the
    file, given to it before it takes its place; None leaves the writer's."""
    handle, new = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=os.path.basename(path) + ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        if owner is not None:
            os.chown(new, *owner)
        os.chmod(new, mode)
        os.replace(new, path)
    except BaseException:
        if os.path.lexists(new):
            os.unlink(new)
        raise
