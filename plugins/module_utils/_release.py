# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What lockstep.poetry.app_release does, with Python's standard library alone. The module runs
it inside Ansible's module wrapper; with the task's ``python`` option, the action runs this file
on the host as a helper (plugin_utils/_helper.py, which sends _hashing.py with it), without the
wrapper (a third of a second or more per task on ansible-core 2.19):

    python -I -S _release.py BASE64

where BASE64 encodes one JSON object, the module's parameters and ``_check_mode``. It prints
the result as one JSON object, with ``failed`` and ``msg`` when it failed.
"""

import base64
import glob
import grp
import hashlib
import json
import os
import posixpath
import pwd
import shutil
import sys
import tarfile
import tempfile
import zipfile

from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest

STAGE_PREFIX = ".lockstep-stage."
# What a release may keep of an entry's mode (tarfile's "data" filter keeps the same).
MODE_MASK = 0o755


class UnsafeArchive(Exception):
    pass


def relative_name(name, strip):
    """The entry's path inside the release, or None when stripping leaves nothing."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if name.startswith("/"):
        raise UnsafeArchive("entry '%s' has an absolute path" % name)
    if ".." in parts:
        raise UnsafeArchive("entry '%s' leads out of the release with '..'" % name)
    parts = parts[strip:]
    return "/".join(parts) if parts else None


def link_stays_inside(path, target):
    if target.startswith("/"):
        return False
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    return resolved != ".." and not resolved.startswith("../")


