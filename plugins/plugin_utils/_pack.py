# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How lockstep.poetry.app_inspect names the release of a directory on the controller: packed
into a tar archive reproducibly (files in name order, fixed timestamps, no owners, normalized
modes), so that the same content always gives the same archive, whose checksum names the
release. Archives are kept in the controller user's cache, one per content, so that a fleet packs
a release once; those unused for a day are removed."""

import fnmatch
import hashlib
import os
import tarfile
import tempfile
import time

from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest

# Version control data never belongs to a release.
ALWAYS_EXCLUDED = [".git", ".hg", ".svn", ".bzr"]
# 1980-01-01: zip-based tools reject older timestamps.
MTIME = 315532800
KEEP_SECONDS = 24 * 3600


class PackError(Exception):
    """The directory could not be packed; the message says why."""


def cache_dir():
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lockstep.poetry.app")


def excluded(relative, patterns):
    name = os.path.basename(relative)
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(relative, p) for p in patterns)


def normalized(info):
    info.mtime = MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if not info.issym():
        info.mode = 0o755 if info.isdir() or info.mode & 0o100 else 0o644
    return info


class HashingWriter(object):
    """A write-only stream that hashes what goes through it, and writes it to a file if given."""

    def __init__(self, target=None):
        self.target = target
        self.sha256 = hashlib.sha256()

    def write(self, data):
        self.sha256.update(data)
        if self.target is not None:
            self.target.write(data)
        return len(data)


def pack(source, patterns, fileobj, prefix=None):
    # A stream ("w|"): the output is only ever appended to.
    with tarfile.open(fileobj=fileobj, mode="w|", format=tarfile.GNU_FORMAT) as tar:
        if prefix:
            tar.addfile(normalized(tar.gettarinfo(source, arcname=prefix)))
        for directory, subdirectories, files in os.walk(source):
            relative_dir = os.path.relpath(directory, source)
            entries = []
            for name in subdirectories + files:
                relative = os.path.normpath(os.path.join(relative_dir, name))
                if not excluded(relative, patterns):
                    entries.append(relative)
            # os.walk descends into what is left in subdirectories, in this order.
            subdirectories[:] = sorted(
                d for d in subdirectories if os.path.normpath(os.path.join(relative_dir, d)) in entries
            )
            for relative in sorted(entries):
                path = os.path.join(source, relative)
                info = normalized(tar.gettarinfo(path, arcname=os.path.join(prefix or "", relative)))
                if info.isreg():
                    with open(path, "rb") as handle:
                        tar.addfile(info, handle)
                else:
                    tar.addfile(info)


def cached_archive(source, patterns, sha256, release_id):
    """The archive to deploy, from the cache or written there (atomically: forks pack at once)."""
    cache = cache_dir()
    os.makedirs(cache, mode=0o700, exist_ok=True)
    now = time.time()
    for name in os.listdir(cache):
        path = os.path.join(cache, name)
        try:
            if now - os.path.getmtime(path) > KEEP_SECONDS:
                os.unlink(path)
        except OSError:
            pass  # removed by another run packing at the same time
    archive = os.path.join(cache, sha256 + ".tar")
    if os.path.exists(archive):
        os.utime(archive)
        return archive
    handle, partial = tempfile.mkstemp(dir=cache, suffix=".partial")
    with os.fdopen(handle, "wb") as output:
        pack(source, patterns, HashingWriter(output), prefix=release_id)
    os.replace(partial, archive)
    return archive


def pack_directory(source, patterns):
    """Packs source, leaving out names that match patterns (and version control data). Returns
    the SHA-256 of the content's archive, the release id (its first 12 digits), the SHA-1 of
    pyproject.toml and poetry.lock (None when missing), and the path of the archive to deploy,
    whose files are under a directory named after the release. Raises PackError."""
    patterns = list(patterns) + ALWAYS_EXCLUDED
    if not os.path.isdir(source):
        raise PackError("%s is not a directory on the controller" % source)
    stream = HashingWriter()
    try:
        pack(source, patterns, stream)
        sha256 = stream.sha256.hexdigest()
        archive = cached_archive(source, patterns, sha256, sha256[:12])
    except (OSError, tarfile.TarError) as error:
        raise PackError(str(error))
    return {
        "sha256": sha256,
        "release_id": sha256[:12],
        "files": {name: file_digest(os.path.join(source, name), "sha1") for name in ("pyproject.toml", "poetry.lock")},
        "archive": archive,
    }
