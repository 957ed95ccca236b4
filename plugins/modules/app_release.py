#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: app_release
short_description: Unpack an application release into a directory of its own, atomically
version_added: 0.1.0
description:
  - Unpacks a tar archive (plain, gzip, bzip2 or xz) or a zip archive into a new release
    directory, the way M(lockstep.poetry.app) lays releases out. The files are extracted into a
    hidden directory beside O(dest), links are made and ownership set there, and the whole is
    renamed to O(dest). O(dest) therefore either holds the complete release or does not exist,
    whatever interrupts the task.
  - Refuses archives that would write outside O(dest) (absolute names, C(..), links that point
    outside the release) and special files (devices, FIFOs). Modes lose their setuid, setgid and
    sticky bits and group and other write permission.
  - Reports the SHA-1 checksums of files of the release that the caller names in O(checksums),
    for example C(pyproject.toml) and C(poetry.lock), without another task.
  - The M(lockstep.poetry.app) role stages each release beside the running one with it.
  - Takes an archive from the controller (the action plugin transfers it once, in the same task)
    or one already on the host (O(remote_src=true)), and needs nothing on the host beyond Python,
    no C(tar), C(unzip) or C(gtar).
options:
  src:
    description:
      - The archive. On the controller (a relative path is looked up in the role's or the
        playbook's C(files/) directory, as M(ansible.builtin.copy) does), or on the host with
        O(remote_src=true).
    type: path
    required: true
  remote_src:
    description: Whether O(src) is on the host instead of the controller.
    type: bool
    default: false
  dest:
    description:
      - The release directory to create. Its parent directory must exist.
      - Created with mode C(0755).
    type: path
    required: true
  strip_components:
    description:
      - Leading path components removed from every name in the archive, as C(tar
        --strip-components) does; entries with no more components than that are skipped. For
        example V(1) for an archive whose files are under C(myapp-1.0/).
    type: int
    default: 0
  owner:
    description: Owner of O(dest) and everything in it. By default the user the task runs as.
    type: str
  group:
    description: Group of O(dest) and everything in it. By default the group of that user.
    type: str
  links:
    description:
      - Symbolic links made in the release after unpacking, replacing whatever the archive ships
        at those paths (the shared directories of an application, for example). Missing parent
        directories are created.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Where the link goes, relative to O(dest), without C(..).
        type: str
        required: true
      target:
        description: What the link points to, as C(ln -s) takes it (relative paths are relative to the link's directory).
        type: str
        required: true
  checksums:
    description:
      - Files of the release, relative to O(dest), whose SHA-1 checksums RV(checksums) reports.
    type: list
    elements: str
    default: []
  force:
    description:
      - Whether an existing O(dest) is replaced by a fresh unpack (an earlier release that was
        never completed, for example). Without it, an existing O(dest) is left as it is and only
        its checksums are read.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - The archive is transferred to the task's temporary directory and read, so the change and
        RV(checksums) are those of a real run, but nothing is written under the parent of O(dest).
  diff_mode:
    support: partial
    details: Whether O(dest) exists before and after, and how many entries the archive has.
  idempotent:
    description: Run again, an existing O(dest) is left alone unless O(force=true).
    support: full
  platform:
    platforms: posix
notes:
  - An archive from the controller is transferred on every run, also when O(dest) exists and is
    left alone; guard the task with a condition where that matters (the M(lockstep.poetry.app)
    role calls it only for a release it has to unpack).
  - Hard links in a tar archive are extracted as hard links when their target is part of the
    release, and refused otherwise. Symbolic links in a zip archive are extracted as regular
    files, as Python's zipfile does.
  - Files keep the modification times of the archive; the release directory itself gets the time
    of the unpack, so that releases sort by when they were deployed.
seealso:
  - module: ansible.builtin.unarchive
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Unpack release 1.4.2 beside the running one
  lockstep.poetry.app_release:
    src: dist/shopfront-1.4.2.tar.gz
    dest: /srv/shopfront/releases/1.4.2
    strip_components: 1
    owner: shopfront
    group: shopfront
    links:
      - {path: media, target: ../../shared/media}
    checksums: [pyproject.toml, poetry.lock]
  register: release

- name: Refuse a release without a lock
  ansible.builtin.assert:
    that: release.checksums['poetry.lock'] is not none
    fail_msg: The release has no poetry.lock.
"""

RETURN = r"""
dest:
  description: The release directory.
  returned: always
  type: str
  sample: /srv/shopfront/releases/1.4.2
checksums:
  description: SHA-1 of each file named in O(checksums), or V(null) for one the release does not have.
  returned: always
  type: dict
  sample: {"pyproject.toml": "2c1743a391305fbf367df8e4f069f9f9e1cd5c7a", "poetry.lock": null}
entries:
  description: How many entries of the archive were unpacked (after O(strip_components)); V(0) when O(dest) was left alone.
  returned: always
  type: int
  sample: 57
"""

import glob
import grp
import hashlib
import os
import posixpath
import pwd
import shutil
import tarfile
import tempfile
import zipfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

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


def open_release(path, strip):
    if zipfile.is_zipfile(path):
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
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


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


def ids(module, owner, group):
    uid = gid = -1
    try:
        if owner is not None:
            uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
        if group is not None:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    except KeyError as error:
        module.fail_json(msg="Unknown owner or group: %s" % to_native(error))
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
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
        ),
        supports_check_mode=True,
    )
    params = module.params
    dest = params["dest"].rstrip("/") or "/"
    params["dest"] = dest
    result = dict(changed=False, dest=dest, entries=0)
    if params["strip_components"] < 0:
        module.fail_json(msg="strip_components must be 0 or more, not %d" % params["strip_components"], **result)
    if not os.path.isdir(os.path.dirname(dest)):
        module.fail_json(msg="The parent directory of dest (%s) does not exist" % os.path.dirname(dest), **result)
    exists = os.path.lexists(dest)
    if exists and not os.path.isdir(dest):
        module.fail_json(msg="dest %s exists and is not a directory" % dest, **result)
    if exists and not params["force"]:
        result["checksums"] = dict((f, file_sha1(os.path.join(dest, f))) for f in params["checksums"])
        module.exit_json(**result)

    uid, gid = ids(module, params["owner"], params["group"])
    if not os.path.isfile(params["src"]):
        module.fail_json(msg="The archive %s does not exist" % params["src"], **result)
    try:
        check_links(params["links"])
        release = open_release(params["src"], params["strip_components"])
    except UnsafeArchive as error:
        module.fail_json(msg=to_native(error), **result)
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
        if not module.check_mode:
            unpack(release, entries, params, uid, gid)
    except UnsafeArchive as error:
        module.fail_json(msg="Refused to unpack %s: %s" % (params["src"], to_native(error)), **result)
    except (OSError, tarfile.TarError, zipfile.BadZipfile) as error:
        module.fail_json(msg="Could not unpack %s into %s: %s" % (params["src"], dest, to_native(error)), **result)
    finally:
        release.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