def inside(root, path, entry):
    """path, once its links are resolved on disk, must stay in root."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    if real != top and not real.startswith(top + os.sep):
        raise UnsafeArchive("entry '%s' leads out of the release through a link" % entry)
    return path


class Release(object):
    """An open archive: its entries, checked, and their extraction."""

    def __init__(self, archive, strip):
        self.archive = archive
        self.strip = strip

    def close(self):
        self.archive.close()


class TarRelease(Release):

    def entries(self):
        """(name inside the release, member) for every entry kept, checked first: all or nothing."""
        kept = []
        for member in self.archive.getmembers():
            name = relative_name(member.name, self.strip)
            if name is None:
                continue
            if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
                raise UnsafeArchive("entry '%s' is a device or FIFO" % member.name)
            if member.issym() and not link_stays_inside(name, member.linkname):
                raise UnsafeArchive("link '%s' points outside the release (%s)" % (member.name, member.linkname))
            if member.islnk() and relative_name(member.linkname, self.strip) is None:
                raise UnsafeArchive("hard link '%s' points outside the release" % member.name)
            kept.append((name, member))
        return kept

    def read(self, member):
        """The content of a regular file (or of a hard link's target), None for anything else."""
        if not (member.isfile() or member.islnk()):
            return None
        return self.archive.extractfile(member).read()

    def extract(self, entries, root):
        for name, member in entries:
            path = os.path.join(root, name)
            parent = inside(root, os.path.dirname(path), name)
            if not os.path.isdir(parent):
                os.makedirs(parent, 0o755)
            if member.isdir():
                if not os.path.isdir(path):
                    os.mkdir(path)
                os.chmod(path, (member.mode & MODE_MASK) | 0o700)
                continue
            remove(path)
            if member.issym():
                # Checked on the names already; here on the directories as they are on disk,
                # where earlier links may lead elsewhere.
                inside(root, os.path.join(parent, member.linkname), name)
                os.symlink(member.linkname, path)
                continue
            if member.islnk():
                os.link(os.path.join(root, relative_name(member.linkname, self.strip)), path)
                continue
            with self.archive.extractfile(member) as source, open(path, "wb") as target:
                shutil.copyfileobj(source, target)
            os.chmod(path, member.mode & MODE_MASK)
            os.utime(path, (member.mtime, member.mtime))


class ZipRelease(Release):

    def entries(self):
        kept = []
        for info in self.archive.infolist():
            name = relative_name(info.filename, self.strip)
            if name is not None:
                kept.append((name, info))
        return kept

    def read(self, info):
        return None if info.is_dir() else self.archive.read(info)

    def extract(self, entries, root):
        for name, info in entries:
            path = os.path.join(root, name)
            inside(root, os.path.dirname(path), name)
            if info.is_dir():
                if not os.path.isdir(path):
                    os.makedirs(path, 0o755)
                continue
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                os.makedirs(parent, 0o755)
            remove(path)
            with self.archive.open(info) as source, open(path, "wb") as target:
                shutil.copyfileobj(source, target)
            # Unix permissions, when the archive was made on Unix.
            mode = (info.external_attr >> 16) & MODE_MASK
            os.chmod(path, mode or 0o644)


# How a zip archive starts (a local file header, or the end record of an empty one). Not
# zipfile.is_zipfile(), which looks for a zip's end record at the end of the file: a tar archive
# whose last member is a zip (a wheel, say) has one there too.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def open_release(path, strip):
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic in _ZIP_MAGIC:
        return ZipRelease(zipfile.ZipFile(path), strip)
    try:
        return TarRelease(tarfile.open(path), strip)
    except tarfile.TarError:
        raise UnsafeArchive("%s is neither a tar nor a zip archive" % path)


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def sha1_of(data):
    return None if data is None else hashlib.sha1(data).hexdigest()


def file_sha1(path):
    """The checksum of a regular file; None for anything else, a link to a file included."""
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    return file_digest(path, "sha1")


def check_links(links):
    for link in links:
        if link["path"].startswith("/") or ".." in link["path"].split("/") or link["path"].strip("/.") == "":
            raise UnsafeArchive("links: path '%s' must be a path inside the release, without '..'" % link["path"])


def make_links(root, links):
    for link in links:
        path = os.path.join(root, link["path"].strip("/"))
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            os.makedirs(parent, 0o755)
        remove(path)
        os.symlink(link["target"], path)


ARGUMENT_SPEC = dict(
    src=dict(type="path", required=True),
    remote_src=dict(type="bool", default=False),
    dest=dict(type="path", required=True),
    strip_components=dict(type="int", default=0),
    owner=dict(type="str"),
    group=dict(type="str"),
    links=dict(type="list", elements="dict", default=[], options=dict(
        path=dict(type="str", required=True),
        target=dict(type="str", required=True),
    )),
    checksums=dict(type="list", elements="str", default=[]),
    force=dict(type="bool", default=False),
    # Used by the action alone (it runs this file with that Python).
    python=dict(type="str"),
)


class ReleaseError(Exception):
    """A failure, with the result so far."""

    def __init__(self, msg, result):
        super(ReleaseError, self).__init__(msg)
        self.msg = msg
        self.result = result


def ids(owner, group, result):
    uid = gid = -1
    try:
        if owner is not None:
            uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
        if group is not None:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    except KeyError as error:
        raise ReleaseError("Unknown owner or group: %s" % error, result)
    return uid, gid


def chown_tree(root, uid, gid):
    if uid == -1 and gid == -1:
        return
    os.lchown(root, uid, gid)
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.lchown(os.path.join(directory, name), uid, gid)


def unpack(release, entries, params, uid, gid):
    dest = params["dest"]
    parent, name = os.path.split(dest.rstrip("/"))
    # Stages a failed or interrupted run left behind for this release.
    for stale in glob.glob(os.path.join(parent, STAGE_PREFIX + glob.escape(name) + ".*")):
        remove(stale)
    stage = tempfile.mkdtemp(prefix=STAGE_PREFIX + name + ".", dir=parent)
    try:
        release.extract(entries, stage)
        make_links(stage, params["links"])
        os.chmod(stage, 0o755)
        chown_tree(stage, uid, gid)
        if os.path.lexists(dest):
            old = stage + ".old"
            os.rename(dest, old)
            os.rename(stage, dest)
            remove(old)
        else:
            os.rename(stage, dest)
    except Exception:
        remove(stage)
        raise


def run(params, check_mode):
    """Unpacks the release that params (validated against ARGUMENT_SPEC) describe; returns the
    result, raises ReleaseError."""
    # As the module's path options are expanded (the script gets them as they were given).
    src, dest = [os.path.expanduser(os.path.expandvars(params[p])) for p in ("src", "dest")]
    dest = dest.rstrip("/") or "/"
    params = dict(params, src=src, dest=dest)
    result = dict(changed=False, dest=dest, entries=0)
    if params["strip_components"] < 0:
        raise ReleaseError("strip_components must be 0 or more, not %d" % params["strip_components"], result)
    if not os.path.isdir(os.path.dirname(dest)):
        raise ReleaseError("The parent directory of dest (%s) does not exist" % os.path.dirname(dest), result)
    exists = os.path.lexists(dest)
    if exists and not os.path.isdir(dest):
        raise ReleaseError("dest %s exists and is not a directory" % dest, result)
    if exists and not params["force"]:
        result["checksums"] = dict((f, file_sha1(os.path.join(dest, f))) for f in params["checksums"])
        return result

    uid, gid = ids(params["owner"], params["group"], result)
    if not os.path.isfile(params["src"]):
        raise ReleaseError("The archive %s does not exist" % params["src"], result)
    try:
        check_links(params["links"])
        release = open_release(params["src"], params["strip_components"])
    except UnsafeArchive as error:
        raise ReleaseError(str(error), result)
    try:
        entries = release.entries()
        by_name = dict(entries)
        shadowed = set(link["path"].strip("/") for link in params["links"])
        result["checksums"] = dict(
            (f, sha1_of(release.read(by_name[f])) if f in by_name and f not in shadowed else None)
            for f in params["checksums"])
        result.update(changed=True, entries=len(entries))
        result["diff"] = dict(
            before=dict(path=dest, state="directory" if exists else "absent"),
            after=dict(path=dest, state="directory", entries=len(entries)))
        if not check_mode:
            unpack(release, entries, params, uid, gid)
    except UnsafeArchive as error:
        raise ReleaseError("Refused to unpack %s: %s" % (params["src"], error), result)
    except (OSError, tarfile.TarError, zipfile.BadZipfile) as error:
        raise ReleaseError("Could not unpack %s into %s: %s" % (params["src"], dest, error), result)
    finally:
        release.close()
    return result


def main():
    """The script: parameters validated by the action, as base64 JSON in argv."""
    params = json.loads(base64.b64decode(sys.argv[1]).decode("utf-8"))
    check_mode = params.pop("_check_mode", False)
    try:
        result = run(params, check_mode)
    except ReleaseError as error:
        result = dict(error.result, failed=True, msg=error.msg)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
